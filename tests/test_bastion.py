"""The SSM-only bastion of each fixture environment, read from the captured resource graph."""

import json

from helpers import config_error, with_config

from offline.harness.mock_aws import INVOKES, AwsMocks
from policies.guardrails.types import (
    EC2_INSTANCE as EC2,
    EGRESS_RULE as EGRESS,
    INGRESS_RULE as INGRESS,
    SECURITY_GROUP as SG,
)

SSM_ENDPOINTS = ["ssm", "ssmmessages", "ec2messages"]


def latest_al2023(arch: str) -> str:
    """The AMI id AWS's public parameter names for this architecture (as the mock answers it)."""
    name = f"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"
    return INVOKES["aws:ssm/getParameter:getParameter"]({"name": name}, AwsMocks("eu-west-1", False))["value"]


def rules(graph, type_, group):
    return [r.inputs for r in graph.of_type(type_) if r.inputs["securityGroupId"] == group.id]


def test_the_bastion_has_no_inbound_rule_no_public_ip_no_key_and_requires_imdsv2(env):
    group = env.one(SG, "bastion-sg")
    instance = env.one(EC2).inputs
    assert rules(env, INGRESS, group) == []
    assert not {"ingress", "egress"} & set(group.inputs)
    assert instance["associatePublicIpAddress"] is False
    assert "keyName" not in instance
    assert instance["vpcSecurityGroupIds"] == [group.id]
    assert instance["metadataOptions"] == {
        "httpEndpoint": "enabled",
        "httpTokens": "required",
        "httpPutResponseHopLimit": 1,
        "instanceMetadataTags": "disabled",
    }


def test_the_bastion_runs_in_the_first_private_subnet_on_an_encrypted_root_volume(env):
    instance = env.one(EC2).inputs
    assert instance["subnetId"] == env.outputs["privateSubnetIds"][0]
    assert instance["rootBlockDevice"] == {
        "volumeType": "gp3",
        "volumeSize": 8,
        "encrypted": True,
        "deleteOnTermination": True,
    }


def test_the_bastion_is_a_small_graviton_on_the_latest_amazon_linux_2023_kept_until_replaced_on_purpose(env):
    instance = env.one(EC2)
    assert instance.inputs["instanceType"] == "t4g.nano"
    assert instance.inputs["ami"] == latest_al2023("arm64")
    assert instance.inputs["creditSpecification"] == {"cpuCredits": "standard"}
    assert instance.ignore_changes == ["ami"]


def test_an_intel_instance_type_gets_the_x86_64_image():
    graph = with_config("small", lambda c: c["ecs-platform:bastion"].update(instanceType="m7i.large"))
    instance = graph.one(EC2).inputs
    assert instance["ami"] == latest_al2023("x86_64")
    assert "creditSpecification" not in instance


def test_the_bastion_role_may_only_register_with_ssm_and_open_session_channels(env):
    instance = env.one(EC2).inputs
    profile = env.one("aws:iam/instanceProfile:InstanceProfile")
    role = env.one("aws:iam/role:Role", "bastion-role")
    assert instance["iamInstanceProfile"] == profile.outputs["name"]
    assert profile.inputs["role"] == role.outputs["name"]
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    policies = [p for p in env.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.id]
    statements = [s for p in policies for s in json.loads(p.inputs["policy"])["Statement"]]
    assert statements == [
        {
            "Sid": "SessionManagerChannels",
            "Effect": "Allow",
            "Action": [
                "ssmmessages:CreateControlChannel",
                "ssmmessages:CreateDataChannel",
                "ssmmessages:OpenControlChannel",
                "ssmmessages:OpenDataChannel",
            ],
            "Resource": "*",
        },
        {
            "Sid": "RegisterWithSystemsManager",
            "Effect": "Allow",
            "Action": "ssm:UpdateInstanceInformation",
            "Resource": "arn:aws:ec2:eu-west-1:123456789012:instance/*",
        },
    ]
    attachments = env.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert [a for a in attachments if a.inputs["role"] == role.outputs["name"]] == []


def test_with_nat_the_bastion_reaches_ssm_over_https_and_the_database_on_its_port_only(env):
    group = env.one(SG, "bastion-sg")
    database_group = env.one(SG, "database-sg")
    assert sorted(rules(env, EGRESS, group), key=lambda r: r["fromPort"]) == [
        {
            "securityGroupId": group.id,
            "description": "SSM agent: HTTPS to Systems Manager (through NAT)",
            "ipProtocol": "tcp",
            "fromPort": 443,
            "toPort": 443,
            "cidrIpv4": "0.0.0.0/0",
        },
        {
            "securityGroupId": group.id,
            "referencedSecurityGroupId": database_group.id,
            "description": "Port forwarding to the database",
            "ipProtocol": "tcp",
            "fromPort": 5432,
            "toPort": 5432,
        },
    ]


def nat_less(endpoints):
    """A NAT-less small network with these endpoints and no services (theirs would need more endpoints)."""

    def change(c):
        c["ecs-platform:network"].update(natGateways="none", interfaceEndpoints=endpoints)
        c["ecs-platform:services"] = []

    return change


def test_in_a_nat_less_network_the_bastion_uses_the_ssm_endpoints_and_nothing_else():
    graph = with_config("small", nat_less(SSM_ENDPOINTS))
    assert graph.error is None
    endpoints = sorted(
        e.inputs["serviceName"].removeprefix("com.amazonaws.eu-west-1.")
        for e in graph.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    )
    assert endpoints == sorted(SSM_ENDPOINTS)
    group = graph.one(SG, "bastion-sg")
    https = [r for r in rules(graph, EGRESS, group) if r["fromPort"] == 443]
    assert https == [
        {
            "securityGroupId": group.id,
            "referencedSecurityGroupId": graph.one(SG, "network-endpoints").id,
            "description": "SSM agent: HTTPS to the Systems Manager endpoints",
            "ipProtocol": "tcp",
            "fromPort": 443,
            "toPort": 443,
        }
    ]


def test_the_stack_exports_a_ready_to_paste_port_forwarding_command(env):
    instance_id, address = env.outputs["bastionInstanceId"], env.outputs["dbAddress"]
    assert instance_id == env.one(EC2).id and instance_id.startswith("i-")
    assert env.outputs["dbTunnelCommand"] == (
        f"aws ssm start-session --target {instance_id} --document-name AWS-StartPortForwardingSessionToRemoteHost "
        f'--parameters \'{{"host":["{address}"],"portNumber":["5432"],"localPortNumber":["5432"]}}\' '
        "--region eu-west-1"
    )


def test_with_the_bastion_off_nothing_reaches_the_database_and_nothing_is_exported():
    graph = with_config("small", lambda c: c["ecs-platform:bastion"].update(enabled=False))
    assert graph.error is None
    assert graph.of_type(EC2, "ecs-platform:bastion:Bastion", "aws:iam/instanceProfile:InstanceProfile") == []
    database_group = graph.one(SG, "database-sg")
    web_group = graph.one(SG, "web-sg")
    assert [r["referencedSecurityGroupId"] for r in rules(graph, INGRESS, database_group)] == [web_group.id]
    assert "bastionInstanceId" not in graph.outputs and "dbTunnelCommand" not in graph.outputs
    assert graph.one("aws:rds/instance:Instance").inputs["publiclyAccessible"] is False


def test_a_bastion_without_nat_or_ssm_endpoints_is_refused():
    error = config_error("small", nat_less(["ssm", "logs"]))
    assert error == (
        "ecs-platform:bastion.enabled: the bastion needs a route to Systems Manager: with network.natGateways none, "
        "add ssmmessages, ec2messages to network.interfaceEndpoints, or use NAT (single, perAz or instance) (got true)"
    )


def test_an_unknown_instance_type_is_refused():
    error = config_error("small", lambda c: c["ecs-platform:bastion"].update(instanceType="tiny"))
    assert error == 'ecs-platform:bastion.instanceType: must be an EC2 instance type such as t4g.nano (got "tiny")'
