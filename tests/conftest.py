"""Shared fixtures: each fixture environment of tests/fixtures/, evaluated once per session (see helpers.py)."""

import gc

import pytest
from helpers import FULL, PRODLIKE, SMALL, fixture

from offline.harness import CapturedGraph


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules marked `heavy` first: under xdist each module runs on one worker (tasks.py), and
    the few modules that run commands or previews in processes of their own then overlap the
    rest of the suite instead of being left for the end."""
    heavy = {item.module for item in items if item.get_closest_marker("heavy")}
    items.sort(key=lambda item: item.module not in heavy)


def pytest_collection_finish(session) -> None:
    """Keeps the collector off what every test imported: walking those modules' objects never frees anything."""
    gc.collect()
    gc.freeze()


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
