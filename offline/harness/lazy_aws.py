"""Imports of pulumi_aws's service namespaces that load only the resources a program names.

`pulumi_aws` loads a namespace (`aws.ec2`, `aws.wafv2`, ...) on its first use, and then all of
it: each namespace's `__init__.py` star-imports every resource and function module it has,
though a program uses a few (the environments use 14 of ec2's 181 modules). Those imports are
most of what a preview costs before the program's first line runs.

`install()` puts a finder first on `sys.meta_path` that gives each `pulumi_aws.<namespace>`
package an empty body and a module `__getattr__` (PEP 562) instead. On a name's first use it does
the star import of `__init__.py` that brings the name, guessed from the name (`WebAcl`,
`WebAclArgs` -> `from .web_acl import *`; `get_parameter`, `GetParameterResult` ->
`from .get_parameter import *`), else imports the submodule of that name (`outputs`), else does
the star imports of the shared `_inputs` and `_enums`. A name found nowhere runs the namespace's
own `__init__.py` into the package. Every name is the object the normal import gives (the same
class from the same module file; tests/test_lazy_aws.py compares every name of every namespace the
`full` fixture environment loads): only when the code behind each name runs differs.

Limits, none of which the program or awsx meets: `dir()` and `from pulumi_aws.ec2 import *` see
only the names used so far, and importing a function's module directly
(`import pulumi_aws.ssm.get_parameter`) before the function is used binds the module, not the
function, to `aws.ssm.get_parameter`, as the import system does for any submodule.

The offline tools and the tests install it; the program itself (`pulumi up`, `pulumi preview`)
imports pulumi_aws as it is.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import re
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

PACKAGE = "pulumi_aws"
# `from .web_acl import *` lines of a namespace's __init__.py.
_STAR_IMPORT = re.compile(r"^from \.(\w+) import \*$", re.MULTILINE)
# The shared modules a namespace star-imports (argument types, enums): the rest are one resource or function each.
_SHARED = ("_inputs", "_enums")
_AFFIXES = re.compile(r"^Awaitable|(?:InitArgs|Args|Result|State|_output)$")
# Names that were not where their names say, so their namespace ran its own __init__.py (in this
# process): a program still gets them, only not lazily. tests/test_lazy_aws.py expects none.
FULL_IMPORTS: list[str] = []


def install() -> None:
    """Makes later first imports of pulumi_aws namespaces lazy (once per process)."""
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder())


def _key(name: str) -> str:
    """`WebAcl`, `web_acl` -> `webacl`."""
    return name.replace("_", "").lower()


def _keys(name: str) -> list[str]:
    """Where a name may come from: `WebAclArgs` -> `webaclargs`, `webacl`; `InstanceDesiredState` (a resource)
    -> `instancedesiredstate`, `instancedesired`; `ClusterInitArgs` (a resource's arguments, named so where
    `ClusterArgs` is an argument type) -> ..., `cluster`; `get_web_acl_output` -> ..., `getwebacl`."""
    return list(dict.fromkeys([_key(name), _key(_AFFIXES.sub("", name))]))


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        package, _, namespace = fullname.partition(".")
        if package != PACKAGE or not namespace or "." in namespace:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.origin is None or not spec.submodule_search_locations:
            return None
        spec.loader = _Loader(spec.loader, Path(spec.origin))
        return spec


class _Loader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader, init: Path):
        self.loader, self.init = loader, init

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, package: ModuleType) -> None:
        starred = _STAR_IMPORT.findall(self.init.read_text())
        by_key = {_key(name): name for name in starred if name not in _SHARED}
        shared = [name for name in _SHARED if name in starred]
        loader, complete = self.loader, False
        # One first use at a time: a name another thread is importing is then found, not refused.
        lock = threading.RLock()

        def star_import(submodule: str) -> None:
            """`from .<submodule> import *`, as the namespace's __init__.py does it."""
            module = importlib.import_module(f"{package.__name__}.{submodule}")
            for name in module.__all__:
                setattr(package, name, getattr(module, name))

        def resolve(name: str) -> Any:
            with lock:
                if name in vars(package):  # imported by another thread meanwhile
                    return vars(package)[name]
                return first_use(name)

        def first_use(name: str) -> Any:
            nonlocal complete
            if name.startswith("__") or complete:
                raise AttributeError(f"module {package.__name__!r} has no attribute {name!r}")
            for submodule in [by_key[key] for key in _keys(name) if key in by_key]:
                star_import(submodule)
                if name in vars(package):
                    return vars(package)[name]
            if (self.init.parent / f"{name}.py").is_file():  # `from . import outputs`
                return importlib.import_module(f"{package.__name__}.{name}")
            for submodule in shared:
                star_import(submodule)
                if name in vars(package):
                    return vars(package)[name]
            # A name not where its name says: the namespace as its own __init__.py builds it.
            complete = True
            FULL_IMPORTS.append(f"{package.__name__}.{name}")
            loader.exec_module(package)
            return getattr(package, name)

        package.__getattr__ = resolve
