"""`network.natGateways: instance`: one NAT instance instead of NAT gateways, on the `natinstance` fixture."""

import json
from pathlib import Path

import pulumi_aws as aws
import pytest
from helpers import NAT_INSTANCE, check, config_error, evaluate_fixture, fixture, pack_config, with_config
from policy_helpers import passes, violates, vpc

from offline import cost, diagram
from offline.harness.mock_aws import INVOKES, AwsMocks
from policies.guardrails.types import (
    EC2_INSTANCE,
    EGRESS_RULE,
    INGRESS_RULE,
    ROUTE,
    SECURITY_GROUP,
)

ROOT = Path(__file__).resolve().parents[1]
AWSX_VPC = "awsx:ec2:Vpc"
NAT = "network-nat-instance"


@pytest.fixture(scope="module")
def graph():
    return fixture(NAT_INSTANCE)


def nat_network(change):
    def edit(config):
        change(config["ecs-platform:network"])

    return edit


# --- config ------------------------------------------------------------------------------


def test_the_nat_instance_type_defaults_to_a_t4g_nano():
    graph = with_config(NAT_INSTANCE, nat_network(lambda n: n.pop("natInstanceType")))
    assert graph.error is None, graph.error
    assert graph.one(EC2_INSTANCE, NAT).inputs["instanceType"] == "t4g.nano"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("t3.micro", "must be a Graviton (arm64) type such as t4g.nano"),
        ("nano", "must be an EC2 instance type such as t4g.nano"),
    ],
)
def test_a_nat_instance_type_that_is_not_graviton_is_refused(value, expected):
    error = config_error(NAT_INSTANCE, nat_network(lambda n: n.update(natInstanceType=value)))
    assert error.startswith("ecs-platform:network.natInstanceType: "), error
    assert expected in error
    assert "\n" not in error


def test_a_nat_instance_type_without_a_nat_instance_is_refused():
    error = config_error(NAT_INSTANCE, nat_network(lambda n: n.update(natGateways="single")))
    assert error == (
        "ecs-platform:network.natInstanceType: applies only with natGateways: instance (natGateways is single) "
        '(got "t4g.micro")'
    )


# --- resources ---------------------------------------------------------------------------


def test_the_vpc_has_no_nat_gateway_and_the_instance_sits_in_the_first_public_subnet(graph):
    assert graph.one(AWSX_VPC).inputs["natGateways"] == {"strategy": "None"}
    instance = graph.one(EC2_INSTANCE, NAT).inputs
    assert instance["subnetId"] == graph.outputs["publicSubnetIds"][0]
    assert instance["instanceType"] == "t4g.micro"


def test_the_nat_instance_forwards_with_a_public_ip_imdsv2_no_key_and_an_encrypted_disk(graph):
    instance = graph.one(EC2_INSTANCE, NAT)
    inputs = instance.inputs
    assert inputs["sourceDestCheck"] is False
    assert inputs["associatePublicIpAddress"] is True
    assert "keyName" not in inputs
    assert inputs["metadataOptions"] == {
        "httpEndpoint": "enabled",
        "httpTokens": "required",
        "httpPutResponseHopLimit": 1,
        "instanceMetadataTags": "disabled",
    }
    assert inputs["rootBlockDevice"] == {"volumeType": "gp3", "encrypted": True, "deleteOnTermination": True}
    # A new Amazon Linux image does not replace the instance on an unrelated update.
    assert instance.ignore_changes == ["ami"]
    assert inputs["userDataReplaceOnChange"] is True


def test_the_first_boot_turns_on_forwarding_and_masquerades_only_the_vpc(graph):
    script = graph.one(EC2_INSTANCE, NAT).inputs["userData"]
    assert "net.ipv4.ip_forward = 1" in script
    assert "-t nat -A POSTROUTING" in script and "-s 10.30.0.0/16 -j MASQUERADE" in script
    assert "iptables -P FORWARD DROP" in script
    assert "iptables -A FORWARD -s 10.30.0.0/16 -j ACCEPT" in script
    assert "systemctl disable --now sshd" in script
    assert "{" not in script.replace("{print $5; exit}", "")  # every placeholder was filled


def test_the_security_group_admits_the_private_subnets_only_and_lets_everything_out(graph):
    group = graph.one(SECURITY_GROUP, "network-nat-sg")
    ingress = [r.inputs for r in graph.of_type(INGRESS_RULE) if r.inputs["securityGroupId"] == group.id]
    egress = [r.inputs for r in graph.of_type(EGRESS_RULE) if r.inputs["securityGroupId"] == group.id]
    assert sorted(r["cidrIpv4"] for r in ingress) == ["10.30.0.0/20", "10.30.16.0/20"]
    assert all("0.0.0.0/0" not in str(r) and "::/0" not in str(r) for r in ingress)
    assert [(r["ipProtocol"], r["cidrIpv4"]) for r in egress] == [("-1", "0.0.0.0/0")]
    assert graph.one(EC2_INSTANCE, NAT).inputs["vpcSecurityGroupIds"] == [group.id]


def test_the_role_may_only_talk_to_session_manager(graph):
    role_policy = graph.one("aws:iam/rolePolicy:RolePolicy", "network-nat-session-manager").inputs
    statements = json.loads(role_policy["policy"])["Statement"]
    actions = sorted(a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    assert actions == [
        "ssm:UpdateInstanceInformation",
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
    ]
    assert not [
        r for r in graph.registered if r.type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment" and "nat" in r.name
    ]


def test_every_private_route_table_sends_its_default_route_to_the_instance(graph):
    instance = graph.one(EC2_INSTANCE, NAT)
    routes = sorted(graph.of_type(ROUTE), key=lambda r: r.name)
    answer = INVOKES["aws:ec2/getRouteTable:getRouteTable"]
    tables = [answer({"subnetId": s}, AwsMocks("eu-west-1", False))["id"] for s in graph.outputs["privateSubnetIds"]]
    assert [r.inputs["routeTableId"] for r in routes] == tables
    for route in routes:
        assert route.inputs["destinationCidrBlock"] == "0.0.0.0/0"
        assert route.property_dependencies["networkInterfaceId"] == [instance.urn]


def test_a_preview_of_a_new_stack_registers_the_routes_with_unknown_tables():
    preview = evaluate_fixture(NAT_INSTANCE, preview=True)
    assert preview.error is None, preview.error
    assert len(preview.of_type(ROUTE)) == 2
    assert check(preview, dry_run=True).findings == []


# --- policy ------------------------------------------------------------------------------


def test_the_pack_allows_the_named_nat_instance_and_nothing_else(graph):
    assert check(graph).of("ec2-no-public-ip") == []
    unnamed = {**pack_config(NAT_INSTANCE), "ec2-no-public-ip": {"natInstances": []}}
    found = check(graph, unnamed).of("ec2-no-public-ip")
    assert [f.urn for f in found] == [graph.one(EC2_INSTANCE, NAT).urn]
    assert [f.level for f in found] == ["mandatory"]


def nat_program(*, source_dest_check=False, route_to="private", name="nat"):
    """A NAT instance in a public subnet and (unless route_to is None) a route table's default route to it."""

    def program():
        v = vpc()
        instance = aws.ec2.Instance(
            name,
            ami="ami-123",
            instance_type="t4g.nano",
            subnet_id=v.public_subnet_ids[0],
            associate_public_ip_address=True,
            source_dest_check=source_dest_check,
            metadata_options={"http_tokens": "required", "http_endpoint": "enabled"},
            root_block_device={"encrypted": True, "volume_type": "gp3"},
        )
        if route_to is None:
            return
        table = aws.ec2.RouteTable("app", vpc_id=v.vpc_id)
        if route_to == "public":
            igw = aws.ec2.InternetGateway("igw", vpc_id=v.vpc_id)
            aws.ec2.Route("to-igw", route_table_id=table.id, destination_cidr_block="8.8.8.0/24", gateway_id=igw.id)
        aws.ec2.Route(
            "default",
            route_table_id=table.id,
            destination_cidr_block="0.0.0.0/0",
            network_interface_id=instance.primary_network_interface_id,
        )

    return program


NAMED = {"ec2-no-public-ip": {"natInstances": ["nat"]}}


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_a_named_nat_instance_behind_a_private_default_route_passes(preview):
    passes(nat_program(), "ec2-no-public-ip", config=NAMED, preview=preview)


@pytest.mark.parametrize(
    ("program", "config", "reason"),
    [
        (nat_program(), {}, "associatePublicIpAddress is true."),
        (nat_program(name="other"), NAMED, "associatePublicIpAddress is true."),
        (nat_program(source_dest_check=True), NAMED, "sourceDestCheck is not false"),
        (nat_program(route_to=None), NAMED, "no route table send their default route"),
        (nat_program(route_to="public"), NAMED, "only route tables that route to an internet gateway"),
    ],
    ids=["not-named", "another-name", "source-dest-check-on", "no-route", "public-table"],
)
def test_a_public_ip_is_refused_unless_every_nat_instance_condition_holds(program, config, reason):
    found = violates(program, "ec2-no-public-ip", config=config)
    assert reason in found[0].message, found[0].message


# --- the default route: only a declared NAT instance ---------------------------------------

ROUTES_TO_NAT = "ec2-default-route-nat-instances-only"
ROUTE_NAMED = {ROUTES_TO_NAT: {"natInstances": ["nat"]}}


def test_the_stacks_default_routes_go_to_the_declared_nat_instance_only(graph):
    assert check(graph).of(ROUTES_TO_NAT) == []
    undeclared = {**pack_config(NAT_INSTANCE), ROUTES_TO_NAT: {"natInstances": []}}
    found = check(graph, undeclared).of(ROUTES_TO_NAT)
    assert sorted(f.urn for f in found) == sorted(r.urn for r in graph.of_type(ROUTE)), found
    assert {f.level for f in found} == {"mandatory"}
    assert all(f"goes to instance {NAT}. It is not listed under natInstances." in f.message for f in found)


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_a_declared_nat_instance_may_be_the_default_route(preview):
    passes(nat_program(), ROUTES_TO_NAT, config=ROUTE_NAMED, preview=preview)


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
@pytest.mark.parametrize(
    ("program", "config", "reason"),
    [
        (nat_program(), {}, "goes to instance nat. It is not listed under natInstances."),
        (nat_program(name="other"), ROUTE_NAMED, "goes to instance other. It is not listed"),
        (nat_program(source_dest_check=True), ROUTE_NAMED, "sourceDestCheck is not false"),
    ],
    ids=["not-named", "another-name", "source-dest-check-on"],
)
def test_an_undeclared_instance_as_the_default_route_is_refused(program, config, reason, preview):
    found = violates(program, ROUTES_TO_NAT, config=config, preview=preview)
    assert reason in found[0].message, found[0].message


def test_ipv6_inline_routes_and_loose_interfaces_are_judged_too():
    def program():
        v = vpc()
        instance = aws.ec2.Instance(
            "box", ami="ami-123", instance_type="t4g.nano", subnet_id=v.private_subnet_ids[0], source_dest_check=False
        )
        aws.ec2.RouteTable(
            "inline",
            vpc_id=v.vpc_id,
            routes=[{"ipv6_cidr_block": "::/0", "network_interface_id": instance.primary_network_interface_id}],
        )
        table = aws.ec2.RouteTable("t", vpc_id=v.vpc_id)
        aws.ec2.Route(
            "loose", route_table_id=table.id, destination_cidr_block="0.0.0.0/0", network_interface_id="eni-1"
        )

    found = violates(program, ROUTES_TO_NAT)
    messages = sorted(f.message for f in found)
    assert "goes to network interface eni-1" in messages[0]
    assert "routes[0] (::/0) goes to instance box" in messages[1]
    declared = violates(program, ROUTES_TO_NAT, config={ROUTES_TO_NAT: {"natInstances": ["box"]}})
    assert [f.message.split(" goes")[0] for f in declared] == ["its 0.0.0.0/0 route"], declared


def test_the_shipped_configs_declare_the_same_nat_instances_to_both_rules():
    for path in [*ROOT.glob("policies/config.*.json"), *ROOT.glob("tests/fixtures/policies/config.*.json")]:
        config = json.loads(path.read_text())
        names = [config.get(p, {}).get("natInstances", []) for p in ("ec2-no-public-ip", ROUTES_TO_NAT)]
        assert names[0] == names[1], path


# --- cost and diagram --------------------------------------------------------------------


def test_the_estimate_prices_the_instance_and_its_address_and_no_nat_gateway(graph):
    estimate = cost.estimate(graph)
    items = [(line.name, line.item) for line in estimate.lines]
    assert (NAT, "t4g.micro Linux on demand") in items
    assert (NAT, "1 public IPv4 address") in items
    assert (NAT, "8 GB gp3 root volume") in items
    assert not [item for item in items if "NAT gateway" in item[1]]
    assert "NAT gateway data processing (per GB)" not in estimate.left_out


def test_the_diagram_draws_the_private_tier_egressing_through_the_nat_instance(graph):
    text = diagram.mermaid(graph)
    assert '["NAT instance network-nat-instance<br/>t4g.micro"]' in text
    assert 'n_tier_private -.->|"egress"| n_instance_network_nat_instance' in text
    assert "n_instance_network_nat_instance -.-> internet" in text
