"""Runs the real program for a stack against Pulumi's mocked engine and records every registration.

`evaluate(stack)` reads `Pulumi.<stack>.yaml` (secure values become placeholders), runs
`__main__.py` in a fresh Pulumi context and records, for every resource the program registers,
what the engine would receive: type, name, URN, parent, inputs in wire format (camelCase) and
the options that matter (protect, dependencies, ignoreChanges, deleteBeforeReplace). Nothing
here calls AWS or the Pulumi CLI.

Two things differ from the SDK's own mock monitor, so that the capture is what the engine sees
and the same on every run:

- URNs are the engine's (`urns.py`), not the SDK mock's.
- The SDK sends each registration from a thread pool (`run_in_executor`), so registrations
  arrived in a different order on every run. Here the event loop's executor answers each call
  before the program goes on, in the order the program made them, which is the order an engine
  that answers at once receives them. Dependency lists, which the SDK and the engine both keep
  as sets (the engine's `mapset.ToSlice()` has no order), are sorted.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import gc
import json
import logging
import os
import runpy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pulumi
import yaml

from components.config.placeholders import SIMULATED_RUN
from policies.guardrails.types import STACK

from . import sdk, urns
from .graph import CapturedGraph, Resource
from .mock_aws import AwsMocks
from .stacks import PROJECT, ROOT, has_secret, stack_config
from .wire import plain


def evaluate(
    stack: str,
    config: dict[str, Any] | None = None,
    *,
    preview: bool = False,
    update: bool = False,
    program: Callable[[], Any] | None = None,
    root: Path | None = None,
) -> CapturedGraph:
    """Runs `__main__.py` for `stack` (with `config` instead of the stack file's, if given).

    With `preview=True` the mock behaves like `pulumi preview` of a new stack: computed
    outputs (ids, ARNs, endpoints) are unknown. With `update=True` the program runs as in a
    real `pulumi up`, where the checks that only stop real updates apply (a plain evaluation
    is a test run, neither). `program` replaces `__main__.py`, for tests that need a few
    hand-made resources. A program error is returned in `CapturedGraph.error`, with what was
    registered before it.

    `root` is the folder of another Pulumi project of the repository (`bootstrap/`): its
    `Pulumi.yaml` names the project, its `Pulumi.<stack>.yaml` holds the config, and the folder
    runs as the Python language host runs a program, with the folder on `sys.path`.
    """
    if preview and update:
        raise ValueError("a run is a preview or an update, not both")
    root = ROOT if root is None else Path(root).resolve()
    config = stack_config(stack, root) if config is None else config
    if root == ROOT:
        project, main = PROJECT, ROOT / "__main__.py"
    else:
        project, main = yaml.safe_load((root / "Pulumi.yaml").read_text())["name"], root
    program = program or (lambda: runpy.run_path(str(main), run_name="__main__"))
    run = "preview" if preview else "update" if update else "test"
    return contextvars.Context().run(_run, stack, config, run, program, project, root)


def _run(
    stack: str, config: dict[str, Any], run: str, program: Callable[[], Any], project: str, root: Path
) -> CapturedGraph:
    preview = run == "preview"
    SIMULATED_RUN.set(run)
    graph = CapturedGraph(stack=stack, resources=[], outputs={})
    monitor = _CapturingMonitor(AwsMocks(config.get("aws:region") or "us-east-1", preview), graph, project)
    sdk.install_mocks(
        monitor, _GraphLog(graph), project=project, stack=stack, dry_run=preview, root_directory=str(root)
    )
    sdk.set_config(
        {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()},
        [key for key, value in config.items() if has_secret(value)],
    )
    # The SDK runs the program on the thread's event loop (where Outputs made before the run live too).
    loop = asyncio.get_event_loop_policy().get_event_loop()
    loop.set_default_executor(_IN_ORDER)
    _IN_ORDER.program_loop = loop
    try:
        with collector_paused():
            sdk.run(program)
    except pulumi.RunError as error:
        graph.error = str(error)
    finally:
        _IN_ORDER.program_loop = None
    return graph


@contextmanager
def collector_paused() -> Iterator[None]:
    """Runs the block without Python's cyclic garbage collector, which a run keeps triggering for nothing.

    A run allocates hundreds of thousands of objects (Outputs, futures, protobuf values) that stay
    alive until it ends, so every collection during the run finds no garbage; but each full
    collection walks everything alive, the run's objects included, and their number grows with
    the environment: with the collector on, twice the services cost well over twice the time.
    The cycles a run leaves behind are collected by the first collections after it.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class _InOrder(concurrent.futures.ThreadPoolExecutor):
    """The engine's executor: answers each call before the program goes on, so answers arrive in the order asked.

    The SDK hands every call to the engine to its loop's executor, as it would a blocking gRPC
    call, and the SDK's mock monitor runs an event loop inside each call (`_sync_await`). On a
    thread of its own that is the thread's own loop. A call made by the program's run is
    answered on the spot in the program's thread instead, with the program's loop (running, and
    the thread's set loop) set aside for an engine loop meanwhile, as on a thread of its own:
    switching threads twice per call was a fifth of the harness's time per registration. The SDK
    copies the caller's context into every call, so each runs in a context of its own either way.
    Any other call (no loop running, another loop, or after the run) goes to the worker thread.

    A ThreadPoolExecutor, because that is all `set_default_executor` takes; the SDK's settings
    are the process's, so one program runs at a time and the engine loop is never shared.
    """

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="mock-engine")
        # The loop `_run` runs the program on: the calls made from it are answered on the spot.
        self.program_loop: asyncio.AbstractEventLoop | None = None
        self._engine_loop: asyncio.AbstractEventLoop | None = None

    def submit(self, fn, /, *args, **kwargs):
        program_loop = asyncio._get_running_loop()
        if program_loop is None or program_loop is not self.program_loop:
            future = super().submit(fn, *args, **kwargs)
            concurrent.futures.wait([future])
            return future
        if self._engine_loop is None:
            self._engine_loop = asyncio.new_event_loop()
        try:
            asyncio._set_running_loop(None)
            asyncio.set_event_loop(self._engine_loop)
            return _settled(*_answer(fn, args, kwargs))
        finally:
            asyncio.set_event_loop(program_loop)
            asyncio._set_running_loop(program_loop)

    def start_afresh_after_fork(self) -> None:
        """In a forked process: none of the parent's threads, and the same object for the loops that have it.

        The parent's engine loop is kept, unused and never closed: closing it would take its wake-up
        pipe out of the polling object the parent still shares with this process.
        """
        _INHERITED_LOOPS.append(self._engine_loop)
        self.__init__()


_INHERITED_LOOPS: list[asyncio.AbstractEventLoop | None] = []


def _answer(fn: Callable[..., Any], args: tuple, kwargs: dict) -> tuple[Any, BaseException | None]:
    """`fn`'s result, or what it raised for the program's await to raise, as a thread pool hands it over;
    an interrupt stops the program at once."""
    try:
        return fn(*args, **kwargs), None
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:
        return None, error


def _settled(result: Any, error: BaseException | None) -> concurrent.futures.Future:
    # Made here, not where the call ran: an error's traceback keeps that frame and its callers', and
    # a future among their locals would hold itself in a cycle for the collector to find.
    future: concurrent.futures.Future = concurrent.futures.Future()
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)
    return future


_IN_ORDER = _InOrder()
os.register_at_fork(after_in_child=_IN_ORDER.start_afresh_after_fork)


class _GraphLog:
    """The mock engine's logger: warnings go to the graph; errors to Python's logging, as before; the rest nowhere."""

    def __init__(self, graph: CapturedGraph):
        self.graph = graph

    def warning(self, message: str) -> None:
        self.graph.warnings.append(message)

    def error(self, message: str) -> None:
        logging.getLogger().error(message)

    def debug(self, message: str) -> None: ...

    def info(self, message: str) -> None: ...


class _CapturingMonitor(sdk.MockMonitor):
    """The SDK's mock monitor, recording each registration and invoke as the engine would receive it."""

    def __init__(self, mocks: AwsMocks, graph: CapturedGraph, project: str):
        super().__init__(mocks)
        self.graph = graph
        self.project = project
        # URN -> the resources registered under it: RegisterResourceOutputs finds its own without a scan.
        self.by_urn: dict[str, list[Resource]] = {}

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        return urns.urn(self.graph.stack, self.project, parent, type_, name)

    def Invoke(self, request):
        self.graph.invokes.append((request.tok, plain(request.args)))
        self.graph.invoke_providers.append((request.tok, request.provider, request.version))
        return super().Invoke(request)

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        resource = Resource(
            urn=response.urn,
            id=response.id,
            type=request.type,
            name=request.name,
            parent=request.parent,
            custom=request.custom,
            provider=request.provider,
            providers=dict(request.providers),
            inputs=plain(request.object),
            wire_inputs=request.object,
            dependencies=sorted(request.dependencies),
            property_dependencies={k: sorted(v.urns) for k, v in request.propertyDependencies.items()},
            protect=bool(request.protect),
            ignore_changes=list(request.ignoreChanges),
            delete_before_replace=request.deleteBeforeReplace,
            outputs=sdk.registered_state(self, response.urn),
            version=request.version,
            plugin_download_url=request.pluginDownloadURL,
            remote=request.remote,
            retain_on_delete=bool(request.retainOnDelete),
        )
        self.graph.resources.append(resource)
        self.by_urn.setdefault(resource.urn, []).append(resource)
        return response

    def RegisterResourceOutputs(self, request):
        # Components (and the stack, whose outputs are the exports) report outputs here.
        outputs = plain(request.outputs)
        if request.urn.split("::")[2] == STACK:
            self.graph.outputs = outputs
        for resource in self.by_urn.get(request.urn, []):
            resource.outputs = {**resource.outputs, **outputs}
        return super().RegisterResourceOutputs(request)
