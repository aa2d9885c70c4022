"""Runs one function over several items in worker processes forked from this one, one per core.

The offline commands preview or check several stacks; each stack is one program run, which
takes one core. A worker forked after the imports starts with pulumi, the program's packages
and the pack already loaded, so the stacks run side by side without importing them again.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from offline.harness import snapshot

Item = TypeVar("Item")
Answer = TypeVar("Answer")


def cores() -> int:
    """The processors this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def forked_map(fn: Callable[[Item], Answer], items: Sequence[Item], *, workers: int | None = None) -> list[Answer]:
    """`[fn(item) for item in items]`, the items shared out between this process and workers forked from it.

    This process runs every `workers`-th item, the first included; a pool of `workers - 1` forked
    processes (the standard library's, with the fork start method) runs the others meanwhile. The
    workers get `fn` and the items as they are forked, and are sent only an item's place: `fn`
    need not pickle, and nothing is looked up by name while this process runs the program (which
    stands in for `__main__` meanwhile). The answers come back as `offline.harness.snapshot`
    bytes, so the markers of unknown values are still the harness's own. An exception is raised
    here as `fn` raised it, a worker's with its traceback as the cause (`WorkerTraceback`); a
    worker that dies raises BrokenProcessPool, and a worker whose parent dies ends too. With one
    core, or no fork, all of it runs here.
    """
    workers = min(len(items), cores() if workers is None else workers)
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [fn(item) for item in items]
    answers: dict[int, Answer] = {}
    fork = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers - 1, fork, initializer=_take_work, initargs=(fn, items, os.getpid())) as pool:
        try:
            elsewhere = {i: pool.submit(_answer_as_bytes, i) for i in range(len(items)) if i % workers}
            for i in range(0, len(items), workers):
                answers[i] = fn(items[i])
            for i, future in elsewhere.items():
                answers[i] = _answer(future.result())
        except BaseException:
            pool.shutdown(cancel_futures=True)  # what has not started will not: the error is the answer
            raise
    return [answers[i] for i in range(len(items))]


class WorkerTraceback(Exception):
    """Where an exception a worker raised came from: the worker's traceback, as text."""


# In a worker: the function and items of its map, from `_take_work`.
_WORK: tuple[Callable[[Any], Any], Sequence[Any]] | None = None


def _take_work(fn: Callable[[Any], Any], items: Sequence[Any], parent: int) -> None:
    """Runs first in each worker. With the fork start method its arguments are the parent's own objects."""
    global _WORK
    _WORK = (fn, items)
    _end_with(parent)


def _end_with(parent: int) -> None:
    # A worker that outlives its parent (killed, not interrupted) would wait for work forever: on Linux
    # the kernel ends it when the parent goes (prctl PR_SET_PDEATHSIG), and a parent already gone ends it now.
    with contextlib.suppress(OSError, AttributeError):  # no prctl (not Linux): it is left to the pool's shutdown
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _answer_as_bytes(i: int) -> bytes:
    """The answer for item `i`, or what it raised, as bytes the parent loads once this process is done."""
    assert _WORK is not None, "a worker runs `_take_work` first"
    fn, items = _WORK
    try:
        return snapshot.dumps(("ok", fn(items[i])))
    except BaseException as error:
        trace = traceback.format_exc()
        try:
            raised = snapshot.dumps(error)
        except Exception:  # an exception that does not pickle: its traceback still says what happened
            raised = None
        return snapshot.dumps(("error", trace, raised))


def _answer(data: bytes) -> Any:
    status, *rest = snapshot.loads(data)
    if status == "ok":
        return rest[0]
    trace, raised = rest
    try:
        error = snapshot.loads(raised) if raised is not None else None
    except Exception:
        error = None
    if error is None:
        raise RuntimeError(f"a worker failed:\n{trace}")
    raise error from WorkerTraceback(trace)
