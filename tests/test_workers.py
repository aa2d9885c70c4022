"""offline.workers: how `tasks.py plan` and `tasks.py policy` share the stacks out between the cores."""

import os
import signal
import subprocess
import sys
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from offline.harness import UNKNOWN
from offline.workers import WorkerTraceback, forked_map


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
    assert isinstance(raised.value.__cause__, WorkerTraceback)
    assert 'raise ValueError(f"{item} refused")' in str(raised.value.__cause__)


class Unpicklable(Exception):
    def __reduce__(self):
        raise TypeError("not this one")


def refuse_oddly(item: str) -> str:
    if item == "prod":
        raise Unpicklable("prod refused oddly")
    return item


def test_an_error_that_cannot_travel_still_says_what_happened():
    with pytest.raises(RuntimeError, match=r"(?s)a worker failed:.*Unpicklable: prod refused oddly"):
        forked_map(refuse_oddly, ["dev", "prod"], workers=2)


WORKER_OUTLIVES = """
import os, sys, time
sys.path.insert(0, {root!r})
from offline.workers import WorkerTraceback, forked_map

def wait(item):
    if item == "worker":
        open({pid_file!r}, "w").write(str(os.getpid()))
    time.sleep(60)

forked_map(wait, ["parent", "worker"], workers=2)
"""


def ended(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0] in {"Z", "X"}
    except FileNotFoundError:
        return True


def test_a_worker_ends_when_its_parent_is_killed(tmp_path):
    """A CI job's timeout may kill the command and not its workers: they end with it instead of waiting forever."""
    pid_file = tmp_path / "worker.pid"
    script = WORKER_OUTLIVES.format(root=str(Path(__file__).resolve().parent.parent), pid_file=str(pid_file))
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        for _ in range(600):
            if pid_file.exists() and pid_file.read_text():
                break
            time.sleep(0.05)
        worker = int(pid_file.read_text())
    finally:
        parent.kill()
        parent.wait()
    for _ in range(200):
        if ended(worker):
            break
        time.sleep(0.05)
    else:
        os.kill(worker, signal.SIGKILL)
        pytest.fail("the worker outlived its parent")


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
