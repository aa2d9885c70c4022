"""The account is looked up once per run and every component's ARNs and trust conditions name it."""

import json

import pytest
from helpers import with_config

from offline.harness import mock_aws

CALLER_IDENTITY = "aws:index/getCallerIdentity:getCallerIdentity"
CHINA_ACCOUNT = "210987654321"


def test_one_caller_identity_lookup_per_run(env):
    """A blocking invoke drains every pending registration: one per component would make large environments slow."""
    assert [token for token, _ in env.invokes].count(CALLER_IDENTITY) == 1


@pytest.fixture(scope="module")
def china():
    """prodlike in cn-north-1, deployed with credentials of an account in the aws-cn partition."""

    def identity(args, mocks):
        return {
            "id": CHINA_ACCOUNT,
            "accountId": CHINA_ACCOUNT,
            "arn": f"arn:aws-cn:iam::{CHINA_ACCOUNT}:role/deployer",
            "userId": "AROAEXAMPLECHINA",
        }

    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(mock_aws.INVOKES, CALLER_IDENTITY, identity)
        graph = with_config("prodlike", lambda config: config.update({"aws:region": "cn-north-1"}))
    assert graph.error is None, graph.error
    return graph


def test_trust_conditions_name_the_looked_up_account_partition_and_region(china):
    conditions = [
        statement["Condition"]
        for role in china.of_type("aws:iam/role:Role")
        for statement in json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        if "Condition" in statement
    ]
    assert len(conditions) >= 5  # task roles, pipeline actors, flow logs, the rotation redeploy
    for condition in conditions:
        assert condition["StringEquals"]["aws:SourceAccount"] == CHINA_ACCOUNT
        if "ArnLike" in condition:
            assert condition["ArnLike"]["aws:SourceArn"].startswith("arn:aws-cn:"), condition
            assert f":{CHINA_ACCOUNT}:" in condition["ArnLike"]["aws:SourceArn"], condition
    arns = [c["ArnLike"]["aws:SourceArn"] for c in conditions if "ArnLike" in c]
    assert any(":cn-north-1:" in arn for arn in arns)


def test_the_alarm_key_is_owned_by_the_looked_up_account(china):
    policy = json.loads(china.one("aws:kms/key:Key", "alarms-key").inputs["policy"])
    owner = next(s for s in policy["Statement"] if s["Sid"] == "AccountOwnsTheKey")
    assert owner["Principal"] == {"AWS": f"arn:aws-cn:iam::{CHINA_ACCOUNT}:root"}
