"""What the product's EC2 instances (the bastion, the NAT instance) share: the image they boot and an
instance profile that lets Systems Manager reach them, and nothing else."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.account import Account
from components.iam import SESSION_CHANNEL_ACTIONS, allow, document, inline_policy, trust_policy
from components.naming import Naming

# Amazon Linux 2023 AMI ids, published by AWS per region and architecture.
AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"


def instance_image(pinned: str | None, arch: str, parent: pulumi.Resource) -> tuple[pulumi.Input[str], list[str]]:
    """An instance's `ami` and the properties whose changes it ignores.

    Pinned: the pin itself, followed (a changed pin replaces the instance, visibly in the preview).
    Not pinned: the newest Amazon Linux 2023 image of AWS's public parameter, used when the instance is
    created and ignored afterwards, so a new image never replaces it on an unrelated update. Ignoring is
    also why `pulumi up --replace` cannot refresh the image: the engine puts the recorded value of an
    ignored property into the new inputs before it diffs or replaces (Pulumi docs, "ignoreChanges" resource
    option: later updates use the value from the stack state; pulumi/pulumi pkg/resource/deploy/
    step_generator.go, processIgnoreChanges). Setting the pin is the way to a newer image.
    """
    if pinned is not None:
        return pinned, []
    latest = aws.ssm.get_parameter(name=AMI_PARAMETER.format(arch=arch), opts=pulumi.InvokeOptions(parent=parent))
    return latest.value, ["ami"]


def session_manager_profile(
    name: str, purpose: str, description: str, naming: Naming, account: Account, parent: pulumi.Resource
) -> tuple[aws.iam.Role, aws.iam.InstanceProfile]:
    """A role with the Session Manager permissions of the SSM agent only, and its instance profile.

    Not AWS's AmazonSSMManagedInstanceCore: that one also lets the instance read every SSM parameter and
    run documents, which neither a port-forwarding bastion nor a NAT instance needs. These are the
    actions AWS documents for a Session-Manager-only instance profile.
    """
    role = aws.iam.Role(
        f"{name}-role",
        name_prefix=naming.prefix(purpose, "iam_role_prefix"),
        description=description,
        # No aws:SourceAccount condition: EC2 does not send it when an instance assumes its role, so the
        # condition would lock the instance out.
        assume_role_policy=trust_policy("ec2.amazonaws.com"),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    inline_policy(
        f"{name}-session-manager",
        role,
        document(
            [
                allow("SessionManagerChannels", SESSION_CHANNEL_ACTIONS, "*"),
                # Registration is scoped to instances; the exact ARN would only exist after the instance
                # boots, when the agent already needs it.
                allow("RegisterWithSystemsManager", "ssm:UpdateInstanceInformation", account.arn("ec2", "instance/*")),
            ]
        ),
    )
    profile = aws.iam.InstanceProfile(
        f"{name}-profile",
        name_prefix=naming.prefix(purpose, "iam_role_prefix"),
        role=role.name,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return role, profile
