"""Load balancer guardrails: HTTPS on internet-facing ALBs (or plain HTTP on purpose), TLS 1.2+ policies from an
allow-list, HTTP redirected to HTTPS where HTTPS exists, invalid headers dropped, desync mitigation kept, access
logs and deletion protection where the pack config asks, and an AWS WAF web ACL on internet-facing ALBs with
its logging.

Load balancers and listeners exist under several type tokens (`aws:lb/...`, `aws:alb/...` and
the legacy `aws:elasticloadbalancingv2/...`, `aws:applicationloadbalancing/...`); every one counts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyConfigSchema

from .common import (
    ADVISORY,
    MANDATORY,
    StackGraph,
    as_list,
    has_unknown,
    is_true,
    is_unknown,
    resource_policy,
    stack_policy,
)
from .types import (
    LISTENER_RULES,
    LISTENERS,
    LOAD_BALANCERS,
    LOG_GROUP,
    WAF_WEB_ACL,
    WAF_WEB_ACL_ASSOCIATION,
    WAF_WEB_ACL_LOGGING,
)

# The tag by which a stack marks an internet-facing load balancer that serves plain HTTP on purpose
# (a development environment without a domain). The program sets it from `loadBalancer.httpOnly`.
HTTP_ONLY_TAG = "HttpOnly"

# Every predefined ALB/NLB security policy whose lowest protocol is TLS 1.2 (Elastic Load Balancing user guide,
# "Security policies for your Application Load Balancer"). Policies that still accept TLS 1.0 or 1.1
# (ELBSecurityPolicy-2016-08, the default of a listener created without one through the API,
# ELBSecurityPolicy-TLS13-1-0-2021-06, ...-TLS-1-1-...) are left out.
TLS12_POLICIES = [
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS-1-2-2017-01",
    "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
    "ELBSecurityPolicy-FS-1-2-2019-08",
    "ELBSecurityPolicy-FS-1-2-Res-2019-08",
    "ELBSecurityPolicy-FS-1-2-Res-2020-10",
]

# What the Elastic Load Balancing API applies to an HTTPS or TLS listener created without a policy (same guide).
API_DEFAULT_POLICY = "ELBSecurityPolicy-2016-08"

_REQUIRED = PolicyConfigSchema(properties={"required": {"type": "boolean", "default": False}})


# --- listeners --------------------------------------------------------------------------------------


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


def _listeners_by_load_balancer(graph: StackGraph) -> tuple[dict[str, list[Any]], dict[str, str]]:
    by_load_balancer: dict[str, list[Any]] = {}
    labels: dict[str, str] = {}
    for listener in graph.of_type(*LISTENERS):
        found = _load_balancer(graph, listener)
        if found is not None:
            by_load_balancer.setdefault(found[0], []).append(listener)
            labels[found[0]] = found[1]
    return by_load_balancer, labels


def check_https_redirect(graph: StackGraph, config: Mapping) -> Iterator[tuple[Any, str]]:
    by_load_balancer, labels = _listeners_by_load_balancer(graph)
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


def check_tls_policy(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    protocol = props.get("protocol")
    if is_unknown(protocol) or str(protocol or "").upper() not in ("HTTPS", "TLS"):
        return
    policy = props.get("sslPolicy")
    if is_unknown(policy):
        return
    allowed = config.get("allowedPolicies") or TLS12_POLICIES
    if policy in (None, ""):
        yield (
            f"{protocol} listener without sslPolicy: AWS applies {API_DEFAULT_POLICY}, which accepts TLS 1.0 and 1.1."
        )
    elif policy not in allowed:
        yield f"sslPolicy {policy} is not in the allow-list of TLS 1.2+ policies."


# --- load balancers ----------------------------------------------------------------------------------


def _internet_facing_alb(graph: StackGraph, lb: Any) -> bool | None:
    """True for an internet-facing application load balancer, False for others, None while unknown."""
    kind, internal = graph.get(lb, "loadBalancerType"), graph.get(lb, "internal")
    if is_unknown(kind) or is_unknown(internal):
        return None
    return kind in (None, "", "application") and not is_true(internal)


def _marked_http_only(graph: StackGraph, lb: Any) -> bool:
    tags = graph.get(lb, "tags")
    return isinstance(tags, Mapping) and str(tags.get(HTTP_ONLY_TAG, "")).lower() == "true"


def check_https(graph: StackGraph, config: Mapping) -> Iterator[tuple[Any, str]]:
    allow_http_only = config.get("allowHttpOnly", True)
    by_load_balancer, _ = _listeners_by_load_balancer(graph)
    for lb in graph.of_type(*LOAD_BALANCERS):
        if not _internet_facing_alb(graph, lb):
            continue
        protocols = [_protocol(graph, listener) for listener in by_load_balancer.get(lb.urn, [])]
        if "HTTPS" in protocols or "" in protocols:
            continue
        if _marked_http_only(graph, lb):
            if not allow_http_only:
                yield lb, f"{lb.name} is marked {HTTP_ONLY_TAG}, but this stack's pack config requires HTTPS."
            continue
        yield (
            lb,
            (
                f"internet-facing {lb.name} has no HTTPS listener and is not marked {HTTP_ONLY_TAG}=true: "
                "requests and responses cross the internet in plain text."
            ),
        )


def check_drop_invalid_headers(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    kind = props.get("loadBalancerType")
    if kind not in (None, "application"):
        return
    value = props.get("dropInvalidHeaderFields")
    if not is_unknown(value) and not is_true(value):
        yield "dropInvalidHeaderFields is not true: malformed headers reach the targets (request smuggling)."


def check_desync_mitigation(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    if props.get("loadBalancerType") not in (None, "application"):
        return
    # Unset is AWS's default, defensive (Elastic Load Balancing user guide, "Desync mitigation mode").
    if str(props.get("desyncMitigationMode") or "defensive").lower() == "monitor":
        yield "desyncMitigationMode is monitor: requests that risk HTTP desync reach the targets."


def check_access_logs(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    if not config.get("required", False) or props.get("loadBalancerType") not in (None, "application"):
        return
    logs = props.get("accessLogs")
    if has_unknown(logs):
        return
    if not isinstance(logs, Mapping) or not is_true(logs.get("enabled")) or not logs.get("bucket"):
        yield "access logs are off: requests to the load balancer leave no record (accessLogs.enabled and bucket)."


def check_deletion_protection(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    if not config.get("required", False):
        return
    value = props.get("enableDeletionProtection")
    if not is_unknown(value) and not is_true(value):
        yield "enableDeletionProtection is not true: a mistaken destroy deletes the load balancer and its DNS name."


# --- AWS WAF -----------------------------------------------------------------------------------------


def _managed_groups(graph: StackGraph, acl: Any) -> dict[str, bool] | None:
    """Managed rule groups of a web ACL -> whether they act (their override is not `count`); None while unknown."""
    rules = graph.get(acl, "rules")
    if has_unknown(rules):
        return None
    groups: dict[str, bool] = {}
    for rule in as_list(rules):
        if not isinstance(rule, Mapping):
            continue
        statement = (rule.get("statement") or {}).get("managedRuleGroupStatement")
        if isinstance(statement, Mapping) and statement.get("name"):
            override = rule.get("overrideAction") or {}
            groups[str(statement["name"])] = not (isinstance(override, Mapping) and override.get("count") is not None)
    return groups


def check_waf(graph: StackGraph, config: Mapping) -> Iterator[tuple[Any, str]]:
    if not config.get("required", False):
        return
    wanted = list(config.get("managedRuleGroups", []))
    associations = graph.of_type(WAF_WEB_ACL_ASSOCIATION)
    for lb in graph.of_type(*LOAD_BALANCERS):
        if not _internet_facing_alb(graph, lb):
            continue
        mine = [a for a in associations if any(t.urn == lb.urn for t in graph.referenced(a, "resourceArn"))]
        if not mine:
            yield lb, f"internet-facing {lb.name} has no AWS WAF web ACL association."
            continue
        for association in mine:
            for acl in graph.referenced(association, "webAclArn", [WAF_WEB_ACL]):
                groups = _managed_groups(graph, acl)
                if groups is None:
                    continue
                missing = [g for g in wanted if g not in groups]
                counting = [g for g in wanted if groups.get(g) is False]
                if missing:
                    yield acl, f"web ACL {acl.name} of {lb.name} lacks the managed rule groups {', '.join(missing)}."
                if counting:
                    yield acl, f"web ACL {acl.name} of {lb.name} only counts with {', '.join(counting)}."


def check_waf_logging(graph: StackGraph, config: Mapping) -> Iterator[tuple[Any, str]]:
    configurations = graph.of_type(WAF_WEB_ACL_LOGGING)
    for acl in graph.of_type(WAF_WEB_ACL):
        mine = [c for c in configurations if any(t.urn == acl.urn for t in graph.referenced(c, "resourceArn"))]
        if not mine:
            yield acl, f"web ACL {acl.name} has no logging configuration: blocked requests leave no record."
        for logging in mine:
            for group in graph.referenced(logging, "logDestinationConfigs", [LOG_GROUP]):
                name = graph.get(group, "name")
                # AWS WAF refuses a destination whose name lacks the prefix (AWS WAF developer guide,
                # "Logging web ACL traffic": destination naming).
                if isinstance(name, str) and not has_unknown(name) and not name.startswith("aws-waf-logs-"):
                    yield logging, f"log group {name} does not start with aws-waf-logs-: AWS WAF refuses it."
                retention = graph.get(group, "retentionInDays")
                if retention in (None, 0):
                    yield logging, f"log group {name} keeps AWS WAF logs forever (no retentionInDays)."


POLICIES = [
    stack_policy(
        "alb-https",
        "An internet-facing application load balancer has an HTTPS listener, or is marked HttpOnly=true where the "
        "pack config allows plain HTTP (allowHttpOnly; false in prod).",
        MANDATORY,
        check_https,
        "give the load balancer a certificate (loadBalancer.certificate) so it serves HTTPS; a development stack "
        "without a domain sets loadBalancer.httpOnly: true.",
        PolicyConfigSchema(properties={"allowHttpOnly": {"type": "boolean", "default": True}}),
    ),
    resource_policy(
        "alb-tls-policy",
        "HTTPS and TLS listeners use a security policy from an allow-list of TLS 1.2+ policies (set sslPolicy).",
        MANDATORY,
        LISTENERS,
        check_tls_policy,
        "set sslPolicy to ELBSecurityPolicy-TLS13-1-2-2021-06 (AWS's recommendation) or another policy of the "
        "allow-list.",
        PolicyConfigSchema(
            properties={"allowedPolicies": {"type": "array", "items": {"type": "string"}, "default": TLS12_POLICIES}}
        ),
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
    resource_policy(
        "alb-desync-mitigation",
        "Application load balancers keep HTTP desync mitigation at defensive or strictest (not monitor).",
        ADVISORY,
        LOAD_BALANCERS,
        check_desync_mitigation,
        'set desyncMitigationMode to "defensive" (the default) or "strictest".',
    ),
    resource_policy(
        "alb-access-logs",
        "Application load balancers write access logs to S3 where the pack config sets `required`.",
        ADVISORY,
        LOAD_BALANCERS,
        check_access_logs,
        "turn on loadBalancer.accessLogs.enabled (an S3 bucket of the stack receives the logs).",
        _REQUIRED,
    ),
    resource_policy(
        "alb-deletion-protection",
        "Load balancers have deletion protection where the pack config sets `required`.",
        ADVISORY,
        LOAD_BALANCERS,
        check_deletion_protection,
        "set loadBalancer.deletionProtection: true.",
        _REQUIRED,
    ),
    stack_policy(
        "alb-waf",
        "Internet-facing application load balancers are associated with an AWS WAF web ACL that uses the managed "
        "rule groups the pack config names (managedRuleGroups), not in count mode, where it sets `required`.",
        ADVISORY,
        check_waf,
        "turn on loadBalancer.waf (AWS managed rule groups and a per-IP rate limit, associated with the ALB).",
        PolicyConfigSchema(
            properties={
                "required": {"type": "boolean", "default": False},
                "managedRuleGroups": {
                    "type": "array",
                    "items": {"type": "string"},
                    "default": ["AWSManagedRulesKnownBadInputsRuleSet"],
                },
            }
        ),
    ),
    stack_policy(
        "waf-logging",
        "Every AWS WAF web ACL logs to a destination named aws-waf-logs-..., kept for a limited time.",
        ADVISORY,
        check_waf_logging,
        "add a wafv2.WebAclLoggingConfiguration to a log group named aws-waf-logs-<name> with retentionInDays "
        "(loadBalancer.waf.logRetentionDays does this).",
    ),
]

# Anchor rules each policy covers (cdk-nag AwsSolutions, Checkov, awsguard); the catalogue is anchors.py.
COVERS: dict[str, list[str]] = {
    "alb-https": ["CKV_AWS_2"],
    "alb-tls-policy": ["CKV_AWS_103"],
    "alb-http-redirects-to-https": ["CKV2_AWS_20", "awsguard:alb-http-to-https-redirection"],
    "alb-drop-invalid-headers": ["CKV_AWS_131"],
    "alb-desync-mitigation": ["CKV_AWS_328"],
    "alb-access-logs": ["AwsSolutions-ELB2", "CKV_AWS_91", "awsguard:elb-logging-enabled"],
    "alb-deletion-protection": ["CKV_AWS_150"],
    "alb-waf": ["CKV2_AWS_28", "CKV_AWS_192"],
    "waf-logging": ["CKV2_AWS_31"],
}
