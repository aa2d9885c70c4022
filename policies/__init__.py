"""The ecs-platform CrossGuard policy pack: rules by area, and the pack's identity.

`__main__.py` serves these as a `PolicyPack` for the Pulumi CLI; `offline/policycheck.py`
builds pulumi_policy's analyzer servicer from the same list without serving.
"""

from pulumi_policy import EnforcementLevel, Policy

NAME = "ecs-platform"
DESCRIPTION = "ecs-platform guardrails: private RDS, least-privilege IAM, network, compute, data and logs."
# A policy without its own level is advisory; the private-RDS and IAM groups are mandatory.
ENFORCEMENT_LEVEL = EnforcementLevel.ADVISORY


def all_policies() -> list[Policy]:
    """Every policy of the pack, grouped by area."""
    from policies import compute, data, iam, network, rds

    return [*rds.POLICIES, *iam.POLICIES, *network.POLICIES, *compute.POLICIES, *data.POLICIES]
