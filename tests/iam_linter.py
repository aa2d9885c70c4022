"""The parliament IAM linter as the tests run it: one statement at a time, each distinct statement once per process."""

from __future__ import annotations

import functools
import json
from typing import Any

import parliament.statement
from parliament import analyze_policy_string

# parliament finds an action's entry by scanning AWS's whole list of services every time it meets the
# action (`statement.get_privilege_info`): most of what linting cost the suite. The lookup reads nothing
# but that list and returns the list's own entry, annotated the same way on every call, so remembering
# it changes no finding.
parliament.statement.get_privilege_info = functools.cache(parliament.statement.get_privilege_info)


def issues(statement: dict[str, Any]) -> list[str]:
    """The issues parliament finds in one IAM policy statement, its community auditors included."""
    return list(_issues(json.dumps(statement, sort_keys=True)))


@functools.cache
def _issues(statement: str) -> tuple[str, ...]:
    policy = analyze_policy_string(
        f'{{"Version": "2012-10-17", "Statement": [{statement}]}}', include_community_auditors=True
    )
    return tuple(finding.issue for finding in policy.findings)
