"""The AWS account and partition an environment deploys into, for ARNs and trust conditions."""

from __future__ import annotations

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
