"""Runs one function over several items in worker processes forked from this one, one per core.

The offline commands preview or check several stacks; each stack is one program run, which
takes one core. A worker forked after the imports starts with pulumi, the program's packages
and the pack already loaded, so the stacks run side by side without importing them again.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

from offline.harness import snapshot

Item = TypeVar("Item")
Answer = TypeVar("Answer")


def cores() -> int:
    """The processors this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def forked_map(fn: Callable[[Item], Answer], items: Sequence[Item], *, workers: int | None = None) -> list[Answer]:
    """`[fn(item) for item in items]`, the items shared out between this process and workers forked from it.

    This process runs every `workers`-th item, the first included; a pool of `workers - 1` forked
    processes (the standard library's, with the fork start method) runs the others meanwhile.
    `fn` and the items go to the pool by reference (a module's function, or a `functools.partial`
    of one); the answers come back as `offline.harness.snapshot` bytes, so the markers of unknown
    values are still the harness's own. An exception is raised here as `fn` raised it (a worker's
    with its traceback as the cause); a worker that dies raises BrokenProcessPool. With one core,
    or no fork, all of it runs here.
    """
    workers = min(len(items), cores() if workers is None else workers)
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [fn(item) for item in items]
    answers: dict[int, Answer] = {}
    with ProcessPoolExecutor(workers - 1, mp_context=multiprocessing.get_context("fork")) as pool:
        try:
            elsewhere = {i: pool.submit(_as_bytes, fn, item) for i, item in enumerate(items) if i % workers}
            for i in range(0, len(items), workers):
                answers[i] = fn(items[i])
            for i, future in elsewhere.items():
                answers[i] = snapshot.loads(future.result())
        except BaseException:
            pool.shutdown(cancel_futures=True)  # what has not started will not: the error is the answer
            raise
    return [answers[i] for i in range(len(items))]


def _as_bytes(fn: Callable[[Item], Answer], item: Item) -> bytes:
    return snapshot.dumps(fn(item))
