"""The policy pack as the Pulumi CLI gets it: the folder `policies/` alone, run with its own requirements."""

import ast
import importlib.metadata
import re
import select
import shutil
import subprocess
import sys
from pathlib import Path

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2_grpc

from offline.harness import ROOT
from policies.guardrails.pack import NAME, all_policies

PACK = ROOT / "policies"


def pack_files() -> list[Path]:
    return [p for p in PACK.rglob("*.py") if "venv" not in p.relative_to(PACK).parts]


def test_the_pack_copied_alone_starts_as_the_cli_runs_it_and_answers_over_grpc(tmp_path):
    # What `pulumi policy publish` ships, and what the CLI runs: the folder, under another name,
    # with nothing of the repository beside it or on the path.
    copy = tmp_path / "ecs-platform-pack"
    shutil.copytree(PACK, copy, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    # Python would hold the port line in its pipe buffer until exit; unbuffered, it arrives when written.
    env = {"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"}
    # The CLI's command line for a Python pack: `<pack venv python> -m pulumi.policy <engine> <pack folder>`.
    process = subprocess.Popen(
        [sys.executable, "-m", "pulumi.policy", "127.0.0.1:1", str(copy)],
        cwd=copy,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], 120)
        port = process.stdout.readline().strip() if ready else ""
        if not port.isdigit():
            process.kill()
            raise AssertionError(f"the pack did not start: {port!r}\n{process.communicate()[1][-3000:]}")
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            info = analyzer_pb2_grpc.AnalyzerStub(channel).GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert info.name == NAME == "ecs-platform"
    assert [p.name for p in info.policies] == [p.name for p in all_policies()]
    assert len(info.policies) > 30


def _third_party_imports(path: Path) -> set[str]:
    """Top-level modules a file imports from outside the pack, including `find_spec("...")` lookups."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", None) == "find_spec"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.add(node.args[0].value)
    return found - set(sys.stdlib_module_names) - {"__future__", "guardrails"}


def test_the_pack_requirements_name_every_package_the_pack_imports():
    required = {
        re.split(r"[=<>!~\[ ]", line.strip())[0].lower().replace("_", "-")
        for line in (PACK / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    distributions = importlib.metadata.packages_distributions()
    imported = {module for path in pack_files() for module in _third_party_imports(path)}
    assert imported >= {"pulumi_policy", "policy_sentry"}
    # The CLI starts the pack with `python -m pulumi.policy`, a module of the `pulumi` package.
    for module in sorted(imported | {"pulumi"}):
        names = {d.lower().replace("_", "-") for d in distributions.get(module, [])}
        assert names & required, f"policies/ imports {module}, which policies/requirements.txt does not install"


def test_the_pack_imports_nothing_of_the_repository():
    for path in pack_files():
        for node in ast.walk(ast.parse(path.read_text())):
            modules = []
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            for module in modules:
                top = module.split(".")[0]
                assert top not in {"policies", "offline", "components", "tests"}, f"{path}: imports {module}"
            if path.parent.name == "guardrails" and isinstance(node, ast.ImportFrom) and node.module:
                assert node.level == 1 or not node.module.startswith("guardrails"), f"{path}: absolute {node.module}"
            is_sys_path = isinstance(node, ast.Attribute) and node.attr == "path"
            assert not (is_sys_path and getattr(node.value, "id", None) == "sys"), f"{path} reads or changes sys.path"


def test_the_rules_the_program_shares_load_without_the_pack_dependencies():
    """The program's virtualenv has neither pulumi-policy nor policy-sentry: its config can still read these."""
    code = (
        "import sys\n"
        "sys.modules['pulumi_policy'] = None\n"  # any import of it now fails
        "from policies.guardrails import iam_actions, secret_names, types\n"
        "assert secret_names.looks_secret('DB_PASSWORD') and types.ECS_SERVICE\n"
        "assert 'pulumi_policy' not in {m.split('.')[0] for m in sys.modules if sys.modules[m]}\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
