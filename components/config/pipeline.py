"""`pipeline` of a service: its CodePipeline from source to ECS deploy."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from components.config.base import Model, RetentionDays

# On-demand CodeBuild compute types offered for both LINUX_CONTAINER and ARM_CONTAINER.
BUILD_COMPUTE_TYPES = tuple(f"BUILD_GENERAL1_{size}" for size in ("SMALL", "MEDIUM", "LARGE", "XLARGE", "2XLARGE"))
BuildComputeType = Literal[BUILD_COMPUTE_TYPES]

_CONNECTION_ARN = r"^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}$"
# A path inside the application's source, relative, without spaces.
_SOURCE_PATH = r"^[^/\s][^\s]{0,254}$"


class GitHubSourceConfig(Model):
    """A GitHub repository and branch, read through a CodeStar (CodeConnections) connection."""

    repository: str = Field(
        pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$",
        description="`owner/name` of the GitHub repository.",
    )
    branch: str = Field("main", description="The branch whose pushes are released (a git branch name).")
    connection_arn: str | None = Field(
        None,
        pattern=_CONNECTION_ARN,
        description=(
            "An existing, activated CodeStar / CodeConnections connection ARN (shared between environments or "
            "accounts' stacks). Without it the environment's own connection is used, which AWS creates `PENDING` "
            "until someone completes the GitHub handshake once: see "
            "[Activate the GitHub connection](delivery.md#activate-the-github-connection)."
        ),
        json_schema_extra={"defaultText": "the environment's connection"},
    )

    @field_validator("branch")
    @classmethod
    def _branch_name(cls, branch: str) -> str:
        # git check-ref-format, the parts a branch name in a pipeline can trip over.
        if (
            not re.fullmatch(r"[^\s~^:?*\[\\]{1,255}", branch)
            or ".." in branch
            or branch.startswith(("-", "/"))
            or branch.endswith(("/", ".", ".lock"))
        ):
            raise ValueError("must be a git branch name such as main or release/1.x")
        return branch


class S3SourceConfig(Model):
    """A zip of the application's source in a versioned S3 bucket; the pipeline runs when a new version lands."""

    bucket: str = Field(
        pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
        description=(
            "A versioned bucket of yours, in the environment's region, with EventBridge notifications on (see the "
            "section's text)."
        ),
    )
    key: str = Field(
        pattern=r"^[^/\s][^\s]{0,1023}$",
        description="The source zip's object key; each new version of the object starts the pipeline.",
    )


class PipelineSourceConfig(Model):
    """Where the pipeline reads the application's source: exactly one of github or s3."""

    github: GitHubSourceConfig | None = Field(None, description="A GitHub repository and branch.")
    s3: S3SourceConfig | None = Field(None, description="Or: a source zip in S3.")

    @model_validator(mode="after")
    def _exactly_one(self) -> PipelineSourceConfig:
        if (self.github is None) == (self.s3 is None):
            raise ValueError(
                "set exactly one of github (repository and branch through a CodeStar connection) "
                "or s3 (bucket and key of a source zip)"
            )
        return self


class PipelineConfig(Model):
    """A CodePipeline for one service: source, image build, optional manual approval, ECS deploy.

    A service with a `pipeline` section (and a `repository`, the ECR repository the pipeline
    pushes to) gets a CodePipeline; see [Delivery: application images](delivery.md#delivery-application-images).

    An S3 source starts the pipeline through an EventBridge rule (`{project}-{env}-{service}-source`)
    on the "Object Created" events of that one object, with `PollForSourceChanges: false`:
    CodePipeline disables polling on a pipeline that has been inactive for 30 days, so a polling
    pipeline released once a quarter would silently stop starting. The rule's role may only
    `codepipeline:StartPipelineExecution` on its pipeline, and only EventBridge running that rule
    in this account may assume it. S3 sends those events to EventBridge only for a bucket with
    EventBridge notifications turned on (CodePipeline User Guide, "Connecting to Amazon S3 source
    actions with a source enabled for events"; no CloudTrail trail is needed). The bucket is
    yours, so the stack does not change it (setting it would replace the bucket's whole
    notification configuration); turn it on once, in the console (bucket, Properties, Event
    notifications, Amazon EventBridge: On) or, keeping the notifications it already has:

    ```sh
    aws s3api get-bucket-notification-configuration --bucket my-sources > notifications.json
    # add  "EventBridgeConfiguration": {}  to the JSON object in notifications.json, then:
    aws s3api put-bucket-notification-configuration --bucket my-sources \\
        --notification-configuration file://notifications.json
    ```

    Until it is on, uploads start nothing; start a run by hand with
    `aws codepipeline start-pipeline-execution --name ecs-platform-<env>-<service>`.
    """

    examples = (
        (
            "a public service released from GitHub, with an approval in prod",
            """\
  ecs-platform:services:
    - name: web
      public: true
      repository: {tag: bootstrap}      # the image until the first release
      pipeline:
        source:
          github: {repository: my-org/web, branch: main}
        approval: true                  # prod
        computeType: BUILD_GENERAL1_MEDIUM
""",
        ),
    )

    enabled: bool = Field(True, description="Build the pipeline. `false` keeps the section but removes the pipeline.")
    source: PipelineSourceConfig = Field(description="Where the source comes from: exactly one of `github` and `s3`.")
    approval: bool = Field(
        False,
        description=(
            "A manual approval between build and deploy; the notice goes to the environment's alarm topic (subscribe "
            "through `monitoring.alarmEmails`)."
        ),
    )
    compute_type: BuildComputeType = Field(
        "BUILD_GENERAL1_SMALL",
        description="CodeBuild size. The image's architecture follows the service's `architecture`.",
    )
    build_timeout_minutes: int = Field(30, ge=5, le=2160, description="Build timeout in minutes.")
    dockerfile: str = Field(
        "Dockerfile", pattern=_SOURCE_PATH, description="Path of the Dockerfile in the source (no `..`)."
    )
    build_context: str = Field(
        ".", pattern=_SOURCE_PATH, description="Docker build context, a directory in the source (no `..`)."
    )
    artifact_expiry_days: int = Field(30, ge=1, le=3650, description="Days before pipeline artifacts are deleted.")
    log_retention_days: RetentionDays = Field(
        30, description="Retention of the build logs (`/{project}/{env}/codebuild/{service}`)."
    )

    @field_validator("dockerfile", "build_context")
    @classmethod
    def _inside_the_source(cls, path: str) -> str:
        if ".." in path.split("/"):
            raise ValueError("must be a path inside the source, without ..")
        return path
