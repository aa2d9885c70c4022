"""The ecs-platform guardrails: the policy pack's rules, by area, and what they share.

`pack.py` names the pack and lists every policy; `rds.py`, `iam.py`, `network.py`, `load_balancing.py`,
`compute.py` and `data.py` hold the rules of one area each; `common.py` what they share
(engine values, unknowns, policy documents, the stack graph). `types.py` spells every resource
type token, `secret_names.py` the secret-looking-name rule and `iam_actions.py` the lookup of
actions AWS cannot scope to a resource: the program's config, the offline tools and the tests
read those three too. Modules here import each other relatively, so the package works as
`guardrails` (the CLI runs the pack from its folder) and as `policies.guardrails` (the
repository root). This file imports nothing: `types`, `secret_names` and `iam_actions` load
without pulumi_policy.
"""
