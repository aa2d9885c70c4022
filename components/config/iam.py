"""`ecs-platform:iam`: what every IAM role of the environment is bounded by."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from components.config.base import Model

# IAM policy names: 1-128 of letters, digits and `+=,.@_-`; an ARN may put a path before the name
# (IAM identifiers, IAM User Guide). A boundary is a managed policy of the account or of AWS.
POLICY_NAME = r"[\w+=,.@-]{1,128}"
POLICY_ARN = rf"arn:aws[a-z-]*:iam::(\d{{12}}|aws):policy/([\w+=,.@-]+/)*{POLICY_NAME}"


class IamConfig(Model):
    """The permissions boundary of every role the environment creates.

    A deploy role of CI may create the environment's roles with inline policies of its own
    choosing; the boundary caps what any of them can ever do, whatever those policies say, and
    the deploy roles may only create, change and attach policies to roles that carry it
    (docs/ci.md). The program applies it to every `aws:iam/role:Role` it registers, in one place
    (`components/boundary.py`), and the policy pack's `iam-role-has-permissions-boundary` checks it.
    """

    examples = (
        ("The CI bootstrap's boundary (the default)", "ecs-platform:iam:\n  permissionsBoundary: true\n"),
        (
            "A boundary of the account's own, by ARN",
            "ecs-platform:iam:\n  permissionsBoundary: arn:aws:iam::111122223333:policy/platform/workload-boundary\n",
        ),
    )

    permissions_boundary: bool | str = Field(
        True,
        description=(
            "The managed policy every role of the environment gets as its permissions boundary: `true` for the "
            "CI bootstrap's `<project>-ci-boundary` (bootstrap/), a policy name of this account, or a policy ARN; "
            "`false` for none (only where no CI deploy role creates the roles: the bootstrap's deploy roles "
            "refuse to create a role without it)."
        ),
    )

    @field_validator("permissions_boundary")
    @classmethod
    def _name_or_arn(cls, value: bool | str) -> bool | str:
        if isinstance(value, str) and not (re.fullmatch(POLICY_NAME, value) or re.fullmatch(POLICY_ARN, value)):
            raise ValueError(
                "must be true, false, a managed policy name (letters, digits and +=,.@_-) or a policy ARN "
                "arn:<partition>:iam::<account>:policy/<name>"
            )
        return value

    def boundary_arn(self, project: str, partition: str, account: str) -> str | None:
        """The ARN of the boundary in `account`, or None when roles get none."""
        value = self.permissions_boundary
        if value is False:
            return None
        name = f"{project}-ci-boundary" if value is True else value
        return name if name.startswith("arn:") else f"arn:{partition}:iam::{account}:policy/{name}"
