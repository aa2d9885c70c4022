"""AWS WAF in front of the load balancer (`loadBalancer.waf`): the web ACL, its association, its logs."""

import json

import pytest
from helpers import config_error, with_config

WEB_ACL = "aws:wafv2/webAcl:WebAcl"
ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
KMS_KEY = "aws:kms/key:Key"
RESOURCE_POLICY = "aws:cloudwatch/logResourcePolicy:LogResourcePolicy"
ALB = "aws:lb/loadBalancer:LoadBalancer"


def test_a_regional_web_acl_blocks_with_the_managed_groups_then_the_rate_limit_and_allows_the_rest(prodlike):
    acl = prodlike.one(WEB_ACL).inputs
    assert acl["scope"] == "REGIONAL"  # an ALB takes a regional web ACL
    assert acl["defaultAction"] == {"allow": {}}
    rules = sorted(acl["rules"], key=lambda r: r["priority"])
    assert [r["name"] for r in rules] == [
        "AWSManagedRulesAmazonIpReputationList",
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "RateLimitPerIp",
    ]
    for rule in rules[:3]:
        assert rule["statement"]["managedRuleGroupStatement"] == {"name": rule["name"], "vendorName": "AWS"}
        assert rule["overrideAction"] == {"none": {}}
    rate = rules[3]
    assert rate["action"] == {"block": {}}
    assert rate["statement"]["rateBasedStatement"] == {
        "limit": 2000,
        "evaluationWindowSec": 300,
        "aggregateKeyType": "IP",
    }
    for visibility in [acl["visibilityConfig"], *(r["visibilityConfig"] for r in rules)]:
        assert visibility["cloudwatchMetricsEnabled"] and visibility["sampledRequestsEnabled"]
    assert len({r["visibilityConfig"]["metricName"] for r in rules}) == len(rules)


def test_the_web_acl_is_associated_with_the_load_balancer(prodlike):
    association = prodlike.one(ASSOCIATION)
    assert association.inputs["resourceArn"] == prodlike.one(ALB).outputs["arn"]
    assert association.inputs["webAclArn"] == prodlike.one(WEB_ACL).outputs["arn"]


def test_every_option_reaches_the_web_acl(full):
    rules = {r["name"]: r for r in full.one(WEB_ACL).inputs["rules"]}
    assert rules["AWSManagedRulesAnonymousIpList"]["overrideAction"] == {"count": {}}
    assert rules["AWSManagedRulesSQLiRuleSet"]["overrideAction"] == {"none": {}}
    assert rules["RateLimitPerIp"]["statement"]["rateBasedStatement"]["limit"] == 500
    assert rules["RateLimitPerIp"]["statement"]["rateBasedStatement"]["evaluationWindowSec"] == 60
    assert full.one(LOG_GROUP, "cluster-waf-logs").inputs["retentionInDays"] == 30


def test_the_logs_go_to_an_encrypted_aws_waf_logs_group_with_retention(prodlike):
    group = prodlike.one(LOG_GROUP, "cluster-waf-logs")
    assert group.inputs["name"] == "aws-waf-logs-ecs-platform-prodlike-alb"  # AWS WAF refuses other names
    assert group.inputs["retentionInDays"] == 90
    key = prodlike.one(KMS_KEY, "cluster-waf-logs-key")
    assert group.inputs["kmsKeyId"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True
    grant = next(
        s for s in json.loads(key.inputs["policy"])["Statement"] if s["Sid"] == "CloudWatchLogsEncryptsWafLogs"
    )
    assert grant["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    group_arn = "arn:aws:logs:eu-west-1:123456789012:log-group:aws-waf-logs-ecs-platform-prodlike-alb"
    assert grant["Condition"] == {"StringEquals": {"kms:EncryptionContext:aws:logs:arn": group_arn}}
    logging = prodlike.one(LOGGING).inputs
    assert logging["logDestinationConfigs"] == [group.outputs["arn"]]
    assert logging["resourceArn"] == prodlike.one(WEB_ACL).outputs["arn"]
    assert {f["singleHeader"]["name"] for f in logging["redactedFields"]} == {"authorization", "cookie"}


def test_the_stack_creates_no_log_resource_policy_the_bootstrap_has_the_accounts_one(prodlike, full):
    """CloudWatch Logs holds 10 resource policies per account and region: the bootstrap's one covers every stack
    (tests/test_bootstrap_waf_log_delivery.py)."""
    for graph in (prodlike, full):
        assert graph.of_type(RESOURCE_POLICY) == []
        assert graph.one(LOGGING).inputs["logDestinationConfigs"] == [
            graph.one(LOG_GROUP, "cluster-waf-logs").outputs["arn"]
        ]


def test_without_waf_there_is_none(small):
    assert small.of_type(WEB_ACL) == [] and small.of_type(ASSOCIATION) == [] and small.of_type(LOGGING) == []


def test_an_http_only_load_balancer_is_tagged_so(small, prodlike):
    assert small.one(ALB).inputs["tags"] == {"HttpOnly": "true"}
    assert "HttpOnly" not in (prodlike.one(ALB).inputs.get("tags") or {})


def waf(**changes):
    return lambda c: c["ecs-platform:cluster"].setdefault("loadBalancer", {}).update(waf={"enabled": True, **changes})


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            waf(managedRuleGroups=["AWSManagedRulesCommonRuleSet", "AWSManagedRulesSQLiRuleSet",
                                   "AWSManagedRulesLinuxRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
                                   "AWSManagedRulesUnixRuleSet", "AWSManagedRulesAdminProtectionRuleSet"]),
            "ecs-platform:cluster.loadBalancer.waf.managedRuleGroups: these rule groups and the rate limit need 1502 "
            "WCUs; a web ACL's base allowance is 1500",
        ),
        (
            waf(countOnly=["AWSManagedRulesSQLiRuleSet"]),
            "ecs-platform:cluster.loadBalancer.waf.countOnly: not in managedRuleGroups: AWSManagedRulesSQLiRuleSet",
        ),
        (waf(rateLimit=5), "ecs-platform:cluster.loadBalancer.waf.rateLimit: must be greater than or equal to 10"),
        (waf(rateLimitWindow=30), "ecs-platform:cluster.loadBalancer.waf.rateLimitWindow: must be 60, 120, 300 or 600"),
        (
            waf(managedRuleGroups=["AWSManagedRulesBotControlRuleSet"]),
            "ecs-platform:cluster.loadBalancer.waf.managedRuleGroups[0]: must be",
        ),
    ],
    ids=["wcu", "count-only-stray", "rate-limit", "window", "unknown-group"],
)  # fmt: skip
def test_invalid_waf_config(change, expected):
    assert config_error("prodlike", change).startswith(expected)


def test_an_internet_facing_load_balancer_says_https_or_http_only():
    assert config_error("small", lambda c: c["ecs-platform:cluster"].pop("loadBalancer")) == (
        "ecs-platform:cluster.loadBalancer.certificate: an internet-facing load balancer serves HTTPS: set "
        "certificate, or httpOnly: true to serve plain HTTP on purpose (got null)"
    )
    assert (
        config_error("prodlike", lambda c: c["ecs-platform:cluster"]["loadBalancer"].update(httpOnly=True))
        == "ecs-platform:cluster.loadBalancer.httpOnly: a load balancer with a certificate serves HTTPS: remove "
        "httpOnly (got true)"
    )


def test_waf_on_an_http_only_stack_protects_its_load_balancer():
    graph = with_config("small", waf())
    assert graph.one(ASSOCIATION).inputs["resourceArn"] == graph.one(ALB).outputs["arn"]
