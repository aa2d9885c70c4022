"""Runs one function over several items in worker processes forked from this one, one per core.

The offline commands preview or check several stacks; each stack is one program run, which
takes one core. A worker forked after the imports starts with pulumi, the program's packages
and the pack already loaded, so the stacks run side by side without importing them again.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Sequence
from typing import TypeVar

from offline.harness import snapshot

Item = TypeVar("Item")
Answer = TypeVar("Answer")


def cores() -> int:
    """The processors this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def forked_map(fn: Callable[[Item], Answer], items: Sequence[Item], *, workers: int | None = None) -> list[Answer]:
    """`[fn(item) for item in items]`, the items shared out between this process and workers forked from it.

    Each worker runs `fn` on its share and sends the answers back as bytes (`offline.harness.snapshot`,
    so they must pickle); this process runs the first share meanwhile. An exception in a worker is
    raised here as a RuntimeError with the worker's traceback. With one core, or no `os.fork`, all
    of it runs here.
    """
    workers = min(len(items), cores() if workers is None else workers)
    if workers < 2 or not hasattr(os, "fork"):
        return [fn(item) for item in items]
    shares = [list(items[i::workers]) for i in range(workers)]
    children = []
    for share in shares[1:]:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker
            os.close(read)
            code = 0
            try:
                payload = ("ok", [fn(item) for item in share])
            except BaseException as error:  # the parent raises it, with this traceback
                payload, code = ("error", f"{type(error).__name__}: {error}\n{traceback.format_exc()}"), 1
            with os.fdopen(write, "wb") as out:
                out.write(snapshot.dumps(payload))
            os._exit(code)
        os.close(write)
        children.append((pid, read))
    answers = {i: answer for i, answer in zip(range(0, len(items), workers), map(fn, shares[0]), strict=True)}
    for offset, ((pid, read), share) in enumerate(zip(children, shares[1:], strict=True), start=1):
        with os.fdopen(read, "rb") as pipe:
            data = pipe.read()
        os.waitpid(pid, 0)
        names = ", ".join(map(str, share))
        if not data:
            raise RuntimeError(f"the worker for {names} ended without an answer")
        status, value = snapshot.loads(data)
        if status != "ok":
            raise RuntimeError(f"the worker for {names} failed: {value}")
        answers.update(zip(range(offset, len(items), workers), value, strict=True))
    return [answers[i] for i in range(len(items))]
