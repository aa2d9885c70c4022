"""The steps the offline preview reports: what awsx registers inside its VPC, and the engine's default providers.

Hand-made programs, evaluated as a preview of a new stack. The children follow
pulumi/pulumi-awsx `awsx/ec2/vpc.ts` (types, names, parents, order) and
`subnetDistributorNew.ts` `getSubnetSpecsExplicit` (subnet names `<vpc>-<spec name>-<AZ number>`).
"""

import importlib.metadata

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx
import pulumi_random as random

from offline import preview_json
from offline.harness import evaluate
from offline.harness.urns import qualified_type
from offline.steps import engine_steps

UNKNOWN = pulumi.runtime.rpc.UNKNOWN
VPC = "urn:pulumi:net::ecs-platform::test:index:Net$awsx:ec2:Vpc"


class Net(pulumi.ComponentResource):
    def __init__(self, name: str, strategy: awsx.ec2.NatGatewayStrategy, subnet_strategy, opts=None):
        super().__init__("test:index:Net", name, None, opts)
        awsx.ec2.Vpc(
            "vpc",
            cidr_block="10.40.0.0/16",
            availability_zone_names=["eu-west-1a", "eu-west-1b"],
            subnet_strategy=subnet_strategy,
            subnet_specs=[
                awsx.ec2.SubnetSpecArgs(
                    type=awsx.ec2.SubnetType.PRIVATE, name="app", cidr_blocks=["10.40.0.0/20", "10.40.16.0/20"]
                ),
                awsx.ec2.SubnetSpecArgs(
                    type=awsx.ec2.SubnetType.PUBLIC, name="edge", cidr_blocks=["10.40.48.0/24", "10.40.49.0/24"]
                ),
                awsx.ec2.SubnetSpecArgs(
                    type=awsx.ec2.SubnetType.ISOLATED, name="data", cidr_blocks=["10.40.51.0/24", "10.40.52.0/24"]
                ),
            ],
            nat_gateways=awsx.ec2.NatGatewayConfigurationArgs(strategy=strategy),
            vpc_endpoint_specs=[
                awsx.ec2.VpcEndpointSpecArgs(service_name="com.amazonaws.eu-west-1.s3", vpc_endpoint_type="Gateway")
            ],
            vpc_endpoint_strategy=awsx.ec2.VpcEndpointStrategy.AUTO,
            tags={"Team": "platform"},
            opts=pulumi.ResourceOptions(parent=self),
        )


def steps_of(strategy=awsx.ec2.NatGatewayStrategy.SINGLE, subnet_strategy=awsx.ec2.SubnetAllocationStrategy.AUTO):
    def program():
        provider = aws.Provider("aws", region="eu-west-1")
        Net("net", strategy, subnet_strategy, pulumi.ResourceOptions(provider=provider))

    config = {"aws:region": "eu-west-1"}
    graph = evaluate("net", config, preview=True, program=program)
    assert graph.error is None, graph.error
    return engine_steps(graph, config)


def children(steps):
    return [r for r in steps.graph.resources if f"{VPC}$" in r.urn]


def short(resource):
    """`type name <- parent's type` for a child of the VPC component."""
    return f"{resource.type.split(':')[-1]} {resource.name} <- {qualified_type(resource.parent).split('$')[-1]}"


def test_the_vpc_lists_what_awsx_registers_in_its_order_with_its_names_and_parents():
    steps = steps_of()
    assert [short(r) for r in children(steps)] == [
        "Vpc vpc <- awsx:ec2:Vpc",
        "InternetGateway vpc <- aws:ec2/vpc:Vpc",
        # AZ 1: public first, then private, then isolated (compareSubnetSpecs), whatever the spec order
        "Subnet vpc-edge-1 <- aws:ec2/vpc:Vpc",
        "RouteTable vpc-edge-1 <- aws:ec2/subnet:Subnet",
        "RouteTableAssociation vpc-edge-1 <- aws:ec2/routeTable:RouteTable",
        "Eip vpc-1 <- aws:ec2/subnet:Subnet",
        "NatGateway vpc-1 <- aws:ec2/subnet:Subnet",
        "Route vpc-edge-1 <- aws:ec2/routeTable:RouteTable",
        "Subnet vpc-app-1 <- aws:ec2/vpc:Vpc",
        "RouteTable vpc-app-1 <- aws:ec2/subnet:Subnet",
        "RouteTableAssociation vpc-app-1 <- aws:ec2/routeTable:RouteTable",
        "Route vpc-app-1 <- aws:ec2/routeTable:RouteTable",
        "Subnet vpc-data-1 <- aws:ec2/vpc:Vpc",
        "RouteTable vpc-data-1 <- aws:ec2/subnet:Subnet",
        "RouteTableAssociation vpc-data-1 <- aws:ec2/routeTable:RouteTable",
        # AZ 2: Single strategy, so no second NAT gateway
        "Subnet vpc-edge-2 <- aws:ec2/vpc:Vpc",
        "RouteTable vpc-edge-2 <- aws:ec2/subnet:Subnet",
        "RouteTableAssociation vpc-edge-2 <- aws:ec2/routeTable:RouteTable",
        "Route vpc-edge-2 <- aws:ec2/routeTable:RouteTable",
        "Subnet vpc-app-2 <- aws:ec2/vpc:Vpc",
        "RouteTable vpc-app-2 <- aws:ec2/subnet:Subnet",
        "RouteTableAssociation vpc-app-2 <- aws:ec2/routeTable:RouteTable",
        "Route vpc-app-2 <- aws:ec2/routeTable:RouteTable",
        "Subnet vpc-data-2 <- aws:ec2/vpc:Vpc",
        "RouteTable vpc-data-2 <- aws:ec2/subnet:Subnet",
        "RouteTableAssociation vpc-data-2 <- aws:ec2/routeTable:RouteTable",
        # Auto endpoint strategy: the gateway endpoint gets every route table, so it comes last
        "VpcEndpoint com.amazonaws.eu-west-1.s3 <- aws:ec2/vpc:Vpc",
    ]


def test_the_children_have_the_engines_urns_and_the_components_aws_provider():
    steps = steps_of()
    by_name = {(r.type, r.name): r for r in children(steps)}
    table = by_name[("aws:ec2/routeTableAssociation:RouteTableAssociation", "vpc-app-2")]
    assert table.urn == (
        f"{VPC}$aws:ec2/vpc:Vpc$aws:ec2/subnet:Subnet$aws:ec2/routeTable:RouteTable"
        "$aws:ec2/routeTableAssociation:RouteTableAssociation::vpc-app-2"
    )
    aws_provider = next(r for r in steps.graph.resources if r.type == "pulumi:providers:aws")
    assert {r.provider for r in children(steps)} == {f"{aws_provider.urn}::{UNKNOWN}"}


def test_routes_point_at_the_internet_gateway_or_the_nat_gateway_of_the_strategy():
    single = {(r.type, r.name): r for r in children(steps_of())}
    nat = single[("aws:ec2/natGateway:NatGateway", "vpc-1")]
    igw = single[("aws:ec2/internetGateway:InternetGateway", "vpc")]
    assert single[("aws:ec2/route:Route", "vpc-app-2")].property_dependencies["natGatewayId"] == [nat.urn]
    assert single[("aws:ec2/route:Route", "vpc-edge-2")].property_dependencies["gatewayId"] == [igw.urn]
    assert single[("aws:ec2/route:Route", "vpc-edge-1")].inputs["destinationCidrBlock"] == "0.0.0.0/0"
    eip = single[("aws:ec2/eip:Eip", "vpc-1")]
    assert nat.property_dependencies == {
        "allocationId": [eip.urn],
        "subnetId": [single[("aws:ec2/subnet:Subnet", "vpc-edge-1")].urn],
    }
    assert nat.inputs["tags"] == {"Team": "platform", "Name": "vpc-1"}
    subnet = single[("aws:ec2/subnet:Subnet", "vpc-data-2")]
    assert subnet.inputs["cidrBlock"] == "10.40.52.0/24" and subnet.inputs["availabilityZone"] == "eu-west-1b"
    assert subnet.inputs["mapPublicIpOnLaunch"] is False
    assert subnet.inputs["tags"] == {"Name": "vpc-data-2", "Team": "platform", "SubnetType": "Isolated"}
    endpoint = single[("aws:ec2/vpcEndpoint:VpcEndpoint", "com.amazonaws.eu-west-1.s3")]
    tables = [r.urn for r in children(steps_of()) if r.type == "aws:ec2/routeTable:RouteTable"]
    assert sorted(endpoint.property_dependencies["routeTableIds"]) == sorted(tables) and len(tables) == 6

    per_az = {(r.type, r.name): r for r in children(steps_of(awsx.ec2.NatGatewayStrategy.ONE_PER_AZ))}
    second = per_az[("aws:ec2/natGateway:NatGateway", "vpc-2")]
    assert per_az[("aws:ec2/route:Route", "vpc-app-2")].property_dependencies["natGatewayId"] == [second.urn]
    assert ("aws:ec2/eip:Eip", "vpc-2") in per_az

    none = {(r.type, r.name) for r in children(steps_of(awsx.ec2.NatGatewayStrategy.NONE))}
    assert not any(t in ("aws:ec2/natGateway:NatGateway", "aws:ec2/eip:Eip") for t, _ in none)
    assert ("aws:ec2/route:Route", "vpc-app-1") not in none and ("aws:ec2/route:Route", "vpc-edge-1") in none


def test_the_component_registers_no_inputs_of_its_own_and_its_children_are_steps_in_the_json():
    steps = steps_of()
    component = next(r for r in steps.graph.resources if r.type == "awsx:ec2:Vpc")
    assert component.inputs == {} and not component.custom
    doc = preview_json.document(steps.graph, {"aws:region": "eu-west-1"})
    urns = [step["urn"] for step in doc["steps"]]
    assert urns.index(component.urn) + 1 == urns.index(f"{VPC}$aws:ec2/vpc:Vpc::vpc")
    assert doc["changeSummary"] == {"create": len(steps.graph.resources)}
    vpc = next(s for s in doc["steps"] if s["urn"] == f"{VPC}$aws:ec2/vpc:Vpc::vpc")["newState"]
    assert vpc["inputs"] == {
        "cidrBlock": "10.40.0.0/16",
        "tags": {"Name": "vpc", "Team": "platform"},
    }
    gateway = next(s for s in doc["steps"] if s["urn"].endswith("internetGateway:InternetGateway::vpc"))
    assert gateway["newState"]["inputs"]["vpcId"] == preview_json.UNKNOWN


def test_a_layout_awsx_allocates_itself_is_named_instead_of_guessed():
    steps = steps_of(subnet_strategy=awsx.ec2.SubnetAllocationStrategy.LEGACY)
    assert children(steps) == []
    [(urn, why)] = steps.unlisted
    assert urn == f"{VPC}::vpc" and "Legacy" in why


def test_resources_without_a_provider_get_the_default_provider_the_engine_registers():
    def program():
        random.RandomId("suffix", byte_length=4)

    config = {"aws:region": "eu-west-1", "random:someSetting": "on"}
    graph = evaluate("dp", config, preview=True, program=program)
    steps = engine_steps(graph, config)
    version = importlib.metadata.version("pulumi_random")
    default = f"urn:pulumi:dp::ecs-platform::pulumi:providers:random::default_{version.replace('.', '_')}"
    [provider] = steps.default_providers
    assert provider.urn == default and provider.parent == ""
    # its inputs: the stack config of its package, and the version the SDK asked for
    assert provider.inputs == {"someSetting": "on", "version": version}
    suffix = next(r for r in steps.graph.resources if r.type == "random:index/randomId:RandomId")
    assert suffix.provider == f"{default}::{UNKNOWN}"
    doc = preview_json.document(steps.graph, config, default_providers=steps.default_providers)
    # `pulumi preview` reports no step for a default provider (pkg/engine isInternalStep) ...
    assert default not in [step["urn"] for step in doc["steps"]]
    assert doc["changeSummary"] == {"create": 2}
    # ... but the resource's state names it, and the document says what the engine registers
    [step] = [s for s in doc["steps"] if s["newState"]["type"] == "random:index/randomId:RandomId"]
    assert step["provider"] == step["newState"]["provider"] == f"{default}::{preview_json.UNKNOWN}"
    assert doc["ecsPlatform"]["defaultProviders"] == [
        {"urn": default, "inputs": {"someSetting": "on", "version": version}}
    ]


def test_an_awsx_component_uses_the_awsx_default_provider_for_its_construction():
    steps = steps_of()
    version = importlib.metadata.version("pulumi_awsx")
    assert [p.urn for p in steps.default_providers] == [
        f"urn:pulumi:net::ecs-platform::pulumi:providers:awsx::default_{version.replace('.', '_')}"
    ]


def test_two_runs_register_the_same_steps_in_the_same_order():
    first, second = steps_of(), steps_of()
    assert [(r.urn, r.dependencies, r.property_dependencies) for r in first.graph.resources] == [
        (r.urn, r.dependencies, r.property_dependencies) for r in second.graph.resources
    ]
