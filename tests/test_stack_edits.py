"""Editing the stack files the way the README says keeps the suite green.

A copy of the repository (its tracked files, as they are in the working tree) gets a new service
in `Pulumi.dev.yaml` ("Add a service") and a new environment, `Pulumi.staging.yaml` with its
`policies/config.staging.json` ("Add an environment"). Then the tests that read the repository's
stack files run there, in a pytest of their own: the generic checks of every stack file
(test_stack_files.py, which must now also check `staging`) and the workflow tests (the
workflows derive their stacks from the files). Every other test reads tests/fixtures/ and cannot
see the edit.
"""

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

# "Add a service": name, repository, port; public with routing; its own database user (iamAuth).
NEW_SERVICE = {
    "name": "orders",
    "public": True,
    "repository": {"tag": "1.0.0"},
    "port": 8080,
    "routing": {"paths": ["/orders/*"]},
    "database": {"iamAuth": True},
}
# "In production": the images are kept; the endpoints already cover ecr.api/ecr.dkr/logs.
NEW_PROD_SERVICE = {**NEW_SERVICE, "repository": {"tag": "1.0.0", "forceDelete": False}}


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def tracked_files(root: Path) -> list[str]:
    """The repository's files as git knows them (tracked, and new ones not ignored), without venvs or caches."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [name for name in listed.split("\0") if name and (root / name).is_file()]


def copy_repository(target: Path) -> Path:
    for name in tracked_files(ROOT):
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    return target


def add_service(stack_file: Path, service: dict) -> None:
    document = yaml.safe_load(stack_file.read_text())
    document["config"]["ecs-platform:services"].append(service)
    stack_file.write_text(yaml.safe_dump(document, sort_keys=False))


def add_staging(root: Path) -> None:
    """`Pulumi.staging.yaml`: a copy of the production example with its own CIDR, its own names, and
    no example domain or documentation account left; `policies/config.staging.json`: prod's levels."""
    text = (root / "Pulumi.prod.yaml").read_text()
    text = text.replace("example.com", "staging.acme-corp.io")
    text = text.replace("123456789012", "210987654321")
    text = text.replace(".prod.internal", ".staging.internal").replace("/ecs-platform/prod/", "/ecs-platform/staging/")
    document = yaml.safe_load(text)
    document["config"]["ecs-platform:network"]["cidr"] = "10.30.0.0/16"
    (root / "Pulumi.staging.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    shutil.copy2(root / "policies" / "config.prod.json", root / "policies" / "config.staging.json")
    add_service(root / "Pulumi.staging.yaml", NEW_PROD_SERVICE)


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


@pytest.fixture(scope="module")
def edited(tmp_path_factory) -> Path:
    root = copy_repository(tmp_path_factory.mktemp("repository"))
    assert (root / "Pulumi.dev.yaml").is_file() and (root / "Pulumi.prod.yaml").is_file()
    add_service(root / "Pulumi.dev.yaml", NEW_SERVICE)
    add_staging(root)
    return root


def test_a_new_service_and_a_new_stack_file_keep_the_checks_of_every_stack_file_green(edited):
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", "-q", "-rA", *READS_STACK_FILES],
        cwd=edited,
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
        for stack in ("dev", "prod", "staging"):
            assert f"tests/test_stack_files.py::{check}[{stack}]" in passed, f"{check}[{stack}] did not run"
    for mode in ("deployment", "preview"):
        assert f"tests/test_stack_files.py::test_the_program_evaluates[staging-{mode}]" in passed
        assert (
            f"tests/test_stack_files.py::test_the_pack_finds_no_mandatory_violation_with_the_stacks_own_pack_config"
            f"[staging-{mode}]" in passed
        )
    assert not [line for line in output.splitlines() if line.startswith(("FAILED", "ERROR"))]


def test_the_edited_stacks_really_hold_the_edits(edited):
    """The run above saw the new service and the new environment, not the files as they were."""
    dev = yaml.safe_load((edited / "Pulumi.dev.yaml").read_text())["config"]
    assert dev["ecs-platform:services"][-1] == NEW_SERVICE
    staging = (edited / "Pulumi.staging.yaml").read_text()
    assert "example.com" not in staging and "123456789012" not in staging
    assert yaml.safe_load(staging)["config"]["ecs-platform:services"][-1] == NEW_PROD_SERVICE
    assert (edited / "policies" / "config.staging.json").is_file()
