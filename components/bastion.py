"""The SSM-only bastion: a small EC2 instance in a private subnet that operators reach through
Session Manager port forwarding, never through SSH or an open port.

It has no public IP, no key pair and a security group without a single ingress rule; its
only egress is HTTPS to Systems Manager and the database port to the database's security
group. Its role may do what the SSM agent needs for sessions and nothing else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.account import Account
from components.config import BastionConfig
from components.contracts import DatabaseRefs, NetworkRefs
from components.instance import instance_image, session_manager_profile
from components.naming import Naming


@dataclass(frozen=True)
class BastionArgs:
    config: BastionConfig
    naming: Naming
    account: Account
    network: NetworkRefs
    # True when the network has the ssm, ssmmessages and ec2messages interface endpoints: HTTPS
    # egress then goes to their security group only instead of to the NAT gateway.
    ssm_endpoints: bool
    database: DatabaseRefs | None  # the one it forwards ports to, if the environment has one


class Bastion(pulumi.ComponentResource):
    """EC2 instance for Session Manager port forwarding: no inbound rule, no public IP, no key, IMDSv2 only."""

    instance_id: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    role_name: pulumi.Output[str]

    def __init__(self, name: str, args: BastionArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("ecs-platform:bastion:Bastion", name, None, opts)
        cfg, naming = args.config, args.naming
        self._name = name
        self._region = args.account.region

        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            name_prefix=naming.prefix("bastion", "security_group"),
            description="Bastion: no inbound; HTTPS to Systems Manager and the database port out",
            vpc_id=args.network.vpc_id,
            tags={"Name": naming.name("bastion")},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.security_group_id = security_group.id
        if args.ssm_endpoints:
            https = {"referenced_security_group_id": args.network.endpoint_security_group_id}
            https_to = "the Systems Manager endpoints"
        else:
            # Systems Manager's public endpoints, through the NAT gateway; their addresses are
            # AWS's and change, so no narrower CIDR exists.
            https = {"cidr_ipv4": "0.0.0.0/0"}
            https_to = "Systems Manager (through NAT)"
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-https",
            security_group_id=security_group.id,
            description=f"SSM agent: HTTPS to {https_to}",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            **https,
            opts=pulumi.ResourceOptions(parent=security_group),
        )
        if args.database is not None:
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-postgres",
                security_group_id=security_group.id,
                referenced_security_group_id=args.database.security_group_id,
                description="Port forwarding to the database",
                ip_protocol="tcp",
                from_port=args.database.port,
                to_port=args.database.port,
                opts=pulumi.ResourceOptions(parent=security_group),
            )

        role, profile = session_manager_profile(
            name,
            "bastion",
            "Bastion instance: registers with Systems Manager and opens Session Manager channels",
            naming,
            args.account,
            self,
        )
        self.role_name = role.name

        ami, ignored = instance_image(cfg.ami, cfg.architecture, self)
        instance = aws.ec2.Instance(
            f"{name}-instance",
            ami=ami,
            instance_type=cfg.instance_type,
            # The first app subnet: the bastion needs one, and reaches every tier from there.
            subnet_id=pulumi.Output.from_input(args.network.private_subnet_ids).apply(lambda ids: ids[0]),
            vpc_security_group_ids=[security_group.id],
            iam_instance_profile=profile.name,
            associate_public_ip_address=False,
            metadata_options=aws.ec2.InstanceMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",  # IMDSv2 only
                http_put_response_hop_limit=1,  # tokens cannot leave the instance (no containers here)
                instance_metadata_tags="disabled",
            ),
            root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(
                volume_type="gp3",
                volume_size=cfg.root_volume_size,
                encrypted=True,
                delete_on_termination=True,
            ),
            # Burstable types: no surprise bill from an instance that spins.
            credit_specification=(
                aws.ec2.InstanceCreditSpecificationArgs(cpu_credits="standard")
                if cfg.instance_type.startswith("t")
                else None
            ),
            tags={"Name": naming.name("bastion")},
            # Unpinned, the parameter names a new AMI every few weeks; following it would replace the
            # bastion (and cut open sessions) on an unrelated `pulumi up` (see instance_image).
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=ignored),
        )
        self.instance_id = instance.id

        self.register_outputs(
            {"instanceId": self.instance_id, "securityGroupId": self.security_group_id, "roleName": self.role_name}
        )

    def allow_to(self, name: str, security_group_id: pulumi.Input[str], port: int, description: str) -> None:
        """Lets the bastion forward sessions to `port` of one security group (a service's admin port).

        One egress rule in the bastion's group, named after what it opens the way to; the other
        side's ingress rule is its owner's to add.
        """
        aws.vpc.SecurityGroupEgressRule(
            f"{self._name}-to-{name}",
            security_group_id=self.security_group_id,
            referenced_security_group_id=security_group_id,
            description=description,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def port_forward_command(self, host: pulumi.Input[str], port: pulumi.Input[int]) -> pulumi.Output[str]:
        """The `aws ssm start-session` command that forwards localhost:<port> to host:port through this bastion."""

        def command(instance_id: str, host: str, port: int) -> str:
            parameters = {"host": [host], "portNumber": [str(port)], "localPortNumber": [str(port)]}
            return (
                f"aws ssm start-session --target {instance_id} "
                "--document-name AWS-StartPortForwardingSessionToRemoteHost "
                f"--parameters '{json.dumps(parameters, separators=(',', ':'))}' --region {self._region}"
            )

        return pulumi.Output.all(self.instance_id, host, port).apply(lambda v: command(*v))
