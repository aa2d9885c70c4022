"""Example values that must never reach a real deployment: reserved domains and documentation account ids.

The shipped stack files are examples. A real `pulumi up` with `example.com` in it would wait on
a certificate nobody can validate; with the documentation account `123456789012` in a secret
ARN, tasks would start and fail. `load()` finds such values anywhere in the stack config and,
on a real update, stops with one line per key to replace; in a preview they are warnings.

Reserved domains: `example.com`, `example.net`, `example.org` and their subdomains (RFC 2606,
section 3), and names under the `.example`, `.test`, `.invalid` and `.localhost` top-level
domains (RFC 2606 section 2, RFC 6761 section 6). A bare `localhost` is a legitimate host inside
a container (health checks), so only names under it count. Documentation account ids: the ones
AWS documentation uses in its examples.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

import pulumi

DOCUMENTATION_ACCOUNTS = ("123456789012", "111122223333", "444455556666")

_ACCOUNT = re.compile(rf"(?<!\d)({'|'.join(DOCUMENTATION_ACCOUNTS)})(?!\d)")
# A domain name (labels of letters, digits, hyphens; a leading "*." for wildcards) that ends in a
# reserved second-level domain or top-level domain, not followed by more name characters.
_DOMAIN = re.compile(
    r"(?<![\w.-])((?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)*"
    r"(?:example\.(?:com|net|org)|[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.(?:example|test|invalid|localhost)))"
    r"\.?(?![\w-]|\.[a-z0-9])",
    re.IGNORECASE,
)

# Keys whose values are paths inside the application's source, where `Dockerfile.test` is a file.
SOURCE_PATH_KEYS = frozenset({"dockerfile", "buildContext"})
SOURCE_OBJECT_KEY = ("source", "s3", "key")

# The offline harness runs the program with is_dry_run() False to see deployed-looking outputs,
# which is not a real update; it says here which run it stands for ("preview", "update" or
# "test"). Outside the harness this stays None and the engine's dry-run flag decides.
SIMULATED_RUN: ContextVar[str | None] = ContextVar("ecs_platform_simulated_run", default=None)


def is_real_update() -> bool:
    """True for `pulumi up` (and the harness imitating it), False for previews and tests."""
    simulated = SIMULATED_RUN.get()
    if simulated is not None:
        return simulated == "update"
    return not pulumi.runtime.is_dry_run()


def find(key: str, value: Any) -> Iterator[str]:
    """One line per key path under config key `key` whose value holds a placeholder."""
    for path, text in _strings(value, key, ()):
        found: list[str] = []
        for account in dict.fromkeys(_ACCOUNT.findall(text)):
            found.append(f"{account} is a documentation account id")
        if not _is_source_path(path):
            for domain in dict.fromkeys(m.lower().rstrip(".") for m in _DOMAIN.findall(text)):
                found.append(f'"{domain}" is a reserved example domain (RFC 2606/6761)')
        if found:
            yield f"{_render(key, path)}: {'; '.join(found)}; replace it with your own before deploying"


def check(values: dict[str, Any]) -> None:
    """Stops a real update on any placeholder in the stack config (`values`: config key -> value); warns otherwise."""
    lines = [line for key, value in values.items() for line in find(key, value)]
    if not lines:
        return
    if is_real_update():
        raise pulumi.RunError("\n".join(lines))
    for line in lines:
        pulumi.log.warn(line)


def _strings(value: Any, key: str, path: tuple) -> Iterator[tuple[tuple, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, key, (*path, str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, key, (*path, i))


def _is_source_path(path: tuple) -> bool:
    names = [p for p in path if isinstance(p, str)]
    return bool(names) and (names[-1] in SOURCE_PATH_KEYS or tuple(names[-3:]) == SOURCE_OBJECT_KEY)


def _render(key: str, path: tuple) -> str:
    """`ecs-platform:services[1].secrets.API_KEY`, the way config errors name keys."""
    text = key
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text
