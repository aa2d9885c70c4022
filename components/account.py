"""The AWS account and partition an environment deploys into, for ARNs and trust conditions."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class Account:
    id: str
    partition: str  # "aws", "aws-cn" or "aws-us-gov": ARNs must not assume "aws"


def current_account(parent: pulumi.Resource) -> Account:
    """The account of the credentials the parent's provider uses (an STS GetCallerIdentity lookup)."""
    identity = aws.get_caller_identity(opts=pulumi.InvokeOptions(parent=parent))
    return Account(id=identity.account_id, partition=identity.arn.split(":")[1])
