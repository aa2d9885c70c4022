"""The pack's identity and its policies, for `policies/__main__.py` and the offline check.

`policies/__main__.py` serves these as a `PolicyPack` for the Pulumi CLI; `offline/policycheck.py`
builds pulumi_policy's analyzer servicer from the same list without serving.
"""

from pulumi_policy import EnforcementLevel, Policy

from . import baseline, compute, data, efs, iam, load_balancing, network, rds, workloads

NAME = "ecs-platform"
DESCRIPTION = "ecs-platform guardrails: private RDS, least-privilege IAM, network, compute, data and logs."
# A policy without its own level is advisory; the private-RDS and IAM groups are mandatory.
ENFORCEMENT_LEVEL = EnforcementLevel.ADVISORY


# The rule modules, one per area: each has POLICIES and COVERS (policy name -> anchor rule ids it covers).
MODULES = (rds, iam, network, load_balancing, compute, data, efs, workloads, baseline)


def all_policies() -> list[Policy]:
    """Every policy of the pack, grouped by area."""
    return [policy for module in MODULES for policy in module.POLICIES]


def covers() -> dict[str, list[str]]:
    """Policy name -> the anchor rule ids (guardrails/anchors.py) it covers, from every module's COVERS."""
    return {name: ids for module in MODULES for name, ids in module.COVERS.items()}
