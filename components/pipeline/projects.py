"""The pipeline's CodeBuild projects and their buildspecs.

The buildspecs are files next to this one (`buildspecs/*.yml`), read when the program runs
and rendered as plain YAML (their comments are for the reader of the file).
"""

from __future__ import annotations

import functools
from pathlib import Path

import pulumi
import pulumi_aws as aws
import yaml

BUILDSPECS = Path(__file__).parent / "buildspecs"

# CodeBuild's curated Amazon Linux 2023 images, per CPU architecture: (environment type, image).
BUILD_IMAGES = {
    "x86_64": ("LINUX_CONTAINER", "aws/codebuild/amazonlinux-x86_64-standard:5.0"),
    "arm64": ("ARM_CONTAINER", "aws/codebuild/amazonlinux-aarch64-standard:3.0"),
}
DOCKER_PLATFORMS = {"x86_64": "linux/amd64", "arm64": "linux/arm64"}


def buildspec(name: str) -> str:
    """The buildspec `buildspecs/<name>.yml` as CodeBuild gets it: the same document without comments."""
    return _without_comments((BUILDSPECS / f"{name}.yml").read_text())


@functools.cache
def _without_comments(text: str) -> str:
    # Keyed by the file's text, so an edited file renders again; a process that runs the program
    # many times (the tests) parses each buildspec once.
    return yaml.safe_dump(yaml.safe_load(text), sort_keys=False, width=1000)


def project(
    parent: pulumi.Resource,
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
    """A CodeBuild project run by the pipeline, with `environment` as plain variables and its logs in `stream`."""
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
            "environment_variables": [{"name": var, "value": value, "type": "PLAINTEXT"} for var, value in environment],
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
        opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on),
    )
