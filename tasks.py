#!/usr/bin/env python3
"""Developer tasks that need nothing but Python 3.11+: each sets up ./venv first if needed.

python3 tasks.py test [PYTEST ARGS]
                         run the test suite, one pytest-xdist worker per core (`-n 0`: in this process)
python3 tasks.py lint    ruff: lint and formatting
python3 tasks.py policy [STACK ...] [--preview]
                         offline policy check (default: every stack); fails on a mandatory violation
python3 tasks.py plan [STACK ...] [--tree] [--json FILE] [--diagram FILE] [--compare GIT_REF [--markdown FILE]]
                         offline preview: summary, policy verdicts, monthly cost (--tree: the resource tree);
                         --compare: what changes against a git ref (--markdown: a pull-request comment)
python3 tasks.py docs    regenerate docs/config-reference.md and schema/stack-config.schema.json from the
                         config models, and docs/policy-coverage.md from the policy pack (a test fails while
                         any is stale)
python3 tasks.py pack-venv
                         create policies/venv, the virtualenv the Pulumi CLI runs the policy pack
                         in (`pulumi install --cwd policies` does the same with the CLI)
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / "venv"
PYTHON = VENV / "bin" / "python"
REQUIREMENTS = [ROOT / "requirements.txt", ROOT / "requirements-dev.txt"]
STAMP_NAME = ".requirements.sha256"
# runtime.options.virtualenv of policies/PulumiPolicy.yaml (tests/test_tasks.py checks they agree).
PACK_VENV = "venv"


def ensure(venv_dir: Path, requirements: list[Path]) -> None:
    """Creates `venv_dir` and installs the last requirement file (which includes the others) when any changed.

    A stamp inside the virtualenv holds the digest of the requirement files it was built from.
    """
    python = venv_dir / "bin" / "python"
    stamp = venv_dir / STAMP_NAME
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in requirements)).hexdigest()
    if stamp.exists() and stamp.read_text() == digest and python.exists():
        return
    where = venv_dir.relative_to(ROOT) if venv_dir.is_relative_to(ROOT) else venv_dir
    if not python.exists():
        print(f"creating {where}", flush=True)
        venv.create(venv_dir, with_pip=True)
    print(f"installing requirements into {where}", flush=True)
    run(str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(requirements[-1]))
    stamp.write_text(digest)


def ensure_venv() -> None:
    """Creates ./venv (the one Pulumi.yaml names) with the program's and the tools' requirements."""
    ensure(VENV, REQUIREMENTS)


def pack_venv(root: Path = ROOT) -> None:
    """Creates the policy pack's virtualenv from policies/requirements.txt.

    The Pulumi CLI runs a local Python pack with the interpreter of the virtualenv its
    PulumiPolicy.yaml names, and stops if that does not exist: nothing in `pulumi preview`
    creates it. `pulumi install --cwd policies` does; this does the same without the CLI.
    """
    pack = root / "policies"
    ensure(pack / PACK_VENV, [pack / "requirements.txt"])


def run(*command: str) -> None:
    code = subprocess.call(command, cwd=ROOT)
    if code:
        sys.exit(code)


def test(*pytest_args: str) -> None:
    code = subprocess.call([str(PYTHON), "-m", "pytest", *parallel(pytest_args), *pytest_args], cwd=ROOT)
    if code == 5:
        sys.exit("pytest collected no tests: the suite is missing, which is a failure here")
    sys.exit(code)


def parallel(pytest_args: tuple[str, ...]) -> list[str]:
    """pytest-xdist's options for one worker per core, unless the arguments choose the workers themselves.

    Each test module runs whole on one worker: its module fixtures and the evaluations its tests
    share (tests/helpers.py keeps one per config per process) are made once, not once per worker.
    Modules run in the order collected (tests/conftest.py puts the heavy ones first).
    """
    chosen = any(a.startswith(("-n", "--numprocesses", "--dist")) or a.endswith("no:xdist") for a in pytest_args)
    return [] if chosen else ["-n", "auto", "--dist", "loadscope", "--no-loadscope-reorder"]


def lint() -> None:
    run(str(PYTHON), "-m", "ruff", "check", ".")
    run(str(PYTHON), "-m", "ruff", "format", "--check", ".")


def policy(*args: str) -> None:
    run(str(PYTHON), "-m", "offline.policycheck", *args)


def plan(*args: str) -> None:
    sys.exit(subprocess.call([str(PYTHON), "-m", "offline.plan", *args], cwd=ROOT))


def docs() -> None:
    run(str(PYTHON), "-m", "components.config.reference")
    run(str(PYTHON), "-m", "offline.coverage")


TASKS = {"test": test, "lint": lint, "policy": policy, "plan": plan, "docs": docs, "pack-venv": pack_venv}


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in TASKS:
        sys.exit(__doc__)
    if argv[0] != "pack-venv":  # the pack's virtualenv needs nothing from ./venv
        ensure_venv()
    TASKS[argv[0]](*argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
