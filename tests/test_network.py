"""The network of each fixture environment, read from the captured resource graph."""

import ipaddress
import json

from helpers import with_config

from policies.guardrails.types import AWSX_VPC as VPC

EXPECTED = {"small": {"azs": 2, "nat": "Single"}, "prodlike": {"azs": 3, "nat": "OnePerAz"}}


def subnets(graph) -> dict[str, list[str]]:
    return {spec["type"]: spec["cidrBlocks"] for spec in graph.one(VPC).inputs["subnetSpecs"]}


def test_three_subnet_tiers_one_subnet_per_az(env):
    vpc = env.one(VPC).inputs
    azs = EXPECTED[env.stack]["azs"]
    assert len(vpc["availabilityZoneNames"]) == azs
    assert {tier: len(cidrs) for tier, cidrs in subnets(env).items()} == {
        "Public": azs,
        "Private": azs,
        "Isolated": azs,
    }
    for tier in ("public", "private", "isolated"):
        assert len(env.outputs[f"{tier}SubnetIds"]) == azs


def test_subnets_lie_inside_the_vpc_and_never_overlap(env):
    vpc_cidr = ipaddress.ip_network(env.one(VPC).inputs["cidrBlock"])
    blocks = [ipaddress.ip_network(c) for cidrs in subnets(env).values() for c in cidrs]
    assert all(block.subnet_of(vpc_cidr) for block in blocks)
    assert not any(a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1 :])


def test_app_subnets_are_the_largest_tier(env):
    sizes = {tier: ipaddress.ip_network(cidrs[0]).num_addresses for tier, cidrs in subnets(env).items()}
    assert sizes["Private"] > sizes["Public"] and sizes["Private"] > sizes["Isolated"]


def test_adding_an_az_keeps_every_existing_subnet_where_it_was(small):
    grown = with_config("small", lambda c: c["ecs-platform:network"].update(azCount=3))
    for tier, cidrs in subnets(small).items():
        assert subnets(grown)[tier][:2] == cidrs


def test_nat_gateways_follow_the_configured_strategy(env):
    assert env.one(VPC).inputs["natGateways"] == {"strategy": EXPECTED[env.stack]["nat"]}


def test_a_nat_less_network_asks_awsx_for_no_nat_gateway():
    def nat_less(config):
        config["ecs-platform:network"].update(natGateways="none")
        config.pop("ecs-platform:bastion")  # it would need the SSM endpoints without NAT

    graph = with_config("small", nat_less)
    assert graph.one(VPC).inputs["natGateways"] == {"strategy": "None"}


def test_s3_is_reached_through_a_free_gateway_endpoint(env):
    vpc = env.one(VPC).inputs
    assert vpc["vpcEndpointSpecs"] == [{"serviceName": "com.amazonaws.eu-west-1.s3", "vpcEndpointType": "Gateway"}]
    assert vpc["vpcEndpointStrategy"] == "Auto"  # awsx attaches it to every route table


def test_small_has_no_interface_endpoints(small):
    assert small.of_type("aws:ec2/vpcEndpoint:VpcEndpoint") == []


def test_prodlike_interface_endpoints_sit_in_the_app_subnets_behind_https_from_the_vpc_only(prodlike):
    endpoints = prodlike.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    services = sorted(e.inputs["serviceName"].removeprefix("com.amazonaws.eu-west-1.") for e in endpoints)
    assert services == ["ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm"]
    group = prodlike.one("aws:ec2/securityGroup:SecurityGroup", "network-endpoints")
    for endpoint in endpoints:
        assert endpoint.inputs["vpcEndpointType"] == "Interface"
        assert endpoint.inputs["privateDnsEnabled"] is True
        assert endpoint.inputs["subnetIds"] == prodlike.outputs["privateSubnetIds"]
        assert endpoint.inputs["securityGroupIds"] == [group.id]
    rules = [
        r.inputs
        for r in prodlike.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.inputs["securityGroupId"] == group.id
    ]
    assert rules == [
        {
            "securityGroupId": group.id,
            "description": "HTTPS from the VPC",
            "ipProtocol": "tcp",
            "fromPort": 443,
            "toPort": 443,
            "cidrIpv4": "10.20.0.0/16",
        }
    ]


def test_small_flow_logs_go_to_a_log_group_with_retention(small):
    log_group = small.one("aws:cloudwatch/logGroup:LogGroup", "network-flow-logs")
    flow_log = small.one("aws:ec2/flowLog:FlowLog").inputs
    assert log_group.inputs["retentionInDays"] == 30
    assert log_group.inputs["name"] == "/ecs-platform/small/vpc-flow-logs"
    assert flow_log["logDestination"] == log_group.outputs["arn"]
    assert flow_log["logDestinationType"] == "cloud-watch-logs"
    assert flow_log["vpcId"] == small.outputs["vpcId"]
    assert flow_log["trafficType"] == "REJECT"


def test_the_flow_log_role_may_only_write_to_its_own_log_group(small):
    role = small.one("aws:iam/role:Role", "network-flow-logs")
    log_group_arn = small.one("aws:cloudwatch/logGroup:LogGroup", "network-flow-logs").outputs["arn"]
    assert small.one("aws:ec2/flowLog:FlowLog").inputs["iamRoleArn"] == role.outputs["arn"]

    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "vpc-flow-logs.amazonaws.com"}]
    assert trust[0]["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}

    policies = [p for p in small.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.id]
    statements = [s for p in policies for s in json.loads(p.inputs["policy"])["Statement"]]
    assert statements == [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            "Resource": [log_group_arn, f"{log_group_arn}:log-stream:*"],
        },
        # IAM has no resource type for DescribeLogGroups (tests/test_flow_logs.py)
        {"Sid": "FindTheLogGroup", "Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": "*"},
    ]
    attachments = small.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert [a for a in attachments if a.inputs["role"] in (role.id, role.outputs["name"])] == []


def test_flow_logs_can_be_turned_off():
    graph = with_config("small", lambda c: c["ecs-platform:network"].update(flowLogs={"enabled": False}))
    types = ("aws:ec2/flowLog:FlowLog", "aws:iam/role:Role", "aws:cloudwatch/logGroup:LogGroup")
    assert [r for r in graph.of_type(*types) if r.name.startswith("network-")] == []


def test_outputs_name_the_vpc_and_every_tier(env):
    assert env.outputs["vpcId"].startswith("vpc-")
    assert env.outputs["vpcCidr"] == env.one(VPC).inputs["cidrBlock"]
    assert env.outputs["availabilityZones"] == env.one(VPC).inputs["availabilityZoneNames"]
