"""Shared fixtures: each fixture environment of tests/fixtures/, evaluated once per session (see helpers.py)."""

import gc
from pathlib import Path

import pytest
from helpers import FULL, PRODLIKE, SMALL, fixture
from readme_edits import EDITED, REPOSITORY, ROOT, Edited, copy_repository, stack_files

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


@pytest.fixture(scope="session")
def edited_repository(tmp_path_factory) -> Edited:
    """A copy of the repository with the README's "Add a service" and "Add an environment" edits."""
    edited = Edited(copy_repository(tmp_path_factory.mktemp("edited-repository")))
    collected = Edited.stacks_after(stack_files(ROOT))
    assert edited.stacks == collected, f"the edits made {edited.stacks}, the tests were collected for {collected}"
    return edited


@pytest.fixture
def root(request, tree: str) -> Path:
    """The folder of the tree a test of the stack files runs on (readme_edits.parametrize_over_trees)."""
    if tree == REPOSITORY:
        return ROOT
    assert tree == EDITED, tree
    return request.getfixturevalue("edited_repository").root
