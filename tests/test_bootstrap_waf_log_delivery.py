"""The account's one CloudWatch Logs resource policy for AWS WAF log delivery, made by the CI bootstrap.

CloudWatch Logs holds at most 10 resource policies per account and region (CloudWatch Logs API
Reference, PutResourcePolicy): one per WAF-enabled stack would run out, so the bootstrap makes one per
region its environments deploy to, covering every stack's `aws-waf-logs-<project>-*` log group.
"""

import fnmatch
import json

from helpers import checked as check
from test_bootstrap import ACCOUNT, NS, PROJECT, bootstrap

RESOURCE_POLICY = "aws:cloudwatch/logResourcePolicy:LogResourcePolicy"


def statement_of(policy) -> dict:
    [statement] = json.loads(policy.inputs["policyDocument"])["Statement"]
    return statement


def test_one_policy_lets_log_delivery_write_to_every_stacks_waf_log_group_for_this_account_only():
    graph = bootstrap()
    assert graph.error is None, graph.error
    [policy] = graph.of_type(RESOURCE_POLICY)
    assert policy.inputs["policyName"] == f"{PROJECT}-waf-log-delivery"
    statement = statement_of(policy)
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert sorted(statement["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    # The log groups the program names (components/waf.py: aws-waf-logs-<project>-<stack>-alb), of any stack.
    for stack in ("alpha", "beta", "prod"):
        stream = f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:aws-waf-logs-{PROJECT}-{stack}-alb:log-stream:x"
        assert fnmatch.fnmatchcase(stream, statement["Resource"]), stream
    for other in (f"aws-waf-logs-other-{PROJECT}-prod-alb", f"/aws/ecs/{PROJECT}-prod/api"):
        stream = f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:{other}:log-stream:x"
        assert not fnmatch.fnmatchcase(stream, statement["Resource"]), other
    # Confused deputy: delivery on behalf of this account's resources only.
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws:logs:eu-west-1:{ACCOUNT}:*"},
    }


def test_each_region_an_environment_deploys_to_gets_its_own():
    def two_regions(config):
        config[f"{NS}:environments"][1]["region"] = "us-east-1"

    graph = bootstrap(two_regions)
    assert graph.error is None, graph.error
    policies = graph.of_type(RESOURCE_POLICY)
    regions = sorted(statement_of(p)["Resource"].split(":")[3] for p in policies)
    assert regions == ["eu-west-1", "us-east-1"]
    providers = {p.name: p for p in graph.of_type("pulumi:providers:aws")}
    for policy in policies:
        region = statement_of(policy)["Resource"].split(":")[3]
        provider = next(p for p in providers.values() if policy.provider.rsplit("::", 1)[0] == p.urn)
        assert provider.inputs["region"] == region


def test_the_pack_has_no_finding_on_it():
    """The pack's resource-policy rules (confused deputy, world access) read it as AWS would."""
    graph = bootstrap()
    [policy] = graph.of_type(RESOURCE_POLICY)
    assert [f for f in check(graph, {}).findings if f.urn == policy.urn] == []
