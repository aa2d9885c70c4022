"""Every `Pulumi.<stack>.yaml` of the repository, whatever it holds: what must hold for any valid stack.

The stack files are the team's examples and environments, edited in pull requests (README, "Add a
service" and "Add an environment"). Nothing here knows what they contain: the list of stacks is
the files present when the tests are collected, and each stack gets the same checks: its file
matches the JSON Schema editors use, its config validates (`components.config`), the program
evaluates (as a deployment and as a first preview), the policy pack finds no mandatory violation
with the stack's own `policies/config.<stack>.json` (the pack's defaults when there is none), and
the offline plan writes its text, JSON and diagram. Tests that assert what an environment contains
use the fixtures of tests/fixtures/ instead; test_stack_edits.py proves that editing the stack
files as the README says keeps these checks green.
"""

import functools
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from components.config import load, reference
from offline import plan, policycheck
from offline.harness import CapturedGraph, evaluate, stack_names

ROOT = Path(__file__).resolve().parent.parent
STACKS = stack_names()


@functools.cache
def graph(stack: str, preview: bool) -> CapturedGraph:
    """The stack's program as a deployment (deployed-looking values) or as its first preview (unknowns)."""
    return evaluate(stack, preview=preview)


def test_the_repository_has_stack_files():
    assert STACKS, "no Pulumi.<stack>.yaml next to Pulumi.yaml"
    assert "Pulumi.yaml" not in [f"Pulumi.{s}.yaml" for s in STACKS]


@pytest.mark.parametrize("stack", STACKS)
def test_the_stack_file_matches_the_schema_editors_check_it_against(stack):
    schema = json.loads((ROOT / reference.SCHEMA).read_text())
    document = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    problems = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in jsonschema.Draft7Validator(schema).iter_errors(document)
    ]
    assert problems == []


@pytest.mark.parametrize("stack", STACKS)
def test_the_config_validates(stack):
    """`components.config.load()` alone, as the program starts with it: every problem would be one line here."""
    loaded = evaluate(stack, program=load)
    assert loaded.error is None, loaded.error
    assert loaded.registered == []


@pytest.mark.parametrize("preview", [False, True], ids=["deployment", "preview"])
@pytest.mark.parametrize("stack", STACKS)
def test_the_program_evaluates(stack, preview):
    evaluated = graph(stack, preview)
    assert evaluated.error is None, evaluated.error
    assert evaluated.registered, "the program registered no resource"
    assert evaluated.outputs, "the program exported nothing"


@pytest.mark.parametrize("preview", [False, True], ids=["deployment", "preview"])
@pytest.mark.parametrize("stack", STACKS)
def test_the_pack_finds_no_mandatory_violation_with_the_stacks_own_pack_config(stack, preview):
    """`policies/config.<stack>.json` when the stack has one (the file CI passes with --policy-pack-config),
    the pack's own levels otherwise; an invalid pack config fails here too (PolicyConfigError)."""
    evaluated = graph(stack, preview)
    assert evaluated.error is None, evaluated.error
    result = policycheck.check(evaluated, dry_run=preview)
    assert result.mandatory == [], "\n".join(f"[{f.policy}] {f.urn}: {f.message}" for f in result.mandatory)


@pytest.mark.parametrize("stack", STACKS)
def test_the_plan_writes_its_text_json_and_diagram(stack, tmp_path, capsys):
    json_file, diagram_file = tmp_path / f"{stack}.json", tmp_path / f"{stack}.md"
    assert plan.main([stack, "--json", str(json_file), "--diagram", str(diagram_file)]) == 0
    out = capsys.readouterr().out
    assert f"Previewing update ({stack})" in out and "Policy verdicts:" in out and "Total" in out
    doc = json.loads(json_file.read_text())
    assert doc["steps"] and doc["changeSummary"] == {"create": len(doc["steps"])}
    assert doc["ecsPlatform"]["cost"]["totalMonthly"] > 0
    assert diagram_file.read_text().count("```mermaid") == 1


def test_every_stack_gets_its_own_json_and_diagram_file(tmp_path):
    assert plan.main(["--json", str(tmp_path / "plan.json"), "--diagram", str(tmp_path / "{stack}.md")]) == 0
    for stack in STACKS:
        assert json.loads((tmp_path / f"plan.{stack}.json").read_text())["steps"]
        assert (tmp_path / f"{stack}.md").read_text().count("```mermaid") == 1


def test_an_unknown_stack_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        plan.main(["no-such-stack"])
    assert exit_.value.code == 2
    assert f"no Pulumi.no-such-stack.yaml; stacks: {', '.join(STACKS)}" in capsys.readouterr().err


def test_the_policy_command_checks_every_stack_and_prints_timings(capsys):
    assert policycheck.main([]) == 0
    out = capsys.readouterr().out
    for stack in STACKS:
        assert re.search(rf"^== {re.escape(stack)}: \d+ resources, [\d.]+ s", out, re.M), stack
    assert out.count("   mandatory: 0") == len(STACKS)
    assert out.rstrip().endswith("ok")
