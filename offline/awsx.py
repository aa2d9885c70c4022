"""What the awsx provider registers for an `awsx:ec2:Vpc`, so the offline preview can list it.

awsx components are remote: the program's process registers one `awsx:ec2:Vpc`, and the engine
has the awsx provider construct it, whose own program registers the component and its
children. Under mocks nothing constructs it, so this module derives the children from the
component's inputs the way pulumi/pulumi-awsx `awsx/ec2/vpc.ts` (3.11, the version pinned in
requirements.txt) and `awsx/ec2/subnetDistributorNew.ts` build them:

- the `aws:ec2/vpc:Vpc` (parent: the component), the internet gateway (parent: the VPC, always
  created), per AZ in order and per subnet spec public -> private -> isolated: the subnet
  (parent: the VPC), its route table (parent: the subnet), the association and the default route
  (parent: the route table; public -> internet gateway, private -> NAT gateway unless the
  strategy is None, isolated none), and in the public subnet of an AZ that gets one, the Elastic
  IP and the NAT gateway (parent: the subnet; `Single`: the first AZ only, `OnePerAz`: each);
- the VPC endpoints of `vpcEndpointSpecs`, named by their service name (parent: the VPC).
  With `vpcEndpointStrategy: Auto` (pulumi/pulumi-awsx#2028) a gateway endpoint without
  `routeTableIds` gets every route table the component made, so it is registered after them;
  with `Legacy` it is passed through as given, before the subnets.

Names are awsx's: subnets, route tables, associations and routes `<vpc>-<spec name>-<AZ number>`,
Elastic IPs and NAT gateways `<vpc>-<AZ number>`, the VPC and internet gateway `<vpc>`.
Values a resource only gets once created (ids) are unknown, as in a preview of a new stack.

Layouts this does not model (subnets without explicit `cidrBlocks`, which awsx's allocators lay
out; AZs chosen by count; interface endpoints, which `Auto` gives a security group of their
own) return a reason instead of children, which the preview prints.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import struct_pb2

from offline.harness import sdk
from offline.harness.graph import Resource
from offline.harness.urns import urn
from offline.harness.wire import plain
from policies.guardrails.types import (
    INTERNET_GATEWAY,
    NAT_GATEWAY,
    ROUTE,
    ROUTE_TABLE,
    ROUTE_TABLE_ASSOCIATION,
    SUBNET,
    VPC_ENDPOINT,
)

VPC = "aws:ec2/vpc:Vpc"
EIP = "aws:ec2/eip:Eip"
UNKNOWN = sdk.UNKNOWN  # a value known only after deployment, as the engine's wire format writes it

# The inputs of aws.ec2.Vpc that awsx forwards from its own arguments (`new aws.ec2.Vpc(name, {...args})`:
# the generated Node constructor keeps its declared inputs only).
_VPC_INPUTS = (
    "assignGeneratedIpv6CidrBlock",
    "cidrBlock",
    "enableDnsHostnames",
    "enableDnsSupport",
    "enableNetworkAddressUsageMetrics",
    "instanceTenancy",
    "ipv4IpamPoolId",
    "ipv4NetmaskLength",
    "ipv6CidrBlock",
    "ipv6CidrBlockNetworkBorderGroup",
    "ipv6IpamPoolId",
    "ipv6NetmaskLength",
    "region",
)
_ORDER = {"public": 0, "private": 1, "isolated": 2}  # compareSubnetSpecs


@dataclass
class _Spec:
    cidr: str
    type: str  # Public, Private, Isolated
    az: str
    name: str
    tags: Mapping[str, Any] | None = None


@dataclass
class _Builder:
    stack: str
    project: str
    provider: str
    made: list[Resource] = field(default_factory=list)

    def add(
        self, type_: str, name: str, parent: Resource, inputs: dict[str, Any], depends_on: list[Resource]
    ) -> Resource:
        """A custom resource as the engine records it: its inputs' unknowns are the ids of other children."""
        wire = struct_pb2.Struct()
        wire.update(inputs)
        refs = {key: sorted(_refs(value)) for key, value in inputs.items()}
        dependencies = sorted({r.urn for r in depends_on} | {u for urns in refs.values() for u in urns})
        resource = Resource(
            urn=urn(self.stack, self.project, parent.urn, type_, name),
            id="",
            type=type_,
            name=name,
            parent=parent.urn,
            custom=True,
            provider=self.provider,
            providers={},
            inputs=plain(wire),
            wire_inputs=wire,
            dependencies=dependencies,
            property_dependencies={key: urns for key, urns in refs.items() if urns},
            protect=False,
            ignore_changes=[],
            delete_before_replace=False,
        )
        self.made.append(resource)
        return resource


class _Id(str):
    """An id known only after deployment: unknown on the wire, and a dependency on the resource it comes from."""

    def __new__(cls, of: Resource) -> _Id:
        value = super().__new__(cls, UNKNOWN)
        value.of = of.urn
        return value


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, _Id):
        yield value.of
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def vpc_children(component: Resource, stack: str, project: str) -> list[Resource] | str:
    """The resources awsx registers under `component` (an `awsx:ec2:Vpc`) in its order, or why they cannot be listed."""
    args = component.inputs
    zones = args.get("availabilityZoneNames")
    if not isinstance(zones, list) or not all(isinstance(z, str) for z in zones):
        return "its AZs are chosen by the provider (numberOfAvailabilityZones), not listed in the program"
    specs = _subnet_specs(component.name, args, zones)
    if isinstance(specs, str):
        return specs
    endpoint_strategy = args.get("vpcEndpointStrategy") or "Legacy"
    endpoint_specs = args.get("vpcEndpointSpecs") or []
    if endpoint_strategy == "Auto" and any(_endpoint_type(s) == "Interface" for s in endpoint_specs):
        return "vpcEndpointStrategy Auto gives interface endpoints a security group of its own, not modelled here"
    provider = component.providers.get("aws", "")
    build = _Builder(stack, project, provider)

    name = component.name
    shared_tags = {"Name": name, **(args.get("tags") or {})}
    vpc_inputs = {key: args[key] for key in _VPC_INPUTS if args.get(key) is not None}
    vpc_inputs["cidrBlock"] = args.get("cidrBlock") or "10.0.0.0/16"
    vpc_inputs["tags"] = shared_tags
    vpc = build.add(VPC, name, component, vpc_inputs, [])
    igw = build.add(INTERNET_GATEWAY, name, vpc, {"vpcId": _Id(vpc), "tags": shared_tags}, [vpc])

    def endpoints(route_tables: list[Resource]) -> None:
        for spec in endpoint_specs:
            inputs = {key: value for key, value in spec.items() if value is not None}
            if endpoint_strategy == "Auto" and _endpoint_type(spec) == "Gateway" and "routeTableIds" not in inputs:
                inputs["routeTableIds"] = [_Id(table) for table in route_tables]
            inputs["vpcId"] = _Id(vpc)
            build.add(VPC_ENDPOINT, spec["serviceName"], vpc, inputs, [vpc])

    if endpoint_strategy != "Auto":
        endpoints([])

    strategy = (args.get("natGateways") or {}).get("strategy") or "OnePerAz"
    allocation_ids = (args.get("natGateways") or {}).get("elasticIpAllocationIds") or []
    nat_gateways: list[Resource] = []
    eips: list[Resource] = []
    route_tables: list[Resource] = []
    for index, zone in enumerate(zones):
        in_zone = sorted((s for s in specs if s.az == zone), key=lambda s: _ORDER[s.type.lower()])
        for spec in in_zone:
            kind = spec.type.lower()
            tags = {**shared_tags, **(spec.tags or {}), "Name": spec.name, "SubnetType": spec.type}
            subnet = build.add(
                SUBNET,
                spec.name,
                vpc,
                {
                    "vpcId": _Id(vpc),
                    "availabilityZone": zone,
                    "mapPublicIpOnLaunch": kind == "public",
                    "cidrBlock": spec.cidr,
                    "tags": tags,
                },
                [vpc],
            )
            table_tags = {**shared_tags, "Name": spec.name, "SubnetType": spec.type}
            table = build.add(ROUTE_TABLE, spec.name, subnet, {"vpcId": _Id(vpc), "tags": table_tags}, [subnet])
            route_tables.append(table)
            build.add(
                ROUTE_TABLE_ASSOCIATION,
                spec.name,
                table,
                {"routeTableId": _Id(table), "subnetId": _Id(subnet)},
                [table],
            )
            if kind == "public" and _creates_nat(strategy, len(nat_gateways), index):
                nat_tags = {**(args.get("tags") or {}), "Name": f"{name}-{index + 1}"}
                if not allocation_ids:
                    eips.append(build.add(EIP, f"{name}-{index + 1}", subnet, {"tags": nat_tags}, [subnet]))
                allocation = _Id(eips[index]) if not allocation_ids else allocation_ids[index]
                nat_gateways.append(
                    build.add(
                        NAT_GATEWAY,
                        f"{name}-{index + 1}",
                        subnet,
                        {"subnetId": _Id(subnet), "allocationId": allocation, "tags": nat_tags},
                        [subnet],
                    )
                )
            if kind == "public":
                route = {"routeTableId": _Id(table), "gatewayId": _Id(igw), "destinationCidrBlock": "0.0.0.0/0"}
                build.add(ROUTE, spec.name, table, route, [table])
            elif kind == "private" and strategy.lower() != "none":
                nat = nat_gateways[0] if strategy.lower() == "single" else nat_gateways[index]
                route = {"routeTableId": _Id(table), "natGatewayId": _Id(nat), "destinationCidrBlock": "0.0.0.0/0"}
                build.add(ROUTE, spec.name, table, route, [table])

    if endpoint_strategy == "Auto":
        endpoints(route_tables)
    return build.made


def _endpoint_type(spec: Mapping[str, Any]) -> str:
    return spec.get("vpcEndpointType") or "Gateway"


def _creates_nat(strategy: str, made: int, zone_index: int) -> bool:
    """shouldCreateNatGateway: Single makes one (in the first AZ), OnePerAz one in each AZ, None none."""
    return {"none": False, "single": made < 1, "oneperaz": made < zone_index + 1}.get(strategy.lower(), False)


def _subnet_specs(vpc_name: str, args: Mapping[str, Any], zones: list[str]) -> list[_Spec] | str:
    """Every subnet awsx lays out from explicit `cidrBlocks` (getSubnetSpecsExplicit), AZ by AZ."""
    inputs = args.get("subnetSpecs")
    strategy = args.get("subnetStrategy") or "Legacy"
    if strategy == "Legacy" and inputs:
        return "subnetStrategy Legacy lays out the subnets with awsx's legacy allocator, not modelled here"
    if inputs and any(spec.get("cidrBlocks") is not None for spec in inputs):
        if not all(len(spec.get("cidrBlocks") or []) == len(zones) for spec in inputs):
            return "its subnet specs do not give one CIDR block per AZ (awsx refuses them)"
        return [
            _Spec(spec["cidrBlocks"][index], spec["type"], zone, _subnet_name(vpc_name, spec, index), spec.get("tags"))
            for index, zone in enumerate(zones)
            for spec in inputs
            if spec["type"] != "Unused"
        ]
    return (
        f"its subnets are laid out by awsx's {strategy} allocator from CIDR masks, which this preview does not "
        "model (the program's Network gives every subnet spec its cidrBlocks)"
    )


def _subnet_name(vpc_name: str, spec: Mapping[str, Any], zone_index: int) -> str:
    return f"{vpc_name}-{spec.get('name') or spec['type'].lower()}-{zone_index + 1}"
