"""The pipeline's actors and what each may do: one role per actor (build, release, pipeline, source
events), trusted by its AWS service for this pipeline's own project, pipeline or rule only, and
allowed only what that actor does on the one resource it does it to.

Each `*_statements` function takes the resolved values its policy names (ARNs, names).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from components.account import Account
from components.config import PipelineConfig
from components.iam import allow, trust_policy, write_own_logs
from components.naming import Naming

# What pushing an image to one repository takes (ECR's documented push set, plus the reads a
# `docker push` makes to skip layers that are already there).
ECR_PUSH_ACTIONS = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
]


def role(
    parent: pulumi.Resource,
    name: str,
    actor: str,
    *,
    delivered: str,
    service: str,
    source_arn: str,
    naming: Naming,
    account: Account,
) -> aws.iam.Role:
    """The role of one actor of the pipeline that delivers service `delivered`.

    Only `<service>.amazonaws.com` may assume it, and only on behalf of `source_arn` (the
    actor's own project, pipeline or rule) in this account.
    """
    return aws.iam.Role(
        f"{name}-{actor}",
        name_prefix=naming.prefix(f"{delivered}-{actor}", "iam_role_prefix"),
        description=f"{actor.capitalize()} of the {delivered} pipeline",
        assume_role_policy=trust_policy(f"{service}.amazonaws.com", account.id, source_arn),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def build_statements(r: dict[str, Any]) -> list[dict]:
    """The Build action: write its logs, read the source and write the image definitions, push the image."""
    return [
        write_own_logs(r["log_group"]),
        *_artifact_statements(r["bucket"], r["key"], write=True),
        allow("PushToTheServiceRepository", ECR_PUSH_ACTIONS, r["repository"]),
        # GetAuthorizationToken has no resource type: AWS accepts only "*".
        allow("EcrLogin", "ecr:GetAuthorizationToken", "*"),
    ]


def release_statements(r: dict[str, Any]) -> list[dict]:
    """The Release action: record the deployed image in its parameter and tag it as deployed."""
    return [
        write_own_logs(r["log_group"]),
        *_artifact_statements(r["bucket"], r["key"], write=False),
        allow("RecordTheDeployedImage", "ssm:PutParameter", r["parameter"]),
        # "Retagging an image" (ECR User Guide): read the manifest, put it under a new tag.
        allow("ProtectTheDeployedImage", ["ecr:BatchGetImage", "ecr:PutImage"], r["repository"]),
    ]


def pipeline_statements(r: dict[str, Any], cfg: PipelineConfig, account: Account) -> list[dict]:
    """The pipeline role: its bucket, key, projects and source; deploy to its one service, pass its two roles.

    The ECS statements follow the AWS CodePipeline User Guide, "Amazon Elastic Container
    Service deploy action reference", "Service role permissions: Amazon ECS standard
    action" (DescribeTaskDefinition, RegisterTaskDefinition, DescribeServices,
    UpdateService, TagResource on create, PassRole), each scoped to this one service, its
    task definition family and its two roles. The roles are passed to ecs-tasks only: the
    task definition names them for tasks; the doc's ecs.amazonaws.com is for roles a
    service itself takes, which this deploy never passes.
    """
    family = account.arn("ecs", f"task-definition/{r['family']}:*")
    on_create = {"StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}}
    to_tasks = {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    statements = [
        *_pipeline_artifact_statements(r["bucket"], r["key"], account),
        allow("RunOwnBuilds", ["codebuild:BatchGetBuilds", "codebuild:StartBuild"], list(r["projects"])),
        allow(
            "DeployTheService",
            ["ecs:DescribeServices", "ecs:UpdateService"],
            account.arn("ecs", f"service/{r['cluster']}/{r['service']}"),
        ),
        # The deploy action registers a new revision of the service's family, tags included.
        allow("RegisterOwnRevisions", "ecs:RegisterTaskDefinition", family),
        allow("TagOwnRevisionsOnCreate", "ecs:TagResource", family, condition=on_create),
        allow("WatchTheDeployment", "ecs:DescribeTasks", account.arn("ecs", f"task/{r['cluster']}/*")),
        # DescribeTaskDefinition has no resource type: AWS accepts only "*".
        allow("ReadTaskDefinitions", "ecs:DescribeTaskDefinition", "*"),
        allow("PassOnlyTheServiceRoles", "iam:PassRole", list(r["roles"]), condition=to_tasks),
    ]
    if cfg.source.github is not None:
        # Connections created before the CodeConnections rename answer to either prefix.
        arn = r["connection"]
        statements += [
            allow(
                "UseTheConnection",
                "codestar-connections:UseConnection",
                arn.replace(":codeconnections:", ":codestar-connections:"),
            ),
            allow(
                "UseTheConnectionRenamed",
                "codeconnections:UseConnection",
                arn.replace(":codestar-connections:", ":codeconnections:"),
            ),
        ]
    if cfg.source.s3 is not None:
        # AWS CodePipeline User Guide, "Amazon S3 source action reference", "Service role
        # permissions: S3 source action": the object (and its tags) and the bucket's
        # versioning, ACL and location; here only for the one key the pipeline reads.
        source = account.arn("s3", cfg.source.s3.bucket, region="", account="")
        object_reads = ["s3:GetObject", "s3:GetObjectTagging", "s3:GetObjectVersion", "s3:GetObjectVersionTagging"]
        bucket_reads = ["s3:GetBucketAcl", "s3:GetBucketLocation", "s3:GetBucketVersioning"]
        statements += [
            allow("ReadTheSource", object_reads, f"{source}/{cfg.source.s3.key}"),
            allow("InspectTheSourceBucket", bucket_reads, source),
        ]
    if r["topic"] is not None:
        statements.append(allow("AnnounceApprovals", "sns:Publish", r["topic"]))
    if r["topic_key"] is not None:
        via_sns = {"StringEquals": {"kms:ViaService": f"sns.{account.region}.amazonaws.com"}}
        statements.append(
            allow("EncryptApprovalNotices", ["kms:Decrypt", "kms:GenerateDataKey"], r["topic_key"], condition=via_sns)
        )
    return statements


def start_pipeline_statements(r: dict[str, Any]) -> list[dict]:
    """The source-events rule's role: start this pipeline, nothing else."""
    return [allow("StartThisPipeline", "codepipeline:StartPipelineExecution", r["pipeline"])]


def _artifact_statements(bucket_arn: str, key_arn: str, *, write: bool) -> list[dict]:
    """A build's use of the artifact store: read the input artifact, and write its output when `write`."""
    object_actions = ["s3:GetObject", "s3:GetObjectVersion"] + (["s3:PutObject"] if write else [])
    key_actions = ["kms:Decrypt"] + (["kms:GenerateDataKey"] if write else [])
    return [
        allow("UseArtifacts", object_actions, f"{bucket_arn}/*"),
        allow("LocateArtifactBucket", "s3:GetBucketLocation", bucket_arn),
        allow("UseArtifactKey", key_actions, key_arn),
    ]


def _pipeline_artifact_statements(bucket_arn: str, key_arn: str, account: Account) -> list[dict]:
    """What CodePipeline does with its artifact store: the bucket reads and object access its service role needs.

    AWS CodePipeline User Guide, "Manage the CodePipeline service role" (CodePipeline
    service role policy): s3:GetBucketVersioning, s3:GetBucketAcl, s3:GetBucketLocation on
    the artifact bucket and s3:PutObject, s3:PutObjectAcl, s3:GetObject, s3:GetObjectVersion
    on its objects, held to the pipeline's own account with aws:ResourceAccount (a bucket
    name is global: a deleted bucket's name could come back in another account).
    """
    own_account = {"StringEquals": {"aws:ResourceAccount": account.id}}
    objects = f"{bucket_arn}/*"
    return [
        allow("UseArtifacts", ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"], objects, condition=own_account),
        # An upload that names a canned ACL needs this too; the bucket enforces owner-only
        # ACLs (BucketOwnerEnforced), so no ACL it sets can share an artifact.
        allow("SetArtifactAcl", "s3:PutObjectAcl", objects, condition=own_account),
        allow(
            "InspectArtifactBucket",
            ["s3:GetBucketAcl", "s3:GetBucketLocation", "s3:GetBucketVersioning"],
            bucket_arn,
            condition=own_account,
        ),
        allow("UseArtifactKey", ["kms:Decrypt", "kms:GenerateDataKey"], key_arn),
    ]
