"""The pipeline's stages: Source -> Build -> [Approval] -> Deploy (ECS deploy, then Release)."""

from __future__ import annotations

import json

import pulumi

from components.config import PipelineConfig
from components.contracts import DeliveryTarget

# The file the Build action writes (buildspecs/build.yml) and the ECS deploy action reads.
IMAGE_DEFINITIONS = "imagedefinitions.json"
SOURCE_ARTIFACT, BUILD_ARTIFACT = "SourceOutput", "BuildOutput"


def stages(
    cfg: PipelineConfig,
    target: DeliveryTarget,
    env: str,
    *,
    connection_arn: pulumi.Input[str] | None,
    build_project: pulumi.Input[str],
    release_project: pulumi.Input[str],
    notification_topic_arn: pulumi.Input[str] | None,
) -> list[dict]:
    """Every stage of the pipeline that delivers `target` in environment `env`."""
    result = [_source(cfg, connection_arn), _build(build_project)]
    if cfg.approval:
        if notification_topic_arn is None:
            raise ValueError(f"pipeline {target.name}: an approval needs the environment's notification topic")
        result.append(_approval(target, env, notification_topic_arn))
    result.append(_deploy(target, release_project))
    return result


def _action(name: str, category: str, provider: str, **settings) -> dict:
    return {"name": name, "category": category, "owner": "AWS", "provider": provider, "version": "1", **settings}


def _source(cfg: PipelineConfig, connection_arn: pulumi.Input[str] | None) -> dict:
    github, s3 = cfg.source.github, cfg.source.s3
    if github is not None:
        provider = "CodeStarSourceConnection"
        configuration = {
            "ConnectionArn": connection_arn,
            "FullRepositoryId": github.repository,
            "BranchName": github.branch,
            "DetectChanges": "true",
            "OutputArtifactFormat": "CODE_ZIP",
        }
    else:
        assert s3 is not None
        provider = "S3"
        # An EventBridge rule starts the pipeline; polling as well would start it twice
        # (CodePipeline User Guide, "Amazon S3 source action reference", PollForSourceChanges).
        configuration = {"S3Bucket": s3.bucket, "S3ObjectKey": s3.key, "PollForSourceChanges": "false"}
    action = _action(
        "Source",
        "Source",
        provider,
        output_artifacts=[SOURCE_ARTIFACT],
        namespace="SourceVariables",
        configuration=configuration,
    )
    return {"name": "Source", "actions": [action]}


def _build(project: pulumi.Input[str]) -> dict:
    action = _action(
        "Image",
        "Build",
        "CodeBuild",
        input_artifacts=[SOURCE_ARTIFACT],
        output_artifacts=[BUILD_ARTIFACT],
        namespace="BuildVariables",
        configuration={"ProjectName": project},
    )
    return {"name": "Build", "actions": [action]}


def _approval(target: DeliveryTarget, env: str, topic_arn: pulumi.Input[str]) -> dict:
    message = f"Deploy #{{BuildVariables.IMAGE_URI}} to {target.name} in {env}?"
    action = _action(
        "Approve", "Approval", "Manual", configuration={"NotificationArn": topic_arn, "CustomData": message}
    )
    return {"name": "Approval", "actions": [action]}


def _deploy(target: DeliveryTarget, release_project: pulumi.Input[str]) -> dict:
    deploy = _action(
        "Deploy",
        "Deploy",
        "ECS",
        run_order=1,
        input_artifacts=[BUILD_ARTIFACT],
        configuration={
            "ClusterName": target.cluster_name,
            "ServiceName": target.service_name,
            "FileName": IMAGE_DEFINITIONS,
        },
    )
    # Only after the deployment succeeded does its image become the one Pulumi renders.
    image_uri = [{"name": "IMAGE_URI", "value": "#{BuildVariables.IMAGE_URI}", "type": "PLAINTEXT"}]
    release = _action(
        "Release",
        "Build",
        "CodeBuild",
        run_order=2,
        input_artifacts=[BUILD_ARTIFACT],
        configuration={"ProjectName": release_project, "EnvironmentVariables": json.dumps(image_uri)},
    )
    return {"name": "Deploy", "actions": [deploy, release]}
