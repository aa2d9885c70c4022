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
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from readme_edits import ROOT, add_environment, add_service, copy_repository, readme_section, stack_files

pytestmark = pytest.mark.heavy  # runs commands in processes of its own

# The modules whose tests read the repository's own stack files.
READS_STACK_FILES = ["tests/test_stack_files.py", "tests/test_workflows.py"]
# Left out there: it plans a pull request of its own, on a copy of the copy, and takes a while.
PLANS_ITS_OWN_PULL_REQUEST = "tests/test_workflows.py::test_the_plan_step_comments_on_what_a_pull_request_changes"


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
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", "-q", "-rA"]
    result = subprocess.run(
        [*command, *READS_STACK_FILES, "--deselect", PLANS_ITS_OWN_PULL_REQUEST],
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
