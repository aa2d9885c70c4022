"""Editing the stack files the way the README says: the edits are what the README documents, and
they reach the copy the checks of every stack file run on.

A copy of the repository (its tracked files, as they are in the working tree) gets a new service
in `Pulumi.dev.yaml` ("Add a service") and a new environment, `Pulumi.staging.yaml` with its
`policies/config.staging.json` ("Add an environment"): the session fixture `edited_repository`.
The modules that read the repository's stack files, test_stack_files.py (the generic checks of
every stack file) and test_workflows.py (the workflows derive their stacks from the files), run
each of their checks on that copy as well as on the repository (`readme_edits.parametrize_over_trees`).
Every other test reads tests/fixtures/ and cannot see the edit.
"""

import pytest
import yaml
from helpers import evaluated
from readme_edits import ROOT, readme_section, stack_files

from offline.harness import stack_config


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


def test_the_edited_stacks_really_hold_the_edits(edited_repository):
    edited = edited_repository
    config = yaml.safe_load((edited.root / f"Pulumi.{edited.service_stack}.yaml").read_text())["config"]
    assert config["ecs-platform:services"][-1] == edited.service
    new = (edited.root / f"Pulumi.{edited.new}.yaml").read_text()
    assert "example.com" not in new and "123456789012" not in new
    assert yaml.safe_load(new)["config"]["ecs-platform:services"][-1] == edited.new_service
    assert (edited.root / "policies" / f"config.{edited.new}.json").is_file()
    assert set(edited.stacks) == {*stack_files(ROOT), edited.new}


@pytest.mark.parametrize("which", ["service_stack", "new"])
def test_the_checks_of_the_edited_copy_evaluate_its_edited_stacks(edited_repository, which):
    """What the checks of the edited copy evaluate (its stack files, read as test_stack_files.py reads
    them) holds the new services, not the stack files as they were."""
    edited = edited_repository
    stack = getattr(edited, which)
    service = edited.service if which == "service_stack" else edited.new_service
    graph = evaluated(stack, stack_config(stack, edited.root))
    assert graph.error is None, graph.error
    assert f"{service['name']}-repository" in {r.name for r in graph.registered}
