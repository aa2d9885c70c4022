"""The bootstrap stack's config: one model, every problem one line naming its key path.

    ecs-platform-bootstrap:environments[1].stack: ...

`load()` reads the running stack's config, the main project's name (`../Pulumi.yaml`) and each
environment's region (`aws:region` of `../Pulumi.<stack>.yaml`), and raises `pulumi.RunError`
before the program registers anything. Keys are camelCase in `Pulumi.ci.yaml`; unknown keys
are refused, so a misspelt `environments` never falls back to the defaults silently.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import yaml
from bootstrap_policies import GITHUB_AUDIENCE, GITHUB_OIDC_HOST
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic.alias_generators import to_camel

# The documentation's example repository (Pulumi.ci.yaml, docs/ci.md): roles trusting it would
# trust whoever owns that name on GitHub, so a real `pulumi up` refuses it.
EXAMPLE_REPOSITORY = "my-org/ecs-platform"

REGION = r"^[a-z]{2}(-[a-z]+)+-\d$"

# IAM and AWS STS quotas: role names 64 characters, managed policy names 128.
ROLE_NAME_LIMIT = 64
POLICY_NAME_LIMIT = 128


class Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, extra="forbid", frozen=True)


class GitHub(Model):
    """The repository whose workflows assume the roles."""

    # GitHub: owner names are 1-39 letters, digits and single hyphens; repository names letters,
    # digits, `.`, `_` and `-`. The OIDC subject carries them as GitHub spells them, and IAM's
    # StringEquals compares case-sensitively.
    repository: str = Field(
        pattern=r"^[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}/[A-Za-z0-9._-]{1,100}$",
        description="owner/name of the repository, exactly as GitHub spells it",
    )
    # GitHub's immutable subject claims (repositories created, renamed or transferred after a date
    # in 2026, or opted in) put the owner's and the repository's numeric ids next to their names.
    # GitHub's own texts disagree on the delimiter (`repo:octocat@123456/my-repo@456789` in the
    # documentation's pull request, `repo:octocat-123456/my-repo-456789` in the changelog), so the
    # prefix is copied from a real token's `sub` (docs/ci.md) and both delimiters are accepted.
    subject_prefix: str | None = Field(
        default=None,
        description="the `repo:<owner>...<repository>...` part of the immutable `sub` claim, as a real token shows it",
    )

    @model_validator(mode="after")
    def _prefix_names_the_repository(self) -> GitHub:
        if self.subject_prefix is None:
            return self
        owner, name = (re.escape(part) for part in self.repository.split("/"))
        if not re.fullmatch(rf"repo:{owner}[@-]\d+/{name}[@-]\d+", self.subject_prefix):
            raise _Problem(
                ("subjectPrefix",),
                f"must be the immutable subject of {self.repository}, repo:{self.repository.split('/')[0]}@<owner id>/"
                f"{self.repository.split('/')[1]}@<repository id> as a token of its workflows shows it "
                f"(got {json.dumps(self.subject_prefix)})",
            )
        return self

    @property
    def subject_prefixes(self) -> list[str]:
        """Every form of `repo:...` GitHub may put in this repository's tokens: by name, and by id when configured."""
        return [f"repo:{self.repository}", *([self.subject_prefix] if self.subject_prefix else [])]


class Environment(Model):
    """One stack CI deploys, and the GitHub environment its deploy job runs in."""

    stack: str = Field(pattern=r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$", description="the Pulumi stack (`dev`)")
    github_environment: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._-]{1,255}$",
        description="the GitHub environment of its deploy job (default: the stack name)",
    )
    region: str | None = Field(
        default=None,
        pattern=REGION,
        description="where the stack deploys (default: `aws:region` of its Pulumi.<stack>.yaml, else the bootstrap's)",
    )

    @property
    def environment(self) -> str:
        return self.github_environment or self.stack


class StateBucket(Model):
    """The S3 bucket of the Pulumi state (the DIY backend)."""

    # S3 general purpose bucket naming rules: 3-63 characters, lower-case letters, digits, dots
    # and hyphens, starting and ending with a letter or digit. Dots are left out: they break
    # virtual-host-style TLS.
    name: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$",
        description="bucket name (default: <project>-ci-state-<account>-<region>)",
    )
    noncurrent_version_days: int = Field(
        default=90, ge=1, description="days an overwritten state file is kept before it may expire"
    )
    # S3 lifecycle NewerNoncurrentVersions takes 1 to 100.
    newer_noncurrent_versions: int = Field(
        default=10, ge=1, le=100, description="overwritten versions of each state file kept whatever their age"
    )


# The workflows' environments: `dev` deploys in environment dev, `prod` in production.
DEFAULT_ENVIRONMENTS = tuple(
    Environment.model_validate(env) for env in ({"stack": "dev"}, {"stack": "prod", "githubEnvironment": "production"})
)


class BootstrapConfig(Model):
    region: str = Field(pattern=REGION, description="aws:region, where the bucket and keys live")
    github: GitHub
    environments: list[Environment] = Field(default=list(DEFAULT_ENVIRONMENTS), min_length=1, validate_default=True)
    oidc_provider_arn: str | None = Field(
        default=None,
        pattern=rf"^arn:aws[a-z-]*:iam::\d{{12}}:oidc-provider/{re.escape(GITHUB_OIDC_HOST)}$",
        description="the account's GitHub OIDC provider, when it exists already (IAM allows one per URL)",
    )
    state_bucket: StateBucket = StateBucket()

    @field_validator("environments", mode="after")
    @classmethod
    def _regions_from_stack_files(cls, environments: list[Environment], info: ValidationInfo) -> list[Environment]:
        stack_region = (info.context or {}).get("stack_region", lambda stack: None)
        default = (info.data or {}).get("region")
        resolved = []
        for i, env in enumerate(environments):
            declared = stack_region(env.stack)
            if env.region and declared and env.region != declared:
                raise _Problem((i, "region"), f"Pulumi.{env.stack}.yaml deploys to {declared}, not {env.region}")
            resolved.append(env.model_copy(update={"region": env.region or declared or default}))
        return resolved

    @model_validator(mode="after")
    def _unique_and_named_apart(self, info: ValidationInfo) -> BootstrapConfig:
        stacks = [env.stack for env in self.environments]
        environments = [env.environment.lower() for env in self.environments]
        for i, env in enumerate(self.environments):
            if stacks.index(env.stack) != i:
                raise _Problem(("environments", i, "stack"), "listed twice")
            # GitHub environment names are not case sensitive: one name, one deploy role.
            if environments.index(env.environment.lower()) != i:
                raise _Problem(("environments", i, "githubEnvironment"), "listed twice")
        context = info.context or {}
        names = Names(self, context.get("project", "project"), context.get("deploy_policies", ()))
        for i, env in enumerate(self.environments):
            # What a stack's deploy role manages by name (ci/deploy-role-policies: roles,
            # buckets, aliases, ... named `{project}-{stack}-*`) must never include the
            # bootstrap's own roles, keys and bucket.
            scope = f"{names.project}-{env.stack}-"
            inside = [n for n in names.all_names() if n.startswith(scope)]
            if inside:
                bucket = inside[0] == self.state_bucket.name
                raise _Problem(
                    ("stateBucket", "name") if bucket else ("environments", i, "stack"),
                    f"the deploy role of stack {env.stack} manages everything named {scope}*, which would include "
                    f"{inside[0]}; choose another {'bucket' if bucket else 'stack'} name",
                )
            limits = [(n, ROLE_NAME_LIMIT) for n in names.role_names(env)]
            limits += [(n, POLICY_NAME_LIMIT) for n in names.policy_names(env)]
            too_long = [(n, limit) for n, limit in limits if len(n) > limit]
            if too_long:
                name, limit = too_long[0]
                raise _Problem(("environments", i, "stack"), f"too long: {name} would pass IAM's {limit} characters")
        if self.state_bucket.name is None and len(names.state_bucket("0" * 12)) > 63:
            raise _Problem(
                ("stateBucket", "name"),
                f"the default name {names.state_bucket('<account>')} is longer than S3's 63 characters; set one",
            )
        return self


class _Problem(ValueError):
    """A problem at `loc` (below the validated field, or from the top for a model validator)."""

    def __init__(self, loc: tuple, message: str):
        super().__init__(message)
        self.loc, self.message = loc, message


@dataclass(frozen=True)
class Names:
    """Every physical name the bootstrap gives: `{project}-ci-*`, outside every stack's `{project}-{stack}-*`."""

    config: BootstrapConfig
    project: str
    # The file names (without .json) of ci/deploy-role-policies: one managed policy each.
    deploy_policies: tuple[str, ...] = ()

    @property
    def prefix(self) -> str:
        return f"{self.project}-ci"

    @property
    def preview_role(self) -> str:
        return f"{self.prefix}-preview"

    def deploy_role(self, env: Environment) -> str:
        return f"{self.prefix}-deploy-{env.stack}"

    def role_names(self, env: Environment) -> list[str]:
        return [self.preview_role, self.deploy_role(env)]

    def preview_program(self, region: str | None = None) -> str:
        """The preview role's ci/ document; one per region when the environments are in several."""
        return f"{self.preview_role}-program" + (f"-{region}" if region else "")

    @property
    def preview_state(self) -> str:
        return f"{self.preview_role}-state"

    def deploy_policy(self, env: Environment, part: str) -> str:
        return f"{self.deploy_role(env)}-{part}"

    def policy_names(self, env: Environment) -> list[str]:
        return [self.deploy_policy(env, part) for part in (*self.deploy_policies, "state")]

    @property
    def boundary_policy(self) -> str:
        """The permissions boundary of every role, the environments' and CI's (the program's default)."""
        return f"{self.prefix}-boundary"

    @property
    def state_key_alias(self) -> str:
        return f"alias/{self.prefix}-state"

    def secrets_key_alias(self, env: Environment) -> str:
        return f"alias/{self.prefix}-secrets-{env.stack}"

    def state_bucket(self, account: str) -> str:
        return self.config.state_bucket.name or f"{self.prefix}-state-{account}-{self.config.region}"

    def all_names(self) -> list[str]:
        """Names as IAM, KMS (without `alias/`) and S3 see them; the bucket's account part left open."""
        return [
            self.preview_role,
            self.boundary_policy,
            *(self.deploy_role(env) for env in self.config.environments),
            self.state_key_alias.removeprefix("alias/"),
            *(self.secrets_key_alias(env).removeprefix("alias/") for env in self.config.environments),
            self.state_bucket(""),
        ]


def load(repository: Path) -> tuple[BootstrapConfig, Names]:
    """The running stack's config, checked; `repository` is the folder of the main project and of ci/."""
    project = _yaml(repository / "Pulumi.yaml")["name"]
    deploy_policies = tuple(sorted(p.stem for p in (repository / "ci" / "deploy-role-policies").glob("*.json")))
    namespace = pulumi.get_project()
    raw = _all_config()
    values: dict[str, Any] = {
        k[len(namespace) + 1 :]: _parse(v) for k, v in raw.items() if k.startswith(f"{namespace}:")
    }
    if "aws:region" in raw:
        values["region"] = raw["aws:region"]

    def stack_region(stack: str) -> str | None:
        file = repository / f"Pulumi.{stack}.yaml"
        region = ((_yaml(file) or {}).get("config") or {}).get("aws:region") if file.exists() else None
        return region if isinstance(region, str) else None

    context = {"project": project, "deploy_policies": deploy_policies, "stack_region": stack_region}
    try:
        config = BootstrapConfig.model_validate(values, context=context)
    except ValidationError as error:
        raise pulumi.RunError("\n".join(_describe(error, namespace))) from None
    if config.github.repository == EXAMPLE_REPOSITORY:
        line = (
            f"{namespace}:github.repository: {EXAMPLE_REPOSITORY} is the example's repository; "
            "set yours (owner/name as GitHub spells it) before deploying"
        )
        if not pulumi.runtime.is_dry_run():
            raise pulumi.RunError(line)
        pulumi.log.warn(line)
    return config, Names(config, project, deploy_policies)


def check_oidc_provider(config: BootstrapConfig, expected: str, namespace: str) -> None:
    """A provider named in config must be this account's GitHub provider: a role trusts only its own account's."""
    if config.oidc_provider_arn and config.oidc_provider_arn != expected:
        raise pulumi.RunError(
            f"{namespace}:oidcProviderArn: {config.oidc_provider_arn} is not this account's GitHub provider, {expected}"
        )


def check_oidc_audience(config: BootstrapConfig, client_ids: list[str], namespace: str) -> None:
    """The named provider must accept GitHub tokens minted for STS, the audience the roles trust."""
    if GITHUB_AUDIENCE not in client_ids:
        listed = ", ".join(client_ids) or "none"
        raise pulumi.RunError(
            f"{namespace}:oidcProviderArn: {config.oidc_provider_arn} does not list the audience {GITHUB_AUDIENCE} "
            f"(its client ids: {listed}); add it with `aws iam add-client-id-to-open-id-connect-provider`"
        )


# What a value must look like, for the keys whose rule is a pattern.
PATTERNS = {
    "repository": "owner/name as GitHub spells it",
    "stack": "a stack name of lower-case letters, digits and inner hyphens",
    "githubEnvironment": "a GitHub environment name of letters, digits, '.', '_' and '-'",
    "region": "an AWS region such as eu-west-1",
    "oidcProviderArn": f"the ARN arn:<partition>:iam::<account>:oidc-provider/{GITHUB_OIDC_HOST}",
    "name": "3 to 63 lower-case letters, digits and inner hyphens (S3 bucket naming rules)",
}


def _describe(error: ValidationError, namespace: str) -> list[str]:
    lines = []
    for e in error.errors():
        loc, message = e["loc"], e["msg"]
        problem = (e.get("ctx") or {}).get("error")
        if isinstance(problem, _Problem):
            # A field validator's location is its field; a model validator's is the model.
            loc, message = (*loc, *problem.loc), problem.message
        elif e["type"] == "missing":
            message = "required, but not set"
        elif e["type"] == "extra_forbidden":
            known = [f.alias or name for name, f in _model_at(loc[:-1]).model_fields.items() if name != "region"]
            message = f"unknown key; valid keys: {', '.join(known)}"
        elif e["type"] == "string_pattern_mismatch" and str(loc[-1]) in PATTERNS:
            message = f"must be {PATTERNS[str(loc[-1])]} (got {json.dumps(e['input'])})"
        else:
            message = f"{message[0].lower()}{message[1:]} (got {json.dumps(e.get('input'), default=str)})"
        lines.append(f"{_key(loc, namespace)}: {message}")
    return lines


def _model_at(loc: tuple) -> type[BaseModel]:
    """The config model holding the keys at `loc` (for the list of valid keys)."""
    model: Any = BootstrapConfig
    for part in loc:
        if isinstance(part, int):
            continue
        field = next(f for name, f in model.model_fields.items() if part in (name, f.alias))
        annotation = field.annotation
        model = next((a for a in getattr(annotation, "__args__", ()) if isinstance(a, type)), annotation)
    return model


def _key(loc: tuple, namespace: str) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            segment = to_camel(part) if "_" in str(part) else str(part)
            path += f".{segment}" if path else segment
    return "aws:region" if path == "region" else f"{namespace}:{path}"


def _parse(value: str) -> Any:
    """Structured config reaches the program as JSON text; plain strings stay strings."""
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def _yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path.name}:{mark.line + 1}:{mark.column + 1}" if mark else path.name
        raise pulumi.RunError(f"{where}: {getattr(error, 'problem', None) or error}") from None


def _all_config() -> dict[str, str]:
    # The Python SDK has no public "list all keys" call; unknown keys can only be refused by
    # looking at the whole map, the one pulumi.Config reads (as the main project's loader does).
    from pulumi.runtime import config as runtime_config

    return {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
