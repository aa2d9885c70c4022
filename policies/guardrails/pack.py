"""The pack's identity and its policies, for `policies/__main__.py` and the offline check.

`policies/__main__.py` serves these as a `PolicyPack` for the Pulumi CLI; `offline/policycheck.py`
builds pulumi_policy's analyzer servicer from the same list without serving.
"""

from pulumi_policy import EnforcementLevel, Policy

from . import compute, data, efs, iam, load_balancing, network, rds

NAME = "ecs-platform"
DESCRIPTION = "ecs-platform guardrails: private RDS, least-privilege IAM, network, compute, data and logs."
# A policy without its own level is advisory; the private-RDS and IAM groups are mandatory.
ENFORCEMENT_LEVEL = EnforcementLevel.ADVISORY


def all_policies() -> list[Policy]:
    """Every policy of the pack, grouped by area."""
    return [
        *rds.POLICIES,
        *iam.POLICIES,
        *network.POLICIES,
        *load_balancing.POLICIES,
        *compute.POLICIES,
        *data.POLICIES,
        *efs.POLICIES,
    ]
