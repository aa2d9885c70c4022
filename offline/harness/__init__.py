"""The mocked engine: runs the real program for a stack and captures what the Pulumi engine would receive.

Tests, the offline policy check and the offline preview all read environments through
`evaluate(stack)`, which returns a `CapturedGraph`. Inside: `engine.py` runs the program and
records each registration (in one order on every run), `urns.py` builds URNs as the engine does,
`mock_aws.py` answers as AWS would (ids, ARNs, computed outputs, invokes), `stacks.py` reads the
stack files (a broken one is a one-line `StackFileError`), `graph.py` is the result's shape,
`wire.py` reads the engine's wire format, `sdk.py` is the only door to the Pulumi SDKs'
internals and `lazy_aws.py` makes pulumi_aws load only the modules a run uses (`offline/__init__.py`
installs it, before anything imports pulumi_aws). The
offline tools (`offline/*.py`) build on this package; nothing here imports them.
"""

from .engine import evaluate
from .graph import CapturedGraph, Resource
from .stacks import PROJECT, ROOT, Secret, StackFileError, stack_config, stack_names
from .wire import UNKNOWN

__all__ = [
    "PROJECT",
    "ROOT",
    "UNKNOWN",
    "CapturedGraph",
    "Resource",
    "Secret",
    "StackFileError",
    "evaluate",
    "stack_config",
    "stack_names",
]
