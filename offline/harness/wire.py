"""The engine's wire format, read one way or another: one walk over it, told what to make of each special value.

What the SDK sends the engine for a resource (a google.protobuf Struct) holds, besides plain JSON
values, four kinds of special value: secrets, resource references and output values (objects
marked with a signature key), assets and archives (the same), and unknowns (a sentinel string).
The readers of the wire differ only in what they make of those: the harness's plain values
(`plain`, below), the preview JSON (`offline/preview_json.py`) and the analyzer requests of the
policy check (`offline/policycheck.py`). `walk` visits everything else the same way for all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from google.protobuf import json_format

from . import sdk

# A special value's handler gets the special object and the walk itself, to read what it wraps.
Handler = Callable[[Mapping[str, Any], Callable[[Any], Any]], Any]


def walk(
    value: Any,
    *,
    secret: Handler | None = None,
    resource: Handler | None = None,
    output: Handler | None = None,
    asset: Handler | None = None,
    unknown: Any = sdk.UNKNOWN,
    leaf: Callable[[Any], Any] = lambda v: v,
) -> Any:
    """`value` with each special value replaced by what its handler returns.

    A special value without a handler is walked as an ordinary object; `asset` handles assets
    and archives alike. The unknown sentinel becomes `unknown`, and every other scalar
    `leaf(scalar)`. Objects come back as dicts with string keys, lists and tuples as lists.
    """
    handlers = {
        sig: handler
        for sig, handler in (
            (sdk.SECRET_SIG, secret),
            (sdk.RESOURCE_SIG, resource),
            (sdk.OUTPUT_VALUE_SIG, output),
            (sdk.ASSET_SIG, asset),
            (sdk.ARCHIVE_SIG, asset),
        )
        if handler is not None
    }

    def visit(v: Any) -> Any:
        if isinstance(v, Mapping):
            handler = handlers.get(v.get(sdk.SIG_KEY))
            if handler is not None:
                return handler(v, visit)
            return {str(k): visit(item) for k, item in v.items()}
        if isinstance(v, list | tuple):
            return [visit(item) for item in v]
        if isinstance(v, str) and v == sdk.UNKNOWN:
            return unknown
        return leaf(v)

    return visit(value)


def as_dict(struct: Any) -> dict[str, Any]:
    """A google.protobuf Struct as the JSON-like dict it encodes ({} for none)."""
    return json_format.MessageToDict(struct) if struct is not None else {}


def whole_numbers(value: Any) -> Any:
    """Wire numbers are all doubles: a whole one as an int, as the engine prints it."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


class Unknown:
    """A value the engine would only know after deployment (in preview runs)."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = Unknown()


def plain(struct: Any) -> dict[str, Any]:
    """Wire-format properties as plain Python: secrets unwrapped, unknowns as UNKNOWN, refs as URNs."""
    return walk(
        as_dict(struct),
        secret=lambda value, visit: visit(value.get("value")),
        resource=lambda value, visit: value.get("urn"),
        output=lambda value, visit: visit(value["value"]) if "value" in value else UNKNOWN,
        unknown=UNKNOWN,
        leaf=whole_numbers,
    )
