"""AWS WAF in front of the shared load balancer: a regional web ACL, its association and its logs.

The web ACL allows by default and blocks what the configured AWS managed rule groups match,
then what exceeds a per-IP rate limit. Its logs go to a CloudWatch log group of the stack,
encrypted with a key of its own; log delivery writes to it under the account's resource policy for every
stack's AWS WAF log groups, which the CI bootstrap creates.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.account import Account
from components.config import WafConfig
from components.kms import logs_key
from components.naming import Naming

# Headers that carry credentials: kept out of the logs, which many more people read than the requests.
_REDACTED_HEADERS = ("authorization", "cookie")


def _visibility(metric: str) -> dict:
    # Every rule and the web ACL publish CloudWatch metrics and keep sampled requests: how a count-only group
    # is judged before it blocks (AWS WAF developer guide, "Configuring metrics and sampling").
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric, "sampled_requests_enabled": True}


def web_acl(
    name: str,
    cfg: WafConfig,
    *,
    naming: Naming,
    account: Account,
    load_balancer: aws.lb.LoadBalancer,
    parent: pulumi.Resource,
) -> aws.wafv2.WebAcl:
    """The web ACL protecting `load_balancer`, associated with it, with its logging."""
    acl_name = naming.name("waf")
    rules = []
    for priority, group in enumerate(cfg.managed_rule_groups):
        rules.append(
            {
                "name": group,
                "priority": priority,
                # A rule group's own actions apply ("none"), or each of its matches is only counted.
                "override_action": {"count": {}} if group in cfg.count_only else {"none": {}},
                "statement": {
                    "managed_rule_group_statement": {
                        "name": group,
                        "vendor_name": "AWS",
                        # Single rules that count while the rest of the group blocks, typically
                        # SizeRestrictions_BODY for uploads: behind an ALB AWS WAF sees only a body's first
                        # 8 KB ("Managing body inspection size limits", AWS WAF developer guide).
                        **(
                            {
                                "rule_action_overrides": [
                                    {"name": rule, "action_to_use": {"count": {}}}
                                    for rule in cfg.rule_action_overrides[group]
                                ]
                            }
                            if group in cfg.rule_action_overrides
                            else {}
                        ),
                    }
                },
                "visibility_config": _visibility(f"{acl_name}-{group}"),
            }
        )
    rules.append(
        {
            "name": "RateLimitPerIp",
            "priority": len(cfg.managed_rule_groups),
            "action": {"block": {}},
            # Counted per client IP over the window (AWS WAF developer guide, "Rate-based rule high-level
            # settings": a limit of 10 or more, windows of 60, 120, 300 or 600 seconds).
            "statement": {
                "rate_based_statement": {
                    "limit": cfg.rate_limit,
                    "evaluation_window_sec": cfg.rate_limit_window,
                    "aggregate_key_type": "IP",
                }
            },
            "visibility_config": _visibility(f"{acl_name}-rate-limit"),
        }
    )
    acl = aws.wafv2.WebAcl(
        f"{name}-waf",
        name=acl_name,
        description=f"Protects the load balancer of {naming.name('alb')}",
        # An ALB takes a regional web ACL in its own region (CLOUDFRONT is for distributions only).
        scope="REGIONAL",
        default_action={"allow": {}},
        rules=rules,
        visibility_config=_visibility(acl_name),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    aws.wafv2.WebAclAssociation(
        f"{name}-waf",
        resource_arn=load_balancer.arn,
        web_acl_arn=acl.arn,
        opts=pulumi.ResourceOptions(parent=acl),
    )
    _logging(name, cfg, naming=naming, account=account, acl=acl)
    return acl


def _logging(name: str, cfg: WafConfig, *, naming: Naming, account: Account, acl: aws.wafv2.WebAcl) -> None:
    # AWS WAF delivers only to a destination whose name starts with aws-waf-logs- (AWS WAF developer guide,
    # "Logging web ACL traffic").
    group_name = f"aws-waf-logs-{naming.name('alb')}"
    # CloudWatch Logs uses the key for this log group only: the encryption context names it ("Encrypt log
    # data in CloudWatch Logs using AWS Key Management Service", Amazon CloudWatch Logs user guide).
    key = logs_key(
        f"{name}-waf-logs",
        alias=naming.name("waf-logs", "kms_alias"),
        description=f"Encrypts the AWS WAF logs in {group_name}",
        account=account,
        log_groups=[group_name],
        parent=acl,
        sid="CloudWatchLogsEncryptsWafLogs",
    )
    group = aws.cloudwatch.LogGroup(
        f"{name}-waf-logs",
        name=group_name,
        retention_in_days=cfg.log_retention_days,
        kms_key_id=key.arn,
        opts=pulumi.ResourceOptions(parent=acl),
    )
    # Log delivery may write to the group under the account's one resource policy for every stack's AWS WAF
    # log groups, which the CI bootstrap creates (bootstrap/, docs/ci.md): CloudWatch Logs holds at most 10
    # resource policies per account and region (CloudWatch Logs API Reference, PutResourcePolicy), too few
    # for one per stack.
    aws.wafv2.WebAclLoggingConfiguration(
        f"{name}-waf",
        resource_arn=acl.arn,
        log_destination_configs=[group.arn],
        redacted_fields=[{"single_header": {"name": header}} for header in _REDACTED_HEADERS],
        opts=pulumi.ResourceOptions(parent=acl),
    )
