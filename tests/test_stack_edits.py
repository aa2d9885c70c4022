"""Editing the stack files the way the README says keeps the suite green.

A copy of the repository (its tracked files, as they are in the working tree) gets a new service
in `Pulumi.dev.yaml` ("Add a service") and a new environment, `Pulumi.staging.yaml` with its
`policies/config.staging.json` ("Add an environment"). Then the tests that read the repository's
stack files run there, in a pytest of their own: the generic checks of every stack file
(test_stack_files.py, which must now also check `staging`) and the workflow tests (the
workflows derive their stacks from the files). Every other test reads tests/fixtures/ and cannot
see the edit.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
# The modules whose tests read the repository's own stack files.
READS_STACK_FILES = ["tests/test_stack_files.py", "tests/test_workflows.py"]


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


# Not the repository's own files: virtualenvs, caches, git's database.
NOT_SOURCES = {".git", "venv", "__pycache__", ".pytest_cache", ".ruff_cache"}


def tracked_files(root: Path) -> list[str]:
    """The repository's files as git knows them (tracked, and new ones not ignored); outside a git
    checkout (an unpacked archive), every file but virtualenvs and caches."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode == 0:
        return [name for name in listed.stdout.split("\0") if name and (root / name).is_file()]
    return [
        str(path.relative_to(root))
        for path in sorted(root.rglob("*"))
        if path.is_file() and not NOT_SOURCES & set(path.relative_to(root).parts)
    ]


def copy_repository(target: Path) -> Path:
    for name in tracked_files(ROOT):
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    return target


def stack_files(root: Path) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def add_service(root: Path, stack: str) -> dict:
    """README, "Add a service", in `Pulumi.<stack>.yaml`: a public service from its own repository
    with a route, its own database user where the stack has a database, and the production steps
    where they apply (images kept where the pack requires it, interface endpoints extended to what
    the service reaches at start). Returns the entry."""
    path = root / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text())
    config = document["config"]
    services = config.setdefault("ecs-platform:services", [])
    taken = {s["name"] for s in services}
    name = next(n for n in ("orders", "orders-2", "orders-3") if n not in taken)
    service = {
        "name": name,
        "public": True,
        "repository": {"tag": "1.0.0"},
        "port": 8080,
        "routing": {"paths": [f"/{name}/*"]},
    }
    if config.get("ecs-platform:database"):
        service["database"] = {"iamAuth": True}
    pack_file = root / "policies" / f"config.{stack}.json"
    retain = json.loads(pack_file.read_text()).get("ecr-retain-images") if pack_file.is_file() else None
    if isinstance(retain, dict) and retain.get("required"):
        service["repository"]["forceDelete"] = False
    endpoints = config.get("ecs-platform:network", {}).get("interfaceEndpoints")
    if endpoints:
        endpoints += [e for e in ("ecr.api", "ecr.dkr", "logs") if e not in endpoints]
    services.append(service)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return service


def add_environment(root: Path, source: str) -> str:
    """README, "Add an environment": `Pulumi.<new>.yaml` copied from `source` with its own CIDR, its
    own names and no example domain or documentation account left, and `policies/config.<new>.json`
    with the source's levels. Returns the new stack's name."""
    existing = stack_files(root)
    new = next(n for n in ("staging", "staging-2", "staging-3") if n not in existing)
    used = {str(yaml.safe_load((root / f"Pulumi.{s}.yaml").read_text())["config"]["ecs-platform:network"]["cidr"])
            for s in existing}  # fmt: skip
    cidr = next(c for c in (f"10.{n}.0.0/16" for n in range(30, 250)) if c not in used)
    text = (root / f"Pulumi.{source}.yaml").read_text()
    text = text.replace("example.com", f"{new}.acme-corp.io").replace("123456789012", "210987654321")
    text = text.replace(f".{source}.internal", f".{new}.internal")
    text = text.replace(f"/ecs-platform/{source}/", f"/ecs-platform/{new}/")
    document = yaml.safe_load(text)
    document["config"]["ecs-platform:network"]["cidr"] = cidr
    (root / f"Pulumi.{new}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    pack = root / "policies" / f"config.{source}.json"
    (root / "policies" / f"config.{new}.json").write_text(pack.read_text() if pack.is_file() else "{}\n")
    return new


def test_the_readme_documents_the_edits_made_here():
    service = " ".join(readme_section("Add a service").split())
    documented = [
        "`ecs-platform:services` in `Pulumi.<stack>.yaml`", "`name`", "`repository`", "`port`", "`public: true`",
        "`routing`", "`database: {iamAuth: true}`", "`repository.forceDelete: false`",
    ]  # fmt: skip
    for words in documented:
        assert words in service, words
    environment = " ".join(readme_section("Add an environment").split())
    for words in ("`Pulumi.staging.yaml`", "`network.cidr`", "replace the example domains and accounts",
                  "`policies/config.staging.json`"):  # fmt: skip
        assert words in environment, words


class Edited:
    def __init__(self, root: Path):
        self.root = root
        stacks = stack_files(root)
        assert stacks, "no Pulumi.<stack>.yaml to edit"
        # The README's examples: a service in dev, a new environment copied from prod.
        self.service_stack = "dev" if "dev" in stacks else stacks[0]
        self.source = "prod" if "prod" in stacks else stacks[-1]
        self.service = add_service(root, self.service_stack)
        self.new = add_environment(root, self.source)
        self.new_service = add_service(root, self.new)
        self.stacks = stack_files(root)


@pytest.fixture(scope="module")
def edited(tmp_path_factory) -> Edited:
    return Edited(copy_repository(tmp_path_factory.mktemp("repository")))


def test_a_new_service_and_a_new_stack_file_keep_the_checks_of_every_stack_file_green(edited):
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", "-q", "-rA", *READS_STACK_FILES],
        cwd=edited.root,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = result.stdout + result.stderr
    # Exit status 5 is "no tests collected": as much a failure here as any other.
    assert result.returncode == 0, output[-6000:]
    passed = set(re.findall(r"^PASSED (\S+)", output, re.M))
    for check in ("test_the_config_validates", "test_the_plan_writes_its_text_json_and_diagram"):
        for stack in edited.stacks:
            assert f"tests/test_stack_files.py::{check}[{stack}]" in passed, f"{check}[{stack}] did not run"
    for mode in ("deployment", "preview"):
        assert f"tests/test_stack_files.py::test_the_program_evaluates[{edited.new}-{mode}]" in passed
        assert (
            f"tests/test_stack_files.py::test_the_pack_finds_no_mandatory_violation_with_the_stacks_own_pack_config"
            f"[{edited.new}-{mode}]" in passed
        )
    assert not [line for line in output.splitlines() if line.startswith(("FAILED", "ERROR"))]


def test_the_edited_stacks_really_hold_the_edits(edited):
    """The run above saw the new service and the new environment, not the files as they were."""
    config = yaml.safe_load((edited.root / f"Pulumi.{edited.service_stack}.yaml").read_text())["config"]
    assert config["ecs-platform:services"][-1] == edited.service
    new = (edited.root / f"Pulumi.{edited.new}.yaml").read_text()
    assert "example.com" not in new and "123456789012" not in new
    assert yaml.safe_load(new)["config"]["ecs-platform:services"][-1] == edited.new_service
    assert (edited.root / "policies" / f"config.{edited.new}.json").is_file()
    assert set(edited.stacks) == {*stack_files(ROOT), edited.new}
