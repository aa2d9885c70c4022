"""The bootstrap's policy documents: the roles' trust and state access, the key and bucket policies, ci/ rendered.

Who may reach the state and the stack secrets is said twice on purpose: the roles' identity
policies grant it (scoped per stack), and the key and bucket policies deny it to everything
the environments' deploy roles could use instead: the roles they create (`{project}-{stack}-*`,
the only roles ci/deploy-role-policies lets them create) and the CI roles beyond what each
needs. A deploy role may tag KMS keys as its stack's (ci/deploy-role-policies/keys.json) and
manage keys so tagged; the key policies' denials keep it from doing that to these keys.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

VERSION = "2012-10-17"
GITHUB_AUDIENCE = "sts.amazonaws.com"
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
# The tag the policy pack knows a permissions boundary by (policies/guardrails/iam.py, BOUNDARY_TAG).
BOUNDARY_TAG = ("PermissionsBoundary", "true")

# What the account (IAM administrators, through their own policies) may do with a key: administer
# it and use it (`pulumi stack init` encrypts the stack's data key, `pulumi config set --secret`
# decrypts it). Listed one by one (no kms:*), PutKeyPolicy included so the key can never become
# unmanageable ("Default key policy", AWS KMS Developer Guide).
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

# The Pulumi CLI unwraps a stack's data key with kms:Decrypt (pulumi/pulumi pkg/secrets/cloud,
# gocloud.dev awskms); only `pulumi stack init` encrypts, and a person runs that.
SECRETS_ACTIONS = ["kms:Decrypt"]
# S3 with an SSE-KMS default and a bucket key: reading decrypts, writing generates a data key
# ("Using server-side encryption with AWS KMS keys", Amazon S3 User Guide).
STATE_KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]


def statement(
    sid: str,
    action: str | Sequence[str] | None,
    resource: Any,
    *,
    effect: str = "Allow",
    principal: Any = None,
    condition: Mapping[str, Any] | None = None,
    not_action: Sequence[str] | None = None,
    not_resource: Sequence[str] | None = None,
) -> dict[str, Any]:
    """One statement, keys always in the order Sid, Effect, Principal, Action, Resource, Condition."""
    result: dict[str, Any] = {"Sid": sid, "Effect": effect}
    if principal is not None:
        result["Principal"] = principal
    if not_action is not None:
        result["NotAction"] = list(not_action)
    else:
        result["Action"] = action
    if not_resource is not None:
        result["NotResource"] = list(not_resource)
    elif resource is not None:  # trust policies name no resource
        result["Resource"] = resource
    if condition is not None:
        result["Condition"] = condition
    return result


def document(statements: Sequence[Mapping[str, Any]]) -> str:
    return json.dumps({"Version": VERSION, "Statement": list(statements)})


def waf_log_delivery_statements(partition: str, region: str, account: str, project: str) -> list[dict[str, Any]]:
    """Log delivery may write to every stack's AWS WAF log group (`aws-waf-logs-<project>-*`) of one region.

    One CloudWatch Logs resource policy per account and region for all stacks: an account holds at
    most 10 per region (CloudWatch Logs API Reference, PutResourcePolicy), so one per stack would run
    out. Without it AWS WAF adds each log group to its own AWSWAF-LOGS policy, which fails once that
    outgrows its size limit (pulumi-aws, wafv2.WebAclLoggingConfiguration). The statement and its
    confused-deputy conditions are those AWS documents for logs the delivery service writes on an AWS
    service's behalf: the account as aws:SourceAccount, the account's CloudWatch Logs ARNs as
    aws:SourceArn ("Enable logging from AWS services", Amazon CloudWatch Logs User Guide; AWS WAF
    Developer Guide, "Sending web ACL traffic logs to an Amazon CloudWatch Logs log group").
    """
    logs = f"arn:{partition}:logs:{region}:{account}"
    return [
        statement(
            "AWSWAFLogDelivery",
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            f"{logs}:log-group:aws-waf-logs-{project}-*:log-stream:*",
            principal={"Service": "delivery.logs.amazonaws.com"},
            condition={"StringEquals": {"aws:SourceAccount": account}, "ArnLike": {"aws:SourceArn": f"{logs}:*"}},
        )
    ]


def github_trust(sid: str, provider_arn: str, subject_prefixes: Sequence[str], trigger: str) -> str:
    """Trust in GitHub's OIDC tokens of one repository and one trigger, matched exactly.

    GitHub puts `repo:<owner>/<repo>:pull_request` in a pull request job's token and
    `repo:<owner>/<repo>:environment:<name>` in a job that names an environment ("OpenID Connect
    reference", GitHub Docs); with immutable subject claims the `repo:` part carries the owner's
    and the repository's ids as well, so each form the repository may use is listed (a list of
    values in one condition key matches any of them, "Creating a condition with multiple keys or
    values", IAM User Guide). IAM recommends evaluating `sub` and `aud` on every role trusting
    the provider ("Create a role for OpenID Connect federation", IAM User Guide). StringEquals,
    never StringLike: a pattern lets other repositories' or branches' tokens in.
    """
    subjects = [f"{prefix}:{trigger}" for prefix in subject_prefixes]
    condition = {
        "StringEquals": {
            f"{GITHUB_OIDC_HOST}:aud": GITHUB_AUDIENCE,
            f"{GITHUB_OIDC_HOST}:sub": subjects[0] if len(subjects) == 1 else subjects,
        }
    }
    return document(
        [
            statement(
                sid,
                "sts:AssumeRoleWithWebIdentity",
                None,
                principal={"Federated": provider_arn},
                condition=condition,
            )
        ]
    )


@dataclass(frozen=True)
class StateLayout:
    """Where the Pulumi CLI keeps a stack in an S3 (DIY) backend, one project per folder.

    pulumi/pulumi pkg/backend/diy: `.pulumi/meta.yaml` (the layout version), the checkpoint
    `.pulumi/stacks/<project>/<stack>.json` with its `.bak` copy, gzip/zstd variants and the
    `.pulumi-tags` file, `.pulumi/history/`, `.pulumi/backups/` and `.pulumi/journal/` per
    project and stack, and the locks under `.pulumi/locks/organization/<project>/<stack>/`.
    """

    bucket_arn: str
    project: str

    @property
    def meta(self) -> str:
        return f"{self.bucket_arn}/.pulumi/meta.yaml"

    def lock(self, stack: str) -> str:
        return f"{self.bucket_arn}/.pulumi/locks/organization/{self.project}/{stack}/*"

    def stack_objects(self, stack: str) -> list[str]:
        state = f"{self.bucket_arn}/.pulumi"
        return [
            f"{state}/stacks/{self.project}/{stack}.*",
            f"{state}/history/{self.project}/{stack}/*",
            f"{state}/backups/{self.project}/{stack}/*",
            f"{state}/journal/{self.project}/{stack}/*",
            self.lock(stack),
        ]


def via_s3(region: str) -> dict[str, Any]:
    # kms:ViaService: only requests S3 makes on the principal's behalf ("kms:ViaService", AWS KMS
    # Developer Guide), so the state key never decrypts anything outside the bucket for CI.
    return {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}}


def preview_state_statements(
    layout: StateLayout, stacks: Sequence[str], state_key: str, secrets_keys: Sequence[str], region: str
) -> list[dict[str, Any]]:
    """Read every stack's state and secrets; write nothing.

    `pulumi preview` takes no lock on the DIY backend: `diyBackend.Preview` goes straight to
    `apply` with DryRun, while Update, Refresh, Destroy and Import call `b.Lock` first
    (pulumi/pulumi pkg/backend/diy/backend.go).
    """
    return [
        # Listing finds a stack's checkpoint; without it S3 answers 403 for a missing object, not 404
        # (GetObject, Amazon S3 API Reference), and the CLI cannot tell "no stack" from "denied".
        statement("ListState", "s3:ListBucket", layout.bucket_arn),
        statement("ReadStacks", "s3:GetObject", [layout.meta, *(o for s in stacks for o in layout.stack_objects(s))]),
        statement("UseTheStateKeyThroughS3", STATE_KEY_ACTIONS, state_key, condition=via_s3(region)),
        statement("DecryptStackSecrets", SECRETS_ACTIONS, list(secrets_keys)),
    ]


def deploy_state_statements(
    layout: StateLayout, stack: str, state_key: str, secrets_key: str, region: str
) -> list[dict[str, Any]]:
    """Read and write one stack's state (checkpoint, history, backups, journal, locks) and decrypt its secrets."""
    return [
        statement("ListState", "s3:ListBucket", layout.bucket_arn),
        statement("ReadOwnStack", "s3:GetObject", [layout.meta, *layout.stack_objects(stack)]),
        statement("WriteOwnStack", ["s3:DeleteObject", "s3:PutObject"], layout.stack_objects(stack)),
        statement("UseTheStateKeyThroughS3", STATE_KEY_ACTIONS, state_key, condition=via_s3(region)),
        statement("DecryptOwnStackSecrets", SECRETS_ACTIONS, secrets_key),
    ]


# What CI and the state rely on, which no role within the boundary may change: the state bucket's
# settings and its objects' history ("Amazon S3 actions", Service Authorization Reference) ...
STATE_BUCKET_ADMIN_ACTIONS = [
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketAcl",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:PutReplicationConfiguration",
]
STATE_OBJECT_ADMIN_ACTIONS = ["s3:DeleteObjectVersion", "s3:PutObjectAcl", "s3:PutObjectVersionAcl"]
# ... and the keys of the state and the stack secrets ("AWS KMS permissions", AWS KMS Developer Guide).
KEY_ADMIN_ACTIONS = [
    "kms:CreateGrant",
    "kms:DeleteAlias",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
]
# The IAM actions whose request carries the boundary of the role or user they create or change, in
# the `iam:PermissionsBoundary` condition key ("IAM condition context keys" and "Permissions
# boundaries for IAM entities", IAM User Guide).
BOUNDED_IAM_ACTIONS = [
    "iam:AttachRolePolicy",
    "iam:AttachUserPolicy",
    "iam:CreateRole",
    "iam:CreateUser",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:PutUserPermissionsBoundary",
    "iam:PutUserPolicy",
]


def boundary_statements(
    *,
    boundary_arn: str,
    partition: str,
    account: str,
    ci_prefix: str,
    project: str,
    provider_arn: str,
    bucket_arn: str,
    key_arns: Sequence[str],
) -> list[dict[str, Any]]:
    """The permissions boundary of every role of the environments and of CI.

    A role may do only what both its identity policies and its boundary allow ("Permissions
    boundaries for IAM entities", IAM User Guide): `*` here leaves each role its own policies, the
    denials hold whatever those say. A role the environment's program creates with `iam:*`
    therefore cannot touch CI's roles, policies and OIDC provider, assume a CI role, create or
    change a role without this same boundary, remove a boundary, or administer the state bucket
    and keys. The pattern is AWS's own example of delegated role creation (same guide, "Delegating
    responsibility to others using permissions boundaries").
    """
    iam = f"arn:{partition}:iam::{account}"
    ci_roles, ci_policies = f"{iam}:role/{ci_prefix}-*", f"{iam}:policy/{ci_prefix}-*"
    return [
        statement("WithinTheRolesOwnPolicies", "*", "*"),
        statement("NotCisIdentity", "iam:*", [ci_roles, ci_policies, provider_arn], effect="Deny"),
        statement(
            "NotCisRoles", ["sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"], ci_roles, effect="Deny"
        ),
        statement(
            "OnlyRolesWithThisBoundary",
            BOUNDED_IAM_ACTIONS,
            "*",
            effect="Deny",
            condition={"ArnNotEquals": {"iam:PermissionsBoundary": boundary_arn}},
        ),
        statement(
            "KeepEveryBoundary",
            ["iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary"],
            "*",
            effect="Deny",
        ),
        # No key carries the boundary for these: they stay on the project's own roles and policies, so
        # a bounded role cannot make another role of the account trust it, nor rewrite a policy
        # attached elsewhere.
        statement(
            "OnlyTheProjectsRolesAndPolicies",
            [
                "iam:CreatePolicyVersion",
                "iam:SetDefaultPolicyVersion",
                "iam:UpdateAssumeRolePolicy",
            ],
            None,
            effect="Deny",
            not_resource=[f"{iam}:role/{project}-*", f"{iam}:policy/{project}-*"],
        ),
        statement(
            "NoUserCredentialsOrGroups",
            [
                "iam:AddUserToGroup",
                "iam:AttachGroupPolicy",
                "iam:CreateAccessKey",
                "iam:CreateLoginProfile",
                "iam:PutGroupPolicy",
                "iam:UpdateLoginProfile",
            ],
            "*",
            effect="Deny",
        ),
        statement("NotTheStateBucketsSettings", STATE_BUCKET_ADMIN_ACTIONS, bucket_arn, effect="Deny"),
        statement("NotTheStatesHistory", STATE_OBJECT_ADMIN_ACTIONS, f"{bucket_arn}/*", effect="Deny"),
        statement(
            "NotTheStateAndSecretsKeys",
            KEY_ADMIN_ACTIONS,
            [*key_arns, f"arn:{partition}:kms:*:{account}:alias/{ci_prefix}-*"],
            effect="Deny",
        ),
    ]


def principal_is(arns: Sequence[str]) -> dict[str, Any]:
    # aws:PrincipalArn is the role's ARN for any session of the role ("AWS global condition
    # context keys", IAM User Guide); a condition, unlike a Principal, needs no existing role.
    return {"ArnLike": {"aws:PrincipalArn": list(arns)}}


def key_policy(
    account_root: str,
    *,
    environment_roles: Sequence[str],
    ci_roles: Sequence[str],
    ci_actions: Sequence[str],
    denied_ci_roles: Sequence[str] = (),
    only_via_s3: str | None = None,
) -> str:
    """The account administers and uses the key through IAM, the environments' roles never, CI roles for `ci_actions`.

    `environment_roles` are ARN patterns of the roles the deploy roles can create,
    `denied_ci_roles` the CI roles of other stacks, `only_via_s3` the region whose S3 alone
    may use the key on a CI role's behalf.
    """
    statements = [
        # In a key policy, "*" as the Resource means this key.
        statement("AccountOwnsTheKey", KEY_OWNER_ACTIONS, "*", principal={"AWS": account_root}),
        statement(
            "NotForTheEnvironmentsRoles",
            "kms:*",
            "*",
            effect="Deny",
            principal={"AWS": "*"},
            condition=principal_is(environment_roles),
        ),
        statement(
            "CiRolesOnlyUseIt",
            None,
            "*",
            effect="Deny",
            principal={"AWS": "*"},
            not_action=ci_actions,
            condition=principal_is(ci_roles),
        ),
    ]
    if denied_ci_roles:
        statements.append(
            statement(
                "NotForOtherStacksCiRoles",
                list(ci_actions),
                "*",
                effect="Deny",
                principal={"AWS": "*"},
                condition=principal_is(denied_ci_roles),
            )
        )
    if only_via_s3:
        statements.append(
            statement(
                "CiRolesOnlyThroughS3",
                list(ci_actions),
                "*",
                effect="Deny",
                principal={"AWS": "*"},
                condition={
                    **principal_is(ci_roles),
                    "StringNotEquals": {"kms:ViaService": f"s3.{only_via_s3}.amazonaws.com"},
                },
            )
        )
    return document(statements)


def bucket_policy(bucket_arn: str, environment_roles: Sequence[str]) -> str:
    """TLS only, and nothing for the roles the environments' deploy roles can create."""
    objects = [bucket_arn, f"{bucket_arn}/*"]
    return document(
        [
            statement(
                "TlsOnly",
                "s3:*",
                objects,
                effect="Deny",
                principal="*",
                condition={"Bool": {"aws:SecureTransport": "false"}},
            ),
            statement(
                "NotForTheEnvironmentsRoles",
                "s3:*",
                objects,
                effect="Deny",
                principal="*",
                condition=principal_is(environment_roles),
            ),
        ]
    )


def render(repository: Path, template: str, *, stacks: Sequence[str], **values: str) -> dict[str, Any]:
    """`ci/<template>` filled in by the repository's own ci/render.py (the documents its tests check)."""
    return _renderer(repository / "ci" / "render.py")(template, stacks=list(stacks), **values)


@functools.cache
def _renderer(path: Path) -> Any:
    # Loaded from the file: run by the Pulumi CLI, the bootstrap's folder is on sys.path, the
    # repository's root is not.
    spec = importlib.util.spec_from_file_location("ci_render", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.render


def size(document_: Mapping[str, Any]) -> int:
    """Characters IAM counts against a managed policy's 6,144: white space is not counted (IAM and AWS STS quotas)."""
    return len(json.dumps(document_, separators=(",", ":")))
