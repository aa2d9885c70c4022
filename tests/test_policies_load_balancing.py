"""The load balancer guardrails through the offline check: HTTPS or an explicit HttpOnly mark, TLS policies, access
logs, deletion protection, desync mitigation, the AWS WAF association and its logging."""

import pulumi_aws as aws
import pytest
from helpers import check, with_config
from policy_helpers import passes, violates

CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/0b6b2b5e-6f4e-4a43-9d3a-1f2e3d4c5b6a"
NOT_FOUND = {"type": "fixed-response", "fixed_response": {"content_type": "text/plain", "status_code": "404"}}
GROUPS = ["AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesKnownBadInputsRuleSet"]
REQUIRED_WAF = {"alb-waf": {"enforcementLevel": "mandatory", "required": True, "managedRuleGroups": GROUPS}}


def alb(*, https=False, tags=None, internal=None, **lb_args):
    def program():
        lb = aws.lb.LoadBalancer(
            "alb", subnets=["subnet-a"], drop_invalid_header_fields=True, tags=tags, internal=internal, **lb_args
        )
        if https:
            aws.lb.Listener(
                "https", load_balancer_arn=lb.arn, port=443, protocol="HTTPS", certificate_arn=CERT,
                ssl_policy="ELBSecurityPolicy-TLS13-1-2-2021-06", default_actions=[NOT_FOUND],
            )  # fmt: skip
        aws.lb.Listener("http", load_balancer_arn=lb.arn, port=80, protocol="HTTP", default_actions=[NOT_FOUND])
        return lb

    return program


def test_an_internet_facing_alb_serving_only_http_without_the_mark_is_caught():
    found = violates(alb(), "alb-https")
    assert "no HTTPS listener and is not marked HttpOnly=true" in found[0].message


def test_https_an_internal_alb_and_a_marked_one_pass():
    passes(alb(https=True), "alb-https")
    passes(alb(internal=True), "alb-https")
    passes(alb(tags={"HttpOnly": "true"}), "alb-https")


def test_the_pack_config_can_refuse_the_http_only_mark():
    found = violates(alb(tags={"HttpOnly": "true"}), "alb-https", config={"alb-https": {"allowHttpOnly": False}})
    assert "requires HTTPS" in found[0].message
    passes(alb(https=True), "alb-https", config={"alb-https": {"allowHttpOnly": False}})


def test_unknown_listener_protocols_are_not_judged_in_preview():
    passes(alb(https=True), "alb-https", preview=True)


def listener(**kwargs):
    def program():
        lb = aws.lb.LoadBalancer("alb", subnets=["subnet-a"], drop_invalid_header_fields=True)
        aws.lb.Listener(
            "https", load_balancer_arn=lb.arn, port=443, certificate_arn=CERT, default_actions=[NOT_FOUND], **kwargs
        )

    return program


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"protocol": "HTTPS"}, "AWS applies ELBSecurityPolicy-2016-08"),
        ({"protocol": "HTTPS", "ssl_policy": "ELBSecurityPolicy-2016-08"}, "not in the allow-list"),
        ({"protocol": "HTTPS", "ssl_policy": "ELBSecurityPolicy-TLS13-1-0-2021-06"}, "not in the allow-list"),
        ({"protocol": "TLS", "ssl_policy": "ELBSecurityPolicy-TLS-1-1-2017-01"}, "not in the allow-list"),
    ],
    ids=["unset", "2016-08", "tls13-1-0", "tls-1-1"],
)
def test_a_tls_listener_below_tls_1_2_is_caught(kwargs, words):
    assert words in violates(listener(**kwargs), "alb-tls-policy")[0].message


def test_tls_1_2_policies_of_the_allow_list_pass_and_the_list_is_configurable():
    passes(listener(protocol="HTTPS", ssl_policy="ELBSecurityPolicy-TLS13-1-2-2021-06"), "alb-tls-policy")
    passes(listener(protocol="HTTPS", ssl_policy="ELBSecurityPolicy-FS-1-2-Res-2020-10"), "alb-tls-policy")
    narrowed = {"alb-tls-policy": {"allowedPolicies": ["ELBSecurityPolicy-TLS13-1-3-2021-06"]}}
    violates(listener(protocol="HTTPS", ssl_policy="ELBSecurityPolicy-TLS13-1-2-2021-06"), "alb-tls-policy",
             config=narrowed)  # fmt: skip


REQUIRED = {
    "alb-access-logs": {"enforcementLevel": "mandatory", "required": True},
    "alb-deletion-protection": {"enforcementLevel": "mandatory", "required": True},
}


def test_access_logs_and_deletion_protection_are_checked_where_the_pack_config_requires_them():
    violates(alb(https=True), "alb-access-logs", config=REQUIRED)
    violates(alb(https=True), "alb-deletion-protection", config=REQUIRED)
    protected = alb(https=True, enable_deletion_protection=True, access_logs={"bucket": "logs", "enabled": True})
    passes(protected, "alb-access-logs", config=REQUIRED)
    passes(protected, "alb-deletion-protection", config=REQUIRED)
    passes(alb(https=True), "alb-access-logs")  # the small fixture's config does not require them
    passes(alb(https=True), "alb-deletion-protection")


def test_desync_mitigation_in_monitor_mode_is_advisory():
    violates(alb(https=True, desync_mitigation_mode="monitor"), "alb-desync-mitigation", level="advisory")
    passes(alb(https=True), "alb-desync-mitigation")


def web_acl(groups=GROUPS, *, count=(), associate=True, log_group="aws-waf-logs-x", retention=30):
    def program():
        lb = alb(https=True)()
        rules = [
            {
                "name": g, "priority": i,
                "override_action": {"count": {}} if g in count else {"none": {}},
                "statement": {"managed_rule_group_statement": {"name": g, "vendor_name": "AWS"}},
                "visibility_config": {"cloudwatch_metrics_enabled": True, "metric_name": g,
                                      "sampled_requests_enabled": True},
            }
            for i, g in enumerate(groups)
        ]  # fmt: skip
        acl = aws.wafv2.WebAcl(
            "acl", scope="REGIONAL", default_action={"allow": {}}, rules=rules,
            visibility_config={"cloudwatch_metrics_enabled": True, "metric_name": "acl",
                               "sampled_requests_enabled": True},
        )  # fmt: skip
        if associate:
            aws.wafv2.WebAclAssociation("acl", resource_arn=lb.arn, web_acl_arn=acl.arn)
        if log_group:
            group = aws.cloudwatch.LogGroup("waf-logs", name=log_group, retention_in_days=retention)
            aws.wafv2.WebAclLoggingConfiguration("acl", resource_arn=acl.arn, log_destination_configs=[group.arn])

    return program


def test_an_alb_without_a_web_acl_is_caught_where_the_pack_config_requires_one():
    found = violates(alb(https=True), "alb-waf", config=REQUIRED_WAF)
    assert "no AWS WAF web ACL association" in found[0].message
    passes(alb(https=True), "alb-waf")  # not required by default
    passes(alb(https=True, internal=True), "alb-waf", config=REQUIRED_WAF)


def test_the_web_acl_must_use_the_required_rule_groups_and_block_with_them():
    passes(web_acl(), "alb-waf", config=REQUIRED_WAF)
    assert (
        "lacks the managed rule groups AWSManagedRulesKnownBadInputsRuleSet"
        in violates(web_acl(GROUPS[:1]), "alb-waf", config=REQUIRED_WAF)[0].message
    )
    assert (
        "only counts with AWSManagedRulesKnownBadInputsRuleSet"
        in violates(web_acl(count=GROUPS[1:]), "alb-waf", config=REQUIRED_WAF)[0].message
    )
    violates(web_acl(associate=False), "alb-waf", config=REQUIRED_WAF)


def test_waf_logging_needs_an_aws_waf_logs_destination_with_retention():
    passes(web_acl(), "waf-logging")
    violates(web_acl(log_group=None), "waf-logging", level="advisory")
    found = violates(web_acl(log_group="waf-logs"), "waf-logging", level="advisory")
    assert "does not start with aws-waf-logs-" in found[0].message
    violates(web_acl(retention=None), "waf-logging", level="advisory")


def test_a_production_stack_without_waf_fails_its_pack_config():
    graph = with_config("prodlike", lambda c: c["ecs-platform:cluster"]["loadBalancer"].update(waf={"enabled": False}))
    found = check(graph).of("alb-waf")
    assert [f.level for f in found] == ["mandatory"], found


def test_a_production_stack_serving_plain_http_fails_its_pack_config():
    def http_only(c):
        section = c["ecs-platform:cluster"]["loadBalancer"]
        section.pop("certificate")
        section["httpOnly"] = True

    found = check(with_config("prodlike", http_only)).of("alb-https")
    assert [f.level for f in found] == ["mandatory"], found
