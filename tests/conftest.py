"""Shared fixtures: each fixture environment of tests/fixtures/, evaluated once per session (see helpers.py)."""

import pytest
from helpers import FULL, PRODLIKE, SMALL, fixture

from offline.harness import CapturedGraph


@pytest.fixture(scope="session")
def small() -> CapturedGraph:
    return fixture(SMALL)


@pytest.fixture(scope="session")
def prodlike() -> CapturedGraph:
    return fixture(PRODLIKE)


@pytest.fixture(scope="session")
def full() -> CapturedGraph:
    return fixture(FULL)


@pytest.fixture(params=[SMALL, PRODLIKE])
def env(request) -> CapturedGraph:
    """Each of the two example-shaped fixture environments in turn (`full` is asked for by name)."""
    return fixture(request.param)
