"""What many tests share: the fixture environments (evaluated once per session), config edits and their pack check.

Tests that assert on an environment's content read it from `tests/fixtures/` (see the README
there), never from the repository's `Pulumi.<stack>.yaml` files: those are the team's examples,
edited freely, and get only the checks in `test_stack_files.py` that hold for any valid stack.
"""

import copy
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from offline import policycheck
from offline.harness import CapturedGraph, Secret, evaluate, mock_aws, snapshot, stack_config

FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The fixture environments: `small` and `prodlike` are the shapes of the two examples the
# project started with, `full` has every option on, `natinstance` egresses through a NAT instance.
SMALL, PRODLIKE, FULL, NAT_INSTANCE = "small", "prodlike", "full", "natinstance"
FIXTURE_NAMES = (SMALL, PRODLIKE, FULL, NAT_INSTANCE)


def fixture_config(name: str) -> dict[str, Any]:
    """The config map of `tests/fixtures/Pulumi.<name>.yaml` as the program reads it (secure values: placeholders).

    Each caller gets a copy of its own to edit; the file is read once per test process.
    """
    return copy.deepcopy(_fixture_config(name))


@functools.cache
def _fixture_config(name: str) -> dict[str, Any]:
    path = FIXTURES / f"Pulumi.{name}.yaml"
    assert path.is_file(), f"no fixture {path.name} in {FIXTURES}"
    return stack_config(name, root=FIXTURES)


def fixture(name: str) -> CapturedGraph:
    """The graph of the fixture environment `name` (its stack is `name` too)."""
    graph = evaluate_fixture(name)
    assert graph.error is None, graph.error
    return graph


def evaluate_fixture(name: str, **options: Any) -> CapturedGraph:
    """The fixture environment `name` evaluated with `evaluate`'s options (`preview=True`, `update=True`)."""
    return evaluated(name, fixture_config(name), **options)


def with_config(name: str, change: Callable[[dict[str, Any]], Any], **options: Any) -> CapturedGraph:
    """Evaluates the fixture environment `name` after `change` edited a copy of its config map."""
    config = fixture_config(name)
    change(config)
    return evaluated(name, config, **options)


# One evaluation per distinct run in a test process, kept as bytes: each caller gets a graph of
# its own (loaded from them), as fresh as a new evaluation and as free to change.
_EVALUATIONS: dict[tuple[Any, ...], bytes] = {}


def evaluated(stack: str, config: dict[str, Any], **options: Any) -> CapturedGraph:
    """`evaluate(stack, config, **options)` of this repository's program, evaluated once per test process.

    A run is the same run when everything it reads is the same: the stack, the config (secret
    placeholders told apart from plain strings), evaluate's options, and the mocked AWS answers
    tests may change (`offline.harness.mock_aws`'s module state, e.g. STACK_OUTPUTS). Runs of
    another program or project folder (`program=`, `root=`) are not kept.
    """
    if "program" in options or "root" in options:
        return evaluate(stack, config, **options)
    key = (stack, _frozen(config), tuple(sorted(options.items())), _mock_state())
    data = _EVALUATIONS.get(key)
    if data is None:
        graph = evaluate(stack, config, **options)
        _EVALUATIONS[key] = snapshot.dumps(graph)
        return graph
    return snapshot.loads(data)


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        return ("dict", tuple((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(_frozen(v) for v in value))
    if isinstance(value, Secret):
        return ("secret", str(value))
    return (type(value).__name__, value)


def _mock_state() -> str:
    """What the mocked AWS answers from: its module's values (dicts of answers, their functions by identity)."""
    return repr(
        sorted(
            (name, value)
            for name, value in vars(mock_aws).items()
            if not name.startswith("__") and isinstance(value, dict | list | set | str | int | float | bool | tuple)
        )
    )


def config_error(name: str, change: Callable[[dict[str, Any]], Any]) -> str:
    """The error a config change causes; asserts that the program registered no resource first."""
    graph = with_config(name, change)
    assert graph.error, "the program accepted the config"
    assert graph.registered == [], f"registered {[r.name for r in graph.registered]} before failing"
    return graph.error


def pack_config(name: str) -> dict[str, Any]:
    """The policy pack config of a fixture environment: `tests/fixtures/policies/config.<name>.json`."""
    return json.loads((FIXTURES / "policies" / f"config.{name}.json").read_text())


def check(graph: CapturedGraph, config: dict[str, Any] | None = None, *, dry_run: bool = False) -> policycheck.Result:
    """The offline policy check of a fixture graph, with its fixture pack config unless `config` is given."""
    return checked(graph, pack_config(graph.stack) if config is None else config, dry_run=dry_run)


# One pack check per distinct graph and pack config in a test process, kept as bytes like the
# evaluations: many tests check the same fixture environment, and a check costs more than the
# evaluation (the pack reads every resource's properties once per policy).
_CHECKS: dict[tuple[Any, ...], bytes] = {}


def checked(graph: CapturedGraph, config: dict[str, Any] | None = None, *, dry_run: bool = False) -> policycheck.Result:
    """`policycheck.check(graph, config, dry_run=dry_run)`, run once per test process for the same graph
    (the same bytes: any change a test made to it is another graph) and the same pack config; each caller
    gets a result of its own. `config` None: the repository's `policies/config.<stack>.json`, as there."""
    config = policycheck.pack_config(graph.stack) if config is None else config
    key = (snapshot.dumps(graph), _frozen(config), dry_run)
    data = _CHECKS.get(key)
    if data is None:
        result = policycheck.check(graph, config, dry_run=dry_run)
        _CHECKS[key] = snapshot.dumps(result)
        return result
    return snapshot.loads(data)
