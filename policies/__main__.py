"""Serves the pack to the Pulumi engine: `pulumi preview --policy-pack policies`. Rules live in `guardrails/`.

The CLI runs this folder with the folder itself first on sys.path, so `guardrails` imports as
a top-level package and nothing outside the folder is needed.
"""

from guardrails.pack import DESCRIPTION, ENFORCEMENT_LEVEL, NAME, all_policies
from pulumi_policy import PolicyPack

PolicyPack(name=NAME, policies=all_policies(), enforcement_level=ENFORCEMENT_LEVEL, description=DESCRIPTION)
