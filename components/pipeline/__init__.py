"""Delivery of one service's application image: a CodePipeline from source to the running ECS service.

    Source (GitHub through a CodeStar connection, or a zip in S3)
      -> Build (CodeBuild: docker build for the service's CPU architecture, tag = short commit id,
               push to the service's ECR repository, write imagedefinitions.json)
      -> [Approval (manual, notifies the environment's SNS topic)]
      -> Deploy (ECS standard deploy action; then Release records the deployed image in SSM)

Everything here is a plain pulumi_aws resource so tests and policies see it: the artifact bucket
and its KMS key (`artifacts.py`), the two CodeBuild projects and their buildspecs
(`projects.py`, `buildspecs/`), the stages (`stages.py`), and one IAM role per actor (build,
release, pipeline; `policies.py`), each allowed only what that actor does on the one resource
it does it to.

Pulumi and the pipeline share the running image through one SSM parameter per service, named
in the service's `DeliveryTarget`. The Service renders its task definition with the
parameter's live value; the pipeline's last action writes the image it has just deployed into
it. So `pulumi up` never rolls a release back, and config changes still roll out (see docs/delivery.md,
"Delivery: application images"). The parameter is written only after the deploy action
succeeded: a rejected approval or a failed deployment never becomes the image Pulumi renders
next time.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.account import Account
from components.config import PipelineConfig
from components.contracts import DeliveryTarget
from components.iam import inline_policy, resolved_document
from components.naming import Naming
from components.pipeline.artifacts import artifact_store
from components.pipeline.policies import build_statements, pipeline_statements, release_statements, role
from components.pipeline.projects import BUILD_IMAGES, DOCKER_PLATFORMS, buildspec, project
from components.pipeline.source import start_on_new_versions
from components.pipeline.stages import stages


@dataclass(frozen=True)
class PipelineArgs:
    config: PipelineConfig
    naming: Naming
    account: Account
    target: DeliveryTarget  # the service it delivers to
    # The environment's notification topic (and its KMS key, if encrypted): approvals are announced there.
    notification_topic_arn: pulumi.Input[str] | None = None
    notification_topic_key_arn: pulumi.Input[str] | None = None
    # The environment's shared GitHub connection, used when the source names no connectionArn.
    connection_arn: pulumi.Input[str] | None = None


def github_connection(
    name: str, naming: Naming, opts: pulumi.ResourceOptions | None = None
) -> aws.codestarconnections.Connection:
    """The environment's connection to GitHub, shared by every pipeline that names no connectionArn.

    AWS creates it PENDING: someone with access to the GitHub organisation completes the
    handshake once in the console (docs/delivery.md, "Activate the GitHub connection").
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
        cfg, naming, account, target = args.config, args.naming, args.account, args.target
        service = target.name
        architecture = target.architecture.lower()
        if architecture not in BUILD_IMAGES:
            raise ValueError(f"architecture must be x86_64 or arm64, not {target.architecture}")

        github = cfg.source.github
        connection_arn: pulumi.Input[str] | None = None
        if github is not None:
            connection_arn = github.connection_arn or args.connection_arn
            if connection_arn is None:
                raise ValueError(f"pipeline {service}: a GitHub source needs a connection ARN")

        pipeline_name = naming.name(service, "codepipeline")
        build_name = naming.name(f"{service}-build", "codebuild_project")
        release_name = naming.name(f"{service}-release", "codebuild_project")

        key, bucket = artifact_store(self, name, cfg, naming, service)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=naming.path(f"codebuild/{service}"),
            retention_in_days=cfg.log_retention_days,
            opts=pulumi.ResourceOptions(parent=self),
        )

        def actor(kind: str, principal: str, source_arn: str) -> aws.iam.Role:
            trusted = {"service": principal, "source_arn": source_arn}
            return role(self, name, kind, delivered=service, naming=naming, account=account, **trusted)

        build_role = actor("build", "codebuild", account.arn("codebuild", f"project/{build_name}"))
        release_role = actor("release", "codebuild", account.arn("codebuild", f"project/{release_name}"))
        pipeline_role = actor("pipeline", "codepipeline", account.arn("codepipeline", pipeline_name))

        store = {"log_group": log_group.arn, "bucket": bucket.arn, "key": key.arn}
        build_policy = inline_policy(
            f"{name}-build",
            build_role,
            resolved_document({**store, "repository": target.repository_arn}, build_statements),
        )
        release_policy = inline_policy(
            f"{name}-release",
            release_role,
            resolved_document(
                {**store, "parameter": target.image_parameter_arn, "repository": target.repository_arn},
                release_statements,
            ),
        )

        shared = {"architecture": architecture, "key": key, "log_group": log_group}
        build_project = project(
            self,
            f"{name}-build",
            build_name,
            f"Builds and pushes the {service} image ({architecture}) for {pipeline_name}",
            build_role,
            buildspec("build"),
            [
                ("REPOSITORY_URI", target.repository_url),
                ("REPOSITORY_NAME", target.repository_name),
                ("CONTAINER_NAME", target.container_name),
                ("DOCKERFILE", cfg.dockerfile),
                ("BUILD_CONTEXT", cfg.build_context),
                ("DOCKER_PLATFORM", DOCKER_PLATFORMS[architecture]),
            ],
            compute_type=cfg.compute_type,
            privileged=True,  # the Docker daemon runs inside the build container
            timeout=cfg.build_timeout_minutes,
            stream="build",
            depends_on=[build_policy],
            **shared,
        )
        release_project = project(
            self,
            f"{name}-release",
            release_name,
            f"Records the image {pipeline_name} deployed, for Pulumi to render the {service} task definition",
            release_role,
            buildspec("release"),
            [("IMAGE_PARAMETER", target.image_parameter_name), ("REPOSITORY_NAME", target.repository_name)],
            compute_type="BUILD_GENERAL1_SMALL",
            privileged=False,
            timeout=5,
            stream="release",
            depends_on=[release_policy],
            **shared,
        )

        pipeline_values = {
            "bucket": bucket.arn,
            "key": key.arn,
            "projects": pulumi.Output.all(build_project.arn, release_project.arn),
            "connection": connection_arn,
            "cluster": target.cluster_name,
            "service": target.service_name,
            "family": target.task_definition_family,
            "roles": pulumi.Output.all(target.task_role_arn, target.execution_role_arn),
            "topic": args.notification_topic_arn if cfg.approval else None,
            "topic_key": args.notification_topic_key_arn if cfg.approval else None,
        }
        pipeline_policy = inline_policy(
            f"{name}-pipeline",
            pipeline_role,
            resolved_document(pipeline_values, lambda r: pipeline_statements(r, cfg, account)),
        )

        pipeline = aws.codepipeline.Pipeline(
            f"{name}-pipeline",
            name=pipeline_name,
            pipeline_type="V2",
            execution_mode="SUPERSEDED",
            role_arn=pipeline_role.arn,
            artifact_stores=[{"location": bucket.id, "type": "S3", "encryption_key": {"id": key.arn, "type": "KMS"}}],
            stages=stages(
                cfg,
                target,
                naming.env,
                connection_arn=connection_arn,
                build_project=build_project.name,
                release_project=release_project.name,
                notification_topic_arn=args.notification_topic_arn,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[pipeline_policy]),
        )

        if cfg.source.s3 is not None:
            start_on_new_versions(self, name, cfg.source.s3, service, pipeline, pipeline_name, naming, account)

        self.pipeline_name = pipeline.name
        self.pipeline_arn = pipeline.arn
        self.artifact_bucket = bucket.id
        self.build_project_name = build_project.name
        region = account.region
        self.console_url = pipeline.name.apply(
            lambda n: (
                f"https://{region}.console.aws.amazon.com/codesuite/codepipeline/pipelines/{n}/view?region={region}"
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
