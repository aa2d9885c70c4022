"""Every `Pulumi.<stack>.yaml` of the repository, whatever it holds: what must hold for any valid stack.

The stack files are the team's examples and environments, edited in pull requests (README, "Add a
service" and "Add an environment"). Nothing here knows what they contain: the list of stacks is
the files present when the tests are collected, and each stack gets the same checks: its file
matches the JSON Schema editors use, its config validates (`components.config`), the program
evaluates (as a deployment and as a first preview), the policy pack finds no mandatory violation
with the stack's own `policies/config.<stack>.json` (the pack's defaults when there is none), and
the offline plan writes its text, JSON and diagram. Tests that assert what an environment contains
use the fixtures of tests/fixtures/ instead.

Every check runs on this repository and on a copy of it edited as the README says, "Add a service"
and "Add an environment" (`readme_edits.parametrize_over_trees`: a test reads the tree's files from
`root`): editing the stack files that way keeps these checks green. The copy differs from the
repository in its stack files and pack configs only, so its stacks are evaluated by this checkout's
program with the copy's files (a stack the edits left as it was is the same evaluation).
"""

import contextlib
import io
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from helpers import checked, evaluated
from readme_edits import parametrize_over_trees

from components.config import load, reference
from offline import plan, policycheck
from offline.harness import CapturedGraph, evaluate, stack_config, stack_names

pytestmark = pytest.mark.heavy  # the plan command previews in processes of its own

pytest_generate_tests = parametrize_over_trees


def graph(root: Path, stack: str, preview: bool) -> CapturedGraph:
    """The stack's program as a deployment (deployed-looking values) or as its first preview (unknowns)."""
    return evaluate_once(stack, stack_config(stack, root), preview=preview)


def evaluate_once(stack: str, config: dict[str, Any] | None = None, **options: Any) -> CapturedGraph:
    """`evaluate` of the stack file's config, once per test process (helpers.evaluated): the tests
    here and the plan and policy commands they run all evaluate the same few stacks."""
    return evaluated(stack, stack_config(stack) if config is None else config, **options)


def test_the_repository_has_stack_files(root):
    stacks = stack_names(root)
    assert stacks, "no Pulumi.<stack>.yaml next to Pulumi.yaml"
    assert "Pulumi.yaml" not in [f"Pulumi.{s}.yaml" for s in stacks]


def test_the_stack_file_matches_the_schema_editors_check_it_against(root, stack):
    schema = json.loads((root / reference.SCHEMA).read_text())
    document = yaml.safe_load((root / f"Pulumi.{stack}.yaml").read_text())
    problems = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in jsonschema.Draft7Validator(schema).iter_errors(document)
    ]
    assert problems == []


def test_the_config_validates(root, stack):
    """`components.config.load()` alone, as the program starts with it: every problem would be one line here."""
    loaded = evaluate(stack, stack_config(stack, root), program=load)
    assert loaded.error is None, loaded.error
    assert loaded.registered == []


@pytest.mark.parametrize("preview", [False, True], ids=["deployment", "preview"])
def test_the_program_evaluates(root, stack, preview):
    evaluated = graph(root, stack, preview)
    assert evaluated.error is None, evaluated.error
    assert evaluated.registered, "the program registered no resource"
    assert evaluated.outputs, "the program exported nothing"


@pytest.mark.parametrize("preview", [False, True], ids=["deployment", "preview"])
def test_the_pack_finds_no_mandatory_violation_with_the_stacks_own_pack_config(root, stack, preview):
    """`policies/config.<stack>.json` when the stack has one (the file CI passes with --policy-pack-config),
    the pack's own levels otherwise; an invalid pack config fails here too (PolicyConfigError)."""
    evaluated = graph(root, stack, preview)
    assert evaluated.error is None, evaluated.error
    result = checked(evaluated, policycheck.pack_config(stack, root), dry_run=preview)
    assert result.mandatory == [], "\n".join(f"[{f.policy}] {f.urn}: {f.message}" for f in result.mandatory)


@pytest.fixture(scope="module")
def plan_runs(tmp_path_factory) -> dict[Path, tuple[int, str, Path]]:
    return {}


@pytest.fixture
def plan_run(root, plan_runs, tmp_path_factory) -> tuple[int, str, Path]:
    """`python3 tasks.py plan --json DIR/{stack}.json --diagram DIR/{stack}.md` over every stack of the tree, once."""
    if root not in plan_runs:
        out = tmp_path_factory.mktemp("plan")
        printed = io.StringIO()
        with (
            pytest.MonkeyPatch.context() as patch,
            contextlib.redirect_stdout(printed),
            contextlib.redirect_stderr(printed),
        ):
            patch.setattr(plan, "evaluate", evaluate_once)
            patch.setattr(policycheck, "check", checked)
            code = plan.main(["--json", str(out / "{stack}.json"), "--diagram", str(out / "{stack}.md")], root)
        plan_runs[root] = code, printed.getvalue(), out
    return plan_runs[root]


def test_the_plan_of_every_stack_succeeds(root, plan_run):
    code, printed, _ = plan_run
    assert code == 0, printed[-4000:]
    assert f"{len(stack_names(root))} stack(s) previewed offline" in printed


def test_the_plan_writes_its_text_json_and_diagram(stack, plan_run):
    _, printed, out = plan_run
    assert re.search(rf"(?<![\w-]){re.escape(stack)}(?![\w-])", printed), "the text names every stack"
    doc = json.loads((out / f"{stack}.json").read_text())
    assert doc["steps"] and doc["changeSummary"] == {"create": len(doc["steps"])}
    assert doc["ecsPlatform"]["cost"]["totalMonthly"] > 0
    assert (out / f"{stack}.md").read_text().count("```mermaid") == 1


def test_an_unknown_stack_is_a_usage_error(root, capsys):
    with pytest.raises(SystemExit) as exit_:
        plan.main(["no-such-stack"], root)
    assert exit_.value.code == 2
    assert f"no Pulumi.no-such-stack.yaml; stacks: {', '.join(stack_names(root))}" in capsys.readouterr().err


def test_the_policy_command_checks_every_stack_and_prints_timings(root, capsys, monkeypatch):
    monkeypatch.setattr(policycheck, "evaluate", evaluate_once)
    monkeypatch.setattr(policycheck, "check", checked)
    assert policycheck.main([], root) == 0
    out = capsys.readouterr().out
    stacks = stack_names(root)
    for stack in stacks:
        assert re.search(rf"^== {re.escape(stack)}: \d+ resources, [\d.]+ s", out, re.M), stack
    assert out.count("   mandatory: 0") == len(stacks)
    assert out.rstrip().endswith("ok")
