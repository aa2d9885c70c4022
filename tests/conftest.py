"""Shared fixtures: each shipped stack is evaluated once per test session under mocks."""

import copy
import functools
from collections.abc import Callable
from typing import Any

import pytest

from offline.harness import Graph, evaluate, stack_config, stack_names


@functools.cache
def shipped(stack: str) -> Graph:
    """The graph of a stack exactly as its `Pulumi.<stack>.yaml` describes it."""
    graph = evaluate(stack)
    assert graph.error is None, graph.error
    return graph


@pytest.fixture(scope="session")
def dev() -> Graph:
    return shipped("dev")


@pytest.fixture(scope="session")
def prod() -> Graph:
    return shipped("prod")


@pytest.fixture(params=stack_names())
def stack(request) -> Graph:
    """Each shipped stack in turn."""
    return shipped(request.param)


def with_config(stack: str, change: Callable[[dict[str, Any]], Any]) -> Graph:
    """Evaluates `stack` after `change` edited a copy of its config map."""
    config = copy.deepcopy(stack_config(stack))
    change(config)
    return evaluate(stack, config)


def config_error(stack: str, change: Callable[[dict[str, Any]], Any]) -> str:
    """The error a config change causes; asserts that the program registered no resource first."""
    graph = with_config(stack, change)
    assert graph.error, "the program accepted the config"
    assert graph.registered == [], f"registered {[r.name for r in graph.registered]} before failing"
    return graph.error
