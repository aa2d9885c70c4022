"""The AWS account and partition an environment deploys into, for ARNs and trust conditions."""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class Account:
    id: str
    partition: str  # "aws", "aws-cn" or "aws-us-gov": ARNs must not assume "aws"


# One lookup per program run (keyed on its root stack resource). A blocking invoke drains
# every pending registration first, so one per component made large environments quadratic.
_LOOKED_UP: weakref.WeakKeyDictionary[pulumi.Resource, Account] = weakref.WeakKeyDictionary()


def current_account(parent: pulumi.Resource) -> Account:
    """The account of the credentials the environment's provider uses (STS GetCallerIdentity)."""
    root = pulumi.runtime.get_root_resource()
    if root is not None and root in _LOOKED_UP:
        return _LOOKED_UP[root]
    identity = aws.get_caller_identity(opts=pulumi.InvokeOptions(parent=parent))
    account = Account(id=identity.account_id, partition=identity.arn.split(":")[1])
    if root is not None:
        _LOOKED_UP[root] = account
    return account


def trust_policy(service: str, account_id: str | None = None, source_arn: str | None = None) -> str:
    """A role trust policy: `service` may assume the role, on behalf of this account only when given.

    `aws:SourceAccount` (and `aws:SourceArn`) stop another account's use of the same AWS
    service from assuming the role (the confused deputy).
    """
    statement: dict = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if account_id:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": account_id}}
        if source_arn:
            statement["Condition"]["ArnLike"] = {"aws:SourceArn": source_arn}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})
