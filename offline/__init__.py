"""Everything that runs without the cloud: the mocked engine, and the tools built on it.

`harness/` runs the real program under Pulumi's mocks and captures what the engine would
receive (`offline.harness.evaluate`); tests read environments through it. The modules here are
the user-facing tools on top: `plan` (the offline preview, `python3 tasks.py plan`) with `cost`,
`diagram` and `preview_json`, and `policycheck` (the policy pack as the engine drives it,
`python3 tasks.py policy`). Tools import the harness, never the other way round.
"""

from offline.harness import lazy_aws

# Before anything imports pulumi_aws: its service namespaces then load only what is used.
lazy_aws.install()
