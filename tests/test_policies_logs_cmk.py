"""logs-encrypted-with-cmk: log groups under a customer managed key where required, one CloudWatch Logs may use."""

import json

import pulumi_aws as aws
from policy_helpers import passes, violates

REQUIRED = {"logs-encrypted-with-cmk": {"required": True}}
GROUP = "/app/dev/services/web"


def key_policy(
    groups="arn:aws:logs:eu-west-1:123456789012:log-group:/app/dev/*", service="logs.eu-west-1.amazonaws.com"
):
    owner = {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "kms:Decrypt",
        "Resource": "*",
    }
    logs = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
        "Resource": "*",
        "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": groups}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [owner, logs]})


def group(key=None, **kwargs):
    def program():
        key_id = key() if callable(key) else key
        aws.cloudwatch.LogGroup("g", name=GROUP, retention_in_days=30, kms_key_id=key_id, **kwargs)

    return program


def stack_key(policy):
    return lambda: aws.kms.Key("k", enable_key_rotation=True, policy=policy).arn


def test_where_required_a_log_group_without_a_key_is_refused():
    found = violates(group(), "logs-encrypted-with-cmk", config=REQUIRED)
    assert "no kmsKeyId" in found[0].message
    passes(group(), "logs-encrypted-with-cmk", config={})


def test_a_key_whose_policy_lets_cloudwatch_logs_encrypt_the_group_passes():
    passes(group(stack_key(key_policy())), "logs-encrypted-with-cmk", config=REQUIRED)
    exact = f"arn:aws:logs:eu-west-1:123456789012:log-group:{GROUP}"
    passes(group(stack_key(key_policy(groups=[exact]))), "logs-encrypted-with-cmk", config=REQUIRED)


def test_a_key_that_does_not_let_cloudwatch_logs_use_it_for_this_group_is_refused_required_or_not():
    # Another group's name in the encryption context, another service, or the default key policy: CreateLogGroup fails.
    other = "arn:aws:logs:eu-west-1:123456789012:log-group:/other/*"
    for policy in (key_policy(groups=other), key_policy(service="cloudwatch.amazonaws.com"), None):
        found = violates(group(stack_key(policy)), "logs-encrypted-with-cmk", config={})
        assert "does not let logs.<region>.amazonaws.com use it" in found[0].message


def test_the_key_must_be_named_by_its_arn():
    found = violates(group("alias/app-logs"), "logs-encrypted-with-cmk", config=REQUIRED)
    assert "not a key ARN" in found[0].message


def test_unknown_values_in_a_preview_are_not_judged():
    passes(group(stack_key(key_policy())), "logs-encrypted-with-cmk", config=REQUIRED, preview=True)
