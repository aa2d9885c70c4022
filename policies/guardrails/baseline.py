"""What the program builds by construction, stated as rules: descriptions on security groups and rules, no
default VPC, buckets with lifecycle rules and ACLs disabled, secrets under a customer managed key, RDS minor
upgrades, separate execution and task roles, alarms that act, and no cross-account grant in a topic policy.

Each rule is one the shipped stacks already meet; stated here, a change that drops it (a hand-added group
without a description, a bucket made outside components/bucket.py) is caught in the preview instead of in a
review.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from .common import (
    ADVISORY,
    MANDATORY,
    StackGraph,
    Unparsable,
    as_list,
    document,
    has_unknown,
    is_allow,
    is_unknown,
    resource_policy,
    stack_policy,
    statements,
)
from .types import (
    BUCKET_LIFECYCLE_CONFIGURATIONS,
    BUCKET_OWNERSHIP_CONTROLS,
    BUCKETS,
    DEFAULT_VPC,
    EGRESS_RULE,
    INGRESS_RULE,
    METRIC_ALARM,
    RDS_INSTANCE,
    SECRET,
    SECURITY_GROUP,
    SECURITY_GROUP_RULE,
    SNS_TOPIC_POLICY,
    TASK_DEFINITION,
)

# What the AWS provider fills in when a program leaves a group's description out: not a description.
PROVIDER_DEFAULT_DESCRIPTION = "Managed by Pulumi"


def _described(value: Any) -> bool | None:
    """True for a real description, False for none or the provider's default, None while unknown."""
    if is_unknown(value) or has_unknown(value):
        return None
    return isinstance(value, str) and bool(value.strip()) and value != PROVIDER_DEFAULT_DESCRIPTION


def check_descriptions(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    if _described(props.get("description")) is False:
        what = "security group" if args.resource_type == SECURITY_GROUP else "rule"
        yield f"the {what} has no description: a reviewer cannot tell what it is for."
    for direction in ("ingress", "egress"):
        rules = props.get(direction)
        if has_unknown(rules):
            continue
        for i, rule in enumerate(as_list(rules)):
            if isinstance(rule, Mapping) and _described(rule.get("description")) is False:
                yield f"{direction}[{i}] has no description."


def check_no_default_vpc(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    yield "the stack adopts the account's default VPC, whose public subnets give every instance a public address."


def _abort_multipart(rule: Mapping) -> bool:
    """An enabled rule that aborts incomplete multipart uploads (separate resource or legacy inline form)."""
    if "status" in rule:
        abort = rule.get("abortIncompleteMultipartUpload")
        return rule.get("status") == "Enabled" and isinstance(abort, Mapping) and bool(abort.get("daysAfterInitiation"))
    return rule.get("enabled") is not False and bool(rule.get("abortIncompleteMultipartUploadDays"))


def check_lifecycle(graph: StackGraph, config: Mapping) -> Iterator[tuple[Any, str]]:
    for bucket in graph.of_type(*BUCKETS):
        rules = [r for r in as_list(graph.get(bucket, "lifecycleRules"))]
        for configuration in graph.referrers(bucket, "bucket", BUCKET_LIFECYCLE_CONFIGURATIONS):
            rules += as_list(graph.get(configuration, "rules"))
        if any(has_unknown(r) for r in rules):
            continue
        if not rules:
            yield (
                bucket,
                f"bucket {bucket.name} has no lifecycle configuration: its objects are kept (and billed) forever.",
            )
        elif not any(isinstance(r, Mapping) and _abort_multipart(r) for r in rules):
            yield (
                bucket,
                f"bucket {bucket.name}: no enabled lifecycle rule aborts incomplete multipart uploads, whose parts are "
                "billed and never listed.",
            )


def check_acls_disabled(graph: StackGraph, config: Mapping) -> Iterator[tuple[Any, str]]:
    for bucket in graph.of_type(*BUCKETS):
        controls = graph.referrers(bucket, "bucket", [BUCKET_OWNERSHIP_CONTROLS])
        values = [graph.get(c, "rule") for c in controls]
        if any(has_unknown(v) for v in values):
            continue
        owners = [v.get("objectOwnership") for v in values if isinstance(v, Mapping)]
        if "BucketOwnerEnforced" not in owners:
            yield (
                bucket,
                f"bucket {bucket.name} keeps ACLs (no BucketOwnershipControls with BucketOwnerEnforced): objects "
                "written by another account could belong to it.",
            )


def check_secret_key(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    key = props.get("kmsKeyId")
    if is_unknown(key) or has_unknown(key):
        return
    if not key or (isinstance(key, str) and "alias/aws/" in key):
        yield "kmsKeyId names no customer managed key: the secret is under the account's shared aws/secretsmanager key."


def check_minor_upgrades(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    value = props.get("autoMinorVersionUpgrade")
    if value is False or (isinstance(value, str) and value.lower() == "false"):
        yield "autoMinorVersionUpgrade is false: security fixes in minor versions wait for someone to apply them."


def check_separate_roles(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    task, execution = props.get("taskRoleArn"), props.get("executionRoleArn")
    if has_unknown(task) or has_unknown(execution):
        return
    if task and task == execution:
        yield (
            "taskRoleArn and executionRoleArn are the same role: the application's code gets the image pull and "
            "secret reads ECS needs to start it."
        )


def check_alarm_actions(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    value = props.get("actionsEnabled")
    if value is False or (isinstance(value, str) and value.lower() == "false"):
        yield "actionsEnabled is false: the alarm changes state and nobody is told."


_ACCOUNT_IN_ARN = re.compile(r"^arn:[^:]+:[^:]*:[^:]*:(\d{12}):")


def _other_accounts(principal: Any, own: str) -> list[str]:
    """Account ids a principal names (12-digit ids or their ARNs) other than `own`."""
    aws = principal.get("AWS") if isinstance(principal, Mapping) else None
    found = []
    for value in as_list(aws):
        if not isinstance(value, str) or has_unknown(value):
            continue
        match = _ACCOUNT_IN_ARN.match(value)
        account = value if re.fullmatch(r"\d{12}", value) else match.group(1) if match else None
        if account and account != own:
            found.append(account)
    return found


def check_topic_cross_account(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    topic = props.get("arn")
    match = _ACCOUNT_IN_ARN.match(topic) if isinstance(topic, str) and not has_unknown(topic) else None
    if match is None:
        return
    try:
        doc = document(props.get("policy"))
    except Unparsable:
        return  # resource-policy-no-anonymous-principal reports the document
    for i, statement in enumerate(statements(doc or {})):
        others = _other_accounts(statement.get("Principal"), match.group(1))
        if is_allow(statement) and others and not statement.get("Condition"):
            yield (
                f"statement {statement.get('Sid') or i} lets account(s) {', '.join(sorted(set(others)))} use the "
                "topic with no condition."
            )


POLICIES = [
    resource_policy(
        "sg-descriptions",
        "Security groups and each of their rules (inline, `securityGroupRule`, `vpc.SecurityGroupIngressRule`/"
        "`EgressRule`) carry a description other than the provider's default.",
        ADVISORY,
        [SECURITY_GROUP, SECURITY_GROUP_RULE, INGRESS_RULE, EGRESS_RULE],
        check_descriptions,
        "give the group and every rule a description saying who it lets in or out and why.",
    ),
    resource_policy(
        "no-default-vpc",
        "The stack does not adopt the account's default VPC (`aws.ec2.DefaultVpc`).",
        ADVISORY,
        [DEFAULT_VPC],
        check_no_default_vpc,
        "build the environment's own VPC (components/network.py); leave the default VPC out of the stack.",
    ),
    stack_policy(
        "s3-lifecycle",
        "S3 buckets have a lifecycle configuration with an enabled rule that aborts incomplete multipart uploads.",
        ADVISORY,
        check_lifecycle,
        "build the bucket with components/bucket.py's private_bucket and lifecycle rules that expire objects and "
        'set abort_incomplete_multipart_upload={"days_after_initiation": 7}.',
    ),
    stack_policy(
        "s3-acls-disabled",
        "S3 buckets disable ACLs: a BucketOwnershipControls with objectOwnership BucketOwnerEnforced.",
        ADVISORY,
        check_acls_disabled,
        'add aws.s3.BucketOwnershipControls(bucket=..., rule={"object_ownership": "BucketOwnerEnforced"}).',
    ),
    resource_policy(
        "secret-encrypted-with-cmk",
        "Secrets Manager secrets the stack creates are encrypted with a customer managed key.",
        MANDATORY,
        [SECRET],
        check_secret_key,
        "set kmsKeyId to a key of the stack (the database key encrypts the RDS-managed secret).",
    ),
    resource_policy(
        "rds-auto-minor-upgrade",
        "RDS instances take minor engine versions automatically (autoMinorVersionUpgrade not false).",
        ADVISORY,
        [RDS_INSTANCE],
        check_minor_upgrades,
        "remove autoMinorVersionUpgrade=False; the maintenance window decides when minors are applied.",
    ),
    resource_policy(
        "ecs-separate-task-and-execution-roles",
        "Task definitions use a task role that is not their execution role.",
        ADVISORY,
        [TASK_DEFINITION],
        check_separate_roles,
        "give the task its own role with the application's permissions only (components/service/task.py does).",
    ),
    resource_policy(
        "cloudwatch-alarm-actions-enabled",
        "CloudWatch alarms have their actions enabled.",
        ADVISORY,
        [METRIC_ALARM],
        check_alarm_actions,
        "remove actionsEnabled=False; silence an alarm by changing its threshold or its topic's subscribers.",
    ),
    resource_policy(
        "sns-topic-policy-no-cross-account",
        "SNS topic policies grant no other AWS account anything without a condition.",
        MANDATORY,
        [SNS_TOPIC_POLICY],
        check_topic_cross_account,
        "grant services of this account under aws:SourceAccount/aws:SourceArn; another account only under a "
        "condition that names what it may do (aws:SourceArn, aws:PrincipalOrgID).",
    ),
]

# Anchor rules (guardrails/anchors.py) each policy covers: docs/policy-coverage.md is generated from these.
COVERS: dict[str, list[str]] = {
    "sg-descriptions": ["AwsSolutions-EC27", "CKV_AWS_23"],
    "no-default-vpc": ["CKV_AWS_148"],
    "s3-lifecycle": ["CKV2_AWS_61", "CKV_AWS_300"],
    "s3-acls-disabled": ["CKV2_AWS_65"],
    "secret-encrypted-with-cmk": ["CKV_AWS_149"],
    "rds-auto-minor-upgrade": ["CKV_AWS_226"],
    "ecs-separate-task-and-execution-roles": ["CKV_AWS_249"],
    "cloudwatch-alarm-actions-enabled": ["CKV_AWS_319"],
    "sns-topic-policy-no-cross-account": ["CKV_AWS_385"],
}
