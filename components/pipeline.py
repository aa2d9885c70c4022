"""Delivery of one service's application image: a CodePipeline from source to the running ECS service.

    Source (GitHub through a CodeStar connection, or a zip in S3)
      -> Build (CodeBuild: docker build for the service's CPU architecture, tag = short commit id,
               push to the service's ECR repository, write imagedefinitions.json)
      -> [Approval (manual, notifies the environment's SNS topic)]
      -> Deploy (ECS standard deploy action; then Release records the deployed image in SSM)

Everything here is a plain pulumi_aws resource so tests and policies see it: the artifact bucket
and its KMS key, the two CodeBuild projects, the pipeline, and one IAM role per actor (build,
release, pipeline), each allowed only what that actor does on the one resource it does it to.

Pulumi and the pipeline share the running image through one SSM parameter per service (its
name comes from the Service). The Service renders its task definition with the parameter's live
value; the pipeline's last action writes the image it has just deployed into it. So `pulumi up`
never rolls a release back, and config changes still roll out (see README, "Delivery:
application images"). The parameter is written only after the deploy action succeeded: a
rejected approval or a failed deployment never becomes the image Pulumi renders next time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import yaml

from components.account import current_account, trust_policy
from components.bucket import private_bucket
from components.config import PipelineConfig
from components.naming import Naming
from components.service import DEPLOYED_TAG_PREFIX, Service

# CodeBuild's curated Amazon Linux 2023 images, per CPU architecture: (environment type, image).
BUILD_IMAGES = {
    "x86_64": ("LINUX_CONTAINER", "aws/codebuild/amazonlinux-x86_64-standard:5.0"),
    "arm64": ("ARM_CONTAINER", "aws/codebuild/amazonlinux-aarch64-standard:3.0"),
}
DOCKER_PLATFORMS = {"x86_64": "linux/amd64", "arm64": "linux/arm64"}

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

IMAGE_DEFINITIONS = "imagedefinitions.json"
SOURCE_ARTIFACT, BUILD_ARTIFACT = "SourceOutput", "BuildOutput"
# Git short ids are 7 characters; S3 version ids are cut the same way, after making them tag-safe.
TAG_LENGTH = 7


def build_spec() -> str:
    """The build: log in to ECR, build and push `<repository>:<short commit>`, hand the image to the deploy action.

    A tag that already exists is not rebuilt: tags are immutable, and a retried or re-released
    commit redeploys the image it already produced.
    """
    return yaml.safe_dump(
        {
            "version": 0.2,
            "env": {"shell": "bash", "exported-variables": ["IMAGE_URI", "IMAGE_TAG"]},
            "phases": {
                "pre_build": {
                    "on-failure": "ABORT",
                    "commands": [
                        'aws ecr get-login-password --region "$AWS_REGION"'
                        ' | docker login --username AWS --password-stdin "${REPOSITORY_URI%%/*}"',
                        'IMAGE_TAG="$(printf \'%s\' "$CODEBUILD_RESOLVED_SOURCE_VERSION"'
                        f" | tr -c 'A-Za-z0-9_.-' '-' | cut -c1-{TAG_LENGTH})\"",
                        'test -n "$IMAGE_TAG"',
                        'IMAGE_URI="$REPOSITORY_URI:$IMAGE_TAG"',
                    ],
                },
                "build": {
                    "on-failure": "ABORT",
                    "commands": [
                        'EXISTING="$(aws ecr batch-get-image --repository-name "$REPOSITORY_NAME"'
                        ' --image-ids imageTag="$IMAGE_TAG" --query "length(images)" --output text)"',
                        'if [ "$EXISTING" != "0" ]; then echo "$IMAGE_URI exists: deploying it again"; else'
                        ' docker build --pull --platform "$DOCKER_PLATFORM" --file "$DOCKERFILE"'
                        ' --tag "$IMAGE_URI" "$BUILD_CONTEXT" && docker push "$IMAGE_URI"; fi',
                    ],
                },
                "post_build": {
                    "commands": [
                        'printf \'[{"name":"%s","imageUri":"%s"}]\' "$CONTAINER_NAME" "$IMAGE_URI"'
                        f" > {IMAGE_DEFINITIONS}",
                    ],
                },
            },
            "artifacts": {"files": [IMAGE_DEFINITIONS]},
        },
        sort_keys=False,
        width=1000,
    )


def release_spec() -> str:
    """The release record: runs after the deploy action succeeded, stores the deployed image for Pulumi and
    tags it `deployed-<tag>` so the repository's lifecycle policy keeps it (components/service.py).

    The parameter is written first: it must follow what ECS runs even if tagging fails (the
    action then fails, visibly). The tag is a new one on an existing image, which an immutable
    repository accepts; only an existing tag cannot be pushed again ("Image tag mutability",
    ECR User Guide). Re-tagging is "Retagging an image" of the ECR User Guide: the manifest from
    batch-get-image, put back under the new tag, with the media type ECR reports for it (PutImage
    imageManifestMediaType) so an OCI manifest stays one. A re-released image already carries
    the tag (ImageAlreadyExistsException), which is fine.
    """
    source = 'aws ecr batch-get-image --repository-name "$REPOSITORY_NAME" --image-ids imageTag="${IMAGE_URI##*:}"'
    source += ' --output text --query "images[0]'
    return yaml.safe_dump(
        {
            "version": 0.2,
            "env": {"shell": "bash"},
            "phases": {
                "build": {
                    "commands": [
                        'test -n "$IMAGE_URI"',
                        'aws ssm put-parameter --name "$IMAGE_PARAMETER" --type String --overwrite'
                        ' --value "$IMAGE_URI"',
                        f'DEPLOYED_TAG="{DEPLOYED_TAG_PREFIX}${{IMAGE_URI##*:}}"',
                        f'MANIFEST="$({source}.imageManifest")"',
                        f'MEDIA_TYPE="$({source}.imageManifestMediaType")"',
                        'if ! OUTPUT="$(aws ecr put-image --repository-name "$REPOSITORY_NAME"'
                        ' --image-tag "$DEPLOYED_TAG" --image-manifest "$MANIFEST"'
                        ' --image-manifest-media-type "$MEDIA_TYPE" 2>&1)"; then echo "$OUTPUT";'
                        ' echo "$OUTPUT" | grep -q ImageAlreadyExistsException; fi',
                    ],
                },
            },
        },
        sort_keys=False,
        width=1000,
    )


@dataclass(frozen=True)
class PipelineArgs:
    """What a pipeline needs, as plain values and outputs: nothing ties it to a Service object."""

    config: PipelineConfig
    naming: Naming
    region: str
    service: str  # the service's short name, as in config; names every resource here
    repository_name: pulumi.Input[str]
    repository_arn: pulumi.Input[str]
    repository_url: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    service_name: pulumi.Input[str]
    container_name: str
    architecture: str  # x86_64 or arm64 (ECS's X86_64 / ARM64 are accepted too)
    task_role_arn: pulumi.Input[str]
    execution_role_arn: pulumi.Input[str]
    task_definition_family: str
    image_parameter_name: pulumi.Input[str]
    image_parameter_arn: pulumi.Input[str]
    # The environment's notification topic (and its KMS key, if encrypted): approvals are announced there.
    notification_topic_arn: pulumi.Input[str] | None = None
    notification_topic_key_arn: pulumi.Input[str] | None = None
    # The environment's shared GitHub connection, used when the source names no connectionArn.
    connection_arn: pulumi.Input[str] | None = None

    @classmethod
    def for_service(
        cls, service: Service, config: PipelineConfig, naming: Naming, region: str, **shared
    ) -> PipelineArgs:
        """The args of the pipeline that delivers `service`; `shared` holds the environment-wide fields."""
        return cls(
            config=config,
            naming=naming,
            region=region,
            service=service.name,
            repository_name=service.repository_name,
            repository_arn=service.repository_arn,
            repository_url=service.repository_url,
            cluster_name=service.cluster_name,
            service_name=service.service_name,
            container_name=service.container_name,
            architecture=service.cpu_architecture,
            task_role_arn=service.task_role_arn,
            execution_role_arn=service.execution_role_arn,
            task_definition_family=service.task_definition_family,
            image_parameter_name=service.image_parameter_name,
            image_parameter_arn=service.image_parameter_arn,
            **shared,
        )


def github_connection(name: str, naming: Naming, opts: pulumi.ResourceOptions | None = None):
    """The environment's connection to GitHub, shared by every pipeline that names no connectionArn.

    AWS creates it PENDING: someone with access to the GitHub organisation completes the
    handshake once in the console (README, "Activate the GitHub connection").
    """
    return aws.codestarconnections.Connection(
        name,
        name=naming.name("github", "codestar_connection"),
        provider_type="GitHub",
        opts=opts,
    )


class Pipeline(pulumi.ComponentResource):
    """One service's CodePipeline with its artifact bucket and key, CodeBuild projects and least-privilege roles."""

    pipeline_name: pulumi.Output[str]
    pipeline_arn: pulumi.Output[str]
    console_url: pulumi.Output[str]
    artifact_bucket: pulumi.Output[str]
    build_project_name: pulumi.Output[str]

    def __init__(self, name: str, args: PipelineArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("ecs-platform:pipeline:Pipeline", name, None, opts)
        cfg, naming = args.config, args.naming
        self._name, self._args = name, args
        account = current_account(self)
        self._account, self._partition = account.id, account.partition
        architecture = args.architecture.lower()
        if architecture not in BUILD_IMAGES:
            raise ValueError(f"architecture must be x86_64 or arm64, not {args.architecture}")

        github = cfg.source.github
        connection_arn: pulumi.Input[str] | None = None
        if github is not None:
            connection_arn = github.connection_arn or args.connection_arn
            if connection_arn is None:
                raise ValueError(f"pipeline {args.service}: a GitHub source needs a connection ARN")

        pipeline_name = naming.name(args.service, "codepipeline")
        build_name = naming.name(f"{args.service}-build", "codebuild_project")
        release_name = naming.name(f"{args.service}-release", "codebuild_project")

        key, bucket = self._artifact_store(name, cfg, naming)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=naming.path(f"codebuild/{args.service}"),
            retention_in_days=cfg.log_retention_days,
            opts=pulumi.ResourceOptions(parent=self),
        )

        build_role = self._role(name, "build", "codebuild", self._arn("codebuild", f"project/{build_name}"))
        release_role = self._role(name, "release", "codebuild", self._arn("codebuild", f"project/{release_name}"))
        pipeline_role = self._role(name, "pipeline", "codepipeline", self._arn("codepipeline", pipeline_name))

        build_policy = self._policy(
            f"{name}-build",
            build_role,
            {"log_group": log_group.arn, "bucket": bucket.arn, "key": key.arn, "repository": args.repository_arn},
            lambda r: [
                self._log_statement(r["log_group"]),
                *self._artifact_statements(r["bucket"], r["key"], write=True),
                {"Sid": "PushToTheServiceRepository", "Effect": "Allow", "Action": ECR_PUSH_ACTIONS,
                 "Resource": r["repository"]},
                # GetAuthorizationToken has no resource type: AWS accepts only "*".
                {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            ],
        )  # fmt: skip
        release_policy = self._policy(
            f"{name}-release",
            release_role,
            {"log_group": log_group.arn, "bucket": bucket.arn, "key": key.arn, "parameter": args.image_parameter_arn,
             "repository": args.repository_arn},
            lambda r: [
                self._log_statement(r["log_group"]),
                *self._artifact_statements(r["bucket"], r["key"], write=False),
                {"Sid": "RecordTheDeployedImage", "Effect": "Allow", "Action": "ssm:PutParameter",
                 "Resource": r["parameter"]},
                # "Retagging an image" (ECR User Guide): read the manifest, put it under a new tag.
                {"Sid": "ProtectTheDeployedImage", "Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:PutImage"],
                 "Resource": r["repository"]},
            ],
        )  # fmt: skip

        environment = [
            ("REPOSITORY_URI", args.repository_url),
            ("REPOSITORY_NAME", args.repository_name),
            ("CONTAINER_NAME", args.container_name),
            ("DOCKERFILE", cfg.dockerfile),
            ("BUILD_CONTEXT", cfg.build_context),
            ("DOCKER_PLATFORM", DOCKER_PLATFORMS[architecture]),
        ]
        build_project = self._project(
            f"{name}-build",
            build_name,
            f"Builds and pushes the {args.service} image ({architecture}) for {pipeline_name}",
            build_role,
            build_spec(),
            environment,
            compute_type=cfg.compute_type,
            architecture=architecture,
            privileged=True,  # the Docker daemon runs inside the build container
            timeout=cfg.build_timeout_minutes,
            key=key,
            log_group=log_group,
            stream="build",
            depends_on=[build_policy],
        )
        release_project = self._project(
            f"{name}-release",
            release_name,
            f"Records the image {pipeline_name} deployed, for Pulumi to render the {args.service} task definition",
            release_role,
            release_spec(),
            [("IMAGE_PARAMETER", args.image_parameter_name), ("REPOSITORY_NAME", args.repository_name)],
            compute_type="BUILD_GENERAL1_SMALL",
            architecture=architecture,
            privileged=False,
            timeout=5,
            key=key,
            log_group=log_group,
            stream="release",
            depends_on=[release_policy],
        )

        pipeline_policy = self._policy(
            f"{name}-pipeline",
            pipeline_role,
            {
                "bucket": bucket.arn,
                "key": key.arn,
                "projects": pulumi.Output.all(build_project.arn, release_project.arn),
                "connection": connection_arn,
                "cluster": args.cluster_name,
                "service": args.service_name,
                "roles": pulumi.Output.all(args.task_role_arn, args.execution_role_arn),
                "topic": args.notification_topic_arn if cfg.approval else None,
                "topic_key": args.notification_topic_key_arn if cfg.approval else None,
            },
            lambda r: self._pipeline_statements(r, cfg),
        )

        pipeline = aws.codepipeline.Pipeline(
            f"{name}-pipeline",
            name=pipeline_name,
            pipeline_type="V2",
            execution_mode="SUPERSEDED",
            role_arn=pipeline_role.arn,
            artifact_stores=[
                {
                    "location": bucket.id,
                    "type": "S3",
                    "encryption_key": {"id": key.arn, "type": "KMS"},
                }
            ],
            stages=self._stages(cfg, connection_arn, build_project.name, release_project.name),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[pipeline_policy]),
        )

        if cfg.source.s3 is not None:
            self._start_on_new_source_versions(name, cfg, naming, pipeline_name, pipeline)

        self.pipeline_name = pipeline.name
        self.pipeline_arn = pipeline.arn
        self.artifact_bucket = bucket.id
        self.build_project_name = build_project.name
        self.console_url = pipeline.name.apply(
            lambda n: (
                f"https://{args.region}.console.aws.amazon.com/codesuite/codepipeline/pipelines/{n}/view"
                f"?region={args.region}"
            )
        )
        self.register_outputs(
            {
                "pipelineName": self.pipeline_name,
                "pipelineArn": self.pipeline_arn,
                "consoleUrl": self.console_url,
                "artifactBucket": self.artifact_bucket,
                "buildProjectName": self.build_project_name,
            }
        )

    # --- artifact store --------------------------------------------------------------

    def _artifact_store(self, name: str, cfg: PipelineConfig, naming: Naming):
        """A private, KMS-encrypted, versioned, TLS-only bucket whose artifacts expire."""
        service = self._args.service
        key = aws.kms.Key(
            f"{name}-key",
            description=f"Pipeline artifacts of {naming.name(service)}",
            enable_key_rotation=True,
            rotation_period_in_days=365,
            deletion_window_in_days=30,
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.kms.Alias(
            f"{name}-key",
            name=f"alias/{naming.name(f'{service}-pipeline', 'kms_alias')}",
            target_key_id=key.key_id,
            opts=pulumi.ResourceOptions(parent=key),
        )
        bucket, _ = private_bucket(
            f"{name}-artifacts",
            bucket_prefix=naming.prefix(f"{service}-artifacts", "s3_bucket_prefix").lower(),
            # Artifacts are rebuilt from source at will; a versioned bucket full of them must not
            # block `pulumi destroy` of an environment.
            force_destroy=True,
            versioned=True,
            encryption={
                "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": key.arn},
                # One data key per bucket instead of one KMS call per object.
                "bucket_key_enabled": True,
            },
            lifecycle_rules=[
                {
                    "id": "expire-old-artifacts",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "expiration": {"days": cfg.artifact_expiry_days},
                    "noncurrent_version_expiration": {"noncurrent_days": 1},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 1},
                },
                {
                    "id": "remove-expired-delete-markers",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "expiration": {"expired_object_delete_marker": True},
                },
            ],
            parent=self,
        )
        return key, bucket

    # --- roles -----------------------------------------------------------------------

    def _arn(self, service: str, resource: str) -> str:
        return f"arn:{self._partition}:{service}:{self._args.region}:{self._account}:{resource}"

    def _role(self, name: str, actor: str, service: str, source_arn: str) -> aws.iam.Role:
        """A role only `service` may assume, and only on behalf of this pipeline's own project or pipeline."""
        return aws.iam.Role(
            f"{name}-{actor}",
            name_prefix=self._args.naming.prefix(f"{self._args.service}-{actor}", "iam_role_prefix"),
            description=f"{actor.capitalize()} of the {self._args.service} pipeline",
            assume_role_policy=trust_policy(f"{service}.amazonaws.com", self._account, source_arn),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _policy(self, name: str, role: aws.iam.Role, resources: dict[str, Any], statements) -> aws.iam.RolePolicy:
        """An inline policy built from resolved ARNs; inline, so it lives and dies with its role."""
        document = pulumi.Output.all(**resources).apply(
            lambda r: json.dumps({"Version": "2012-10-17", "Statement": statements(r)})
        )
        return aws.iam.RolePolicy(name, role=role.id, policy=document, opts=pulumi.ResourceOptions(parent=role))

    @staticmethod
    def _log_statement(log_group_arn: str) -> dict:
        return {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{log_group_arn}:log-stream:*",
        }

    @staticmethod
    def _artifact_statements(bucket_arn: str, key_arn: str, *, write: bool) -> list[dict]:
        object_actions = ["s3:GetObject", "s3:GetObjectVersion"] + (["s3:PutObject"] if write else [])
        key_actions = ["kms:Decrypt"] + (["kms:GenerateDataKey"] if write else [])
        return [
            {"Sid": "UseArtifacts", "Effect": "Allow", "Action": object_actions, "Resource": f"{bucket_arn}/*"},
            {"Sid": "LocateArtifactBucket", "Effect": "Allow", "Action": "s3:GetBucketLocation",
             "Resource": bucket_arn},
            {"Sid": "UseArtifactKey", "Effect": "Allow", "Action": key_actions, "Resource": key_arn},
        ]  # fmt: skip

    def _pipeline_artifact_statements(self, bucket_arn: str, key_arn: str) -> list[dict]:
        """What CodePipeline does with its artifact store: the bucket reads and object access its service role needs.

        AWS CodePipeline User Guide, "Manage the CodePipeline service role" (CodePipeline
        service role policy): s3:GetBucketVersioning, s3:GetBucketAcl, s3:GetBucketLocation on
        the artifact bucket and s3:PutObject, s3:PutObjectAcl, s3:GetObject, s3:GetObjectVersion
        on its objects, held to the pipeline's own account with aws:ResourceAccount (a bucket
        name is global: a deleted bucket's name could come back in another account).
        """
        own_account = {"StringEquals": {"aws:ResourceAccount": self._account}}
        return [
            {"Sid": "UseArtifacts", "Effect": "Allow",
             "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
             "Resource": f"{bucket_arn}/*", "Condition": own_account},
            # An upload that names a canned ACL needs this too; the bucket enforces owner-only
            # ACLs (BucketOwnerEnforced), so no ACL it sets can share an artifact.
            {"Sid": "SetArtifactAcl", "Effect": "Allow", "Action": "s3:PutObjectAcl",
             "Resource": f"{bucket_arn}/*", "Condition": own_account},
            {"Sid": "InspectArtifactBucket", "Effect": "Allow",
             "Action": ["s3:GetBucketAcl", "s3:GetBucketLocation", "s3:GetBucketVersioning"],
             "Resource": bucket_arn, "Condition": own_account},
            {"Sid": "UseArtifactKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
             "Resource": key_arn},
        ]  # fmt: skip

    def _pipeline_statements(self, r: dict[str, Any], cfg: PipelineConfig) -> list[dict]:
        """The pipeline role: its bucket, key, projects and source; deploy to its one service, pass its two roles.

        The ECS statements follow the AWS CodePipeline User Guide, "Amazon Elastic Container
        Service deploy action reference", "Service role permissions: Amazon ECS standard
        action" (DescribeTaskDefinition, RegisterTaskDefinition, DescribeServices,
        UpdateService, TagResource on create, PassRole), each scoped to this one service, its
        task definition family and its two roles. The roles are passed to ecs-tasks only: the
        task definition names them for tasks; the doc's ecs.amazonaws.com is for roles a
        service itself takes, which this deploy never passes.
        """
        family = self._arn("ecs", f"task-definition/{self._args.task_definition_family}:*")
        statements = [
            *self._pipeline_artifact_statements(r["bucket"], r["key"]),
            {"Sid": "RunOwnBuilds", "Effect": "Allow", "Action": ["codebuild:BatchGetBuilds", "codebuild:StartBuild"],
             "Resource": list(r["projects"])},
            {"Sid": "DeployTheService", "Effect": "Allow", "Action": ["ecs:DescribeServices", "ecs:UpdateService"],
             "Resource": self._arn("ecs", f"service/{r['cluster']}/{r['service']}")},
            # The deploy action registers a new revision of the service's family, tags included.
            {"Sid": "RegisterOwnRevisions", "Effect": "Allow", "Action": "ecs:RegisterTaskDefinition",
             "Resource": family},
            {"Sid": "TagOwnRevisionsOnCreate", "Effect": "Allow", "Action": "ecs:TagResource", "Resource": family,
             "Condition": {"StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}}},
            {"Sid": "WatchTheDeployment", "Effect": "Allow", "Action": "ecs:DescribeTasks",
             "Resource": self._arn("ecs", f"task/{r['cluster']}/*")},
            # DescribeTaskDefinition has no resource type: AWS accepts only "*".
            {"Sid": "ReadTaskDefinitions", "Effect": "Allow", "Action": "ecs:DescribeTaskDefinition", "Resource": "*"},
            {"Sid": "PassOnlyTheServiceRoles", "Effect": "Allow", "Action": "iam:PassRole",
             "Resource": list(r["roles"]),
             "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}},
        ]  # fmt: skip
        if cfg.source.github is not None:
            # Connections created before the CodeConnections rename answer to either prefix.
            arn = r["connection"]
            statements += [
                {"Sid": "UseTheConnection", "Effect": "Allow", "Action": "codestar-connections:UseConnection",
                 "Resource": arn.replace(":codeconnections:", ":codestar-connections:")},
                {"Sid": "UseTheConnectionRenamed", "Effect": "Allow", "Action": "codeconnections:UseConnection",
                 "Resource": arn.replace(":codestar-connections:", ":codeconnections:")},
            ]  # fmt: skip
        if cfg.source.s3 is not None:
            # AWS CodePipeline User Guide, "Amazon S3 source action reference", "Service role
            # permissions: S3 source action": the object (and its tags) and the bucket's
            # versioning, ACL and location; here only for the one key the pipeline reads.
            source = f"arn:{self._partition}:s3:::{cfg.source.s3.bucket}"
            statements += [
                {"Sid": "ReadTheSource", "Effect": "Allow",
                 "Action": ["s3:GetObject", "s3:GetObjectTagging", "s3:GetObjectVersion",
                            "s3:GetObjectVersionTagging"],
                 "Resource": f"{source}/{cfg.source.s3.key}"},
                {"Sid": "InspectTheSourceBucket", "Effect": "Allow",
                 "Action": ["s3:GetBucketAcl", "s3:GetBucketLocation", "s3:GetBucketVersioning"], "Resource": source},
            ]  # fmt: skip
        if r["topic"] is not None:
            statements.append(
                {"Sid": "AnnounceApprovals", "Effect": "Allow", "Action": "sns:Publish", "Resource": r["topic"]}
            )
        if r["topic_key"] is not None:
            statements.append(
                {"Sid": "EncryptApprovalNotices", "Effect": "Allow",
                 "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": r["topic_key"],
                 "Condition": {"StringEquals": {"kms:ViaService": f"sns.{self._args.region}.amazonaws.com"}}}
            )  # fmt: skip
        return statements

    # --- S3 source change detection -------------------------------------------------

    def _start_on_new_source_versions(
        self, name: str, cfg: PipelineConfig, naming: Naming, pipeline_name: str, pipeline: aws.codepipeline.Pipeline
    ) -> None:
        """An EventBridge rule that starts the pipeline when a new version of the source object lands.

        Polling is not an option: CodePipeline disables polling for source changes on pipelines
        inactive for more than 30 days (CodePipeline API Reference, PipelineMetadata,
        pollingDisabledAt), and a pipeline released once a quarter would then never start
        again. The rule matches the "Object Created" events S3 sends to EventBridge directly
        (EventBridge User Guide, "Amazon S3 events"), which S3 does only for a bucket with
        EventBridge notifications turned on (CodePipeline User Guide, "Connecting to Amazon S3
        source actions with a source enabled for events"). The bucket is the user's, so the
        stack cannot switch that on without replacing the bucket's whole notification
        configuration: README, "pipeline of a service", says how. No CloudTrail trail is
        needed this way.
        """
        s3 = cfg.source.s3
        assert s3 is not None
        rule_name = naming.name(f"{self._args.service}-source", "events_rule")
        rule_arn = self._arn("events", f"rule/{rule_name}")
        # EventBridge sets aws:SourceArn to the rule it runs for (EventBridge User Guide,
        # "Using IAM policy conditions in Amazon EventBridge"): only this rule may take the role.
        role = self._role(name, "source-events", "events", rule_arn)
        policy = self._policy(
            f"{name}-source-events",
            role,
            {"pipeline": pipeline.arn},
            lambda r: [
                {"Sid": "StartThisPipeline", "Effect": "Allow", "Action": "codepipeline:StartPipelineExecution",
                 "Resource": r["pipeline"]},
            ],
        )  # fmt: skip
        rule = aws.cloudwatch.EventRule(
            f"{name}-source",
            name=rule_name,
            description=f"Starts {pipeline_name} when s3://{s3.bucket}/{s3.key} gets a new version",
            event_pattern=json.dumps(
                {
                    "source": ["aws.s3"],
                    "detail-type": ["Object Created"],
                    "detail": {"bucket": {"name": [s3.bucket]}, "object": {"key": [s3.key]}},
                }
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.cloudwatch.EventTarget(
            f"{name}-source",
            rule=rule.name,
            arn=pipeline.arn,
            role_arn=role.arn,
            # EventBridge checks that it may assume the role when the target is put.
            opts=pulumi.ResourceOptions(parent=rule, depends_on=[policy]),
        )

    # --- build projects and pipeline -------------------------------------------------

    def _project(
        self,
        name: str,
        project_name: str,
        description: str,
        role: aws.iam.Role,
        spec: str,
        environment: list[tuple[str, pulumi.Input[str]]],
        *,
        compute_type: str,
        architecture: str,
        privileged: bool,
        timeout: int,
        key: aws.kms.Key,
        log_group: aws.cloudwatch.LogGroup,
        stream: str,
        depends_on: list[pulumi.Resource],
    ) -> aws.codebuild.Project:
        kind, image = BUILD_IMAGES[architecture]
        return aws.codebuild.Project(
            name,
            name=project_name,
            description=description,
            service_role=role.arn,
            source={"type": "CODEPIPELINE", "buildspec": spec},
            artifacts={"type": "CODEPIPELINE"},
            environment={
                "type": kind,
                "image": image,
                "compute_type": compute_type,
                "privileged_mode": privileged,
                "image_pull_credentials_type": "CODEBUILD",
                "environment_variables": [
                    {"name": var, "value": value, "type": "PLAINTEXT"} for var, value in environment
                ],
            },
            # Docker layers stay on the build host between builds: unchanged layers are not rebuilt.
            cache={"type": "LOCAL", "modes": ["LOCAL_DOCKER_LAYER_CACHE"]} if privileged else {"type": "NO_CACHE"},
            build_timeout=timeout,
            queued_timeout=480,
            encryption_key=key.arn,
            logs_config={
                "cloudwatch_logs": {"status": "ENABLED", "group_name": log_group.name, "stream_name": stream},
                "s3_logs": {"status": "DISABLED"},
            },
            # The role's policy must exist before CodeBuild validates the project with it.
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
        )

    def _stages(
        self,
        cfg: PipelineConfig,
        connection_arn: pulumi.Input[str] | None,
        build_project: pulumi.Input[str],
        release_project: pulumi.Input[str],
    ) -> list[dict]:
        args = self._args
        github, s3 = cfg.source.github, cfg.source.s3
        if github is not None:
            source_action = {
                "provider": "CodeStarSourceConnection",
                "configuration": {
                    "ConnectionArn": connection_arn,
                    "FullRepositoryId": github.repository,
                    "BranchName": github.branch,
                    "DetectChanges": "true",
                    "OutputArtifactFormat": "CODE_ZIP",
                },
            }
        else:
            assert s3 is not None
            # The EventBridge rule starts the pipeline; polling as well would start it twice
            # (CodePipeline User Guide, "Amazon S3 source action reference", PollForSourceChanges).
            source_action = {
                "provider": "S3",
                "configuration": {"S3Bucket": s3.bucket, "S3ObjectKey": s3.key, "PollForSourceChanges": "false"},
            }
        stages: list[dict] = [
            {
                "name": "Source",
                "actions": [
                    {
                        "name": "Source",
                        "category": "Source",
                        "owner": "AWS",
                        "version": "1",
                        "output_artifacts": [SOURCE_ARTIFACT],
                        "namespace": "SourceVariables",
                        **source_action,
                    }
                ],
            },
            {
                "name": "Build",
                "actions": [
                    {
                        "name": "Image",
                        "category": "Build",
                        "owner": "AWS",
                        "provider": "CodeBuild",
                        "version": "1",
                        "input_artifacts": [SOURCE_ARTIFACT],
                        "output_artifacts": [BUILD_ARTIFACT],
                        "namespace": "BuildVariables",
                        "configuration": {"ProjectName": build_project},
                    }
                ],
            },
        ]
        if cfg.approval:
            if args.notification_topic_arn is None:
                raise ValueError(f"pipeline {args.service}: an approval needs the environment's notification topic")
            stages.append(
                {
                    "name": "Approval",
                    "actions": [
                        {
                            "name": "Approve",
                            "category": "Approval",
                            "owner": "AWS",
                            "provider": "Manual",
                            "version": "1",
                            "configuration": {
                                "NotificationArn": args.notification_topic_arn,
                                "CustomData": f"Deploy #{{BuildVariables.IMAGE_URI}} to {args.service} "
                                f"in {args.naming.env}?",
                            },
                        }
                    ],
                }
            )
        stages.append(
            {
                "name": "Deploy",
                "actions": [
                    {
                        "name": "Deploy",
                        "category": "Deploy",
                        "owner": "AWS",
                        "provider": "ECS",
                        "version": "1",
                        "run_order": 1,
                        "input_artifacts": [BUILD_ARTIFACT],
                        "configuration": {
                            "ClusterName": args.cluster_name,
                            "ServiceName": args.service_name,
                            "FileName": IMAGE_DEFINITIONS,
                        },
                    },
                    {
                        # Only after the deployment succeeded does its image become the one Pulumi renders.
                        "name": "Release",
                        "category": "Build",
                        "owner": "AWS",
                        "provider": "CodeBuild",
                        "version": "1",
                        "run_order": 2,
                        "input_artifacts": [BUILD_ARTIFACT],
                        "configuration": {
                            "ProjectName": release_project,
                            "EnvironmentVariables": json.dumps(
                                [{"name": "IMAGE_URI", "value": "#{BuildVariables.IMAGE_URI}", "type": "PLAINTEXT"}]
                            ),
                        },
                    },
                ],
            }
        )
        return stages
