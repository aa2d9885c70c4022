"""Network guardrails: no security group open to the internet except 80/443 on a load balancer's group.

The load balancer's own rules (listeners, TLS, logs, WAF) are in `load_balancing.py`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .common import (
    MANDATORY,
    StackGraph,
    as_list,
    number,
    stack_policy,
)
from .types import INGRESS_RULE, LOAD_BALANCERS, SECURITY_GROUP_RULE, SECURITY_GROUPS

WORLD = frozenset({"0.0.0.0/0", "::/0"})
WEB_PORTS = frozenset({80, 443})


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


def _world_sources(rule: Mapping, keys: tuple[str, ...]) -> list[str]:
    return [v for key in keys for v in as_list(rule.get(key)) if isinstance(v, str) and v in WORLD]


def load_balancer_groups(graph: StackGraph) -> set[str]:
    return {sg.urn for lb in graph.of_type(*LOAD_BALANCERS) for sg in graph.referenced(lb, "securityGroups")}


def check_world_ingress(graph: StackGraph, config: Mapping) -> Iterator[tuple[Any, str]]:
    lb_groups = load_balancer_groups(graph)

    def verdict(resource: Any, sg_urns: set[str], rule: Mapping, protocol_key: str, keys: tuple[str, ...], where: str):
        world = _world_sources(rule, keys)
        if not world:
            return None
        protocol, low, high = _ports(rule, protocol_key)
        if _is_web_port(protocol, low, high) and sg_urns and sg_urns <= lb_groups:
            return None
        where_to = "a load balancer's group" if sg_urns and sg_urns <= lb_groups else "a group of no load balancer"
        return resource, f"{where}: {_describe(protocol, low, high)} open to {', '.join(world)} on {where_to}."

    for sg in graph.of_type(*SECURITY_GROUPS):
        for i, rule in enumerate(as_list(graph.get(sg, "ingress"))):
            if isinstance(rule, Mapping):
                found = verdict(sg, {sg.urn}, rule, "protocol", ("cidrBlocks", "ipv6CidrBlocks"), f"ingress[{i}]")
                if found:
                    yield found
    for rule in graph.of_type(SECURITY_GROUP_RULE):
        if graph.get(rule, "type") == "ingress":
            targets = {sg.urn for sg in graph.referenced(rule, "securityGroupId", SECURITY_GROUPS)}
            found = verdict(rule, targets, graph.props[rule.urn], "protocol", ("cidrBlocks", "ipv6CidrBlocks"), "rule")
            if found:
                yield found
    for rule in graph.of_type(INGRESS_RULE):
        targets = {sg.urn for sg in graph.referenced(rule, "securityGroupId", SECURITY_GROUPS)}
        found = verdict(rule, targets, graph.props[rule.urn], "ipProtocol", ("cidrIpv4", "cidrIpv6"), "rule")
        if found:
            yield found


POLICIES = [
    stack_policy(
        "sg-no-world-ingress",
        "No security group accepts traffic from 0.0.0.0/0 or ::/0, except TCP 80/443 on a load balancer's group.",
        MANDATORY,
        check_world_ingress,
        "allow from the load balancer's or the client's security group (referencedSecurityGroupId); reach "
        "hosts through SSM Session Manager instead of open ports.",
    ),
]
