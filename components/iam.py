"""IAM policy documents: statements, trust policies, and the inline policies of a component's roles.

A statement's keys always come in one order (Sid, Effect, Principal, Action, Resource,
Condition), so a document reads the same wherever it is built. Documents whose statements
format or sort ARNs that are outputs are built from the resolved values (`resolved_document`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

VERSION = "2012-10-17"

# The Session Manager channels an SSM agent opens (ECS Exec in a task, port forwarding on the
# bastion); IAM has no resource type for them, so "*" is the only Resource they take.
SESSION_CHANNEL_ACTIONS = [
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
]


def statement(
    sid: str | None,
    action: str | Sequence[str],
    resource: Any,
    *,
    effect: str = "Allow",
    principal: Mapping[str, Any] | str | None = None,
    condition: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One statement; `sid`, `principal` (resource and key policies) and `condition` only when given."""
    result: dict[str, Any] = {"Sid": sid} if sid else {}
    result["Effect"] = effect
    if principal is not None:
        result["Principal"] = principal
    result["Action"] = action
    result["Resource"] = resource
    if condition is not None:
        result["Condition"] = condition
    return result


def allow(sid: str | None, action: str | Sequence[str], resource: Any, **options: Any) -> dict[str, Any]:
    return statement(sid, action, resource, **options)


def deny(sid: str | None, action: str | Sequence[str], resource: Any, **options: Any) -> dict[str, Any]:
    return statement(sid, action, resource, effect="Deny", **options)


def document(statements: Sequence[Mapping[str, Any]]) -> str:
    """A policy document of plain statements."""
    return json.dumps({"Version": VERSION, "Statement": list(statements)})


def output_document(statements: Sequence[Mapping[str, Any]]) -> pulumi.Output[str]:
    """A policy document whose statements hold outputs as they are."""
    return pulumi.Output.json_dumps({"Version": VERSION, "Statement": list(statements)})


def resolved_document(
    values: Mapping[str, pulumi.Input[Any]], statements: Callable[[dict[str, Any]], Sequence[Mapping[str, Any]]]
) -> pulumi.Output[str]:
    """A policy document of `statements(resolved)`, for statements that format, sort or test the values."""
    return pulumi.Output.all(**values).apply(lambda resolved: document(statements(resolved)))


def write_own_logs(log_group_arn: str) -> dict[str, Any]:
    """Create streams in one log group and write to them: what a task or a build needs to log."""
    return allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], f"{log_group_arn}:log-stream:*")


def trust_policy(service: str, account_id: str | None = None, source_arn: str | None = None) -> str:
    """A role trust policy: `service` may assume the role, on behalf of this account only when given.

    `aws:SourceAccount` (and `aws:SourceArn`) stop another account's use of the same AWS
    service from assuming the role (the confused deputy).
    """
    trust: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if account_id:
        trust["Condition"] = {"StringEquals": {"aws:SourceAccount": account_id}}
        if source_arn:
            trust["Condition"]["ArnLike"] = {"aws:SourceArn": source_arn}
    return json.dumps({"Version": VERSION, "Statement": [trust]})


def inline_policy(name: str, role: aws.iam.Role, policy: pulumi.Input[str]) -> aws.iam.RolePolicy:
    """The role's own policy, a child of the role: it lives and dies with it."""
    return aws.iam.RolePolicy(name, role=role.id, policy=policy, opts=pulumi.ResourceOptions(parent=role))
