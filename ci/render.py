"""Turns the CI role policy templates of this folder into IAM policy documents.

The templates hold `${partition}`, `${account}`, `${region}`, `${project}` and `${stack}`
placeholders (Python `string.Template` syntax; the templates use no IAM policy variables,
which share that syntax). A role that serves several stacks (the preview role) gets every string that names
`${stack}` once per stack: `render("preview-role-policy.json", stacks=["dev", "prod"], ...)`.
"""

from __future__ import annotations

import json
from pathlib import Path
from string import Template
from typing import Any

HERE = Path(__file__).resolve().parent


def render(template: str, *, stacks: list[str], **values: str) -> dict[str, Any]:
    """The document `template` (a file name in ci/) with every placeholder replaced; a missing value raises KeyError."""
    document = json.loads((HERE / template).read_text())
    return _fill(document, stacks, values)


def _fill(value: Any, stacks: list[str], values: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {key: _fill(item, stacks, values) for key, item in value.items()}
    if isinstance(value, list):
        return [filled for item in value for filled in _each(item, stacks, values)]
    if isinstance(value, str):
        filled = _each(value, stacks, values)
        return filled[0] if len(filled) == 1 else filled
    return value


def _each(value: Any, stacks: list[str], values: dict[str, str]) -> list[Any]:
    """A string naming ${stack} becomes one string per stack; anything else is filled once."""
    if isinstance(value, str):
        per_stack = stacks if "${stack}" in value else stacks[:1]
        return [Template(value).substitute(values, stack=stack) for stack in per_stack]
    return [_fill(value, stacks, values)]
