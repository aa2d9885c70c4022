"""The repository's stacks: which `Pulumi.<stack>.yaml` files exist, and their config as the program reads it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["name"]


class Secret(str):
    """A config value that is `secure:` in the stack file; the program sees this placeholder."""


def stack_names() -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))


def stack_config(stack: str, root: Path = ROOT) -> dict[str, Any]:
    """The `config:` map of `Pulumi.<stack>.yaml`, with every `secure:` value replaced by a Secret placeholder."""
    doc = yaml.safe_load((root / f"Pulumi.{stack}.yaml").read_text()) or {}

    def placeholders(value: Any, key: str) -> Any:
        if isinstance(value, dict) and set(value) == {"secure"}:
            return Secret(f"placeholder-for-{key}")
        if isinstance(value, dict):
            return {k: placeholders(v, f"{key}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [placeholders(v, f"{key}[{i}]") for i, v in enumerate(value)]
        return value

    return {key: placeholders(value, key) for key, value in (doc.get("config") or {}).items()}


def has_secret(value: Any) -> bool:
    """True if a config value is, or holds, a Secret placeholder."""
    if isinstance(value, Secret):
        return True
    if isinstance(value, dict):
        return any(has_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(has_secret(v) for v in value)
    return False
