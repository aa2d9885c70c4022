"""One permissions boundary on every IAM role of the environment, applied in one place.

A stack transformation sees every resource the program registers, before it is registered,
whichever component creates it: a role added to any component later gets the boundary without a
change there. `pulumi.runtime.register_stack_transformation` runs in the program itself (the SDK
applies it in `Resource.__init__`), so it holds under the mocked engine the tests run as it does
under `pulumi up`; `register_resource_transform`, which the engine runs, is not run by Pulumi's
mock monitor. What neither reaches is a child of a remote component (awsx): the only one here,
`awsx.ec2.Vpc`, creates no role, and the policy pack's `iam-role-has-permissions-boundary`, which
the engine runs on every resource, remote children included, would name any role without it.
"""

from __future__ import annotations

import pulumi

from components.account import Account
from components.config.iam import IamConfig
from policies.guardrails.types import IAM_ROLE


def bound_every_role(cfg: IamConfig, project: str, account: Account) -> str | None:
    """Gives every role registered from now on the configured boundary; returns its ARN (None: no boundary)."""
    arn = cfg.boundary_arn(project, account.partition, account.id)
    if arn is None:
        return None

    def transformation(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if args.type_ != IAM_ROLE:
            return None
        # Every role gets the same one: a component asking for another would open a way around it
        # ("Permissions boundaries for IAM entities", IAM User Guide: a role may do only what both
        # its identity policies and its boundary allow).
        return pulumi.ResourceTransformationResult(props={**args.props, "permissions_boundary": arn}, opts=args.opts)

    pulumi.runtime.register_stack_transformation(transformation)
    return arn
