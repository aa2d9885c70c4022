"""What runs in a service's task: image repository, task size, health check, variables and secret references."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated

from pydantic import AfterValidator, Field, WithJsonSchema, field_validator
from pydantic_core import PydanticCustomError

from components.config.base import Model
from policies.guardrails.secret_names import looks_secret

# Memory (MiB) Fargate accepts for each task cpu (CPU units), from the ECS task-size table.
FARGATE_MEMORY: dict[int, list[int]] = {
    256: [512, 1024, 2048],
    512: list(range(1024, 4096 + 1, 1024)),
    1024: list(range(2048, 8192 + 1, 1024)),
    2048: list(range(4096, 16384 + 1, 1024)),
    4096: list(range(8192, 30720 + 1, 1024)),
    8192: list(range(16384, 61440 + 1, 4096)),
    16384: list(range(32768, 122880 + 1, 8192)),
}

# A Secrets Manager secret's full ARN (its name ends in the six characters AWS appends),
# optionally followed by :<json key>:<version stage>:<version id>, any of them empty (ECS
# developer guide, "Pass Secrets Manager secrets through Amazon ECS environment variables").
SECRETS_MANAGER_ARN = re.compile(
    r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}"
    r"(?::[^:\s]*:[^:\s]*:[^:\s]*)?"
)
# An SSM parameter by ARN, or by its full name from the root. A bare word is refused: it cannot
# be told apart from a pasted value.
SSM_PARAMETER = re.compile(
    r"arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter/[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*|(?:/[A-Za-z0-9_.-]+)+"
)
# KMS key ARNs: single-Region keys end in a UUID, multi-Region keys in mrk- and 32 hex digits
# (AWS KMS developer guide, "Key identifiers (KeyId)").
KMS_KEY_ARN = re.compile(
    r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/"
    r"(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})"
)
VARIABLE_NAME = r"[A-Za-z_][A-Za-z0-9_]*"

# A path in the container: absolute, no `.`/`..` segment, no trailing slash, not `/` itself.
CONTAINER_PATH = re.compile(r"(?:/(?!\.\.?(?:/|$))[A-Za-z0-9._@%+=:,~-]+)+")

# Paths writable in every container whose root filesystem is read-only.
ALWAYS_WRITABLE = ("/tmp",)


def fargate_memory_problem(cpu: int, memory: int) -> str | None:
    """None when `memory` fits `cpu` on Fargate, else the reason naming the valid values."""
    valid = FARGATE_MEMORY[cpu]
    if memory in valid:
        return None
    return f"not a valid Fargate memory for cpu {cpu}; valid: {fargate_memory_values(cpu)}"


def fargate_memory_values(cpu: int) -> str:
    """The memory values Fargate offers for `cpu`, as a reader wants them."""
    valid = FARGATE_MEMORY[cpu]
    if len(valid) <= 4:
        return ", ".join(map(str, valid))
    return f"{valid[0]} to {valid[-1]} in steps of {valid[1] - valid[0]}"


def _secret_reference(ref: str) -> str:
    if not (SECRETS_MANAGER_ARN.fullmatch(ref) or SSM_PARAMETER.fullmatch(ref)):
        # Its own error type: the message never repeats the value, which may be a pasted secret.
        raise PydanticCustomError(
            "secret_reference",
            "must be a reference, not a value: a Secrets Manager secret ARN "
            "(arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>, optionally followed by "
            ":<jsonKey>:<versionStage>:<versionId>), an SSM parameter ARN, or an SSM parameter name starting with /",
        )
    return ref


SecretReference = Annotated[
    str,
    AfterValidator(_secret_reference),
    WithJsonSchema({"type": "string", "pattern": f"^(?:{SECRETS_MANAGER_ARN.pattern}|{SSM_PARAMETER.pattern})$"}),
]


class RepositoryConfig(Model):
    """An ECR repository created for the service (`{project}-{env}-{name}`); the task runs `tag` from it.

    `forceDelete` (on by default: environments are disposable) lets `pulumi destroy` delete
    the repository with its images; a production environment sets it off to keep them.
    """

    tag: str = Field(
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$",
        description="The image tag the task runs (with a `pipeline`: the image until the first release).",
    )
    immutable_tags: bool = Field(True, description="Tag immutability.")
    keep_images: int = Field(
        30,
        ge=1,
        le=1000,
        description=(
            "Lifecycle policy: older images beyond this count expire. With a `pipeline`, the images it deployed "
            "(tagged `deployed-<tag>` by its Release step) are counted apart: the last `keepImages` of them are kept "
            "however many builds were pushed since, so the running image and its rollback target never expire under "
            "the service."
        ),
    )
    scan_on_push: bool = Field(True, description="ECR basic scan of every pushed image.")
    force_delete: bool = Field(
        True,
        description=(
            "`pulumi destroy` (or a replacement) deletes the repository even when it holds images. Environments are "
            "disposable by default; production sets `false` to keep its images (then a destroy stops at a repository "
            "that still has images). The pack's `ecr-retain-images` policy is mandatory in prod."
        ),
    )


class ContainerHealthCheckConfig(Model):
    """A health check command run inside the container (ECS marks the task unhealthy when it fails)."""

    command: list[str] = Field(
        min_length=2,
        description='`["CMD-SHELL", "<shell command>"]` or `["CMD", "<executable>", ...]`.',
    )
    interval: int = Field(30, ge=5, le=300, description="Seconds between checks.")
    timeout: int = Field(5, ge=2, le=60, description="Seconds before a check counts as failed.")
    retries: int = Field(3, ge=1, le=10, description="Failed checks in a row before the container is unhealthy.")
    start_period: int = Field(
        0, ge=0, le=300, description="Seconds after start during which failed checks do not count."
    )

    @field_validator("command")
    @classmethod
    def _form(cls, command: list[str]) -> list[str]:
        if command[0] not in ("CMD", "CMD-SHELL"):
            raise ValueError('must start with "CMD" or "CMD-SHELL", e.g. ["CMD-SHELL", "curl -f localhost/ || exit 1"]')
        return command


def _variable_names(names: Iterable[str]) -> None:
    for name in names:
        if not re.fullmatch(VARIABLE_NAME, name):
            raise ValueError(f"{name!r} is not a variable name")


def _plain_values_only(environment: dict[str, str]) -> dict[str, str]:
    for name in environment:
        _variable_names([name])
        # The pack's rule (ecs-no-secrets-in-environment) word for word: a config the program
        # accepts is one the pack accepts.
        if looks_secret(name):
            raise ValueError(f"the name {name} looks like a secret; declare it under secrets as a reference instead")
    return environment


def _secret_names(secrets: dict[str, str]) -> dict[str, str]:
    _variable_names(secrets)
    return secrets


def _container_paths(paths: list[str]) -> list[str]:
    for path in paths:
        if not CONTAINER_PATH.fullmatch(path):
            raise ValueError(f"{path!r} is not an absolute path in the container such as /var/cache/nginx (not /)")
    repeated = sorted({p for p in paths if paths.count(p) > 1})
    if repeated:
        raise ValueError(f"listed more than once: {', '.join(repeated)}")
    return paths


def _key_arns(keys: list[str]) -> list[str]:
    for key in keys:
        if not KMS_KEY_ARN.fullmatch(key):
            raise ValueError(
                f"{key!r} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id or mrk-... id>)"
            )
    return keys


# The container's variables and paths, each checked as a whole.
EnvironmentVariables = Annotated[dict[str, str], AfterValidator(_plain_values_only)]
SecretVariables = Annotated[dict[str, SecretReference], AfterValidator(_secret_names)]
ContainerPaths = Annotated[list[str], AfterValidator(_container_paths)]
KmsKeyArns = Annotated[list[str], AfterValidator(_key_arns)]
