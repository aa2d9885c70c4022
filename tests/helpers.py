"""What many tests share: the shipped stacks' graphs (evaluated once per session) and config edits."""

import copy
import functools
from collections.abc import Callable
from typing import Any

from offline.harness import CapturedGraph, evaluate, stack_config


@functools.cache
def shipped(stack: str) -> CapturedGraph:
    """The graph of a stack exactly as its `Pulumi.<stack>.yaml` describes it."""
    graph = evaluate(stack)
    assert graph.error is None, graph.error
    return graph


def with_config(stack: str, change: Callable[[dict[str, Any]], Any]) -> CapturedGraph:
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
