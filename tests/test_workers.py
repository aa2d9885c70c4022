"""offline.workers: how `tasks.py plan` and `tasks.py policy` share the stacks out between the cores."""

import os
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from offline.harness import UNKNOWN
from offline.workers import forked_map


def where(item: str) -> tuple[str, int, object]:
    return item, os.getpid(), UNKNOWN


def refuse(item: str) -> str:
    if item == "prod":
        raise ValueError(f"{item} refused")
    return item


def die(item: str) -> str:
    if item == "prod":
        os._exit(3)
    return item


def test_the_answers_come_back_in_the_order_of_the_items_from_processes_of_their_own():
    answers = forked_map(where, ["dev", "prod", "staging", "eu"], workers=2)
    assert [item for item, *_ in answers] == ["dev", "prod", "staging", "eu"]
    pids = {item: pid for item, pid, _ in answers}
    assert pids["dev"] == pids["staging"] == os.getpid()  # every other item runs here
    assert pids["prod"] == pids["eu"] != os.getpid()
    assert all(unknown is UNKNOWN for *_, unknown in answers)  # the harness's marker, not a copy of it


def test_an_error_in_a_worker_is_raised_here_with_the_workers_traceback():
    with pytest.raises(ValueError, match="prod refused") as raised:
        forked_map(refuse, ["dev", "prod"], workers=2)
    assert 'raise ValueError(f"{item} refused")' in str(raised.value.__cause__)


def children() -> set[str]:
    """This process's children, reaped or not (Linux)."""
    tasks = Path("/proc/self/task")
    return {pid for task in tasks.iterdir() for pid in (task / "children").read_text().split()}


def test_an_error_here_is_raised_as_it_is_and_leaves_no_worker_behind():
    before = children()
    with pytest.raises(ValueError, match="prod refused"):
        forked_map(refuse, ["prod", "dev"], workers=2)
    assert children() <= before


def test_a_worker_that_dies_is_an_error_here():
    with pytest.raises(BrokenProcessPool):
        forked_map(die, ["dev", "prod"], workers=2)


def test_one_worker_runs_everything_here():
    assert {pid for _, pid, _ in forked_map(where, ["dev", "prod"], workers=1)} == {os.getpid()}


def test_the_function_need_not_be_found_by_name():
    """The workers inherit the function: nothing is looked up by name while this process runs the program,
    which stands in for `__main__` meanwhile (`python3 tasks.py plan` runs as `__main__` itself)."""
    suffix = "-previewed"
    assert forked_map(lambda item: item + suffix, ["dev", "prod"], workers=2) == ["dev-previewed", "prod-previewed"]
