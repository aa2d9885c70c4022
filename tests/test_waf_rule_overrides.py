"""Single rules of a managed rule group that count instead of blocking (`loadBalancer.waf.ruleActionOverrides`).

The usual one: `AWSManagedRulesCommonRuleSet`'s `SizeRestrictions_BODY` blocks every request body over
8 KB, so a service taking uploads overrides that rule to count while the rest of the group still blocks.
"""

import pytest
from helpers import check, config_error, with_config

WEB_ACL = "aws:wafv2/webAcl:WebAcl"
COMMON = "AWSManagedRulesCommonRuleSet"
UPLOADS = {COMMON: ["SizeRestrictions_BODY"]}


def waf(**changes):
    return lambda c: c["ecs-platform:cluster"]["loadBalancer"]["waf"].update(changes)


def rules_of(graph):
    return {r["name"]: r for r in graph.one(WEB_ACL).inputs["rules"]}


def test_an_overridden_rule_counts_while_its_group_keeps_blocking():
    graph = with_config("prodlike", waf(ruleActionOverrides=UPLOADS))
    rules = rules_of(graph)
    common = rules[COMMON]
    assert common["overrideAction"] == {"none": {}}  # the group's own actions apply...
    assert common["statement"]["managedRuleGroupStatement"] == {
        "name": COMMON,
        "vendorName": "AWS",
        # ...but for this one rule, which only counts.
        "ruleActionOverrides": [{"name": "SizeRestrictions_BODY", "actionToUse": {"count": {}}}],
    }
    others = [r for name, r in rules.items() if name not in (COMMON, "RateLimitPerIp")]
    assert others and all("ruleActionOverrides" not in r["statement"]["managedRuleGroupStatement"] for r in others)


def test_without_overrides_every_rule_of_a_group_acts(prodlike):
    statement = rules_of(prodlike)[COMMON]["statement"]["managedRuleGroupStatement"]
    assert "ruleActionOverrides" not in statement


def test_the_pack_accepts_a_group_with_a_few_rules_counting_and_refuses_a_whole_group_counting():
    """`alb-waf` (mandatory in the prodlike pack config) refuses a required group in count mode only."""
    overridden = with_config(
        "prodlike", waf(ruleActionOverrides={COMMON: ["SizeRestrictions_BODY", "NoUserAgent_HEADER"]})
    )
    assert check(overridden).of("alb-waf") == []
    counting = with_config("prodlike", waf(countOnly=[COMMON]))
    [finding] = check(counting).of("alb-waf")
    assert f"only counts with {COMMON}" in finding.message


@pytest.mark.parametrize(
    "overrides, expected",
    [
        (
            {"AWSManagedRulesSQLiRuleSet": ["SQLi_BODY"]},
            "ecs-platform:cluster.loadBalancer.waf.ruleActionOverrides.AWSManagedRulesSQLiRuleSet: not in "
            "managedRuleGroups",
        ),
        ({COMMON: []}, f"ecs-platform:cluster.loadBalancer.waf.ruleActionOverrides.{COMMON}: name at least one rule"),
        ({COMMON: [""]}, f"ecs-platform:cluster.loadBalancer.waf.ruleActionOverrides.{COMMON}: not a rule name: ''"),
        (
            {COMMON: ["SizeRestrictions_BODY", "SizeRestrictions_BODY"]},
            f"ecs-platform:cluster.loadBalancer.waf.ruleActionOverrides.{COMMON}: each rule may appear once",
        ),
        (
            {"AWSManagedRulesBotControlRuleSet": ["CategoryAdvertising"]},
            "ecs-platform:cluster.loadBalancer.waf.ruleActionOverrides.AWSManagedRulesBotControlRuleSet",
        ),
    ],
    ids=["group-not-used", "no-rules", "empty-name", "repeated", "unknown-group"],
)
def test_invalid_overrides_are_one_line_naming_the_key(overrides, expected):
    error = config_error("prodlike", waf(ruleActionOverrides=overrides))
    assert error.startswith(expected) and "\n" not in error.strip()


def test_overriding_rules_of_a_group_that_already_only_counts_is_refused():
    error = config_error("prodlike", waf(countOnly=[COMMON], ruleActionOverrides=UPLOADS))
    assert error.startswith(f"ecs-platform:cluster.loadBalancer.waf.ruleActionOverrides.{COMMON}: the whole group")
