"""Shared fixtures: each shipped stack, evaluated once per test session under mocks (helpers.py has the rest)."""

import pytest
from helpers import shipped

from offline.harness import CapturedGraph, stack_names


@pytest.fixture(scope="session")
def dev() -> CapturedGraph:
    return shipped("dev")


@pytest.fixture(scope="session")
def prod() -> CapturedGraph:
    return shipped("prod")


@pytest.fixture(params=stack_names())
def stack(request) -> CapturedGraph:
    """Each shipped stack in turn."""
    return shipped(request.param)
