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
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

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


class StackConfig(Model):
    """Everything one environment is built from."""

    region: str
    network: NetworkConfig

    @field_validator("region")
    @classmethod
    def _region_code(cls, region: str) -> str:
        if not re.fullmatch(r"[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d", region):
            raise ValueError("must be an AWS region code such as eu-west-1")
        return region


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
    return [f"{_key(e['loc'], project)}: {_problem(e)}" for e in error.errors()]


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
