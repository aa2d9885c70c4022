"""AWS service principals in resource policies act only for this account: the confused deputy (mandatory)."""

import json

import pulumi
import pulumi_aws as aws
import pytest
from policy_helpers import ACCOUNT, doc, passes, role, violates

POLICY = "iam-service-principal-confused-deputy"
SOURCE_ACCOUNT = {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
SOURCE_ARN = {"ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:*"}}


def statement(service="cloudwatch.amazonaws.com", condition=None, action="sns:Publish"):
    s = {"Effect": "Allow", "Principal": {"Service": service}, "Action": action, "Resource": "*"}
    if condition is not None:
        s["Condition"] = condition
    return s


def resource_policy(kind: str, *statements: dict):
    """A program putting a resource policy with `statements` where `kind` keeps it."""
    document = doc(*statements)

    def program():
        if kind == "key":
            aws.kms.Key("key", policy=document)
        elif kind == "keyPolicy":
            aws.kms.KeyPolicy("key", key_id=aws.kms.Key("key").key_id, policy=document)
        elif kind == "topic":
            aws.sns.Topic("topic", policy=document)
        elif kind == "topicPolicy":
            aws.sns.TopicPolicy("topic", arn=aws.sns.Topic("topic").arn, policy=document)
        elif kind == "bucketPolicy":
            aws.s3.BucketPolicy("bucket", bucket=aws.s3.Bucket("bucket").id, policy=document)
        elif kind == "repositoryPolicy":
            aws.ecr.RepositoryPolicy("repo", repository=aws.ecr.Repository("repo").name, policy=document)
        elif kind == "secretPolicy":
            aws.secretsmanager.SecretPolicy(
                "secret", secret_arn=aws.secretsmanager.Secret("secret").arn, policy=document
            )
        elif kind == "queuePolicy":
            aws.sqs.QueuePolicy("queue", queue_url=aws.sqs.Queue("queue").url, policy=document)

    return program


KINDS = ["key", "keyPolicy", "topic", "topicPolicy", "bucketPolicy", "repositoryPolicy", "secretPolicy", "queuePolicy"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_service_principal_without_a_source_condition_is_caught_in_every_resource_policy(kind):
    found = violates(resource_policy(kind, statement()), POLICY)
    assert "cloudwatch.amazonaws.com may act here on behalf of any account" in found[0].message


@pytest.mark.parametrize(
    "condition",
    [
        {"Bool": {"aws:SecureTransport": "true"}},  # a condition, but not one that names the source
        {"StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT}},  # absent key passes IfExists
        {"ArnLike": {"aws:SourceArn": "*"}},
        {"StringLike": {"aws:SourceAccount": ["*"]}},
    ],
    ids=["unrelated-condition", "if-exists", "any-arn", "any-account"],
)
def test_conditions_that_do_not_pin_the_source_are_caught(condition):
    violates(resource_policy("topicPolicy", statement(condition=condition)), POLICY)


def test_a_list_of_services_and_a_principal_string_list_are_read():
    listed = statement(service=["cloudwatch.amazonaws.com", "events.amazonaws.com"])
    violates(resource_policy("topicPolicy", listed), POLICY)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "condition",
    [
        SOURCE_ACCOUNT,
        SOURCE_ARN,
        {**SOURCE_ACCOUNT, **SOURCE_ARN},
        {"StringEquals": {"aws:SourceOrgID": "o-abcdef1234"}},
        {"StringEquals": {"AWS:SourceOwner": ACCOUNT}},  # SNS's older key; condition keys ignore case
    ],
    ids=["account", "arn", "both", "organization", "source-owner"],
)
def test_a_service_principal_pinned_to_its_source_passes(kind, condition):
    passes(resource_policy(kind, statement(condition=condition)), POLICY)


def test_accounts_roles_denies_and_trust_policies_are_not_its_business():
    own_account = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    deny = {**statement(), "Effect": "Deny"}
    passes(resource_policy("key", own_account, deny), POLICY)
    passes(lambda: role(), POLICY)  # trust policies: iam-trust-named-principals-only


def test_eventbridge_to_an_encrypted_topic_is_the_documented_exception_in_key_policies_only():
    events = statement(service="events.amazonaws.com", action=["kms:Decrypt", "kms:GenerateDataKey*"])
    passes(resource_policy("key", events), POLICY)
    violates(resource_policy("topicPolicy", statement(service="events.amazonaws.com")), POLICY)


def test_an_unparsable_or_unknown_document():
    violates(lambda: aws.sns.TopicPolicy("t", arn="arn:aws:sns:eu-west-1:123456789012:t", policy="{nope"), POLICY)

    def unknown():
        topic = aws.sns.Topic("topic")
        aws.sns.TopicPolicy(
            "topic",
            arn=topic.arn,
            policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{**statement(), "Condition": {"ArnEquals": {"aws:SourceArn": topic.arn}}}],
                }
            ),
        )

    passes(unknown, POLICY, preview=True)


def test_the_alarm_key_lets_cloudwatch_decrypt_only_for_alarms_of_this_account(env):
    key = env.one("aws:kms/key:Key", "alarms-key")
    [cloudwatch] = [
        s
        for s in json.loads(key.inputs["policy"])["Statement"]
        if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert cloudwatch["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert cloudwatch["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:*"},
    }
    # The same alarms the topic policy admits: a publish the topic allows is never refused by the key.
    topic_policy = env.one("aws:sns/topicPolicy:TopicPolicy", "alarms-topic")
    [publish] = [s for s in json.loads(topic_policy.inputs["policy"])["Statement"] if s["Effect"] == "Allow"]
    assert publish["Condition"] == cloudwatch["Condition"]


def test_every_resource_policy_of_the_fixture_environments_passes(env):
    from helpers import check

    assert check(env).of(POLICY) == []
