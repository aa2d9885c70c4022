"""monitoring.logsKmsKey: one customer managed key for every log group of the environment."""

import fnmatch
import json

import pulumi_aws as aws
from helpers import PRODLIKE, SMALL, check, evaluate_fixture, fixture

from components.account import Account
from components.monitoring import LogsKey, LogsKeyArgs
from components.naming import Naming
from policies.guardrails.types import KMS_KEY, LOG_GROUP

LOGS_KEY = "logs-key"


def _logs_grant(key):
    return next(
        s
        for s in json.loads(key.inputs["policy"])["Statement"]
        if s.get("Principal") == {"Service": "logs.eu-west-1.amazonaws.com"}
    )


def test_every_log_group_uses_the_stacks_key_which_lets_cloudwatch_logs_encrypt_exactly_those_groups():
    graph = fixture(PRODLIKE)
    key = graph.one(KMS_KEY, LOGS_KEY)
    assert key.inputs["enableKeyRotation"] is True
    grant = _logs_grant(key)
    assert {"kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt"} <= set(grant["Action"])
    patterns = grant["Condition"]["StringLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert all(p.startswith("arn:aws:logs:eu-west-1:123456789012:log-group:") for p in patterns)
    groups = [g for g in graph.of_type(LOG_GROUP) if g.name != "cluster-waf-logs"]
    assert {g.name for g in groups} >= {"web-logs", "api-logs", "database-postgresql-logs", "web-pipeline-logs"}
    for group in groups:
        # The ARN (the only form CloudWatch Logs takes), and the group is created after its key.
        assert group.inputs["kmsKeyId"] == key.outputs["arn"], group.name
        assert key.urn in group.property_dependencies["kmsKeyId"], group.name
        arn = f"arn:aws:logs:eu-west-1:123456789012:log-group:{group.inputs['name']}"
        assert any(fnmatch.fnmatchcase(arn, p) for p in patterns), group.inputs["name"]
    # The AWS WAF log group keeps its own key.
    waf = graph.one(LOG_GROUP, "cluster-waf-logs")
    assert waf.inputs["kmsKeyId"] == graph.one(KMS_KEY, "cluster-waf-logs-key").outputs["arn"]
    assert check(graph).of("logs-encrypted-with-cmk") == []


def test_the_logs_key_outlives_the_setting_because_the_groups_keep_what_it_encrypted():
    """Turning logsKmsKey off keeps the groups and their data; deleting the key would make that data unreadable
    ("Encrypt log data in CloudWatch Logs using AWS KMS", CloudWatch Logs User Guide), so the key is protected."""
    assert fixture(PRODLIKE).one(KMS_KEY, LOGS_KEY).protect is True


def test_off_by_default_no_key_and_cloudwatch_logs_own_encryption():
    graph = fixture(SMALL)
    assert [k for k in graph.of_type(KMS_KEY) if k.name == LOGS_KEY] == []
    assert all("kmsKeyId" not in g.inputs for g in graph.of_type(LOG_GROUP))


def test_a_log_group_outside_the_keys_names_is_refused_before_it_reaches_aws():
    def program():
        naming = Naming.current()
        LogsKey("logs", LogsKeyArgs(naming, Account(id="123456789012", partition="aws", region="eu-west-1")))
        aws.cloudwatch.LogGroup("stray", name="/somewhere/else", retention_in_days=30)

    graph = evaluate_fixture(SMALL, program=program)
    assert "log group /somewhere/else is outside the names the logs key may encrypt" in str(graph.error)
