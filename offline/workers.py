"""Runs one function over several items in worker processes forked from this one, one per core.

The offline commands preview or check several stacks; each stack is one program run, which
takes one core. A worker forked after the imports starts with pulumi, the program's packages
and the pack already loaded, so the stacks run side by side without importing them again.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
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
    workers find `fn` and the items in what they inherit, and are sent only an item's place: `fn`
    need not pickle, and nothing is looked up by name while this process runs the program (which
    stands in for `__main__` meanwhile). The answers come back as `offline.harness.snapshot`
    bytes, so the markers of unknown values are still the harness's own. An exception is raised
    here as `fn` raised it (a worker's with its traceback as the cause); a worker that dies raises
    BrokenProcessPool. With one core, or no fork, all of it runs here.
    """
    workers = min(len(items), cores() if workers is None else workers)
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [fn(item) for item in items]
    answers: dict[int, Answer] = {}
    with _LOCK:  # one map at a time hands its work to the forks
        _WORK[:] = [fn, items]
        try:
            with ProcessPoolExecutor(workers - 1, mp_context=multiprocessing.get_context("fork")) as pool:
                try:
                    # The first submit forks the workers: `_WORK` is theirs from then on.
                    elsewhere = {i: pool.submit(_answer_as_bytes, i) for i in range(len(items)) if i % workers}
                    for i in range(0, len(items), workers):
                        answers[i] = fn(items[i])
                    for i, future in elsewhere.items():
                        answers[i] = snapshot.loads(future.result())
                except BaseException:
                    pool.shutdown(cancel_futures=True)  # what has not started will not: the error is the answer
                    raise
        finally:
            _WORK.clear()
    return [answers[i] for i in range(len(items))]


# The function and items of the map under way, as the forked workers inherit them.
_WORK: list[Any] = []
_LOCK = threading.Lock()


def _answer_as_bytes(i: int) -> bytes:
    fn, items = _WORK
    return snapshot.dumps(fn(items[i]))
