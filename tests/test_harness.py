"""The mock harness itself: preview runs, secure config and what it records."""

from helpers import evaluate_fixture

from offline.harness import UNKNOWN, Secret, stack_config


def test_a_preview_registers_the_same_resources_with_computed_values_unknown(prodlike):
    preview = evaluate_fixture("prodlike", preview=True)
    assert preview.error is None
    assert sorted((r.type, r.name) for r in preview.resources) == sorted((r.type, r.name) for r in prodlike.resources)
    flow_log = preview.one("aws:ec2/flowLog:FlowLog").inputs
    assert flow_log["logDestination"] is UNKNOWN  # the ARN of a bucket that does not exist yet
    assert flow_log["trafficType"] == "ALL"


def test_secure_values_become_placeholders_and_are_marked_secret(tmp_path):
    (tmp_path / "Pulumi.demo.yaml").write_text(
        "config:\n  aws:region: eu-west-1\n  ecs-platform:network:\n    cidr: 10.0.0.0/16\n"
        "    token:\n      secure: v1:AAAAencrypted\n"
    )
    config = stack_config("demo", root=tmp_path)
    assert config["ecs-platform:network"]["token"] == "placeholder-for-ecs-platform:network.token"
    assert isinstance(config["ecs-platform:network"]["token"], Secret)


def test_resources_record_parent_and_provider(small):
    network = small.one("ecs-platform:network:Network")
    assert {r.name for r in small.children(network)} >= {"network-vpc", "network-flow-logs"}
    role_policy = small.one("aws:iam/rolePolicy:RolePolicy", "network-flow-logs")
    assert role_policy.parent == small.one("aws:iam/role:Role", "network-flow-logs").urn


def test_components_carry_the_outputs_they_register(small):
    network = small.one("ecs-platform:network:Network")
    assert network.outputs["vpcId"] == small.outputs["vpcId"]
    assert network.outputs["isolatedSubnetIds"] == small.outputs["isolatedSubnetIds"]
