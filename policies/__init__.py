"""The ecs-platform CrossGuard policy pack: a folder the Pulumi CLI runs on its own (`__main__.py`).

The rules live in the `guardrails` package next to this file, which imports only itself, so
the folder works without the repository around it (`pulumi policy publish` ships the folder
alone). From the repository root the same rules are `policies.guardrails`.
"""
