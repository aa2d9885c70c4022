"""Container Insights, encrypted topics, builds and pipelines, state machine logging, enabled keys."""

import pulumi_aws as aws
import pytest
from helpers import FULL, check, fixture
from policy_helpers import codebuild_project, passes, violates

from policies.guardrails.types import CODEBUILD_PROJECT, ECS_CLUSTER, KMS_KEY, PIPELINE, SNS_TOPIC, STATE_MACHINE

CMK = "arn:aws:kms:eu-west-1:123456789012:key/0b6b2b5e-6f4e-4a43-9d3a-1f2e3d4c5b6a"
REQUIRED = {"ecs-container-insights": {"required": True}}


def cluster(value):
    return lambda: aws.ecs.Cluster("c", settings=[{"name": "containerInsights", "value": value}])


def test_container_insights_where_the_pack_config_requires_it():
    violates(cluster("disabled"), "ecs-container-insights", level="advisory", config=REQUIRED)
    violates(lambda: aws.ecs.Cluster("c"), "ecs-container-insights", level="advisory", config=REQUIRED)
    passes(cluster("enhanced"), "ecs-container-insights", config=REQUIRED)
    passes(cluster("enabled"), "ecs-container-insights", config=REQUIRED)
    passes(cluster("disabled"), "ecs-container-insights", config={})


@pytest.mark.parametrize("key", [None, "alias/aws/sns"])
def test_a_topic_needs_a_customer_managed_key(key):
    violates(lambda: aws.sns.Topic("t", kms_master_key_id=key), "sns-topic-encrypted")


def test_a_topic_with_its_own_key_passes_also_while_the_key_is_unknown():
    passes(lambda: aws.sns.Topic("t", kms_master_key_id=CMK), "sns-topic-encrypted")
    passes(lambda: aws.sns.Topic("t", kms_master_key_id=aws.kms.Key("k").arn), "sns-topic-encrypted", preview=True)


def build(**kwargs):
    return lambda: codebuild_project(**{"encryption_key": CMK, **kwargs})


def test_builds_use_a_customer_key_and_keep_their_logs():
    found = violates(build(encryption_key=None), "codebuild-encrypted-and-logged")
    assert "encryptionKey" in found[0].message
    violates(build(encryption_key="alias/aws/s3"), "codebuild-encrypted-and-logged")
    violates(
        build(logs_config={"cloudwatch_logs": {"status": "DISABLED"}, "s3_logs": {"status": "DISABLED"}}),
        "codebuild-encrypted-and-logged",
    )
    violates(
        build(
            logs_config={
                "cloudwatch_logs": {"status": "DISABLED"},
                "s3_logs": {"status": "ENABLED", "location": "b/logs", "encryption_disabled": True},
            }
        ),
        "codebuild-encrypted-and-logged",
    )
    passes(build(), "codebuild-encrypted-and-logged")
    passes(build(encryption_key=aws.kms.Key("k").arn), "codebuild-encrypted-and-logged", preview=True)


def pipeline(key):
    store = {"location": "artifacts", "type": "S3"}
    if key is not None:
        store["encryption_key"] = {"id": key, "type": "KMS"}
    return lambda: aws.codepipeline.Pipeline(
        "pl",
        role_arn="arn:aws:iam::123456789012:role/pipeline",
        artifact_stores=[store],
        stages=[
            {
                "name": "Source",
                "actions": [
                    {
                        "name": "s",
                        "category": "Source",
                        "owner": "AWS",
                        "provider": "S3",
                        "version": "1",
                        "output_artifacts": ["src"],
                        "configuration": {"S3Bucket": "b", "S3ObjectKey": "k"},
                    }
                ],
            }
        ],
    )


def test_pipeline_artifacts_use_a_customer_key():
    violates(pipeline(None), "codepipeline-artifacts-cmk")
    violates(pipeline("alias/aws/s3"), "codepipeline-artifacts-cmk")
    passes(pipeline(CMK), "codepipeline-artifacts-cmk")


def machine(logging):
    return lambda: aws.sfn.StateMachine(
        "sm",
        role_arn="arn:aws:iam::123456789012:role/sfn",
        definition='{"StartAt": "s", "States": {"s": {"Type": "Pass", "End": true}}}',
        logging_configuration=logging,
    )


def test_state_machines_log_all_events():
    violates(machine(None), "sfn-logging-all", level="advisory")
    violates(machine({"level": "ERROR", "log_destination": "arn:l:*"}), "sfn-logging-all", level="advisory")
    passes(machine({"level": "ALL", "log_destination": "arn:l:*", "include_execution_data": True}), "sfn-logging-all")


def test_a_disabled_key_is_refused():
    violates(lambda: aws.kms.Key("k", enable_key_rotation=True, is_enabled=False), "kms-key-enabled")
    passes(lambda: aws.kms.Key("k", enable_key_rotation=True), "kms-key-enabled")
    passes(lambda: aws.kms.Key("k", enable_key_rotation=True, is_enabled=True), "kms-key-enabled")


def test_the_full_environment_builds_each_kind_and_passes():
    graph = fixture(FULL)
    for kind in (ECS_CLUSTER, SNS_TOPIC, CODEBUILD_PROJECT, PIPELINE, STATE_MACHINE, KMS_KEY):
        assert graph.of_type(kind), kind
    result = check(graph)
    for policy in (
        "ecs-container-insights",
        "sns-topic-encrypted",
        "codebuild-encrypted-and-logged",
        "codepipeline-artifacts-cmk",
        "sfn-logging-all",
        "kms-key-enabled",
    ):
        assert result.of(policy) == [], policy
