"""Serves the pack to the Pulumi engine: `pulumi preview --policy-pack policies`. Rules live in the modules."""

import sys
from pathlib import Path

# The CLI runs this file with policies/ on sys.path; the rules import each other as `policies.*`.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import PolicyPack

from policies import DESCRIPTION, ENFORCEMENT_LEVEL, NAME, all_policies

PolicyPack(name=NAME, policies=all_policies(), enforcement_level=ENFORCEMENT_LEVEL, description=DESCRIPTION)
