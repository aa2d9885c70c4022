"""`ecs-platform:network`: the VPC, its subnet tiers, NAT, interface endpoints and flow logs."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from components.config.base import AmiId, Model, Problem, RetentionDays, fail, field_error, given

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

# Graviton (arm64) instance families: t4g, m7g, c7gn, r8g, ...; a1 was the first.
GRAVITON_FAMILY = r"[a-z]+\d+g[a-z]*|a1"


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
            "(public access blocked, TLS only, the log-delivery bucket policy of the VPC user guide with "
            "`aws:SourceAccount`/`aws:SourceArn`; SSE-KMS with a bucket key under a key of the network, about $1 a "
            "month, whose policy lets the log delivery service use it for this account only), queried with Athena "
            "(readers need `kms:Decrypt` on that key); no role, and about half the per-GB delivery price. The cost "
            "estimate prices both from an assumed volume (see "
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

    NAT instance (`natGateways: instance`): awsx builds the VPC without NAT gateways and the
    program adds one EC2 instance in the first public subnet, with the default route (`0.0.0.0/0`)
    of every private route table pointing at its network interface. Amazon Linux 2023 (AWS's
    public SSM parameter, arm64), turned into a NAT at first boot the way the VPC user guide's
    "Create a NAT AMI" does it (iptables masquerading, IP forwarding), forwarding only
    connections from the VPC; no third-party NAT image. Source/destination check off (it forwards
    other hosts' packets), a public IP (it is in a public subnet by design, and the pack's
    `ec2-no-public-ip` and `ec2-default-route-nat-instances-only` allow exactly this instance,
    listed under `natInstances` of both in `policies/config.<stack>.json`), IMDSv2 with hop
    limit 1, an encrypted gp3 root volume, no key pair and `sshd` off, Session Manager only (a
    role with the SSM agent's session permissions and nothing else). Its security group admits
    the private subnets' CIDRs only (all protocols: it forwards whatever the tasks send) and lets
    everything out.
    What it gives up against a NAT gateway:

    - One AZ: the instance lives in the first AZ; if that AZ or the instance fails, every
      private subnet loses internet egress (AWS services reached through the S3 gateway
      endpoint or `interfaceEndpoints` keep working). Traffic from the other AZs crosses AZs.
    - Bandwidth: the instance type's network bandwidth (`natInstanceType`), not a NAT
      gateway's 5-100 Gbit/s.
    - Patching: the OS is yours to patch. Without `natInstanceAmi` the instance starts from the
      newest Amazon Linux 2023 image when it is first created and keeps it: a new image does not
      replace the instance on an unrelated `pulumi up`, and neither does `pulumi up --replace`
      (Pulumi keeps the image it recorded). To move to a newer image, read the parameter
      (`aws ssm get-parameter --name /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64
      --query Parameter.Value --output text`), set `natInstanceAmi` to it and run `pulumi up`: the
      preview shows the replacement, which cuts egress for the minute or two the new instance
      takes to boot.
    - Its public address changes when the instance is replaced (a NAT gateway keeps its
      Elastic IP): allow-lists at third parties need updating.
    - No per-GB processing charge, unlike a NAT gateway; cross-AZ and internet data transfer
      are billed as usual.
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
    nat_gateways: Literal["none", "single", "perAz", "instance"] = Field(
        "single",
        description=(
            "`none`: no internet egress from the app subnets (use `interfaceEndpoints`); `single`: one NAT gateway "
            "shared by all AZs (cheap, one AZ's outage cuts egress); `perAz`: one per AZ (resilient, about 3x the NAT "
            "cost); `instance`: one NAT instance (`natInstanceType`) in the first public subnet instead of NAT "
            "gateways, about a fifth of a NAT gateway's price, for environments that tolerate what it gives up "
            "(see the section's text). Switching an existing network between `instance` and `single` or "
            "`perAz` takes two updates, through `none`: the new default routes are created before the old ones are "
            "deleted, and a route table holds one default route (egress stops until the second update)."
        ),
    )
    nat_instance_type: str | None = Field(
        None,
        description=(
            "With `natGateways: instance` only: the NAT instance's type, a Graviton (arm64) type. Its network "
            "bandwidth is every private subnet's internet bandwidth: `t4g.nano` has a baseline of about 32 Mbit/s "
            "and bursts to 5 Gbit/s while its network credits last; pick a larger type (`t4g.small`, `c7gn.medium`) "
            "for sustained traffic."
        ),
        json_schema_extra={"defaultText": "`t4g.nano` with `natGateways: instance`"},
    )
    nat_instance_ami: AmiId | None = Field(
        None,
        description=(
            "With `natGateways: instance` only: the NAT instance's image, an arm64 AMI id (`ami-` and 8 or 17 "
            "hexadecimal digits). Changing it replaces the instance, visibly in the preview. Unset: the latest arm64 "
            "Amazon Linux 2023 image when the instance is first created, kept until this key is set."
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

    @field_validator("nat_instance_type")
    @classmethod
    def _graviton(cls, instance_type: str | None) -> str | None:
        if instance_type is None:
            return None
        size = r"(nano|micro|small|medium|large|\d*xlarge|metal)"
        if not re.fullmatch(rf"[a-z][a-z0-9-]*\.{size}", instance_type):
            raise ValueError("must be an EC2 instance type such as t4g.nano")
        if not re.fullmatch(GRAVITON_FAMILY, instance_type.split(".")[0]):
            raise ValueError(
                "must be a Graviton (arm64) type such as t4g.nano or c7gn.medium: the NAT instance runs the arm64 "
                "Amazon Linux 2023 image"
            )
        return instance_type

    @model_validator(mode="after")
    def _nat_instance_keys_only_with_an_instance(self) -> NetworkConfig:
        problems: list[Problem] = [
            ((key,), f"applies only with natGateways: instance (natGateways is {self.nat_gateways})", value)
            for key, value in (
                ("nat_instance_type", self.nat_instance_type),
                ("nat_instance_ami", self.nat_instance_ami),
            )
            if value is not None and self.nat_gateways != "instance"
        ]
        fail(problems)
        return self

    @property
    def nat_instance(self) -> str | None:
        """The NAT instance's type with `natGateways: instance`, else None."""
        if self.nat_gateways != "instance":
            return None
        return self.nat_instance_type or "t4g.nano"

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
