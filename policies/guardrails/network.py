"""Network guardrails: no security group open to the internet except 80/443 on a load balancer's group,
HTTP redirected to HTTPS where HTTPS exists, invalid headers dropped by the ALB.

Load balancers and listeners exist under several type tokens (`aws:lb/...`, `aws:alb/...` and
the legacy `aws:elasticloadbalancingv2/...`, `aws:applicationloadbalancing/...`); every one counts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .common import (
    ADVISORY,
    MANDATORY,
    StackGraph,
    as_list,
    has_unknown,
    is_true,
    is_unknown,
    number,
    resource_policy,
    stack_policy,
)
from .types import INGRESS_RULE, LISTENER_RULES, LISTENERS, LOAD_BALANCERS, SECURITY_GROUP_RULE, SECURITY_GROUPS

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


def _protocol(graph: StackGraph, listener: Any) -> str:
    """HTTP, HTTPS, ... ; "" while unknown. Unset means HTTP: the provider creates an application load
    balancer's listener without a protocol as HTTP, certificate or not (terraform-provider-aws,
    lb_listener: "Keep previous default of HTTP for Application Load Balancers")."""
    value = graph.get(listener, "protocol")
    if value in (None, ""):
        return "HTTP"
    return "" if has_unknown(value) else str(value).upper()


def _serves_plain_http(action: Any) -> bool:
    """True when an action known so far does anything but redirect to HTTPS."""
    if not isinstance(action, Mapping):
        return not has_unknown(action)
    kind, redirect = action.get("type"), action.get("redirect")
    if has_unknown(kind):
        return False
    if str(kind).lower() != "redirect":
        return True
    if not isinstance(redirect, Mapping):
        return not has_unknown(redirect)
    protocol = redirect.get("protocol")
    # "#{protocol}" (the default) keeps the request's own protocol: HTTP on an HTTP listener.
    return not has_unknown(protocol) and str(protocol or "#{protocol}").upper() != "HTTPS"


def _load_balancer(graph: StackGraph, listener: Any) -> tuple[str, str] | None:
    """(key, label) of the load balancer a listener belongs to: one of the stack's, or another by its ARN."""
    for lb in graph.referenced(listener, "loadBalancerArn", LOAD_BALANCERS):
        return lb.urn, lb.name
    value = graph.get(listener, "loadBalancerArn")
    if isinstance(value, str) and value and not has_unknown(value):
        return value, value
    return None


def check_https_redirect(graph: StackGraph, config: Mapping) -> Iterator[tuple[Any, str]]:
    by_load_balancer: dict[str, list[Any]] = {}
    labels: dict[str, str] = {}
    for listener in graph.of_type(*LISTENERS):
        found = _load_balancer(graph, listener)
        if found is not None:
            by_load_balancer.setdefault(found[0], []).append(listener)
            labels[found[0]] = found[1]
    for key, listeners in by_load_balancer.items():
        if not any(_protocol(graph, ls) == "HTTPS" for ls in listeners):
            continue
        for listener in listeners:
            if _protocol(graph, listener) != "HTTP":
                continue
            actions = graph.get(listener, "defaultActions")
            if not has_unknown(actions) and (not as_list(actions) or any(map(_serves_plain_http, as_list(actions)))):
                yield listener, f"HTTP listener of {labels[key]} serves traffic instead of redirecting to HTTPS."
            for rule in graph.referrers(listener, "listenerArn", LISTENER_RULES):
                if any(map(_serves_plain_http, as_list(graph.get(rule, "actions")))):
                    yield rule, f"listener rule on the HTTP listener of {labels[key]} serves traffic over HTTP."


def check_drop_invalid_headers(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    kind = props.get("loadBalancerType")
    if kind not in (None, "application"):
        return
    value = props.get("dropInvalidHeaderFields")
    if not is_unknown(value) and not is_true(value):
        yield "dropInvalidHeaderFields is not true: malformed headers reach the targets (request smuggling)."


POLICIES = [
    stack_policy(
        "sg-no-world-ingress",
        "No security group accepts traffic from 0.0.0.0/0 or ::/0, except TCP 80/443 on a load balancer's group.",
        MANDATORY,
        check_world_ingress,
        "allow from the load balancer's or the client's security group (referencedSecurityGroupId); reach "
        "hosts through SSM Session Manager instead of open ports.",
    ),
    stack_policy(
        "alb-http-redirects-to-https",
        "A load balancer with an HTTPS listener answers plain HTTP only with a redirect to HTTPS.",
        MANDATORY,
        check_https_redirect,
        'make the port-80 listener\'s default action {"type": "redirect", "redirect": {"protocol": "HTTPS", '
        '"port": "443", "statusCode": "HTTP_301"}} and attach listener rules to the HTTPS listener.',
    ),
    resource_policy(
        "alb-drop-invalid-headers",
        "Application load balancers drop HTTP headers that are not valid.",
        ADVISORY,
        LOAD_BALANCERS,
        check_drop_invalid_headers,
        "set dropInvalidHeaderFields=True on the load balancer.",
    ),
]

# Anchor rules (guardrails/anchors.py) each policy covers: docs/policy-coverage.md is generated from these.
COVERS: dict[str, list[str]] = {
    "sg-no-world-ingress": ["AwsSolutions-EC23", "CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_260", "CKV_AWS_277"],
    "alb-http-redirects-to-https": ["CKV2_AWS_20", "awsguard:alb-http-to-https-redirection"],
    "alb-drop-invalid-headers": ["CKV_AWS_131"],
}
