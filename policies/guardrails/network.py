"""Network guardrails: no security group open to the internet except 80/443 on a load balancer's group.

The load balancer's own rules (listeners, TLS, logs, WAF) are in `load_balancing.py`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from typing import Any

from .common import (
    MANDATORY,
    StackGraph,
    as_list,
    has_unknown,
    number,
    stack_policy,
)
from .types import (
    DEFAULT_SECURITY_GROUP,
    EGRESS_RULE,
    FLOW_LOG,
    INGRESS_RULE,
    LOAD_BALANCERS,
    SECURITY_GROUP_RULE,
    SECURITY_GROUPS,
    VPCS,
)

WEB_PORTS = frozenset({80, 443})

# "Open to the world" is decided by how much of the public address space a group admits, summed over all
# its rules, not by the strings 0.0.0.0/0 and ::/0: 0.0.0.0/1 + 128.0.0.0/1, or a few broad public blocks,
# are the world as much. A group that admits as much public space as a /8 (IPv4, 16.7 million addresses:
# more than any one organisation's network) or a /32 (IPv6, a whole ISP allocation) counts as world-open.
WORLD_PREFIX = {4: 8, 6: 32}
# Space that is not reachable from the internet: a rule from it is no exposure ("IANA IPv4/IPv6 Special-Purpose
# Address Registry", RFC 6890; private ranges RFC 1918, shared CGNAT space RFC 6598, IPv6 ULA RFC 4193).
NOT_PUBLIC = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "224.0.0.0/3",
        "::/128",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    )
)


def _network(value: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    if not isinstance(value, str) or has_unknown(value):
        return None
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None


def public_addresses(networks: list) -> dict[int, int]:
    """IP version -> how many internet-routable addresses the networks admit together (overlaps counted once)."""
    total: dict[int, int] = {4: 0, 6: 0}
    for version in (4, 6):
        pieces = list(ipaddress.collapse_addresses(n for n in networks if n.version == version))
        for reserved in (r for r in NOT_PUBLIC if r.version == version):
            kept = []
            for piece in pieces:
                if piece.subnet_of(reserved):
                    continue
                kept.extend(piece.address_exclude(reserved) if reserved.subnet_of(piece) else [piece])
            pieces = kept
        total[version] = sum(p.num_addresses for p in pieces)
    return total


def is_world(networks: list) -> list[int]:
    """The IP versions in which `networks` together admit at least a WORLD_PREFIX share of public space."""
    counts = public_addresses(networks)
    bits = {4: 32, 6: 128}
    return [v for v, n in counts.items() if n >= 2 ** (bits[v] - WORLD_PREFIX[v])]


def _ports(rule: Mapping, protocol_key: str) -> tuple[str, float | None, float | None]:
    protocol = str(rule.get(protocol_key, "")).lower()
    return protocol, number(rule.get("fromPort")), number(rule.get("toPort"))


def _is_web_port(protocol: str, low: float | None, high: float | None) -> bool:
    return protocol in ("tcp", "6") and low is not None and low == high and int(low) in WEB_PORTS


def _describe(protocol: str, low: float | None, high: float | None) -> str:
    if protocol in ("-1", "all"):
        return "all traffic"
    if low is None:
        return f"{protocol or '?'} (ports unknown)"
    return f"{protocol} {int(low)}" + (f"-{int(high)}" if high is not None and high != low else "")


def load_balancer_groups(graph: StackGraph) -> set[str]:
    return {sg.urn for lb in graph.of_type(*LOAD_BALANCERS) for sg in graph.referenced(lb, "securityGroups")}


def _ingress_rules(graph: StackGraph) -> Iterator[tuple[Any, frozenset[str], Mapping, str, tuple[str, ...], str]]:
    """(reporting resource, target group urns, rule, protocol key, CIDR keys, label) for every ingress rule."""
    for sg in graph.of_type(*SECURITY_GROUPS):
        for i, rule in enumerate(as_list(graph.get(sg, "ingress"))):
            if isinstance(rule, Mapping):
                yield sg, frozenset({sg.urn}), rule, "protocol", ("cidrBlocks", "ipv6CidrBlocks"), f"ingress[{i}]"
    for rule in graph.of_type(SECURITY_GROUP_RULE):
        if graph.get(rule, "type") == "ingress":
            targets = frozenset(sg.urn for sg in graph.referenced(rule, "securityGroupId", SECURITY_GROUPS))
            yield rule, targets, graph.props[rule.urn], "protocol", ("cidrBlocks", "ipv6CidrBlocks"), "rule"
    for rule in graph.of_type(INGRESS_RULE):
        targets = frozenset(sg.urn for sg in graph.referenced(rule, "securityGroupId", SECURITY_GROUPS))
        yield rule, targets, graph.props[rule.urn], "ipProtocol", ("cidrIpv4", "cidrIpv6"), "rule"


def check_world_ingress(graph: StackGraph, config: Mapping) -> Iterator[tuple[Any, str]]:
    lb_groups = load_balancer_groups(graph)
    # Per target group (a rule whose group is not known yet stands alone): the rules that may not be
    # world-open, with the networks each admits.
    by_group: dict[Any, list[tuple[Any, str, str, list]]] = {}
    for resource, targets, rule, protocol_key, keys, where in _ingress_rules(graph):
        networks = [n for key in keys for v in as_list(rule.get(key)) if (n := _network(v)) is not None]
        if not networks:
            continue
        protocol, low, high = _ports(rule, protocol_key)
        on_lb = bool(targets) and targets <= lb_groups
        if on_lb and _is_web_port(protocol, low, high):
            continue  # the load balancer's listeners are meant for everyone
        where_to = "a load balancer's group" if on_lb else "a group of no load balancer"
        label = f"{where}: {_describe(protocol, low, high)} open to"
        for key in sorted(targets) or [resource.urn]:
            by_group.setdefault(key, []).append((resource, label, where_to, networks))
    for entries in by_group.values():
        versions = is_world([n for *_, networks in entries for n in networks])
        for resource, label, where_to, networks in entries:
            public = [str(n) for n in networks if n.version in versions and any(public_addresses([n]).values())]
            if public:
                span = " and ".join(f"/{WORLD_PREFIX[v]}" for v in versions)
                yield (
                    resource,
                    f"{label} {', '.join(public)} on {where_to}: with the group's other rules it admits at least "
                    f"a {span} of public address space, which counts as the whole internet.",
                )


def _of_vpc(graph: StackGraph, vpc: Any, types: tuple[str, ...] | list[str]) -> list[Any] | None:
    """Resources of `types` whose vpcId names `vpc` (awsx's through its `vpcId` output); None if one is unknown."""
    vpc_id = graph.get(vpc, "vpcId") or graph.get(vpc, "id")
    found, unknown = [], False
    for resource in graph.of_type(*types):
        value = graph.get(resource, "vpcId")
        if any(t.urn == vpc.urn for t in graph.referenced(resource, "vpcId")) or (
            isinstance(vpc_id, str) and not has_unknown(vpc_id) and value == vpc_id
        ):
            found.append(resource)
        elif has_unknown(value) and not resource.property_dependencies.get("vpcId"):
            unknown = True
    return None if unknown and not found else found


def check_flow_logs(graph: StackGraph, config: Mapping) -> Iterator[tuple[Any, str]]:
    for vpc in graph.of_type(*VPCS):
        logs = _of_vpc(graph, vpc, [FLOW_LOG])
        if logs is not None and not logs:
            yield vpc, f"VPC {vpc.name} has no flow log: rejected and accepted traffic leaves no trace."


def check_default_security_group(graph: StackGraph, config: Mapping) -> Iterator[tuple[Any, str]]:
    """The default group of a VPC allows all traffic between its members and all egress until something empties
    it ("Default security groups for your VPCs", Amazon VPC User Guide); aws.ec2.DefaultSecurityGroup adopts it and,
    without rules, removes every rule it has."""
    for vpc in graph.of_type(*VPCS):
        groups = _of_vpc(graph, vpc, [DEFAULT_SECURITY_GROUP])
        if groups is None:
            continue
        if not groups:
            yield (
                vpc,
                f"VPC {vpc.name}: its default security group keeps AWS's rules "
                "(all traffic among members, all egress).",
            )
        for group in groups:
            for key in ("ingress", "egress"):
                rules = graph.get(group, key)
                if not has_unknown(rules) and as_list(rules):
                    yield group, f"default security group of {vpc.name} has {key} rules."
            for rule in [
                *graph.referrers(group, "securityGroupId", [SECURITY_GROUP_RULE, INGRESS_RULE, EGRESS_RULE]),
            ]:
                yield rule, f"rule added to the default security group of {vpc.name}."


POLICIES = [
    stack_policy(
        "vpc-flow-logs",
        "Every VPC of the stack (awsx or plain) has a flow log.",
        MANDATORY,
        check_flow_logs,
        "turn on network.flowLogs (aws.ec2.FlowLog with vpcId of the VPC).",
    ),
    stack_policy(
        "vpc-default-security-group-closed",
        "Every VPC's default security group is adopted by the stack (aws.ec2.DefaultSecurityGroup) and has no rules.",
        MANDATORY,
        check_default_security_group,
        "add aws.ec2.DefaultSecurityGroup(vpc_id=<the VPC>) without ingress or egress; give resources their own "
        "groups.",
    ),
    stack_policy(
        "sg-no-world-ingress",
        "No security group admits the internet (as much public address space as an IPv4 /8 or IPv6 /32, summed "
        "over its inline and separate ingress rules), except TCP 80/443 on a load balancer's group.",
        MANDATORY,
        check_world_ingress,
        "allow from the load balancer's or the client's security group (referencedSecurityGroupId); reach "
        "hosts through SSM Session Manager instead of open ports.",
    ),
]

# Anchor rules (guardrails/anchors.py) each policy covers: docs/policy-coverage.md is generated from these.
COVERS: dict[str, list[str]] = {
    "vpc-flow-logs": ["AwsSolutions-VPC7", "CKV2_AWS_11"],
    "vpc-default-security-group-closed": ["CKV2_AWS_12"],
    "sg-no-world-ingress": ["AwsSolutions-EC23", "CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_260", "CKV_AWS_277"],
}
