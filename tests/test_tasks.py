"""tasks.py, the developer commands: here `pack-venv`, the policy pack's own virtualenv.

The Pulumi CLI runs the local pack with the interpreter of the virtualenv PulumiPolicy.yaml
names and creates none (sdk/python/dist/pulumi-analyzer-policy-python stops with "doesn't
appear to be a virtual environment"). The test builds the virtualenv for real (the standard
library's venv, offline) and records the pip command instead of reaching the package index.
"""

import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import yaml

import tasks

pytestmark = pytest.mark.heavy  # runs commands in processes of its own

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def pack_copy(tmp_path: Path, monkeypatch) -> tuple[Path, list[tuple[str, ...]]]:
    """A copy of the repository's policies/ manifest and requirements, and the pip commands pack-venv runs."""
    (tmp_path / "policies").mkdir()
    for name in ("PulumiPolicy.yaml", "requirements.txt"):
        shutil.copy(ROOT / "policies" / name, tmp_path / "policies" / name)
    commands: list[tuple[str, ...]] = []
    monkeypatch.setattr(tasks, "run", lambda *command: commands.append(command))
    return tmp_path, commands


def test_pack_venv_creates_the_virtualenv_the_pack_manifest_names_and_installs_its_requirements(pack_copy):
    root, commands = pack_copy
    manifest = yaml.safe_load((root / "policies" / "PulumiPolicy.yaml").read_text())
    venv_dir = root / "policies" / manifest["runtime"]["options"]["virtualenv"]

    tasks.pack_venv(root)

    python = venv_dir / "bin" / "python"
    assert python.exists()
    version = subprocess.run([str(python), "-c", "import sys; print(sys.prefix)"], capture_output=True, text=True)
    assert Path(version.stdout.strip()) == venv_dir  # a virtualenv of its own, not the system interpreter
    assert commands == [
        (str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-r", str(root / "policies" / "requirements.txt")),
    ]  # fmt: skip


def test_pack_venv_installs_again_only_when_the_requirements_change(pack_copy, monkeypatch):
    root, commands = pack_copy
    # What is counted here is the install command; the virtualenv is made without bootstrapping
    # pip into it (the test above makes it as pack-venv does, pip included).
    create = venv.create
    monkeypatch.setattr(tasks.venv, "create", lambda path, **options: create(path, **{**options, "with_pip": False}))
    tasks.pack_venv(root)
    tasks.pack_venv(root)
    assert len(commands) == 1, "an unchanged requirements file installs nothing"
    requirements = root / "policies" / "requirements.txt"
    requirements.write_text(requirements.read_text() + "# changed\n")
    tasks.pack_venv(root)
    assert len(commands) == 2


def test_pack_venv_is_a_command_that_needs_nothing_but_python():
    result = subprocess.run([sys.executable, str(ROOT / "tasks.py")], capture_output=True, text=True)
    assert "python3 tasks.py pack-venv" in result.stderr
    assert tasks.TASKS["pack-venv"] is tasks.pack_venv
    assert "pack-venv:" in (ROOT / "Makefile").read_text()


def test_the_pack_manifest_and_readme_say_how_the_virtualenv_is_made():
    manifest = (ROOT / "policies" / "PulumiPolicy.yaml").read_text()
    readme = (ROOT / "README.md").read_text()
    for text in (manifest, readme):
        assert "pulumi install --cwd policies" in text and "tasks.py pack-venv" in text
    assert "The CLI creates ./venv" not in manifest
    assert "the pack's own venv is created from policies/requirements.txt" not in readme


@pytest.mark.parametrize(("pytest_status", "expected"), [(0, 0), (1, 1), (2, 2)])
def test_the_test_task_exits_with_pytest_s_status(monkeypatch, pytest_status, expected):
    monkeypatch.setattr(subprocess, "call", lambda *args, **kwargs: pytest_status)
    with pytest.raises(SystemExit) as exit_:
        tasks.test()
    assert exit_.value.code == expected


def test_a_run_that_collects_no_test_fails(monkeypatch):
    """pytest's exit status 5 (no tests collected) means the suite went missing: CI must not pass on it."""
    monkeypatch.setattr(subprocess, "call", lambda *args, **kwargs: 5)
    with pytest.raises(SystemExit) as exit_:
        tasks.test()
    assert exit_.value.code == "pytest collected no tests: the suite is missing, which is a failure here"
