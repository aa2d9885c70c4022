"""Captured graphs (and what holds them) as bytes and back: how a worker process hands its previews over, and
how tests keep one evaluation per config without sharing a mutable graph.

Plain pickle would do but for two things. The unknown-value markers are singletons that code
tests by identity (`value is UNKNOWN`): they come back as themselves, not as look-alikes. And
loading builds hundreds of thousands of objects, which would set off full runs of the cyclic
collector over everything alive: it is paused meanwhile.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

from . import sdk
from .engine import collector_paused
from .wire import UNKNOWN

# The singletons kept by identity, by the name they travel under.
_SINGLETONS: dict[str, Any] = {"harness-unknown": UNKNOWN, "sdk-unknown": sdk.OUTPUT_UNKNOWN}
_NAMES = {id(value): name for name, value in _SINGLETONS.items()}


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj: Any) -> str | None:
        return _NAMES.get(id(obj))


class _Unpickler(pickle.Unpickler):
    def persistent_load(self, pid: str) -> Any:
        return _SINGLETONS[pid]


def dumps(value: Any) -> bytes:
    out = io.BytesIO()
    with collector_paused():
        _Pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return out.getvalue()


def loads(data: bytes) -> Any:
    with collector_paused():
        return _Unpickler(io.BytesIO(data)).load()
