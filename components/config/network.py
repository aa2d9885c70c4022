"""`ecs-platform:network`: the VPC, its subnet tiers, NAT, interface endpoints and flow logs."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, field_validator, model_validator

from components.config.base import Model, RetentionDays, field_error, given

# Subnet slots are reserved for this many AZs whatever azCount is, so going from 2 to 3
# AZs adds subnets without moving the existing ones.
MAX_AZS = 3

# Interface endpoints a NAT-less network may need.
INTERFACE_ENDPOINTS = (
    *("ecr.api", "ecr.dkr", "logs"),  # what Fargate reaches to pull images and write logs
    *("secretsmanager", "kms"),  # secrets
    *("ssm", "ssmmessages", "ec2messages"),  # Session Manager
    *("sts", "monitoring", "ecs", "ecs-agent", "ecs-telemetry"),
)
InterfaceEndpoint = Literal[INTERFACE_ENDPOINTS]


class SubnetMasks(Model):
    """Prefix length of each subnet tier, per AZ."""

    public: int = Field(
        24, ge=16, le=28, description="Prefix length of each public subnet (load balancer, NAT gateways)."
    )
    private: int = Field(
        20,
        ge=16,
        le=28,
        description="Prefix length of each private (app) subnet: Fargate tasks take one address each.",
    )
    isolated: int = Field(
        24,
        ge=16,
        le=28,
        description="Prefix length of each isolated (database) subnet, which has no route to the internet.",
    )


class FlowLogsConfig(Model):
    """VPC flow logs of the whole VPC, 60-second aggregation: where they go, what they capture, how long they stay."""

    enabled: bool = Field(True, description="Record flow logs of the whole VPC, with 60-second aggregation.")
    destination: Literal["cloudWatchLogs", "s3"] = Field(
        "cloudWatchLogs",
        description=(
            "`cloudWatchLogs`: a log group `/{project}/{env}/vpc-flow-logs`, written by a role that may write to that "
            "group only (plus `logs:DescribeLogGroups`, which IAM cannot scope), searchable at once, ingestion billed "
            "per GB at the CloudWatch Logs rate. `s3`: Parquet files with hourly partitions "
            "(`AWSLogs/<account>/vpcflowlogs/<region>/<yyyy>/<mm>/<dd>/<hh>/`) in a private bucket of their own "
            "(public access blocked, SSE-S3, TLS only, the log-delivery bucket policy of the VPC user guide with "
            "`aws:SourceAccount`/`aws:SourceArn`), queried with Athena; no role, and about half the per-GB delivery "
            "price. The cost estimate prices both from an assumed volume (see "
            "[What the cost covers](offline-preview.md#what-the-cost-covers))."
        ),
    )
    retention_days: RetentionDays = Field(
        90,
        description=(
            "How long flow logs are kept: the log group's retention, or the bucket's lifecycle expiration. One of "
            "CloudWatch Logs' retention values; logs that never expire are not offered."
        ),
    )
    traffic_type: Literal["ALL", "ACCEPT", "REJECT"] = Field(
        "ALL", description="Which flows are recorded. `ALL` records every flow, and so costs the most."
    )


class NetworkConfig(Model):
    """The VPC: its CIDR, AZs, subnet tiers, NAT strategy, interface endpoints and flow logs.

    Subnet layout: inside `cidr`, the private tier comes first, then public, then isolated, each
    with three slots (one per possible AZ) whatever `azCount` is. The layout depends only on
    this config, never on awsx's defaults, so a library upgrade cannot move a subnet and going
    from two to three AZs adds subnets without touching the existing ones. With the defaults
    and `10.20.0.0/16`: private `10.20.0.0/20`, `10.20.16.0/20`, `10.20.32.0/20`; public
    `10.20.48.0/24` to `10.20.50.0/24`; isolated `10.20.51.0/24` to `10.20.53.0/24`.

    Every network also gets an S3 gateway endpoint on all route tables (free, and ECR image
    layers are served from S3).
    """

    examples = (
        (
            "`Pulumi.prod.yaml`",
            """\
config:
  aws:region: eu-west-1
  ecs-platform:network:
    cidr: 10.20.0.0/16
    azCount: 3
    natGateways: perAz
    interfaceEndpoints: [ecr.api, ecr.dkr, logs, secretsmanager, ssm]
    flowLogs:
      destination: s3
      retentionDays: 365
      trafficType: ALL
""",
        ),
    )

    cidr: ipaddress.IPv4Network = Field(
        description=(
            "The VPC's IPv4 CIDR, a private (RFC 1918) range from /16 to /24, host bits zero. Give every environment "
            "its own range so they can be peered later."
        )
    )
    az_count: int = Field(
        2,
        ge=2,
        le=MAX_AZS,
        description="Availability zones used: the first N available AZs of the region, in name order.",
    )
    nat_gateways: Literal["none", "single", "perAz"] = Field(
        "single",
        description=(
            "`none`: no internet egress from the app subnets (use `interfaceEndpoints`); `single`: one NAT gateway "
            "shared by all AZs (cheap, one AZ's outage cuts egress); `perAz`: one per AZ (resilient, about 3x the NAT "
            "cost)."
        ),
    )
    subnet_masks: SubnetMasks = Field(
        default_factory=SubnetMasks,
        description="Prefix length of each tier's subnets. Three AZ slots of each tier must fit in `cidr`.",
    )
    interface_endpoints: list[InterfaceEndpoint] = Field(
        [],
        description=(
            "Interface endpoints in the app subnets, with private DNS, reachable on 443 from the VPC only; each at "
            "most once. When the list is not empty it must cover every AWS service the tasks reach when they start, "
            "or they would still depend on a NAT gateway: `logs` (every service: awslogs), `ecr.api` and `ecr.dkr` (a "
            "service with `repository`), `secretsmanager` (a Secrets Manager secret under `secrets`, or "
            "`database: true`, whose credentials are a Secrets Manager secret), `ssm` (an SSM parameter under "
            "`secrets`). A missing one is a config error naming the endpoints and the services that need them. `kms` "
            "is never needed for that: Secrets Manager and SSM decrypt on the task's behalf. Fargate tasks need no "
            "`ecs*` endpoints. A bastion without NAT needs `ssm`, `ssmmessages` and `ec2messages`."
        ),
    )
    flow_logs: FlowLogsConfig = Field(
        FlowLogsConfig(), description="VPC flow logs: destination, traffic and retention."
    )

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

    @model_validator(mode="after")
    def _subnets_fit(self) -> NetworkConfig:
        try:
            plan_subnets(self.cidr, self.subnet_masks, MAX_AZS)
        except ValueError as error:
            raise field_error("subnet_masks", str(error), given(self, "subnet_masks")) from None
        return self

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
