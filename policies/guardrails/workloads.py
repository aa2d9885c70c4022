"""The services around the containers: the cluster's Container Insights, the alarm topic, builds and
pipelines, the rotation state machine and the keys themselves.

Each rule states what the program already builds, so a change that drops it (a topic without
its key, a build without the pipeline key, a state machine that stops logging) is caught in
the preview instead of in a review.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyConfigSchema

from .common import ADVISORY, MANDATORY, as_list, has_unknown, is_true, is_unknown, resource_policy
from .types import CODEBUILD_PROJECT, ECS_CLUSTER, KMS_KEY, PIPELINE, SNS_TOPIC, STATE_MACHINE

# An AWS managed key is shared by everything in the account that uses the service: the pack asks
# for a key the stack owns (its policy, rotation and deletion are the stack's).
AWS_MANAGED_ALIASES = ("alias/aws/",)


def _customer_key(value: Any) -> bool | None:
    """True for a customer managed key reference, False for none or an AWS managed alias, None while unknown."""
    if is_unknown(value) or has_unknown(value):
        return None
    if not isinstance(value, str) or not value:
        return False
    return not any(marker in value for marker in AWS_MANAGED_ALIASES)


def check_container_insights(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    if not is_true(config.get("required")):
        return
    settings = props.get("settings")
    if has_unknown(settings):
        return
    values = {s.get("name"): s.get("value") for s in as_list(settings) if isinstance(s, Mapping)}
    # "enhanced" is Container Insights with task- and container-level metrics.
    if values.get("containerInsights") not in ("enabled", "enhanced"):
        yield f"containerInsights is {values.get('containerInsights') or 'not set (disabled)'}."


def check_topic_encrypted(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    if _customer_key(props.get("kmsMasterKeyId")) is False:
        yield "kmsMasterKeyId names no customer managed key: messages are stored unencrypted or under a shared key."


def check_build_key(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    if _customer_key(props.get("encryptionKey")) is False:
        yield "encryptionKey names no customer managed key: build artifacts use the account's aws/s3 key."
    logs = props.get("logsConfig")
    if has_unknown(logs):
        return
    cloudwatch = logs.get("cloudwatchLogs") if isinstance(logs, Mapping) else None
    s3 = logs.get("s3Logs") if isinstance(logs, Mapping) else None
    cw_on = not isinstance(cloudwatch, Mapping) or cloudwatch.get("status", "ENABLED") == "ENABLED"
    s3_on = isinstance(s3, Mapping) and s3.get("status") == "ENABLED"
    if not cw_on and not s3_on:
        yield "logsConfig turns every log destination off: builds leave no record."
    if s3_on and is_true(s3.get("encryptionDisabled")):
        yield "logsConfig.s3Logs.encryptionDisabled is true: build logs are stored unencrypted."


def check_pipeline_key(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    stores = props.get("artifactStores")
    if has_unknown(stores):
        return
    for i, store in enumerate(as_list(stores)):
        key = store.get("encryptionKey") if isinstance(store, Mapping) else None
        if _customer_key(key.get("id") if isinstance(key, Mapping) else None) is False:
            yield f"artifactStores[{i}] has no customer managed encryptionKey: artifacts use the account's aws/s3 key."


def check_state_machine_logging(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    logging = props.get("loggingConfiguration")
    if has_unknown(logging):
        return
    level = logging.get("level") if isinstance(logging, Mapping) else None
    if level != "ALL":
        yield f"loggingConfiguration.level is {level or 'not set (OFF)'}: executions leave no full history."


def check_key_enabled(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    value = props.get("isEnabled")
    if value is False or (isinstance(value, str) and value.lower() == "false"):
        yield "isEnabled is false: everything encrypted with the key becomes unreadable."


POLICIES = [
    resource_policy(
        "ecs-container-insights",
        "ECS clusters have CloudWatch Container Insights on where the pack config sets `required`.",
        ADVISORY,
        [ECS_CLUSTER],
        check_container_insights,
        "set cluster.containerInsights: enabled (or enhanced) in the stack config.",
        PolicyConfigSchema(properties={"required": {"type": "boolean", "default": False}}),
    ),
    resource_policy(
        "sns-topic-encrypted",
        "SNS topics are encrypted with a customer managed KMS key.",
        MANDATORY,
        [SNS_TOPIC],
        check_topic_encrypted,
        "set kmsMasterKeyId to a key of the stack whose policy lets the publishing services use it "
        "(components/monitoring.py's alarm topic key).",
    ),
    resource_policy(
        "codebuild-encrypted-and-logged",
        "CodeBuild projects encrypt their artifacts with a customer managed key and keep a log destination "
        "(S3 logs, if any, encrypted).",
        MANDATORY,
        [CODEBUILD_PROJECT],
        check_build_key,
        "set encryptionKey to the pipeline key and leave logsConfig.cloudwatchLogs ENABLED (components/pipeline/).",
    ),
    resource_policy(
        "codepipeline-artifacts-cmk",
        "CodePipeline artifact stores are encrypted with a customer managed key.",
        MANDATORY,
        [PIPELINE],
        check_pipeline_key,
        'set artifactStores[].encryptionKey={"id": <the pipeline key ARN>, "type": "KMS"}.',
    ),
    resource_policy(
        "sfn-logging-all",
        "Step Functions state machines log ALL events to CloudWatch Logs.",
        ADVISORY,
        [STATE_MACHINE],
        check_state_machine_logging,
        'set loggingConfiguration={"level": "ALL", "logDestination": "<log group ARN>:*", ...}.',
    ),
    resource_policy(
        "kms-key-enabled",
        "KMS keys of the stack are enabled.",
        MANDATORY,
        [KMS_KEY],
        check_key_enabled,
        "remove isEnabled=False; to retire a key, schedule its deletion after re-encrypting what it protects.",
    ),
]

# Anchor rules (guardrails/anchors.py) each policy covers: docs/policy-coverage.md is generated from these.
COVERS: dict[str, list[str]] = {
    "ecs-container-insights": ["AwsSolutions-ECS4", "CKV_AWS_65"],
    "sns-topic-encrypted": ["AwsSolutions-SNS2", "CKV_AWS_26"],
    "codebuild-encrypted-and-logged": ["AwsSolutions-CB4", "CKV_AWS_147", "CKV_AWS_78", "CKV_AWS_311", "CKV_AWS_314"],
    "codepipeline-artifacts-cmk": ["CKV_AWS_219"],
    "sfn-logging-all": ["AwsSolutions-SF1", "CKV_AWS_285"],
    "kms-key-enabled": ["CKV_AWS_227"],
}
