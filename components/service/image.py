"""Where a service's image comes from: an external image as configured, or an ECR repository of its own.

A repository's service runs `<repository>:<tag>`. With a pipeline, the configured tag only
seeds an SSM parameter the pipeline overwrites after each deployment, and the task
definition renders the parameter's live value (docs/delivery.md, "Pulumi and the pipeline share the
running image").
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import ServiceConfig
from components.contracts import DEPLOYED_TAG_PREFIX
from components.naming import Naming


@dataclass(frozen=True)
class Image:
    uri: pulumi.Output[str]  # what the task runs
    repository: aws.ecr.Repository | None = None
    parameter: aws.ssm.Parameter | None = None  # the image a pipeline last deployed


def image(parent: pulumi.Resource, name: str, cfg: ServiceConfig, naming: Naming) -> Image:
    """The service's image: the configured one, or its repository's, or what its pipeline last deployed."""
    if cfg.repository is None:
        assert cfg.image is not None
        return Image(pulumi.Output.from_input(cfg.image))
    repo_cfg = cfg.repository
    repository = aws.ecr.Repository(
        f"{name}-repository",
        name=naming.name(cfg.name, "ecr_repository", lowercase=True),
        image_tag_mutability="IMMUTABLE" if repo_cfg.immutable_tags else "MUTABLE",
        image_scanning_configuration={"scan_on_push": repo_cfg.scan_on_push},
        encryption_configurations=[{"encryption_type": "AES256"}],
        # On: `pulumi destroy` removes the repository even with images in it. Production
        # turns it off to keep its images (the pack's ecr-retain-images policy).
        force_delete=repo_cfg.force_delete,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    aws.ecr.LifecyclePolicy(
        f"{name}-repository",
        repository=repository.name,
        policy=json.dumps({"rules": lifecycle_rules(cfg)}),
        opts=pulumi.ResourceOptions(parent=repository),
    )
    uri = pulumi.Output.concat(repository.repository_url, ":", repo_cfg.tag)
    if not cfg.pipeline_enabled:
        return Image(uri, repository)
    parameter, deployed = _pipeline_image(parent, name, cfg, naming, uri)
    return Image(deployed, repository, parameter)


def lifecycle_rules(cfg: ServiceConfig) -> list[dict]:
    """Keep the last `keepImages` images; with a pipeline, also never expire its last deployed ones.

    A pipeline pushes an image per commit, before any approval: counted with them, the running
    image and its rollback target would expire after `keepImages` unapproved builds and the
    next task start could not pull. In ECR's evaluation "an image that matches the tagging
    requirements of a rule cannot be expired by a rule with a lower priority", and the `any`
    rule must come last (ECR User Guide, "Lifecycle policies" and "Lifecycle policy
    properties"): the `deployed-` images answer to their own count only. Counts follow push
    time, so a rollback to an older image keeps it for as long as its build is among the last.
    """
    assert cfg.repository is not None
    keep = cfg.repository.keep_images
    every = {
        "description": f"Keep the last {keep} images",
        "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep},
        "action": {"type": "expire"},
    }
    if not cfg.pipeline_enabled:
        return [{"rulePriority": 1, **every}]
    deployed = {
        "rulePriority": 1,
        "description": f"Keep the last {keep} deployed images",
        "selection": {
            "tagStatus": "tagged",
            "tagPrefixList": [DEPLOYED_TAG_PREFIX],
            "countType": "imageCountMoreThan",
            "countNumber": keep,
        },
        "action": {"type": "expire"},
    }
    return [deployed, {"rulePriority": 2, **every}]


def _pipeline_image(
    parent: pulumi.Resource, name: str, cfg: ServiceConfig, naming: Naming, seed: pulumi.Output[str]
) -> tuple[aws.ssm.Parameter, pulumi.Output[str]]:
    """The parameter a pipeline records its deployments in, and its live value.

    The configured tag only seeds the parameter; the pipeline's Release action overwrites it
    after each successful deployment, and Pulumi never writes it again. So `pulumi up`
    renders the task definition with the running image (no rollback) and still rolls out
    every other change.
    """
    parameter = aws.ssm.Parameter(
        f"{name}-image",
        name=naming.path(f"{cfg.name}/image"),
        type="String",
        description=f"Image the {cfg.name} service runs; written by its pipeline after each deployment",
        insecure_value=seed,
        opts=pulumi.ResourceOptions(parent=parent, ignore_changes=["insecureValue"]),
    )
    deployed = aws.ssm.get_parameter_output(
        name=parameter.name,
        with_decryption=False,
        # Read after the parameter exists, every deployment: the value at deploy time, not at creation.
        opts=pulumi.InvokeOutputOptions(parent=parent, depends_on=[parameter]),
    ).insecure_value
    return parameter, deployed
