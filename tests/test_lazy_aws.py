"""The offline tools' lazy pulumi_aws namespaces (offline/harness/lazy_aws.py): the same objects, fewer imports."""

import subprocess
import sys
import textwrap

import pulumi_aws
import pytest
from helpers import FULL, SMALL, fixture

from offline.harness import ROOT, lazy_aws

pytestmark = pytest.mark.heavy  # compares in a process of its own


def loaded_namespaces() -> list[str]:
    return sorted(
        name
        for name in sys.modules
        if name.startswith("pulumi_aws.") and name.count(".") == 1 and name + "._inputs" in sys.modules
    )


def test_an_evaluation_loads_the_resource_modules_the_program_uses_and_not_the_rest():
    graph = fixture(SMALL)
    assert any(r.type == "aws:ec2/securityGroup:SecurityGroup" for r in graph.resources)
    assert isinstance(pulumi_aws.ec2.__spec__.loader, lazy_aws._Loader)
    assert "pulumi_aws.ec2.security_group" in sys.modules
    # Never used by the program: a full import of the namespace would have loaded them.
    assert "pulumi_aws.ec2.spot_fleet_request" not in sys.modules
    assert "pulumi_aws.ec2.transit_gateway" not in sys.modules


def test_every_name_of_every_namespace_the_program_uses_is_the_object_pulumi_aws_itself_exports():
    """For each namespace the `full` environment loads, every name the namespace's own __init__.py
    exports (its star imports of every resource, function, argument type and enum, and `outputs`),
    leads by its name to the module that defines it, is found through the lazy namespace (read first, in
    an order that reads `GetXResult` before `get_x`) without a full import of the namespace, and is the
    identical object the full import then gives. In a fresh process, which imports all of them."""
    fixture(FULL)
    namespaces = loaded_namespaces()
    assert "pulumi_aws.ec2" in namespaces and "pulumi_aws.wafv2" in namespaces
    script = textwrap.dedent(
        """
        import importlib, re, sys, types
        from pathlib import Path
        import offline  # installs the lazy namespaces
        from offline.harness import lazy_aws

        mismatched, compared = [], 0
        for name in sys.argv[1:]:
            lazy = importlib.import_module(name)
            init = Path(lazy.__spec__.origin)
            exported = ["outputs"] if (init.parent / "outputs.py").is_file() else []
            starred = re.findall(r"^from \\.(\\w+) import \\*$", init.read_text(), re.MULTILINE)
            by_key = {lazy_aws._key(module): module for module in starred}
            for submodule in starred:
                source = (init.parent / f"{submodule}.py").read_text()
                listed = re.search(r"^__all__ = \\[(.*?)\\]", source, re.M | re.S)
                names = re.findall(r"'(\\w+)'", listed.group(1))
                exported += names
                # Whatever order a program uses them in, a resource's or function's names lead to its module.
                mismatched += [
                    f"{name}.{n} does not lead to {submodule}"
                    for n in names
                    if submodule not in lazy_aws._SHARED and submodule not in [by_key.get(k) for k in lazy_aws._keys(n)]
                ]
            seen = {attribute: getattr(lazy, attribute) for attribute in sorted(exported)}
            mismatched += [f"{name} imported in full for {why}" for why in lazy_aws.FULL_IMPORTS]
            full = types.ModuleType(name + ".full")
            full.__package__ = name
            exec(compile(init.read_text(), str(init), "exec"), full.__dict__)
            for attribute, value in seen.items():
                compared += 1
                if value is not full.__dict__[attribute]:
                    mismatched.append(f"{name}.{attribute}")
        print(compared, mismatched)
        """
    )
    done = subprocess.run([sys.executable, "-c", script, *namespaces], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    compared, mismatched = done.stdout.split(" ", 1)
    assert int(compared) > 5000
    assert mismatched.strip() == "[]"
