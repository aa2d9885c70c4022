"""The repository's stacks: which `Pulumi.<stack>.yaml` files exist, and their config as the program reads it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["name"]


class Secret(str):
    """A config value that is `secure:` in the stack file; the program sees this placeholder."""


def stack_names(root: Path = ROOT) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


class StackFileError(Exception):
    """A stack file the Pulumi CLI could not load: one line, `Pulumi.<stack>.yaml:<line>:<column>: <what is wrong>`."""


def stack_config(stack: str, root: Path = ROOT) -> dict[str, Any]:
    """The `config:` map of `Pulumi.<stack>.yaml`, with every `secure:` value replaced by a Secret placeholder.

    A file that is not YAML, or not the shape of a stack file, raises StackFileError naming the
    file, line and column.
    """
    path = root / f"Pulumi.{stack}.yaml"
    raw = _load(path)

    def placeholders(value: Any, key: str) -> Any:
        if isinstance(value, dict) and set(value) == {"secure"}:
            return Secret(f"placeholder-for-{key}")
        if isinstance(value, dict):
            return {k: placeholders(v, f"{key}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [placeholders(v, f"{key}[{i}]") for i, v in enumerate(value)]
        return value

    return {key: placeholders(value, key) for key, value in raw.items()}


def _load(path: Path) -> dict[str, Any]:
    """The stack file's `config:` map, checked the way the Pulumi CLI reads it (pkg/workspace `ProjectStack`)."""
    text = path.read_text()

    def error(mark: yaml.Mark | None, what: str) -> StackFileError:
        where = f"{mark.line + 1}:{mark.column + 1}" if mark else "1:1"
        return StackFileError(f"{path.name}:{where}: {what}")

    try:
        document = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as problem:
        what = problem.problem or str(problem)
        context = problem.context_mark
        if what.startswith("expected <block end>") and context:
            # What PyYAML says for a line indented unlike its siblings.
            what = (
                "this line is not indented like the other keys of its mapping "
                f"(which starts at line {context.line + 1}, column {context.column + 1})"
            )
        elif problem.context and context:
            what += f" ({problem.context} at line {context.line + 1}, column {context.column + 1})"
        raise error(problem.problem_mark, what) from None
    except yaml.YAMLError as problem:
        raise error(None, str(problem).splitlines()[0]) from None
    if document is None:
        return {}
    if not isinstance(document, yaml.MappingNode):
        raise error(document.start_mark, "a stack file is a mapping of settings (config:, secretsprovider:, ...)")
    _no_duplicates(document, error)
    config = next((value for key, value in document.value if key.value == "config"), None)
    if config is None or (isinstance(config, yaml.ScalarNode) and config.tag == "tag:yaml.org,2002:null"):
        return {}
    if not isinstance(config, yaml.MappingNode):
        raise error(config.start_mark, "config must be a mapping of `<namespace>:<key>: value` entries")
    for key, value in config.value:
        if not isinstance(key, yaml.ScalarNode) or ":" not in str(key.value):
            raise error(
                key.start_mark,
                f"could not parse {key.value!r} as a configuration key (configuration keys should be of the form "
                "`<namespace>:<name>`, e.g. `ecs-platform:network`, `aws:region`)",
            )
        _check_secure(value, str(key.value), error)
    loaded = yaml.SafeLoader(text)
    try:
        return loaded.construct_document(document).get("config") or {}
    finally:
        loaded.dispose()


def _no_duplicates(node: yaml.Node, error: Any) -> None:
    """The CLI's YAML parser refuses a key given twice in one mapping; PyYAML would keep the last silently."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, yaml.Mark] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value in seen:
                first = seen[key.value]
                raise error(
                    key.start_mark, f"{key.value!r} is given twice in this mapping (first at line {first.line + 1})"
                )
            if isinstance(key, yaml.ScalarNode):
                seen[key.value] = key.start_mark
            _no_duplicates(value, error)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _no_duplicates(item, error)


def _check_secure(node: yaml.Node, key: str, error: Any) -> None:
    """`secure:` holds the encrypted text `pulumi config set --secret` wrote, a string."""
    if isinstance(node, yaml.MappingNode):
        for child_key, value in node.value:
            if child_key.value == "secure" and len(node.value) == 1 and not isinstance(value, yaml.ScalarNode):
                raise error(
                    value.start_mark, f"{key}: secure must be the encrypted string `pulumi config set --secret` writes"
                )
            _check_secure(value, f"{key}.{child_key.value}", error)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _check_secure(item, f"{key}[{index}]", error)


def has_secret(value: Any) -> bool:
    """True if a config value is, or holds, a Secret placeholder."""
    if isinstance(value, Secret):
        return True
    if isinstance(value, dict):
        return any(has_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(has_secret(v) for v in value)
    return False
