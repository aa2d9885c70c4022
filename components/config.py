"""The stack config: one pydantic model per component section, one StackConfig on top.

Keys are camelCase in `Pulumi.<stack>.yaml` (Pulumi's convention) and snake_case here.
`load()` validates everything before the program registers a single resource and turns
every problem into one line that names the key path, for example

    ecs-platform:network.azCount: input should be less than or equal to 3 (got 5)
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from typing import Any, Literal

import pulumi
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

# Retention periods CloudWatch Logs accepts. "Never expire" (0) is left out on purpose:
# logs without retention grow forever and are a finding in every audit.
RetentionDays = Literal[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
]  # fmt: skip

# Subnet slots are reserved for this many AZs whatever azCount is, so going from 2 to 3
# AZs adds subnets without moving the existing ones.
MAX_AZS = 3


class Model(BaseModel):
    """Base of every config section: camelCase keys, unknown keys rejected, immutable."""

    model_config = ConfigDict(alias_generator=to_camel, extra="forbid", frozen=True)


class SubnetMasks(Model):
    """Prefix length of each subnet tier, per AZ."""

    public: int = Field(24, ge=16, le=28)
    private: int = Field(20, ge=16, le=28)
    isolated: int = Field(24, ge=16, le=28)


class FlowLogsConfig(Model):
    enabled: bool = True
    retention_days: RetentionDays = 90
    traffic_type: Literal["ALL", "ACCEPT", "REJECT"] = "ALL"


# Interface endpoints a NAT-less network may need: ECR and logs for Fargate pulls,
# ssm/ssmmessages/ec2messages for Session Manager, secretsmanager/kms for secrets.
InterfaceEndpoint = Literal[
    "ecr.api", "ecr.dkr", "logs", "secretsmanager", "kms", "ssm", "ssmmessages",
    "ec2messages", "sts", "monitoring", "ecs", "ecs-agent", "ecs-telemetry",
]  # fmt: skip


class NetworkConfig(Model):
    """The VPC: its CIDR, AZs, subnet tiers, NAT strategy, endpoints and flow logs."""

    cidr: ipaddress.IPv4Network
    az_count: int = Field(2, ge=2, le=MAX_AZS)
    nat_gateways: Literal["none", "single", "perAz"] = "single"
    subnet_masks: SubnetMasks = Field(default_factory=SubnetMasks, validate_default=True)
    interface_endpoints: list[InterfaceEndpoint] = []
    flow_logs: FlowLogsConfig = FlowLogsConfig()

    @field_validator("cidr")
    @classmethod
    def _private_and_sized(cls, cidr: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
        if not 16 <= cidr.prefixlen <= 24:
            raise ValueError("a VPC CIDR must be /16 to /24")
        if not cidr.is_private:
            raise ValueError(f"{cidr} is not a private (RFC 1918) range")
        return cidr

    @field_validator("interface_endpoints")
    @classmethod
    def _unique(cls, endpoints: list[str]) -> list[str]:
        repeated = sorted({e for e in endpoints if endpoints.count(e) > 1})
        if repeated:
            raise ValueError(f"listed more than once: {', '.join(repeated)}")
        return endpoints

    @field_validator("subnet_masks")
    @classmethod
    def _fits(cls, masks: SubnetMasks, info) -> SubnetMasks:
        cidr = info.data.get("cidr")
        if cidr is not None:
            plan_subnets(cidr, masks, MAX_AZS)
        return masks

    def subnet_cidrs(self) -> dict[str, list[str]]:
        """The CIDR of each tier's subnet in each used AZ, e.g. {"public": ["10.0.48.0/24", ...]}."""
        return {
            tier: cidrs[: self.az_count] for tier, cidrs in plan_subnets(self.cidr, self.subnet_masks, MAX_AZS).items()
        }


def plan_subnets(cidr: ipaddress.IPv4Network, masks: SubnetMasks, slots: int) -> dict[str, list[str]]:
    """Lays out `slots` subnets per tier inside `cidr`: private first (largest), then public, then isolated.

    The layout depends only on the config, never on a library's defaults, so upgrading
    awsx cannot move a subnet.
    """
    layout: dict[str, list[str]] = {}
    cursor = int(cidr.network_address)
    end = int(cidr.broadcast_address) + 1
    for tier in ("private", "public", "isolated"):
        size = 2 ** (32 - getattr(masks, tier))
        cursor = -(-cursor // size) * size  # align to the block size
        blocks = []
        for _ in range(slots):
            if cursor + size > end:
                raise ValueError(
                    f"{slots} AZ slots of public /{masks.public}, private /{masks.private} and "
                    f"isolated /{masks.isolated} subnets do not fit in {cidr}; use larger masks or a larger cidr"
                )
            blocks.append(str(ipaddress.IPv4Network((cursor, getattr(masks, tier)))))
            cursor += size
        layout[tier] = blocks
    return layout


# --- database ----------------------------------------------------------------------------

# PostgreSQL majors RDS offers for new instances with standard support. 18 is the newest
# generally available major; 13 and older are in (paid) RDS Extended Support only.
PostgresMajor = Literal["14", "15", "16", "17", "18"]

# Current-generation RDS instance class families that run PostgreSQL (db.<family>.<size>).
DB_INSTANCE_FAMILIES = (
    "t3", "t4g",
    "m5", "m5d", "m6g", "m6gd", "m6i", "m6id", "m6idn", "m6in", "m7g", "m7i", "m8g", "m8gd",
    "r5", "r5b", "r5d", "r6g", "r6gd", "r6i", "r6id", "r6idn", "r6in", "r7g", "r7i", "r8g", "r8gd",
    "x2g", "x2idn", "x2iedn",
)  # fmt: skip

# gp3 storage limits of RDS for PostgreSQL, in GiB.
GP3_MIN_GIB, GP3_MAX_GIB = 20, 65536

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = r"([01]\d|2[0-3]):([0-5]\d)"


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _window_minutes(window: str, weekly: bool) -> tuple[int, int]:
    """(start, end) in minutes from Monday 00:00 (weekly) or midnight (daily); end may pass the wrap."""
    if weekly:
        match = re.fullmatch(rf"({'|'.join(_DAYS)}):{_HHMM}-({'|'.join(_DAYS)}):{_HHMM}", window.lower())
        if not match:
            raise ValueError("must read ddd:hh24:mi-ddd:hh24:mi in UTC, for example sun:04:00-sun:05:00")
        start = _DAYS.index(match[1]) * 1440 + _minutes(f"{match[2]}:{match[3]}")
        end = _DAYS.index(match[4]) * 1440 + _minutes(f"{match[5]}:{match[6]}")
        span = 7 * 1440
    else:
        match = re.fullmatch(rf"{_HHMM}-{_HHMM}", window)
        if not match:
            raise ValueError("must read hh24:mi-hh24:mi in UTC, for example 02:00-03:00")
        start, end, span = _minutes(f"{match[1]}:{match[2]}"), _minutes(f"{match[3]}:{match[4]}"), 1440
    if end <= start:
        end += span
    if end - start < 30:
        raise ValueError("must be at least 30 minutes long")
    return start, end


class DatabaseConfig(Model):
    """RDS for PostgreSQL: engine, size, storage, backups, availability and monitoring.

    Defaults are the cheap, safe single-AZ shape; prod turns on Multi-AZ, deletion
    protection, Performance Insights and enhanced monitoring here, not in code.
    """

    # Major only: RDS applies minor upgrades itself (autoMinorVersionUpgrade) and the
    # provider accepts a prefix, so the next `pulumi up` never tries to "downgrade" 18.3 to 18.1.
    engine_version: PostgresMajor = "18"
    instance_class: str = "db.t4g.micro"
    allocated_storage: int = 20
    max_allocated_storage: int = 100
    name: str = "app"
    master_username: str = "dbadmin"
    port: int = Field(5432, ge=1150, le=65535)
    multi_az: bool = False
    deletion_protection: bool = False
    skip_final_snapshot: bool = False
    backup_retention_days: int = 7
    backup_window: str = "02:00-03:00"
    maintenance_window: str = "sun:04:00-sun:05:00"
    apply_immediately: bool = False
    performance_insights: bool = False
    performance_insights_retention_days: int = 7
    enhanced_monitoring_interval: Literal[0, 1, 5, 10, 15, 30, 60] = 0
    slow_statement_ms: int = Field(1000, ge=-1, le=2147483647)
    log_retention_days: RetentionDays = 30

    @field_validator("engine_version", mode="before")
    @classmethod
    def _major_as_text(cls, version: Any) -> Any:
        # `engineVersion: 17` in YAML is a number; a minor such as 17.4 is refused below.
        return str(version) if isinstance(version, int) and not isinstance(version, bool) else version

    @field_validator("instance_class")
    @classmethod
    def _known_family(cls, instance_class: str) -> str:
        match = re.fullmatch(r"db\.([a-z0-9]+)\.(micro|small|medium|large|\d*xlarge|metal)", instance_class)
        if not match:
            raise ValueError("must read db.<family>.<size>, for example db.t4g.micro or db.m7g.large")
        if match[1] not in DB_INSTANCE_FAMILIES:
            raise ValueError(f"unknown instance class family {match[1]}; valid: {', '.join(DB_INSTANCE_FAMILIES)}")
        return instance_class

    @field_validator("allocated_storage")
    @classmethod
    def _gp3_size(cls, size: int) -> int:
        if not GP3_MIN_GIB <= size <= GP3_MAX_GIB:
            raise ValueError(f"gp3 storage for PostgreSQL is {GP3_MIN_GIB} to {GP3_MAX_GIB} GiB")
        return size

    @field_validator("max_allocated_storage")
    @classmethod
    def _ceiling_above_size(cls, ceiling: int, info) -> int:
        size = info.data.get("allocated_storage")
        # RDS refuses a storage autoscaling ceiling less than 10% above the allocated size.
        if size is not None and ceiling < -(-size * 11 // 10):
            raise ValueError(
                f"the storage autoscaling ceiling must be at least 10% above allocatedStorage ({size} GiB), "
                f"so {-(-size * 11 // 10)} or more"
            )
        if ceiling > GP3_MAX_GIB:
            raise ValueError(f"gp3 storage for PostgreSQL ends at {GP3_MAX_GIB} GiB")
        return ceiling

    @field_validator("name", "master_username")
    @classmethod
    def _identifier(cls, value: str, info) -> str:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,62}", value):
            raise ValueError("must start with a letter and hold only letters, digits and _ (at most 63)")
        if info.field_name == "master_username" and value.lower() in ("rdsadmin", "rds_superuser", "postgres_fdw"):
            raise ValueError(f"{value} is reserved by RDS")
        return value

    @field_validator("backup_retention_days")
    @classmethod
    def _retention(cls, days: int) -> int:
        # 0 would switch automated backups (and point-in-time recovery) off: not offered.
        if not 1 <= days <= 35:
            raise ValueError("must be 1 to 35 days; 0 would turn off automated backups and point-in-time recovery")
        return days

    @field_validator("backup_window")
    @classmethod
    def _daily_window(cls, window: str) -> str:
        _window_minutes(window, weekly=False)
        return window

    @field_validator("maintenance_window")
    @classmethod
    def _weekly_window(cls, window: str, info) -> str:
        start, end = _window_minutes(window, weekly=True)
        backup = info.data.get("backup_window")
        if backup is not None:
            b_start, b_end = _window_minutes(backup, weekly=False)
            for day in range(-1, 8):  # the daily backup window, every day of the week and the wrap
                if b_start + day * 1440 < end and start < b_end + day * 1440:
                    raise ValueError(f"overlaps the backup window {backup}; RDS needs them apart")
        return window.lower()

    @field_validator("performance_insights_retention_days")
    @classmethod
    def _insights_retention(cls, days: int) -> int:
        if days != 7 and not (days % 31 == 0 and 31 <= days <= 713) and days != 731:
            raise ValueError("must be 7 (free), a multiple of 31 up to 713, or 731")
        return days


# --- bastion -----------------------------------------------------------------------------

# What the SSM agent must reach for Session Manager when there is no NAT gateway.
SSM_ENDPOINTS = ("ssm", "ssmmessages", "ec2messages")


class BastionConfig(Model):
    """The SSM-only bastion: off unless enabled; small Graviton instance by default."""

    enabled: bool = False
    instance_type: str = "t4g.nano"
    root_volume_size: int = Field(8, ge=8, le=100)

    @field_validator("instance_type")
    @classmethod
    def _instance_type(cls, instance_type: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9-]*\.(nano|micro|small|medium|large|\d*xlarge|metal)", instance_type):
            raise ValueError("must be an EC2 instance type such as t4g.nano")
        return instance_type

    @property
    def architecture(self) -> str:
        """arm64 for Graviton families (t4g, m7g, c7gn, ...), x86_64 otherwise; picks the AMI."""
        family = self.instance_type.split(".")[0]
        return "arm64" if re.fullmatch(r"[a-z]+\d+g[a-z]*|a1", family) else "x86_64"


# --- pipeline ----------------------------------------------------------------------------

# On-demand CodeBuild compute types offered for both LINUX_CONTAINER and ARM_CONTAINER.
BuildComputeType = Literal[
    "BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE", "BUILD_GENERAL1_XLARGE",
    "BUILD_GENERAL1_2XLARGE",
]  # fmt: skip

_CONNECTION_ARN = r"^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}$"


class GitHubSourceConfig(Model):
    """A GitHub repository and branch, read through a CodeStar (CodeConnections) connection."""

    repository: str = Field(pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
    branch: str = "main"
    # An existing, already activated connection; without it the stack creates one per
    # environment (PENDING until someone completes the GitHub handshake in the console).
    connection_arn: str | None = Field(None, pattern=_CONNECTION_ARN)

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

    bucket: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    key: str = Field(pattern=r"^[^/\s][^\s]{0,1023}$")


class PipelineSourceConfig(Model):
    """Where the pipeline reads the application's source: exactly one of github or s3."""

    github: GitHubSourceConfig | None = None
    s3: S3SourceConfig | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> PipelineSourceConfig:
        if (self.github is None) == (self.s3 is None):
            raise ValueError(
                "set exactly one of github (repository and branch through a CodeStar connection) "
                "or s3 (bucket and key of a source zip)"
            )
        return self


class PipelineConfig(Model):
    """A CodePipeline for one service: source, image build, optional manual approval, ECS deploy."""

    enabled: bool = True
    source: PipelineSourceConfig
    approval: bool = False
    compute_type: BuildComputeType = "BUILD_GENERAL1_SMALL"
    build_timeout_minutes: int = Field(30, ge=5, le=2160)
    dockerfile: str = Field("Dockerfile", pattern=r"^[^/\s][^\s]{0,254}$")
    build_context: str = Field(".", pattern=r"^[^/\s][^\s]{0,254}$")
    artifact_expiry_days: int = Field(30, ge=1, le=3650)
    log_retention_days: RetentionDays = 30

    @field_validator("dockerfile", "build_context")
    @classmethod
    def _inside_the_source(cls, path: str) -> str:
        if ".." in path.split("/"):
            raise ValueError("must be a path inside the source, without ..")
        return path


class StackConfig(Model):
    """Everything one environment is built from."""

    region: str
    network: NetworkConfig
    database: DatabaseConfig | None = None
    bastion: BastionConfig = BastionConfig()

    @field_validator("region")
    @classmethod
    def _region_code(cls, region: str) -> str:
        if not re.fullmatch(r"[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d", region):
            raise ValueError("must be an AWS region code such as eu-west-1")
        return region

    @model_validator(mode="after")
    def _bastion_reaches_ssm(self) -> StackConfig:
        missing = [e for e in SSM_ENDPOINTS if e not in self.network.interface_endpoints]
        if self.bastion.enabled and self.network.nat_gateways == "none" and missing:
            raise cross_key_error(
                ("bastion", "enabled"),
                "the bastion needs a route to Systems Manager: with network.natGateways none, add "
                f"{', '.join(missing)} to network.interfaceEndpoints, or use a NAT gateway",
                True,
            )
        return self


def cross_key_error(loc: tuple[str, ...], message: str, got: Any) -> PydanticCustomError:
    """An error raised by a check across sections that names the most specific key, not the model."""
    return PydanticCustomError("cross_key", message, {"key": loc, "got": got})


# Keys that live outside the project's namespace.
_FOREIGN_KEYS = {"region": "aws:region"}


def load(project: str | None = None) -> StackConfig:
    """Reads and validates the running stack's config; raises pulumi.RunError naming every bad key."""
    project = project or pulumi.get_project()
    values = {
        key[len(project) + 1 :]: _parse(value) for key, value in _all_config().items() if key.startswith(f"{project}:")
    }
    region = _all_config().get("aws:region")
    if region is not None:
        values["region"] = region
    try:
        return StackConfig.model_validate(values)
    except ValidationError as error:
        raise pulumi.RunError("\n".join(describe(error, project))) from None


def describe(error: ValidationError, project: str) -> list[str]:
    """One line per problem: `<namespace>:<key path>: <what is wrong and what is allowed>`."""
    lines = []
    for e in error.errors():
        # A check across sections (cross_key_error) names its most specific key in the context.
        loc = e["loc"] + tuple(e.get("ctx", {}).get("key", ()))
        lines.append(f"{_key(loc, project)}: {_problem(e)}")
    return lines


def _key(loc: tuple, project: str) -> str:
    path = ""
    for part in loc:
        # Errors on defaults carry the field name, not its alias.
        path += f"[{part}]" if isinstance(part, int) else (f".{to_camel(part)}" if path else to_camel(part))
    head = str(loc[0]) if loc else ""
    if head in _FOREIGN_KEYS:
        return _FOREIGN_KEYS[head] + path[len(head) :]
    return f"{project}:{path}"


def _problem(err: dict) -> str:
    kind, loc = err["type"], err["loc"]
    if kind == "missing":
        return "required, but not set"
    if kind == "cross_key":
        return f"{err['msg']} (got {_show(err['ctx']['got'])})"
    if kind == "extra_forbidden":
        valid = _keys_at(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), valid, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        return f"unknown key; {hint}valid keys: {', '.join(valid)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a mapping of keys (got {_show(err['input'])})"
    if kind == "ip_v4_network":
        return f"must be an IPv4 CIDR block such as 10.0.0.0/16, host bits zero (got {_show(err['input'])})"
    message = err["msg"].removeprefix("Value error, ").replace("Input should be", "must be")
    message = message[0].lower() + message[1:]
    return f"{message} (got {_show(err['input'])})"


def _show(value: Any) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump(by_alias=True)
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _keys_at(loc: tuple) -> list[str]:
    """The valid keys of the section at `loc`, for the hint on an unknown key."""
    model: Any = StackConfig
    for part in loc:
        if isinstance(part, int):
            continue
        field = next((f for name, f in model.model_fields.items() if (f.alias or name) == part), None)
        annotation = getattr(field, "annotation", None)
        args = getattr(annotation, "__args__", None)
        model = args[0] if args and isinstance(args[0], type) else annotation
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return []
    return [f.alias or name for name, f in model.model_fields.items() if (f.alias or name) not in _FOREIGN_KEYS]


def _parse(value: str) -> Any:
    """Structured config reaches the program as JSON text; plain strings stay strings."""
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def _all_config() -> dict[str, str]:
    # The Python SDK has no public "list all keys" call; unknown top-level keys can only be
    # rejected by looking at the whole map, the same one pulumi.Config reads.
    from pulumi.runtime import config as runtime_config

    return {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
