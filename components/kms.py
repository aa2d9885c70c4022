"""Customer-managed KMS keys: one alias each, yearly rotation, and a key policy naming the services that use them.

Storage keys (the database's, a pipeline's artifacts) keep the default key policy: the account
administers them through IAM, and the services that encrypt with them (RDS, Secrets Manager,
S3, CodeBuild) act for a principal of this account. A key a service uses on its own behalf
(CloudWatch alarms publishing to an encrypted topic, log delivery writing VPC flow logs) needs
a key policy that grants that service, held to this account's resources by confused-deputy
conditions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from components.account import Account
from components.iam import allow, document

# The settings a storage key states rather than inherits, so a change of AWS default never
# changes how data already stored is encrypted.
STORAGE_KEY: dict[str, Any] = {
    "rotation_period_in_days": 365,
    "key_usage": "ENCRYPT_DECRYPT",
    "customer_master_key_spec": "SYMMETRIC_DEFAULT",
}

# What the account root may do with a key that has a policy of its own: administer it and use
# it. Listed one by one (no kms:*), PutKeyPolicy included so the key can never become unmanageable.
KEY_OWNER_ACTIONS = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
]


def encryption_key(
    name: str,
    *,
    alias: str,
    description: str,
    parent: pulumi.Resource,
    policy: pulumi.Input[str] | None = None,
    protect: bool = False,
    **settings: Any,
) -> aws.kms.Key:
    """A rotating symmetric key `<name>-key` with `alias/<alias>`; `settings` are further aws.kms.Key arguments."""
    key = aws.kms.Key(
        f"{name}-key",
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=30,
        policy=policy,
        **settings,
        opts=pulumi.ResourceOptions(parent=parent, protect=protect),
    )
    aws.kms.Alias(
        f"{name}-key",
        name=f"alias/{alias}",
        target_key_id=key.key_id,
        opts=pulumi.ResourceOptions(parent=key),
    )
    return key


def service_grant(sid: str, service: str, actions: Sequence[str], condition: Mapping[str, Any]) -> dict[str, Any]:
    """A key policy statement letting `service` use the key, under `condition` (its confused-deputy keys)."""
    # In a key policy, "*" as the Resource means this key.
    return allow(sid, list(actions), "*", principal={"Service": service}, condition=condition)


# What CloudWatch Logs does with the key of an encrypted log group ("Encrypt log data in CloudWatch Logs using
# AWS Key Management Service", Amazon CloudWatch Logs user guide, step 2: the key policy).
LOGS_KEY_ACTIONS = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
]

# What the log delivery service does with the key of an SSE-KMS flow-log bucket: "Required key policy for use with
# SSE-KMS" (Amazon VPC User Guide, "Amazon S3 bucket permissions for flow logs") lists kms:Encrypt, kms:Decrypt,
# kms:ReEncrypt*, kms:GenerateDataKey* and kms:DescribeKey; the wildcards are spelt out as the actions a symmetric
# key has (the key pair actions do not apply to it).
FLOW_LOG_KEY_ACTIONS = [*LOGS_KEY_ACTIONS, "kms:DescribeKey"]


def logs_key(
    name: str,
    *,
    alias: str,
    description: str,
    account: Account,
    log_groups: Sequence[str],
    parent: pulumi.Resource,
    sid: str = "CloudWatchLogsEncryptsTheseLogGroups",
    protect: bool = False,
) -> aws.kms.Key:
    """A storage key CloudWatch Logs may use for the log groups named by `log_groups` only (names, `*` patterns).

    CloudWatch Logs calls KMS with the log group's ARN as encryption context, so the condition holds the key to
    this account's groups of those names: the confused-deputy guard of a key policy for a service principal. A log
    group is created with its key, so the key (and the policy inside it) exists first: the group's `kmsKeyId` is
    the key's ARN (a key id or alias is refused by AssociateKmsKey/CreateLogGroup).
    """
    arns = [account.arn("logs", f"log-group:{group}") for group in log_groups]
    return encryption_key(
        name,
        alias=alias,
        description=description,
        parent=parent,
        protect=protect,
        policy=key_policy(
            account,
            service_grant(
                sid,
                f"logs.{account.region}.amazonaws.com",
                LOGS_KEY_ACTIONS,
                # The context value is the log group's ARN as text: exact names compare as strings, name patterns
                # with StringLike (a string condition key in the IAM reference, wildcards allowed).
                {
                    "StringLike" if any("*" in group for group in log_groups) else "StringEquals": {
                        "kms:EncryptionContext:aws:logs:arn": arns[0] if len(arns) == 1 else arns
                    }
                },
            ),
        ),
        **STORAGE_KEY,
    )


def key_policy(account: Account, *grants: Mapping[str, Any]) -> str:
    """The account owns the key (KEY_OWNER_ACTIONS); each of `grants` lets one service use it."""
    owner = allow("AccountOwnsTheKey", KEY_OWNER_ACTIONS, "*", principal={"AWS": account.arn("iam", "root", region="")})
    return document([owner, *grants])
