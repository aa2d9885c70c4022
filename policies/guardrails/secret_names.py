"""Which environment variable names look like they hold a secret: one rule for the pack and the program's config.

A plain environment variable of a container is readable in the task definition, the ECS
console and the state; a value such a name suggests belongs under `secrets`, as a reference to
Secrets Manager or SSM. The pack's `ecs-no-secrets-in-environment` policy applies this rule to
every task definition, and the program's service config reads it too, so that a config the
program accepts is one the pack accepts. This module imports only `re`: the program's
virtualenv has none of the pack's dependencies.
"""

from __future__ import annotations

import re
from typing import Any

SECRET_LOOKING = re.compile(
    r"PASSWORD|PASSWD|PWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL|AUTH_KEY|SESSION_KEY",
    re.IGNORECASE,
)
# Names that point at a secret rather than holding one.
REFERENCE_SUFFIX = re.compile(r"_(ARN|NAME|ID|PATH|PARAM|PARAMETER|REF|FILE|URL_PARAM)$", re.IGNORECASE)


def looks_secret(name: str) -> bool:
    """True for a name that suggests a secret and does not end like a reference to one.

    `DB_PASSWORD` looks secret; `DB_PASSWORD_ARN` names where the secret is kept.
    """
    return bool(SECRET_LOOKING.search(name)) and not REFERENCE_SUFFIX.search(name)


def holds_plain_secret(name: str, value: Any) -> bool:
    """True for a variable whose name looks secret, unless its value is an ARN (a reference, not the secret)."""
    return looks_secret(name) and not (isinstance(value, str) and value.startswith("arn:"))
