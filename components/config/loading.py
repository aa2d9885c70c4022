"""Reading the running stack's config and turning every problem into one line naming the key path.

ecs-platform:network.azCount: input should be less than or equal to 3 (got 5)
"""

from __future__ import annotations

import difflib
import json
from typing import Any

import pulumi
from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_camel

from components.config import placeholders
from components.config.stack import StackConfig

# Keys that live outside the project's namespace.
FOREIGN_KEYS = {"region": "aws:region"}

# Errors whose input is not repeated: it may be a secret pasted where a reference belongs.
_UNSHOWN = frozenset({"secret_reference"})


def load(project: str | None = None) -> StackConfig:
    """Reads and validates the running stack's config; raises pulumi.RunError naming every bad key."""
    project = project or pulumi.get_project()
    values = {
        key[len(project) + 1 :]: _parse(value) for key, value in _all_config().items() if key.startswith(f"{project}:")
    }
    region = _all_config().get("aws:region")
    if region is not None:
        values["region"] = region
    try:
        config = StackConfig.model_validate(values)
    except ValidationError as error:
        raise pulumi.RunError("\n".join(describe(error, project))) from None
    # Valid, but maybe still the example's domains and accounts: an error on a real update only.
    placeholders.check({key: _parse(value) for key, value in _all_config().items()})
    return config


def describe(error: ValidationError, project: str) -> list[str]:
    """One line per problem: `<namespace>:<key path>: <what is wrong and what is allowed>`."""
    return [f"{_key(e['loc'], project)}: {_problem(e)}" for e in error.errors()]


def _key(loc: tuple, project: str) -> str:
    path = ""
    model: Any = StackConfig
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
            continue
        # A key of the model (errors on defaults carry the field name, not its alias), or a
        # key of a mapping such as `secrets`, which is the user's own and kept as written.
        fields = model.model_fields if _is_model(model) else {}
        field = next((f for name, f in fields.items() if part in (name, f.alias)), None)
        segment = (field.alias or to_camel(part)) if field is not None else str(part)
        model = _model_in(field.annotation) if field is not None else None
        path += f".{segment}" if path else segment
    head = str(loc[0]) if loc else ""
    if head in FOREIGN_KEYS:
        return FOREIGN_KEYS[head] + path[len(head) :]
    return f"{project}:{path}"


def _problem(err: dict) -> str:
    kind, loc = err["type"], err["loc"]
    if kind == "missing":
        return "required, but not set"
    if kind == "extra_forbidden":
        valid = _keys_at(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), valid, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        return f"unknown key; {hint}valid keys: {', '.join(valid)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a mapping of keys (got {_show(err['input'])})"
    if kind == "ip_v4_network":
        return f"must be an IPv4 CIDR block such as 10.0.0.0/16, host bits zero (got {_show(err['input'])})"
    message = err["msg"].removeprefix("Value error, ").replace("Input should be", "must be")
    message = message[0].lower() + message[1:]
    if kind in _UNSHOWN:
        return message
    return f"{message} (got {_show(err['input'])})"


def _show(value: Any) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump(by_alias=True)
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _model_in(annotation: Any) -> Any:
    """The config model inside a field's type (`X`, `X | None`, `list[X]`), or None."""
    if _is_model(annotation):
        return annotation
    return next((m for m in map(_model_in, getattr(annotation, "__args__", ())) if m is not None), None)


def _keys_at(loc: tuple) -> list[str]:
    """The valid keys of the section at `loc`, for the hint on an unknown key."""
    model: Any = StackConfig
    for part in loc:
        if isinstance(part, int):
            continue
        field = next((f for name, f in model.model_fields.items() if (f.alias or name) == part), None)
        annotation = getattr(field, "annotation", None)
        args = getattr(annotation, "__args__", None)
        model = args[0] if args and isinstance(args[0], type) else annotation
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return []
    return [f.alias or name for name, f in model.model_fields.items() if (f.alias or name) not in FOREIGN_KEYS]


def _parse(value: str) -> Any:
    """Structured config reaches the program as JSON text; plain strings stay strings."""
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def _all_config() -> dict[str, str]:
    # The Python SDK has no public "list all keys" call; unknown top-level keys can only be
    # rejected by looking at the whole map, the same one pulumi.Config reads.
    from pulumi.runtime import config as runtime_config

    return {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
