"""`ecs-platform:bastion`: the SSM-only bastion."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from components.config.base import AmiId, Model

# What the SSM agent must reach for Session Manager when there is no NAT gateway.
SSM_ENDPOINTS = ("ssm", "ssmmessages", "ec2messages")


class BastionConfig(Model):
    """The SSM-only bastion: off unless enabled; a small Graviton instance by default.

    A small EC2 instance in the first private subnet that operators reach only through AWS
    Systems Manager Session Manager: no public IP, no key pair, no SSH, a security group with
    no inbound rule. Its egress is HTTPS to Systems Manager (to the SSM interface endpoints'
    security group when the network has all three, else to `0.0.0.0/0` through NAT) and the
    database port to the database's security group; the database allows it in on that port.

    - Image: `ami` when it is set, else the latest Amazon Linux 2023 AMI, read when the bastion
      is first created from AWS's public SSM parameter
      `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-<arm64|x86_64>` and kept
      afterwards (a new AMI there does not replace the bastion, and cut open sessions, on an
      unrelated `pulumi up`). `pulumi up --replace` does not move it to a newer image: Pulumi keeps
      the image it recorded. To move to a newer image, read the parameter
      (`aws ssm get-parameter --name /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64
      --query Parameter.Value --output text`, `x86_64` for a non-Graviton type), set `ami` to it
      and run `pulumi up`: the preview shows the bastion's replacement. From then on the bastion
      follows `ami` only.
    - IMDSv2 only, hop limit 1.
    - Role: an inline policy with exactly what AWS documents for a Session-Manager-only
      instance (`ssm:UpdateInstanceInformation` and the four `ssmmessages` channel actions; AWS
      offers no resource to scope them to). Not the managed `AmazonSSMManagedInstanceCore`,
      which also lets the instance read every SSM parameter of the account and take Run Command
      work, neither of which a port-forwarding bastion needs.

    How to use it: [connect through the bastion](database.md#connect-to-the-database-through-the-bastion).
    """

    enabled: bool = Field(
        False,
        description=(
            "Build the bastion. Needs a route to Systems Manager: NAT gateways or a NAT instance "
            "(`network.natGateways` `single`, `perAz` or `instance`) or all of `ssm`, `ssmmessages`, `ec2messages` in "
            "`network.interfaceEndpoints`."
        ),
    )
    instance_type: str = Field(
        "t4g.nano",
        description=(
            "EC2 instance type such as `t4g.nano`. Graviton families (`t4g`, `m7g`, ...) get the arm64 image, others "
            "x86_64. Burstable types run with standard CPU credits (no surprise bill)."
        ),
    )
    root_volume_size: int = Field(8, ge=8, le=100, description="Root volume in GiB, gp3, encrypted.")
    ami: AmiId | None = Field(
        None,
        description=(
            "The image to run, an AMI id (`ami-` and 8 or 17 hexadecimal digits) of the instance type's architecture "
            "(arm64 for Graviton). Changing it replaces the bastion, visibly in the preview. Unset: the latest Amazon "
            "Linux 2023 image when the bastion is first created, kept until `ami` is set."
        ),
    )

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
