"""A NAT instance: internet egress for the private subnets from one small EC2 instance instead of NAT gateways.

awsx builds the VPC with no NAT gateway (strategy None), so its private route tables have no
default route; this component adds the instance in the first public subnet and points the
default route of every private route table at the instance's network interface. The trade-offs
against a NAT gateway are in `NetworkConfig`'s text (docs/config-reference.md,
`ecs-platform:network`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.account import Account
from components.instance import instance_image, session_manager_profile
from components.naming import Naming

# The first-boot script, after "Create a NAT AMI" (Amazon VPC User Guide, NAT instances, Amazon
# Linux 2023): iptables-services, IP forwarding, masquerading on the primary interface, saved so
# it survives a reboot. Tighter than the guide in two ways: the FORWARD chain drops everything
# but connections opened from the VPC (and their replies), and sshd is off (Session Manager
# only). ICMP redirects are off: the private hosts must keep sending through the instance.
USER_DATA = """\
#!/bin/bash
set -euo pipefail
dnf install -y iptables-services
systemctl disable --now sshd
cat > /etc/sysctl.d/90-nat-instance.conf <<'EOF'
net.ipv4.ip_forward = 1
net.ipv4.conf.all.send_redirects = 0
EOF
sysctl -p /etc/sysctl.d/90-nat-instance.conf
systemctl enable --now iptables
interface=$(ip -o -4 route show to default | awk '{{print $5; exit}}')
iptables -t nat -A POSTROUTING -o "$interface" -s {vpc_cidr} -j MASQUERADE
iptables -F FORWARD
iptables -P FORWARD DROP
iptables -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
iptables -A FORWARD -s {vpc_cidr} -j ACCEPT
iptables-save > /etc/sysconfig/iptables
"""


@dataclass(frozen=True)
class NatInstanceArgs:
    instance_type: str
    naming: Naming
    account: Account
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    public_subnet_ids: pulumi.Input[list[str]]
    private_subnet_ids: pulumi.Input[list[str]]
    private_cidrs: list[str]  # the private subnets', one per AZ, in the order of private_subnet_ids
    ami: str | None = None  # the pinned image (network.natInstanceAmi); None: the newest when created, then kept


class NatInstance(pulumi.ComponentResource):
    """One Graviton EC2 instance that masquerades the private subnets' traffic to the internet."""

    instance_id: pulumi.Output[str]
    security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: NatInstanceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("ecs-platform:network:NatInstance", name, None, opts)
        naming = args.naming
        child = pulumi.ResourceOptions(parent=self)

        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            name_prefix=naming.prefix("nat", "security_group"),
            description="NAT instance: everything from the private subnets in, everything out",
            vpc_id=args.vpc_id,
            tags={"Name": naming.name("nat")},
            opts=child,
        )
        self.security_group_id = security_group.id
        in_group = pulumi.ResourceOptions(parent=security_group)
        # All protocols: the instance forwards whatever the tasks send. Only the private subnets
        # route through it, so only they are let in (no rule from the world, nor from the
        # public and isolated tiers).
        for index, cidr in enumerate(args.private_cidrs):
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-from-private-{index + 1}",
                security_group_id=security_group.id,
                description=f"Traffic to forward, from private subnet {index + 1}",
                ip_protocol="-1",
                cidr_ipv4=cidr,
                opts=in_group,
            )
        # Out to anywhere, as from a NAT gateway (which has no security group at all); the SSM
        # agent's own HTTPS to Systems Manager goes the same way.
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-to-internet",
            security_group_id=security_group.id,
            description="Forwarded traffic and the SSM agent, to the internet",
            ip_protocol="-1",
            cidr_ipv4="0.0.0.0/0",
            opts=in_group,
        )

        _, profile = session_manager_profile(
            name,
            "nat",
            "NAT instance: registers with Systems Manager and opens Session Manager channels",
            naming,
            args.account,
            self,
        )
        # arm64 Amazon Linux 2023, the image AWS publishes for Graviton; NatInstanceArgs only
        # ever holds a Graviton type (NetworkConfig checks it).
        ami, ignored = instance_image(args.ami, "arm64", self)
        instance = aws.ec2.Instance(
            f"{name}-instance",
            ami=ami,
            instance_type=args.instance_type,
            subnet_id=pulumi.Output.from_input(args.public_subnet_ids).apply(lambda ids: ids[0]),
            vpc_security_group_ids=[security_group.id],
            iam_instance_profile=profile.name,
            # A public subnet and an address of its own: the instance reaches the internet
            # through the internet gateway, for itself and for the hosts it forwards for.
            associate_public_ip_address=True,
            # It forwards packets that are neither from nor to itself ("Disable source/destination
            # checks", Amazon VPC User Guide, NAT instances).
            source_dest_check=False,
            user_data=USER_DATA.format(vpc_cidr=args.vpc_cidr),
            # cloud-init runs the script at first boot only: a changed script needs a new instance.
            user_data_replace_on_change=True,
            metadata_options=aws.ec2.InstanceMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",  # IMDSv2 only
                http_put_response_hop_limit=1,  # tokens cannot leave the instance
                instance_metadata_tags="disabled",
            ),
            # The image's own size (8 GiB for Amazon Linux 2023): the instance stores nothing.
            root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(
                volume_type="gp3", encrypted=True, delete_on_termination=True
            ),
            # Forwarding takes little CPU; standard credits never bill above the hourly price.
            credit_specification=(
                aws.ec2.InstanceCreditSpecificationArgs(cpu_credits="standard")
                if args.instance_type.startswith("t")
                else None
            ),
            tags={"Name": naming.name("nat")},
            # Unpinned, the parameter names a new image every few weeks; following it would replace
            # the instance (and cut egress) on an unrelated `pulumi up` (see instance_image).
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=ignored),
        )
        self.instance_id = instance.id

        # awsx's private route tables, one per private subnet, found by the subnet they are
        # associated with. awsx returns the subnet ids once its construct has finished, and the
        # construct waits for every resource it registered (pulumi/pulumi sdk/nodejs
        # provider/server.ts, construct: "Wait for RPC operations to complete"), so the
        # associations exist by then. In a preview of a new stack the ids are unknown: the
        # lookups do not run and the routes' tables show as unknown.
        private_ids = pulumi.Output.from_input(args.private_subnet_ids)
        for index in range(len(args.private_cidrs)):
            table = aws.ec2.get_route_table_output(
                subnet_id=private_ids.apply(lambda ids, i=index: ids[i]), opts=pulumi.InvokeOutputOptions(parent=self)
            )
            aws.ec2.Route(
                f"{name}-default-route-{index + 1}",
                route_table_id=table.route_table_id,
                destination_cidr_block="0.0.0.0/0",
                network_interface_id=instance.primary_network_interface_id,
                opts=child,
            )
        self.register_outputs({"instanceId": self.instance_id, "securityGroupId": self.security_group_id})
