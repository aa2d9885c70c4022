"""The stack config: one pydantic model per component section, one StackConfig on top.

Keys are camelCase in `Pulumi.<stack>.yaml` (Pulumi's convention) and snake_case here.
`load()` validates everything before the program registers a single resource and turns
every problem into one line that names the key path, for example

    ecs-platform:network.azCount: input should be less than or equal to 3 (got 5)
"""

from __future__ import annotations

import difflib
import functools
import ipaddress
import json
import re
from typing import Annotated, Any, Literal

import pulumi
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import InitErrorDetails, PydanticCustomError

from components import placeholders

# Retention periods CloudWatch Logs accepts. "Never expire" (0) is left out on purpose:
# logs without retention grow forever and are a finding in every audit.
RetentionDays = Literal[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
]  # fmt: skip

# Subnet slots are reserved for this many AZs whatever azCount is, so going from 2 to 3
# AZs adds subnets without moving the existing ones.
MAX_AZS = 3


# A problem found by a check across keys: (key path, what is wrong, the offending value).
Problem = tuple[tuple, str, Any]


class Model(BaseModel):
    """Base of every config section: camelCase keys, unknown keys rejected, immutable.

    A number is accepted where text is expected and becomes that text: `pulumi config set
    --path 'services[0].repository.tag' 2` writes the number 2, not the string "2".
    """

    model_config = ConfigDict(alias_generator=to_camel, extra="forbid", frozen=True, coerce_numbers_to_str=True)


def passed(info: ValidationInfo, *fields: str) -> bool:
    """True when each named earlier field passed validation.

    A check that compares with a field that already failed would only report a consequence
    of that error (or a wrong one): such checks stay silent until the field is fixed.
    """
    return all(name in info.data for name in fields)


def field_error(field: str, message: str, value: Any) -> ValidationError:
    """A model-level check's error on one of the model's own keys, so the message names that key."""
    return ValidationError.from_exception_data(
        "config", [InitErrorDetails(type=PydanticCustomError("value_error", message), loc=(field,), input=value)]
    )


class SubnetMasks(Model):
    """Prefix length of each subnet tier, per AZ."""

    public: int = Field(24, ge=16, le=28)
    private: int = Field(20, ge=16, le=28)
    isolated: int = Field(24, ge=16, le=28)


class FlowLogsConfig(Model):
    """VPC flow logs: where they go, what they capture and how long they are kept."""

    enabled: bool = True
    # cloudWatchLogs: searchable at once, but ingestion is billed per GB at the CloudWatch
    # Logs rate; s3: Parquet files in a private bucket at the (lower) vended-logs S3 rate,
    # queried with Athena.
    destination: Literal["cloudWatchLogs", "s3"] = "cloudWatchLogs"
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


# --- compute: cluster, load balancer, services, monitoring ---------------------------

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

# Actions that AWS only allows on Resource "*" (no resource-level permissions); a task-role
# grant may name "*" as resource only when every one of its actions is in this list.
UNSCOPED_ACTIONS = frozenset(
    {
        "cloudwatch:PutMetricData",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "xray:GetSamplingStatisticSummaries",
        "ecr:GetAuthorizationToken",
        "ecs:DescribeTaskDefinition",
    }
)

_DNS_NAME = r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
# A Secrets Manager secret's full ARN (its name ends in the six characters AWS appends),
# optionally followed by :<json key>:<version stage>:<version id>, any of them empty (ECS
# developer guide, "Pass Secrets Manager secrets through Amazon ECS environment variables").
_SECRETS_MANAGER_ARN = re.compile(
    r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}"
    r"(?::[^:\s]*:[^:\s]*:[^:\s]*)?"
)
# An SSM parameter by ARN, or by its full name from the root. A bare word is refused: it cannot
# be told apart from a pasted value.
_SSM_PARAMETER = re.compile(
    r"arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter/[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*|(?:/[A-Za-z0-9_.-]+)+"
)
# KMS key ARNs: single-Region keys end in a UUID, multi-Region keys in mrk- and 32 hex digits
# (AWS KMS developer guide, "Key identifiers (KeyId)").
_KMS_KEY_ARN = re.compile(
    r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/"
    r"(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})"
)
# Plain environment variables are visible in the task definition and the console: a name like
# these belongs under `secrets`, as a reference.
_SECRET_LOOKING_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL", re.IGNORECASE)
_VARIABLE_NAME = r"[A-Za-z_][A-Za-z0-9_]*"


def fargate_memory_problem(cpu: int, memory: int) -> str | None:
    """None when `memory` fits `cpu` on Fargate, else the reason naming the valid values."""
    valid = FARGATE_MEMORY[cpu]
    if memory in valid:
        return None
    if len(valid) <= 4:
        allowed = ", ".join(map(str, valid))
    else:
        allowed = f"{valid[0]} to {valid[-1]} in steps of {valid[1] - valid[0]}"
    return f"not a valid Fargate memory for cpu {cpu}; valid: {allowed}"


class CapacityProviderItem(Model):
    """One entry of a capacity provider strategy."""

    provider: Literal["FARGATE", "FARGATE_SPOT"]
    weight: int = Field(1, ge=0, le=1000)
    base: int = Field(0, ge=0, le=100000)


class HostedZoneConfig(Model):
    """A public Route53 hosted zone the stack may write records into (certificate validation, aliases)."""

    id: str = Field(pattern=r"^Z[A-Z0-9]{1,31}$")
    name: str = Field(pattern=f"^{_DNS_NAME}$")


class CertificateConfig(Model):
    """The ALB's TLS certificate: an existing ACM certificate, or one the stack requests and validates by DNS."""

    arn: str | None = Field(None, pattern=r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$")
    domain_name: str | None = Field(None, pattern=rf"^(\*\.)?{_DNS_NAME}$")
    alternative_names: list[str] = []

    @field_validator("alternative_names")
    @classmethod
    def _names(cls, names: list[str], info) -> list[str]:
        for name in names:
            if not re.fullmatch(rf"(\*\.)?{_DNS_NAME}", name):
                raise ValueError(f"{name!r} is not a DNS name")
        if names and passed(info, "domain_name") and not info.data["domain_name"]:
            raise ValueError("only with domainName (a certificate the stack requests)")
        return names

    def domains(self) -> list[str]:
        return [self.domain_name, *self.alternative_names] if self.domain_name else []


class AccessLogsConfig(Model):
    enabled: bool = False
    expire_days: int = Field(90, ge=1, le=3650)


class LoadBalancerConfig(Model):
    """The environment's shared internet-facing Application Load Balancer."""

    ingress_cidrs: list[ipaddress.IPv4Network] = [ipaddress.IPv4Network("0.0.0.0/0")]
    ingress_prefix_lists: list[str] = []
    deletion_protection: bool = False
    idle_timeout: int = Field(60, ge=1, le=4000)
    # Current AWS recommendation: TLS 1.3 with TLS 1.2 fallback, forward-secret ciphers only.
    ssl_policy: str = Field("ELBSecurityPolicy-TLS13-1-2-2021-06", pattern=r"^ELBSecurityPolicy-TLS13-1-[23]-")
    hosted_zone: HostedZoneConfig | None = None
    certificate: CertificateConfig | None = None
    access_logs: AccessLogsConfig = AccessLogsConfig()

    @field_validator("ingress_prefix_lists")
    @classmethod
    def _prefix_lists(cls, ids: list[str], info) -> list[str]:
        for pl in ids:
            if not re.fullmatch(r"pl-[0-9a-f]{8,17}", pl):
                raise ValueError(f"{pl!r} is not a managed prefix list id such as pl-0123456789abcdef0")
        if not ids and passed(info, "ingress_cidrs") and not info.data["ingress_cidrs"]:
            raise ValueError("with no ingressCidrs either, nobody could reach the load balancer")
        return ids

    @field_validator("certificate")
    @classmethod
    def _certificate(cls, cert: CertificateConfig | None, info) -> CertificateConfig | None:
        if cert is None or not passed(info, "hosted_zone"):
            return cert
        if (cert.arn is None) == (cert.domain_name is None):
            raise ValueError("set exactly one of arn (an existing certificate) or domainName (one the stack requests)")
        zone = info.data.get("hosted_zone")
        if cert.domain_name and zone is None:
            raise ValueError("a requested certificate is validated by DNS and needs hostedZone")
        for name in cert.domains():
            if zone and not in_zone(name, zone.name):
                raise ValueError(f"{name} is not inside the hosted zone {zone.name}, so it cannot be validated")
        return cert


def in_zone(host: str, zone: str) -> bool:
    host = host.removeprefix("*.")
    return host == zone or host.endswith("." + zone)


class ClusterConfig(Model):
    """The ECS cluster, its capacity strategy, service discovery and the shared load balancer.

    `capacityProviders` is the strategy of x86_64 services. Fargate Spot runs only x86_64 Linux
    tasks ("Linux tasks with the ARM64 architecture don't support the Fargate Spot capacity
    provider", ECS developer guide, "Fargate capacity providers"), so an arm64 service runs
    on FARGATE alone, with the strategy's base: see `strategy_for`.
    """

    container_insights: Literal["enabled", "enhanced", "disabled"] = "enabled"
    capacity_providers: list[CapacityProviderItem] = Field(
        default_factory=lambda: [CapacityProviderItem(provider="FARGATE")], min_length=1, max_length=2
    )
    namespace: str | None = Field(None, pattern=f"^{_DNS_NAME}$")
    load_balancer: LoadBalancerConfig = LoadBalancerConfig()

    @field_validator("capacity_providers")
    @classmethod
    def _strategy(cls, items: list[CapacityProviderItem]) -> list[CapacityProviderItem]:
        providers = [i.provider for i in items]
        if len(set(providers)) != len(providers):
            raise ValueError("each capacity provider may appear once")
        if sum(1 for i in items if i.base > 0) > 1:
            raise ValueError("only one capacity provider of a strategy may have a base")
        if not any(i.weight > 0 for i in items):
            raise ValueError("at least one capacity provider needs a weight above 0")
        return items

    def strategy_for(self, architecture: str) -> list[CapacityProviderItem]:
        """The capacity provider strategy of a service of `architecture` ("x86_64" or "arm64")."""
        if architecture == "x86_64":
            return list(self.capacity_providers)
        # The tasks the base keeps on-demand (or on Spot) stay a floor, now all on FARGATE.
        return [CapacityProviderItem(provider="FARGATE", weight=1, base=max(i.base for i in self.capacity_providers))]


class RepositoryConfig(Model):
    """An ECR repository created for the service; the task runs `tag` from it.

    `forceDelete` (on by default: environments are disposable) lets `pulumi destroy` delete
    the repository with its images; a production environment sets it off to keep them.
    """

    tag: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
    immutable_tags: bool = True
    keep_images: int = Field(30, ge=1, le=1000)
    scan_on_push: bool = True
    force_delete: bool = True


class RoutingConfig(Model):
    """Which requests the shared ALB sends to a public service: path patterns and/or host names."""

    paths: list[str] = []
    hosts: list[str] = []
    priority: int | None = Field(None, ge=1, le=50000)

    @field_validator("paths")
    @classmethod
    def _paths(cls, paths: list[str]) -> list[str]:
        for path in paths:
            if not re.fullmatch(r"/[A-Za-z0-9_.\-~/*?&=%:+@!$'()]{0,127}", path):
                raise ValueError(f"{path!r} is not a path pattern such as /api/*")
        return paths

    @field_validator("hosts")
    @classmethod
    def _hosts(cls, hosts: list[str], info) -> list[str]:
        for host in hosts:
            if not re.fullmatch(rf"(\*\.)?{_DNS_NAME}", host):
                raise ValueError(f"{host!r} is not a host name such as api.example.com")
        # ALB limit: five condition values per rule, paths and hosts together.
        if passed(info, "paths") and len(hosts) + len(info.data["paths"]) > 5:
            raise ValueError("at most 5 paths and hosts together per service (an ALB rule limit)")
        return hosts

    def claims(self) -> list[tuple[str, str]]:
        """The (host, path) pairs this rule matches; "*" host means any."""
        return [(h, p) for h in (self.hosts or ["*"]) for p in (self.paths or ["/*"])]

    def specificity(self) -> tuple:
        """Sort key of the rule: smaller is narrower, so its rule must come first.

        Exact hosts before wildcard hosts before any host; then by the broadest path: exact
        paths first, then the longer the literal part before the first wildcard, the
        narrower (`/api/v1/*` before `/api/*` before `/*`).
        """
        hosts = 2 if not self.hosts else (1 if any(_WILDCARD.search(h) for h in self.hosts) else 0)
        return (hosts, max(_path_specificity(p) for p in (self.paths or ["/*"])))

    def shadows(self, other: RoutingConfig) -> bool:
        """True when this rule matches every request `other` matches: evaluated first, it leaves `other` nothing."""
        if self.hosts and not (
            other.hosts and all(any(_glob_covers(h.lower(), o.lower()) for h in self.hosts) for o in other.hosts)
        ):
            return False
        paths = self.paths or ["/*"]
        return all(any(_glob_covers(p, o) for p in paths) for o in (other.paths or ["/*"]))


_WILDCARD = re.compile(r"[*?]")


def _path_specificity(path: str) -> tuple:
    wildcard = _WILDCARD.search(path)
    if wildcard is None:
        return (0, -len(path), 0)
    return (1, -wildcard.start(), -len(_WILDCARD.sub("", path)))


def _glob_covers(general: str, specific: str) -> bool:
    """True when every string `specific` matches also matches `general`.

    ALB condition patterns: `*` matches any run of characters, `?` exactly one.
    """

    @functools.cache
    def covers(i: int, j: int) -> bool:
        if j == len(specific):
            return all(c == "*" for c in general[i:])
        if i == len(general):
            return False
        if general[i] == "*":
            # The star matches nothing more, or also whatever the next token of `specific` matches.
            return covers(i + 1, j) or covers(i, j + 1)
        if specific[j] == "*":
            return False
        return (general[i] == "?" or general[i] == specific[j]) and covers(i + 1, j + 1)

    return covers(0, 0)


class TargetHealthCheckConfig(Model):
    """The load balancer's health check of each task."""

    path: str = Field("/", pattern=r"^/[^\s]{0,1023}$")
    matcher: str = Field("200-399", pattern=r"^[1-5][0-9]{2}(-[1-5][0-9]{2})?(,[1-5][0-9]{2}(-[1-5][0-9]{2})?)*$")
    interval: int = Field(30, ge=5, le=300)
    timeout: int = Field(5, ge=2, le=120)
    healthy_threshold: int = Field(3, ge=2, le=10)
    unhealthy_threshold: int = Field(3, ge=2, le=10)

    @field_validator("timeout")
    @classmethod
    def _shorter_than_interval(cls, timeout: int, info) -> int:
        if passed(info, "interval") and timeout >= info.data["interval"]:
            raise ValueError(f"must be shorter than interval ({info.data['interval']})")
        return timeout


class ContainerHealthCheckConfig(Model):
    """A health check command run inside the container (ECS marks the task unhealthy when it fails)."""

    command: list[str] = Field(min_length=2)
    interval: int = Field(30, ge=5, le=300)
    timeout: int = Field(5, ge=2, le=60)
    retries: int = Field(3, ge=1, le=10)
    start_period: int = Field(0, ge=0, le=300)

    @field_validator("command")
    @classmethod
    def _form(cls, command: list[str]) -> list[str]:
        if command[0] not in ("CMD", "CMD-SHELL"):
            raise ValueError('must start with "CMD" or "CMD-SHELL", e.g. ["CMD-SHELL", "curl -f localhost/ || exit 1"]')
        return command


class AutoscalingConfig(Model):
    """Task count range and target-tracking policies; at least one policy."""

    min_tasks: int = Field(1, ge=1, le=1000)
    max_tasks: int = Field(ge=1, le=1000)
    cpu_target: int | None = Field(None, ge=10, le=90)
    requests_per_target: int | None = Field(None, ge=1, le=100000, validate_default=True)
    scale_in_cooldown: int = Field(300, ge=0, le=3600)
    scale_out_cooldown: int = Field(60, ge=0, le=3600)

    @field_validator("max_tasks")
    @classmethod
    def _range(cls, max_tasks: int, info) -> int:
        if passed(info, "min_tasks") and max_tasks < info.data["min_tasks"]:
            raise ValueError(f"must be at least minTasks ({info.data['min_tasks']})")
        return max_tasks

    @field_validator("requests_per_target")
    @classmethod
    def _some_policy(cls, requests: int | None, info) -> int | None:
        if requests is None and passed(info, "cpu_target") and info.data["cpu_target"] is None:
            raise ValueError("set cpuTarget and/or requestsPerTarget: autoscaling needs a policy")
        return requests


class GrantConfig(Model):
    """One statement of the task role: explicit actions on explicit resources."""

    actions: list[str] = Field(min_length=1)
    resources: list[str] = Field(min_length=1)

    @field_validator("actions")
    @classmethod
    def _no_wildcards(cls, actions: list[str]) -> list[str]:
        for action in actions:
            if "*" in action or "?" in action:
                raise ValueError(f"{action}: wildcard actions are not allowed; name each action, e.g. s3:GetObject")
            if not re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9]+", action):
                raise ValueError(f"{action!r} is not an IAM action such as s3:GetObject")
        return actions

    @field_validator("resources")
    @classmethod
    def _scoped(cls, resources: list[str], info) -> list[str]:
        for resource in resources:
            if resource != "*" and not resource.startswith("arn:"):
                raise ValueError(f"{resource!r} is not an ARN")
        if not passed(info, "actions"):
            return resources
        scopable = sorted(set(info.data["actions"]) - UNSCOPED_ACTIONS)
        if "*" in resources and scopable:
            raise ValueError(
                f'"*" is only allowed for actions AWS cannot scope; name the resources of {", ".join(scopable)}'
            )
        return resources


def _secret_reference(ref: str) -> str:
    if not (_SECRETS_MANAGER_ARN.fullmatch(ref) or _SSM_PARAMETER.fullmatch(ref)):
        # Its own error type: the message never repeats the value, which may be a pasted secret.
        raise PydanticCustomError(
            "secret_reference",
            "must be a reference, not a value: a Secrets Manager secret ARN "
            "(arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>, optionally followed by "
            ":<jsonKey>:<versionStage>:<versionId>), an SSM parameter ARN, or an SSM parameter name starting with /",
        )
    return ref


SecretReference = Annotated[str, AfterValidator(_secret_reference)]

# A path in the container: absolute, no `.`/`..` segment, no trailing slash, not `/` itself.
_CONTAINER_PATH = re.compile(r"(?:/(?!\.\.?(?:/|$))[A-Za-z0-9._@%+=:,~-]+)+")

# Paths writable in every container whose root filesystem is read-only.
ALWAYS_WRITABLE = ("/tmp",)


# Role names PostgreSQL or RDS keep for themselves: `pg_*` (PostgreSQL reserves the prefix), RDS's
# own `rds*` roles (rdsadmin, rds_superuser, rds_iam ...), and the names CREATE ROLE refuses.
_RESERVED_DB_USERS = re.compile(r"^(pg_.*|rds.*|public|none|current_user|current_role|session_user)$")
_DB_USER = r"^[a-z_][a-z0-9_]{0,62}$"


def db_user_problem(user: str) -> str | None:
    """Why `user` cannot be the PostgreSQL user of an IAM-authenticated service, or None."""
    if not re.fullmatch(_DB_USER, user):
        # Lower case only: PostgreSQL folds unquoted names to lower case, while the IAM
        # dbuser ARN and the auth token match the name exactly.
        return "must be a lower-case PostgreSQL user name: a letter or _, then letters, digits or _ (at most 63)"
    if _RESERVED_DB_USERS.match(user):
        return f"{user} is reserved by PostgreSQL or RDS"
    return None


class DatabaseAccessConfig(Model):
    """How one service reaches the stack's database: the master password, or IAM authentication as its own user."""

    iam_auth: bool = False
    user: str | None = None

    @field_validator("user")
    @classmethod
    def _iam_user(cls, user: str | None, info) -> str | None:
        if user is None:
            return user
        if not info.data.get("iam_auth"):
            raise ValueError("a user applies to IAM authentication only; set iamAuth: true")
        problem = db_user_problem(user)
        if problem:
            raise ValueError(problem)
        return user


class ServiceConfig(Model):
    """One Fargate service: image, size, container, routing, scaling and permissions.

    Size: `memory` defaults to the smallest Fargate memory for `cpu` (512 MiB for 256 CPU
    units, 1024 for 512, ...), the way awsx sizes Fargate tasks; an explicit pair must be one
    Fargate offers.

    Filesystem: the container's root filesystem is read-only unless `ecsExec` is on (the ECS
    Exec agent writes into the container). `/tmp` and each of `writablePaths` are writable
    task volumes without a host, i.e. on the task's ephemeral storage, emptied with the task.
    """

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,22}[a-z0-9]$")
    public: bool = False
    image: str | None = Field(None, pattern=r"^[a-z0-9][^\s]{0,254}$")
    repository: RepositoryConfig | None = None
    cpu: Literal[256, 512, 1024, 2048, 4096, 8192, 16384] = 256
    memory: int | None = None
    architecture: Literal["x86_64", "arm64"] = "x86_64"
    port: int = Field(8080, ge=1, le=65535)
    command: list[str] | None = None
    container_health_check: ContainerHealthCheckConfig | None = None
    readonly_root_filesystem: bool | None = None
    writable_paths: list[str] = Field([], max_length=20)
    environment: dict[str, str] = {}
    secrets: dict[str, SecretReference] = {}
    secrets_kms_keys: list[str] = []
    desired_count: int = Field(1, ge=0, le=1000)
    autoscaling: AutoscalingConfig | None = None
    routing: RoutingConfig | None = None
    health_check: TargetHealthCheckConfig = TargetHealthCheckConfig()
    health_check_grace_period: int = Field(60, ge=0, le=7200)
    allow_from: list[str] = []
    # true: DB_HOST, DB_PORT, DB_NAME, and the master DB_USERNAME / DB_PASSWORD as ECS secrets;
    # {iamAuth: true, user: <name>}: DB_HOST, DB_PORT, DB_NAME, DB_USER and rds-db:connect, no secret.
    database: DatabaseAccessConfig | None = None
    log_retention_days: RetentionDays = 30
    ecs_exec: bool = False
    permissions: list[GrantConfig] = []
    pipeline: PipelineConfig | None = None

    @field_validator("database", mode="before")
    @classmethod
    def _database_access(cls, value: Any) -> Any:
        if value is True:
            return {}
        if value is False or value is None:
            return None
        if not isinstance(value, dict):
            raise ValueError("must be true, false, or a mapping such as {iamAuth: true, user: app}")
        return value

    @field_validator("writable_paths")
    @classmethod
    def _container_paths(cls, paths: list[str]) -> list[str]:
        for path in paths:
            if not _CONTAINER_PATH.fullmatch(path):
                raise ValueError(f"{path!r} is not an absolute path in the container such as /var/cache/nginx (not /)")
        repeated = sorted({p for p in paths if paths.count(p) > 1})
        if repeated:
            raise ValueError(f"listed more than once: {', '.join(repeated)}")
        return paths

    @field_validator("environment")
    @classmethod
    def _plain_values_only(cls, environment: dict[str, str]) -> dict[str, str]:
        for name in environment:
            if not re.fullmatch(_VARIABLE_NAME, name):
                raise ValueError(f"{name!r} is not a variable name")
            if _SECRET_LOOKING_NAME.search(name):
                raise ValueError(
                    f"the name {name} looks like a secret; declare it under secrets as a reference instead"
                )
        return environment

    @field_validator("secrets")
    @classmethod
    def _variable_names(cls, secrets: dict[str, str], info) -> dict[str, str]:
        for name in secrets:
            if not re.fullmatch(_VARIABLE_NAME, name):
                raise ValueError(f"{name!r} is not a variable name")
            if passed(info, "environment") and name in info.data["environment"]:
                raise ValueError(f"the name {name} is also a plain environment variable")
        return secrets

    @field_validator("secrets_kms_keys")
    @classmethod
    def _key_arns(cls, keys: list[str]) -> list[str]:
        for key in keys:
            if not _KMS_KEY_ARN.fullmatch(key):
                raise ValueError(
                    f"{key!r} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id or mrk-... id>)"
                )
        return keys

    @field_validator("routing")
    @classmethod
    def _public_only(cls, routing: RoutingConfig | None, info) -> RoutingConfig | None:
        if routing is not None and passed(info, "public") and not info.data["public"]:
            raise ValueError("only a public service is routed by the load balancer; set public: true")
        return routing

    @field_validator("autoscaling")
    @classmethod
    def _requests_need_alb(cls, scaling: AutoscalingConfig | None, info) -> AutoscalingConfig | None:
        if scaling and scaling.requests_per_target and passed(info, "public") and not info.data["public"]:
            raise ValueError("requestsPerTarget needs a public service (it counts load balancer requests)")
        return scaling

    @field_validator("pipeline")
    @classmethod
    def _pipeline_pushes_to_the_repository(cls, pipeline: PipelineConfig | None, info) -> PipelineConfig | None:
        if pipeline is not None and pipeline.enabled and passed(info, "repository") and info.data["repository"] is None:
            raise ValueError("a pipeline pushes to the service's ECR repository; set repository (with the first tag)")
        return pipeline

    @model_validator(mode="after")
    def _fargate_size(self) -> ServiceConfig:
        # A model rule, not a field validator: those skip defaults, so `cpu: 512` with the
        # memory left out would pass and ECS would refuse the task definition at `pulumi up`.
        if self.memory is None:
            object.__setattr__(self, "memory", FARGATE_MEMORY[self.cpu][0])
        elif problem := fargate_memory_problem(self.cpu, self.memory):
            raise field_error("memory", problem, self.memory)
        return self

    @model_validator(mode="after")
    def _root_filesystem(self) -> ServiceConfig:
        # ECS Exec's SSM agent writes into the container, so it does not work on a read-only
        # root filesystem (ECS developer guide, "Monitor Amazon ECS containers with ECS Exec").
        if self.readonly_root_filesystem is None:
            object.__setattr__(self, "readonly_root_filesystem", not self.ecs_exec)
        elif self.readonly_root_filesystem and self.ecs_exec:
            raise field_error(
                "readonly_root_filesystem",
                "with ecsExec the root filesystem must be writable (the ECS Exec agent writes into the container); "
                "set readonlyRootFilesystem: false or turn ecsExec off",
                True,
            )
        return self

    @property
    def database_user(self) -> str | None:
        """The PostgreSQL user of an IAM-authenticated service: configured, else its name with _ for -."""
        if self.database is None or not self.database.iam_auth:
            return None
        return self.database.user or self.name.replace("-", "_")

    @property
    def pipeline_enabled(self) -> bool:
        return self.pipeline is not None and self.pipeline.enabled

    @property
    def rule(self) -> RoutingConfig:
        """The routing of a public service: everything (`/*` on any host) unless configured."""
        return self.routing or RoutingConfig()

    @property
    def initial_count(self) -> int:
        return self.autoscaling.min_tasks if self.autoscaling else self.desired_count

    @property
    def writable_mounts(self) -> list[str]:
        """Container paths mounted as writable task volumes: /tmp under a read-only root, then `writablePaths`."""
        always = list(ALWAYS_WRITABLE) if self.readonly_root_filesystem else []
        return list(dict.fromkeys([*always, *self.writable_paths]))

    @property
    def reads_database_secret(self) -> bool:
        """The database's credentials reach the container from the RDS-managed Secrets Manager secret.

        With IAM authentication the task signs a token with its role instead: no secret is read.
        """
        return self.database is not None and not self.database.iam_auth

    @property
    def endpoints_at_start(self) -> list[str]:
        """The AWS services Fargate reaches for this service before the application runs.

        The awslogs driver writes to CloudWatch Logs; a private ECR image is pulled through
        ECR's API and registry endpoints (layers come through the S3 gateway endpoint every
        network has); declared secrets are read from Secrets Manager or SSM Parameter Store
        (ECS developer guide, "Amazon ECS interface VPC endpoints (AWS PrivateLink)"). KMS is
        not among them: Secrets Manager and SSM decrypt on the task's behalf, which is why the
        execution role's kms:Decrypt is limited by kms:ViaService.
        """
        needs = ["logs"]
        if self.repository is not None:
            needs += ["ecr.api", "ecr.dkr"]
        references = list(self.secrets.values())
        if self.reads_database_secret or any(_SECRETS_MANAGER_ARN.fullmatch(r) for r in references):
            needs.append("secretsmanager")
        if any(_SSM_PARAMETER.fullmatch(r) and not _SECRETS_MANAGER_ARN.fullmatch(r) for r in references):
            needs.append("ssm")
        return needs


class MonitoringConfig(Model):
    """The environment's alarm topic and the thresholds of every service's alarms."""

    alarm_emails: list[str] = []
    cpu_high_percent: int = Field(80, ge=1, le=100)
    memory_high_percent: int = Field(80, ge=1, le=100)
    target_5xx_per_minute: int = Field(5, ge=1)
    evaluation_minutes: int = Field(5, ge=1, le=60)

    @field_validator("alarm_emails")
    @classmethod
    def _emails(cls, emails: list[str]) -> list[str]:
        for email in emails:
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", email):
                raise ValueError(f"{email!r} is not an email address")
        return emails


def service_problems(cfg: StackConfig) -> list[Problem]:
    """Checks that span services (names, routes, priorities, references)."""
    problems: list[Problem] = []

    def problem(loc: tuple, message: str, value: Any) -> None:
        problems.append((("services", *loc), message, value))

    seen: dict[str, int] = {}
    claimed: dict[tuple[str, str], str] = {}
    priorities: dict[int, str] = {}
    # Public services whose rule is already reported (same route, same priority): a shadowing
    # report about them would only repeat that problem.
    reported: set[int] = set()
    for index, service in enumerate(cfg.services):
        if service.name in seen:
            problem(
                (index, "name"), f"{service.name} is already the name of services[{seen[service.name]}]", service.name
            )
        seen.setdefault(service.name, index)
        if (service.image is None) == (service.repository is None):
            problem(
                (index,),
                "set exactly one of image (an external image) or repository (an ECR repository for the service)",
                [key for key in ("image", "repository") if getattr(service, key) is not None],
            )
        for other in service.allow_from:
            if other == service.name or other not in {s.name for s in cfg.services}:
                problem((index, "allowFrom"), f"{other} is not another service of this stack", service.allow_from)
        if not service.public:
            continue
        for host, path in service.rule.claims():
            if (host, path) in claimed:
                where = "any host" if host == "*" else host
                problem(
                    (index, "routing"),
                    f"path {path} on {where} is already routed to {claimed[(host, path)]}",
                    service.rule.model_dump(exclude_none=True),
                )
                reported.add(index)
                break
            claimed[(host, path)] = service.name
        priority = listener_priority(service, cfg.services)
        if priority in priorities:
            problem(
                (index, "routing", "priority"),
                f"{priority} is already the priority of {priorities[priority]}",
                priority,
            )
            reported.add(index)
        priorities.setdefault(priority, service.name)
        zone = cfg.cluster.load_balancer.hosted_zone
        cert = cfg.cluster.load_balancer.certificate
        for host in service.rule.hosts:
            if cert and cert.domain_name and not any(_covers(name, host) for name in cert.domains()):
                problem((index, "routing", "hosts"), f"{host} is not covered by the certificate", service.rule.hosts)
            if zone and not in_zone(host, zone.name):
                problem(
                    (index, "routing", "hosts"), f"{host} is not inside the hosted zone {zone.name}", service.rule.hosts
                )
    problems += _shadowed_rules(cfg.services, reported)
    return problems


def _shadowed_rules(services: list[ServiceConfig], reported: set[int]) -> list[Problem]:
    """Rules that never match: a broader rule on the same host(s) comes first (explicit priorities)."""
    problems: list[Problem] = []
    public = [(i, s, listener_priority(s, services)) for i, s in enumerate(services) if s.public and i not in reported]
    for j, narrow, narrow_priority in public:
        for i, broad, broad_priority in public:
            if broad_priority < narrow_priority and broad.rule.shadows(narrow.rule):
                # The key to change: the narrow rule's priority if set, else the broad one's.
                at = j if narrow.rule.priority is not None or broad.rule.priority is None else i
                problems.append(
                    (
                        ("services", at, "routing", "priority"),
                        f"the rule of {narrow.name} (services[{j}].routing, priority {narrow_priority}) never "
                        f"matches: the broader rule of {broad.name} (services[{i}].routing, priority "
                        f"{broad_priority}) comes first and takes all its requests; give {narrow.name} a lower "
                        f"priority than {broad.name}, or leave both priorities out to order the rules by specificity",
                        listener_priority(services[at], services),
                    )
                )
                break
    return problems


def listener_priority(service: ServiceConfig, services: list[ServiceConfig]) -> int:
    """The ALB rule priority of a public service: `routing.priority` if set, else automatic.

    The ALB applies the first matching rule (lowest priority number). Automatic priorities
    are 10, 20, 30 ... over the public services without one, narrowest rule first (see
    `RoutingConfig.specificity`: exact hosts, wildcard hosts, any host; then exact paths,
    longer literal path prefixes, `/*` last), in list order where equally specific. So a
    catch-all never hides a narrower route, wherever it is listed.
    """
    if service.rule.priority is not None:
        return service.rule.priority
    automatic = [s for s in services if s.public and s.rule.priority is None]
    ordered = sorted(range(len(automatic)), key=lambda i: (automatic[i].rule.specificity(), i))
    return 10 * (next(rank for rank, i in enumerate(ordered) if automatic[i] is service) + 1)


def endpoint_problems(cfg: StackConfig) -> list[Problem]:
    """With interface endpoints, tasks must reach every AWS service they need at start through them.

    Otherwise those calls still go through a NAT gateway, and the services stop starting
    tasks while it is down, which is what the endpoints are there to prevent.
    """
    endpoints = cfg.network.interface_endpoints
    if not endpoints:
        return []
    needed_by: dict[str, list[str]] = {}
    for service in cfg.services:
        for endpoint in service.endpoints_at_start:
            needed_by.setdefault(endpoint, []).append(service.name)
    order = list(InterfaceEndpoint.__args__)
    missing = sorted((e for e in needed_by if e not in endpoints), key=order.index)
    if not missing:
        return []
    detail = "; ".join(f"{e} (needed by {', '.join(needed_by[e])})" for e in missing)
    return [
        (
            ("network", "interfaceEndpoints"),
            f"tasks reach these AWS services when they start and would still depend on a NAT gateway: add {detail}",
            endpoints,
        )
    ]


def _covers(cert_name: str, host: str) -> bool:
    if cert_name.startswith("*."):
        return host.count(".") == cert_name.count(".") and host.endswith(cert_name[1:])
    return cert_name == host


class StackConfig(Model):
    """Everything one environment is built from."""

    region: str
    network: NetworkConfig
    database: DatabaseConfig | None = None
    bastion: BastionConfig = BastionConfig()
    cluster: ClusterConfig = ClusterConfig()
    services: list[ServiceConfig] = []
    monitoring: MonitoringConfig = MonitoringConfig()

    @field_validator("region")
    @classmethod
    def _region_code(cls, region: str) -> str:
        if not re.fullmatch(r"[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d", region):
            raise ValueError("must be an AWS region code such as eu-west-1")
        return region

    @model_validator(mode="after")
    def _sections_fit_together(self) -> StackConfig:
        problems = [
            *service_problems(self),
            *bastion_problems(self),
            *database_client_problems(self),
            *endpoint_problems(self),
        ]
        if problems:
            raise ValidationError.from_exception_data(
                "StackConfig",
                [
                    InitErrorDetails(type=PydanticCustomError("value_error", message), loc=loc, input=value)
                    for loc, message, value in problems
                ],
            )
        return self


def database_client_problems(cfg: StackConfig) -> list[Problem]:
    """A service can only use the database the stack has, and IAM users must be valid and not the master."""
    problems: list[Problem] = []
    for i, service in enumerate(cfg.services):
        access = service.database
        if access is None:
            continue
        shown: Any = True if access == DatabaseAccessConfig() else access.model_dump(by_alias=True, exclude_none=True)
        if cfg.database is None:
            problems.append((("services", i, "database"), "the stack has no ecs-platform:database section", shown))
            continue
        user = service.database_user
        if user is None:
            continue
        where = ("services", i, "database", "user") if access.user else ("services", i, "database")
        problem = db_user_problem(user) if not access.user else None
        if problem:
            problems.append((where, f"the default user {user} (the service name): {problem}; set user", shown))
        elif user == cfg.database.master_username.lower():
            # Granting rds_iam to the master user would end its password login, the one way
            # in for administration through the bastion.
            problems.append(
                (where, f"{user} is the master user; IAM authentication needs a user of its own", access.user or shown)
            )
    return problems


def bastion_problems(cfg: StackConfig) -> list[Problem]:
    """The bastion's SSM agent needs a NAT gateway or all three SSM interface endpoints."""
    missing = [e for e in SSM_ENDPOINTS if e not in cfg.network.interface_endpoints]
    if cfg.bastion.enabled and cfg.network.nat_gateways == "none" and missing:
        return [
            (
                ("bastion", "enabled"),
                "the bastion needs a route to Systems Manager: with network.natGateways none, add "
                f"{', '.join(missing)} to network.interfaceEndpoints, or use a NAT gateway",
                True,
            )
        ]
    return []


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
        config = StackConfig.model_validate(values)
    except ValidationError as error:
        raise pulumi.RunError("\n".join(describe(error, project))) from None
    # Valid, but maybe still the example's domains and accounts: an error on a real update only.
    placeholders.check({key: _parse(value) for key, value in _all_config().items()})
    return config


def describe(error: ValidationError, project: str) -> list[str]:
    """One line per problem: `<namespace>:<key path>: <what is wrong and what is allowed>`."""
    return [f"{_key(e['loc'], project)}: {_problem(e)}" for e in error.errors()]


def _key(loc: tuple, project: str) -> str:
    path = ""
    model: Any = StackConfig
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
            continue
        # A key of the model (errors on defaults carry the field name, not its alias), or a
        # key of a mapping such as `secrets`, which is the user's own and kept as written.
        fields = model.model_fields if _is_model(model) else {}
        field = next((f for name, f in fields.items() if part in (name, f.alias)), None)
        segment = to_camel(part) if field is not None else str(part)
        model = _model_in(field.annotation) if field is not None else None
        path += f".{segment}" if path else segment
    head = str(loc[0]) if loc else ""
    if head in _FOREIGN_KEYS:
        return _FOREIGN_KEYS[head] + path[len(head) :]
    return f"{project}:{path}"


def _problem(err: dict) -> str:
    kind, loc = err["type"], err["loc"]
    if kind == "missing":
        return "required, but not set"
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
    if kind in _UNSHOWN:
        return message
    return f"{message} (got {_show(err['input'])})"


# Errors whose input is not repeated: it may be a secret pasted where a reference belongs.
_UNSHOWN = frozenset({"secret_reference"})


def _show(value: Any) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump(by_alias=True)
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _model_in(annotation: Any) -> Any:
    """The config model inside a field's type (`X`, `X | None`, `list[X]`), or None."""
    if _is_model(annotation):
        return annotation
    return next((m for m in map(_model_in, getattr(annotation, "__args__", ())) if m is not None), None)


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
