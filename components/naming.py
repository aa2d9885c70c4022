"""Physical names and tags shared by every component.

Every physical name reads `{project}-{env}-{name}` so that two environments in one
account never collide and a resource's owner is obvious in the console. AWS caps names
per service; a name cut to fit keeps a short hash of the full name, so two long names
that share a prefix still differ after the cut.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

# Name limits of the AWS APIs, in characters.
LIMITS = {
    "alb": 32,
    "target_group": 32,
    "ecs_cluster": 255,
    "ecs_service": 255,
    "rds_identifier": 63,
    "iam_role": 64,
    "iam_role_prefix": 38,
    "s3_bucket": 63,
    "s3_bucket_prefix": 37,
    "log_group": 512,
    "security_group": 255,
    "kms_alias": 256,
    "sns_topic": 256,
    "ecr_repository": 256,
    "codebuild_project": 150,
    "codepipeline": 100,
    "codestar_connection": 32,
    "events_rule": 64,
    "efs_creation_token": 64,
    "default": 255,
}

_HASH_LENGTH = 6


def cut(name: str, limit: int) -> str:
    """Returns `name` if it fits in `limit` characters, else a prefix of it plus a hash of the whole."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:_HASH_LENGTH]
    head = name[: limit - _HASH_LENGTH - 1].rstrip("-_./")
    return f"{head}-{digest}"


@dataclass(frozen=True)
class Naming:
    """Names and tags for one environment (one stack) of one project."""

    project: str
    env: str  # the environment, which is the stack's name

    @classmethod
    def current(cls) -> Naming:
        """The naming of the running Pulumi program: the environment is the stack's name."""
        return cls(project=pulumi.get_project(), env=pulumi.get_stack())

    def name(self, name: str, kind: str = "default", *, lowercase: bool = False) -> str:
        """`{project}-{env}-{name}`, cut to the limit of `kind` (a key of LIMITS)."""
        full = f"{self.project}-{self.env}-{name}"
        if lowercase:
            full = re.sub(r"[^a-z0-9-]", "-", full.lower())
        return cut(full, LIMITS[kind])

    def prefix(self, name: str, kind: str) -> str:
        """A name prefix for resources AWS names uniquely from a prefix (create-before-delete safe).

        `kind` names a prefix limit such as "iam_role_prefix"; the result ends in "-".
        """
        return cut(f"{self.project}-{self.env}-{name}", LIMITS[kind] - 1) + "-"

    def path(self, name: str) -> str:
        """A slash-separated name, for log groups and parameters: `/{project}/{env}/{name}`."""
        return cut(f"/{self.project}/{self.env}/{name}", LIMITS["log_group"])

    @property
    def tags(self) -> dict[str, str]:
        return {
            "Project": self.project,
            "Environment": self.env,
            "ManagedBy": "pulumi",
            "Stack": self.env,
        }

    def provider(self, region: str) -> aws.Provider:
        """The one AWS provider of the environment; its default tags reach every taggable resource."""
        return aws.Provider(
            "aws",
            region=region,
            default_tags=aws.ProviderDefaultTagsArgs(tags=self.tags),
        )
