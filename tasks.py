#!/usr/bin/env python3
"""Developer tasks that need nothing but Python 3.11+: each sets up ./venv first if needed.

python3 tasks.py test    run the test suite
python3 tasks.py lint    ruff: lint and formatting
python3 tasks.py policy [STACK ...] [--preview]
                         offline policy check (default: every stack); fails on a mandatory violation
python3 tasks.py plan [STACK ...] [--json FILE] [--diagram FILE]
                         offline preview: resource tree, policy verdicts, monthly cost
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
STAMP = VENV / ".requirements.sha256"


def ensure_venv() -> None:
    """Creates ./venv (the one Pulumi.yaml names) and installs both requirement files when they changed."""
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in REQUIREMENTS)).hexdigest()
    if STAMP.exists() and STAMP.read_text() == digest and PYTHON.exists():
        return
    if not PYTHON.exists():
        print("creating ./venv", flush=True)
        venv.create(VENV, with_pip=True)
    print("installing requirements into ./venv", flush=True)
    run(str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(REQUIREMENTS[1]))
    STAMP.write_text(digest)


def run(*command: str) -> None:
    code = subprocess.call(command, cwd=ROOT)
    if code:
        sys.exit(code)


def test(*pytest_args: str) -> None:
    code = subprocess.call([str(PYTHON), "-m", "pytest", *pytest_args], cwd=ROOT)
    if code == 5:
        sys.exit("pytest collected no tests: the suite is missing, which is a failure here")
    sys.exit(code)


def lint() -> None:
    run(str(PYTHON), "-m", "ruff", "check", ".")
    run(str(PYTHON), "-m", "ruff", "format", "--check", ".")


def policy(*args: str) -> None:
    run(str(PYTHON), "-m", "offline.policycheck", *args)


def plan(*args: str) -> None:
    sys.exit(subprocess.call([str(PYTHON), "-m", "offline.plan", *args], cwd=ROOT))


TASKS = {"test": test, "lint": lint, "policy": policy, "plan": plan}


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in TASKS:
        sys.exit(__doc__)
    ensure_venv()
    TASKS[argv[0]](*argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
