"""The environment's network: a VPC with public, private (app) and isolated (database) tiers.

awsx.ec2.Vpc lays out subnets, route tables, the internet gateway and NAT gateways from
CIDRs this component computes itself (see `NetworkConfig.subnet_cidrs`); with
`natGateways: instance` it makes no NAT gateway and a NAT instance (components/nat_instance.py)
routes the private subnets instead. Everything that grants access (endpoint security group,
flow-log role, the NAT instance's group and role) is a plain pulumi_aws resource so tests and
the policy pack can see it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

from components.account import Account
from components.bucket import private_bucket
from components.config import NetworkConfig
from components.contracts import NetworkRefs
from components.iam import allow, inline_policy, resolved_document, trust_policy
from components.kms import FLOW_LOG_KEY_ACTIONS, STORAGE_KEY, encryption_key, key_policy, service_grant
from components.naming import Naming
from components.nat_instance import NatInstance, NatInstanceArgs

_NAT_STRATEGY = {
    "none": awsx.ec2.NatGatewayStrategy.NONE,
    "single": awsx.ec2.NatGatewayStrategy.SINGLE,
    "perAz": awsx.ec2.NatGatewayStrategy.ONE_PER_AZ,
    # No NAT gateway: the NAT instance gives the private route tables their default route.
    "instance": awsx.ec2.NatGatewayStrategy.NONE,
}


@dataclass(frozen=True)
class NetworkArgs:
    config: NetworkConfig
    naming: Naming
    account: Account


class Network(pulumi.ComponentResource):
    """VPC over 2-3 AZs with three subnet tiers, NAT, S3 gateway and interface endpoints, flow logs."""

    vpc_id: pulumi.Output[str]
    cidr_block: str
    availability_zones: list[str]
    public_subnet_ids: pulumi.Output[list[str]]
    private_subnet_ids: pulumi.Output[list[str]]
    isolated_subnet_ids: pulumi.Output[list[str]]
    endpoint_security_group_id: pulumi.Output[str] | None
    nat_instance: NatInstance | None  # with natGateways: instance
    refs: NetworkRefs  # what the cluster, database, bastion and services build on

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("ecs-platform:network:Network", name, None, opts)
        cfg, naming = args.config, args.naming
        child = pulumi.ResourceOptions(parent=self)

        zones = aws.get_availability_zones(state="available", opts=pulumi.InvokeOptions(parent=self))
        self.availability_zones = sorted(zones.names)[: cfg.az_count]
        self.cidr_block = str(cfg.cidr)
        cidrs = cfg.subnet_cidrs()

        vpc = awsx.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=self.cidr_block,
            availability_zone_names=self.availability_zones,
            enable_dns_hostnames=True,  # interface endpoints with private DNS need both
            enable_dns_support=True,
            subnet_strategy=awsx.ec2.SubnetAllocationStrategy.AUTO,
            subnet_specs=[
                awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.PUBLIC, name="public", cidr_blocks=cidrs["public"]),
                awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.PRIVATE, name="private", cidr_blocks=cidrs["private"]),
                awsx.ec2.SubnetSpecArgs(
                    type=awsx.ec2.SubnetType.ISOLATED, name="isolated", cidr_blocks=cidrs["isolated"]
                ),
            ],
            nat_gateways=awsx.ec2.NatGatewayConfigurationArgs(strategy=_NAT_STRATEGY[cfg.nat_gateways]),
            # S3 is free through a gateway endpoint, and ECR image layers are served from S3.
            vpc_endpoint_specs=[
                awsx.ec2.VpcEndpointSpecArgs(
                    service_name=f"com.amazonaws.{args.account.region}.s3", vpc_endpoint_type="Gateway"
                )
            ],
            vpc_endpoint_strategy=awsx.ec2.VpcEndpointStrategy.AUTO,
            tags={"Name": naming.name("vpc")},
            opts=child,
        )
        self.vpc_id = vpc.vpc_id
        # The VPC's default group lets its members reach each other and anything outside until emptied ("Default
        # security groups for your VPCs", Amazon VPC User Guide). Adopted without rules, the provider revokes
        # all of them (aws_default_security_group), so a resource launched without a group of its own is cut off.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            vpc_id=vpc.vpc_id,
            tags={"Name": naming.name("default-closed")},
            opts=child,
        )
        self.public_subnet_ids = vpc.public_subnet_ids
        self.private_subnet_ids = vpc.private_subnet_ids
        self.isolated_subnet_ids = vpc.isolated_subnet_ids

        self.nat_instance = None
        if cfg.nat_instance:
            self.nat_instance = NatInstance(
                f"{name}-nat",
                NatInstanceArgs(
                    instance_type=cfg.nat_instance,
                    naming=naming,
                    account=args.account,
                    vpc_id=self.vpc_id,
                    vpc_cidr=self.cidr_block,
                    public_subnet_ids=self.public_subnet_ids,
                    private_subnet_ids=self.private_subnet_ids,
                    private_cidrs=cidrs["private"],
                    ami=cfg.nat_instance_ami,
                ),
                opts=child,
            )

        self.endpoint_security_group_id = None
        if cfg.interface_endpoints:
            self.endpoint_security_group_id = self._interface_endpoints(name, args, cfg.interface_endpoints)
        if cfg.flow_logs.enabled and cfg.flow_logs.destination == "s3":
            self._flow_logs_to_s3(name, args)
        elif cfg.flow_logs.enabled:
            self._flow_logs(name, args)

        self.refs = NetworkRefs(
            vpc_id=self.vpc_id,
            vpc_cidr=self.cidr_block,
            public_subnet_ids=self.public_subnet_ids,
            private_subnet_ids=self.private_subnet_ids,
            isolated_subnet_ids=self.isolated_subnet_ids,
            endpoint_security_group_id=self.endpoint_security_group_id,
        )
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "cidrBlock": self.cidr_block,
                "publicSubnetIds": self.public_subnet_ids,
                "privateSubnetIds": self.private_subnet_ids,
                "isolatedSubnetIds": self.isolated_subnet_ids,
            }
        )

    def _interface_endpoints(self, name: str, args: NetworkArgs, services: list[str]) -> pulumi.Output[str]:
        """Private-DNS interface endpoints in the app subnets, reachable on 443 from inside the VPC only."""
        sg = aws.ec2.SecurityGroup(
            f"{name}-endpoints",
            name_prefix=args.naming.prefix("endpoints", "security_group"),
            description="VPC interface endpoints: HTTPS from inside the VPC",
            vpc_id=self.vpc_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-endpoints-https",
            security_group_id=sg.id,
            description="HTTPS from the VPC",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4=self.cidr_block,
            opts=pulumi.ResourceOptions(parent=sg),
        )
        for service in services:
            aws.ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}",
                vpc_id=self.vpc_id,
                service_name=f"com.amazonaws.{args.account.region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=self.private_subnet_ids,
                security_group_ids=[sg.id],
                tags={"Name": args.naming.name(f"{service}-endpoint")},
                opts=pulumi.ResourceOptions(parent=self),
            )
        return sg.id

    def _flow_logs(self, name: str, args: NetworkArgs) -> None:
        """VPC flow logs to a log group with retention; the delivery role may write to that group only."""
        cfg, naming = args.config.flow_logs, args.naming
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=naming.path("vpc-flow-logs"),
            retention_in_days=cfg.retention_days,
            opts=pulumi.ResourceOptions(parent=self),
        )
        account = args.account
        role = aws.iam.Role(
            f"{name}-flow-logs",
            name_prefix=naming.prefix("flow-logs", "iam_role_prefix"),
            description="Delivers VPC flow logs to their log group",
            # Only flow logs of this account may assume it.
            assume_role_policy=trust_policy(
                "vpc-flow-logs.amazonaws.com", account.id, account.arn("ec2", "vpc-flow-log/*")
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # The permissions "IAM role for publishing flow logs to CloudWatch Logs" (Amazon VPC User
        # Guide) lists, except logs:CreateLogGroup (the group exists, with retention). Each on the
        # narrowest resource AWS accepts: the stream actions on this group only; DescribeLogGroups
        # has no resource type in IAM, so "*" is the only Resource it takes.
        writes = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
        inline_policy(
            f"{name}-flow-logs",
            role,
            resolved_document(
                {"log_group": log_group.arn},
                lambda r: [
                    allow(None, writes, [r["log_group"], f"{r['log_group']}:log-stream:*"]),
                    allow("FindTheLogGroup", "logs:DescribeLogGroups", "*"),
                ],
            ),
        )
        aws.ec2.FlowLog(
            f"{name}-flow-logs",
            vpc_id=self.vpc_id,
            traffic_type=cfg.traffic_type,
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags={"Name": naming.name("vpc-flow-logs")},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _flow_logs_to_s3(self, name: str, args: NetworkArgs) -> None:
        """VPC flow logs as hourly-partitioned Parquet files in a private bucket that expires them.

        No IAM role: the log delivery service writes with the bucket policy from "Amazon S3
        bucket permissions for flow logs" (Amazon VPC User Guide), confused-deputy conditions
        included. SSE-KMS under a key of the network's own (the network is built before any
        other key of the stack): the same guide's "Required key policy for use with SSE-KMS"
        lets delivery.logs.amazonaws.com use it, held to this account's log deliveries by the
        aws:SourceAccount / aws:SourceArn conditions of "Amazon S3 bucket server-side encryption"
        (Amazon CloudWatch Logs User Guide, "Logs sent to Amazon S3").
        """
        cfg, naming = args.config.flow_logs, args.naming
        account = args.account
        principal = {"Service": "delivery.logs.amazonaws.com"}
        source_account = {"aws:SourceAccount": account.id}
        # The source ARN is the logs service's wildcard ARN in this account and region.
        source_arn = {"aws:SourceArn": account.arn("logs", "*")}

        def allow_delivery(arn: str) -> list[dict]:
            return [
                allow(
                    "AWSLogDeliveryWrite",
                    "s3:PutObject",
                    f"{arn}/AWSLogs/{account.id}/*",
                    principal=principal,
                    condition={
                        "StringEquals": {**source_account, "s3:x-amz-acl": "bucket-owner-full-control"},
                        "ArnLike": source_arn,
                    },
                ),
                allow(
                    "AWSLogDeliveryAclCheck",
                    ["s3:GetBucketAcl", "s3:ListBucket"],
                    arn,
                    principal=principal,
                    condition={"StringEquals": source_account, "ArnLike": source_arn},
                ),
            ]

        # The key policy is part of the key, so the bucket's encryption configuration (and the flow
        # log, which waits for it) can only be created once delivery may use the key.
        key = encryption_key(
            f"{name}-flow-logs",
            alias=naming.name("flow-logs", "kms_alias"),
            description=f"VPC flow logs of {naming.name('vpc')}",
            parent=self,
            policy=key_policy(
                account,
                service_grant(
                    "LogDeliveryEncryptsFlowLogs",
                    "delivery.logs.amazonaws.com",
                    FLOW_LOG_KEY_ACTIONS,
                    {"StringEquals": source_account, "ArnLike": source_arn},
                ),
            ),
            **STORAGE_KEY,
        )
        bucket, ready = private_bucket(
            f"{name}-flow-logs",
            bucket_prefix=naming.prefix("flow-logs", "s3_bucket_prefix").lower(),
            kms_key=key,
            lifecycle_rules=[
                {
                    "id": "expire-flow-logs",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "expiration": {"days": cfg.retention_days},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
                }
            ],
            allow=allow_delivery,
            parent=self,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-logs",
            vpc_id=self.vpc_id,
            traffic_type=cfg.traffic_type,
            log_destination_type="s3",
            log_destination=bucket.arn,
            # Parquet: smaller, and queried by Athena far faster than text; hourly partitions
            # keep a query for one hour from scanning the whole day.
            destination_options={
                "file_format": "parquet",
                "per_hour_partition": True,
                "hive_compatible_partitions": False,
            },
            max_aggregation_interval=60,
            tags={"Name": naming.name("vpc-flow-logs")},
            # With the delivery statements already in place, AWS does not rewrite the bucket policy.
            opts=pulumi.ResourceOptions(parent=self, depends_on=ready),
        )
