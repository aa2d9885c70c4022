"""`tasks.py plan --compare GIT_REF` in a temporary git repository of two commits.

The first commit is a copy of the repository with one stack, `small`. The second adds a service
to it and changes its flow-log retention, adds a stack file `fresh`, and changes the program
itself (`__main__.py` registers one more log group, without retention). The comparison against
HEAD~1 must run the first commit's own code and config and name all of it.
"""

import json
import re

import pytest
from plan_repo import SMALL, copy_repository, git, run

from offline import compare, plan
from offline.harness import stack_config

pytestmark = pytest.mark.heavy  # runs commands in processes of its own

WORKER = """\
    - name: worker
      image: public.ecr.aws/nginx/nginx:1.27-alpine
      port: 8081
      cpu: 512
      memory: 1024
"""
AUDIT = """
# An audit log group, registered by the program itself (a code change, not a config one).
pulumi_aws.cloudwatch.LogGroup("audit", opts=in_env)
"""
SERVICE = "urn:pulumi:small::ecs-platform::ecs-platform:service:Service::worker"
AUDIT_URN = "urn:pulumi:small::ecs-platform::aws:cloudwatch/logGroup:LogGroup::audit"
FLOW_LOGS = (
    "urn:pulumi:small::ecs-platform::ecs-platform:network:Network$aws:cloudwatch/logGroup:LogGroup::network-flow-logs"
)


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    repo = copy_repository(tmp_path_factory.mktemp("history"))
    (repo / "Pulumi.small.yaml").write_text(SMALL)
    git(repo, "init", "--quiet")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", "small")
    (repo / "Pulumi.small.yaml").write_text(SMALL.replace("retentionDays: 30", "retentionDays: 60") + WORKER)
    (repo / "Pulumi.fresh.yaml").write_text(SMALL.replace("10.30.", "10.31."))
    main = (repo / "__main__.py").read_text()
    (repo / "__main__.py").write_text(main.replace("import pulumi\n", "import pulumi\nimport pulumi_aws\n", 1) + AUDIT)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", "worker, fresh, audit")
    return repo


@pytest.fixture(scope="module")
def compared(history, tmp_path_factory):
    scratch = tmp_path_factory.mktemp("scratch")
    done = run(
        history, "offline.plan", "--compare", "HEAD~1", "--json", "out/{stack}.json", "--markdown", "out/pr.md",
        COLUMNS="200", TMPDIR=str(scratch),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    docs = {stack: json.loads((history / "out" / f"{stack}.json").read_text()) for stack in ("small", "fresh")}
    return done, docs, (history / "out" / "pr.md").read_text(), scratch


def test_a_new_service_a_config_change_and_a_code_change_are_named_by_urn(compared):
    _, docs, _, _ = compared
    comparison = docs["small"]["ecsPlatform"]["comparison"]
    assert comparison["status"] == "compared" and comparison["ref"] == "HEAD~1"
    added = {entry["urn"] for entry in comparison["resources"]["added"]}
    assert SERVICE in added and AUDIT_URN in added
    assert f"{SERVICE.rsplit('::', 1)[0]}$aws:ecs/service:Service::worker" in added
    assert comparison["resources"]["removed"] == []
    assert comparison["resources"]["changed"] == [
        {"urn": FLOW_LOGS, "type": "aws:cloudwatch/logGroup:LogGroup", "keys": ["retentionInDays"]}
    ]
    after = comparison["resources"]["after"]
    assert after == len(docs["small"]["steps"]) == comparison["resources"]["before"] + len(added)


def test_a_policy_finding_the_change_brings_is_new(compared):
    _, docs, _, _ = compared
    policy = docs["small"]["ecsPlatform"]["comparison"]["policy"]
    assert [(v["policy"], v["urn"]) for v in policy["new"]] == [("log-group-retention", AUDIT_URN)]
    assert policy["resolved"] == []


def test_the_cost_delta_per_line_and_in_total(compared):
    done, docs, _, _ = compared
    cost = docs["small"]["ecsPlatform"]["comparison"]["cost"]
    assert cost["after"] == docs["small"]["ecsPlatform"]["cost"]["totalMonthly"]
    assert cost["delta"] == round(cost["after"] - cost["before"], 2) > 0
    assert round(sum(line["delta"] for line in cost["lines"]), 2) == cost["delta"]
    assert {line["name"] for line in cost["lines"]} >= {"worker", "worker-cpu-high", "worker-memory-high"}
    assert f"monthly cost: {cost['delta']:+,.2f} USD ({cost['before']:,.2f} -> {cost['after']:,.2f})" in done.stdout
    assert re.search(rf"^  small +\+\d+ ~1 -0 +\+1 new, -0 resolved +\+{cost['delta']:.2f}", done.stdout, re.M)


def test_a_stack_file_missing_at_the_ref_is_new_and_everything_in_it_is_added(compared):
    _, docs, _, _ = compared
    comparison = docs["fresh"]["ecsPlatform"]["comparison"]
    assert comparison["status"] == "new"
    assert comparison["resources"]["before"] == 0
    assert len(comparison["resources"]["added"]) == comparison["resources"]["after"] == len(docs["fresh"]["steps"])
    assert comparison["cost"]["delta"] == docs["fresh"]["ecsPlatform"]["cost"]["totalMonthly"]


def test_the_markdown_is_one_comment_for_all_stacks_with_the_diagram_of_each_changed_one(compared):
    _, docs, markdown, _ = compared
    assert markdown.startswith(compare.MARKER + "\n")
    assert "### Offline preview against `HEAD~1`" in markdown
    delta = docs["small"]["ecsPlatform"]["comparison"]["cost"]["delta"]
    assert re.search(rf"^\| `small` \| \+\d+ ~1 -0 .* \({re.escape(f'{delta:+.2f}')}\) \|$", markdown, re.M)
    assert re.search(r"^\| `fresh` — new stack \|", markdown, re.M)
    assert "**advisory** `log-group-retention` on `aws:cloudwatch/logGroup:LogGroup::audit`" in markdown
    for stack in ("small", "fresh"):
        diagram = markdown.split(f"<details><summary>Diagram of <code>{stack}</code></summary>")[1]
        assert diagram.lstrip().startswith("```mermaid\nflowchart TB") and "</details>" in diagram
    assert f"+ {SERVICE}" in markdown and f"~ {FLOW_LOGS}  (retentionInDays)" in markdown


def test_the_worktree_of_the_ref_is_gone_afterwards(history, compared):
    worktrees = git(history, "worktree", "list", "--porcelain")
    assert worktrees.count("worktree ") == 1
    assert list(compared[3].iterdir()) == []


def test_an_unknown_ref_is_a_usage_error(history):
    done = run(history, "offline.plan", "small", "--compare", "no-such-ref")
    assert done.returncode == 2
    assert "'no-such-ref' is not a commit of this repository" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_base_from_an_older_preview_is_compared_by_the_engines_urns(tmp_path):
    """An older harness wrote the SDK mock's URNs and did not list awsx's children: nothing differs but that."""
    (tmp_path / "Pulumi.small.yaml").write_text(SMALL)
    current = plan.json_document(plan.preview("small", stack_config("small", root=tmp_path)))
    old = json.loads(json.dumps(current))
    old["ecsPlatform"]["format"] = 1
    steps = [s for s in old["steps"] if "$awsx:ec2:Vpc$" not in s["urn"]]

    def mock_urn(urn: str) -> str:
        """The SDK mock's URN of the same resource: its parent's last type, the root stack's kept."""
        by_urn = {s["urn"]: s for s in current["steps"]}
        state = by_urn[urn]["newState"]
        parent = state.get("parent", "")
        parent_type = by_urn[parent]["newState"]["type"] if parent else ""
        qualified = f"{parent_type}${state['type']}" if parent_type else state["type"]
        return f"urn:pulumi:small::ecs-platform::{qualified}::{urn.rsplit('::', 1)[1]}"

    renamed = {s["urn"]: mock_urn(s["urn"]) for s in steps}
    assert renamed != {u: u for u in renamed}  # the older URNs do differ
    for step in steps:
        step["urn"] = step["newState"]["urn"] = renamed[step["urn"]]
        if step["newState"].get("parent"):
            step["newState"]["parent"] = renamed[step["newState"]["parent"]]
    old["steps"] = steps
    for line in old["ecsPlatform"]["cost"]["lines"]:
        line["urn"] = renamed.get(line["urn"], line["urn"])
    base = compare.Base("v1", "0123456789ab", ["small"], docs={"small": old})
    result = compare.compare("small", current, base)
    assert result["resources"]["added"] == result["resources"]["removed"] == result["resources"]["changed"] == []
    assert result["cost"]["delta"] == 0 and result["cost"]["lines"] == []
    assert any("older offline preview" in note for note in result["notes"])


def test_the_comment_stays_under_githubs_size_limit():
    """A new stack lists its first resources and counts the rest by type; oversized diagrams are left out."""
    added = [
        {"urn": f"urn:pulumi:big::ecs-platform::aws:iam/role:Role::role-{i:04d}", "type": "aws:iam/role:Role"}
        for i in range(500)
    ]
    comparison = {
        "ref": "main",
        "commit": "0123456789ab",
        "status": "new",
        "notes": [],
        "changed": True,
        "resources": {"before": 0, "after": 500, "added": added, "removed": [], "changed": []},
        "policy": {"new": [], "resolved": [], "mandatory": 0, "advisory": 0},
        "cost": {"before": 0.0, "after": 0.0, "delta": 0.0, "lines": []},
    }
    base = compare.Base("main", "0123456789ab", [])
    text = compare.markdown(base, {"big": comparison}, {"big": "flowchart TB\n" + "  a --> b\n" * 8000})
    assert len(text) <= compare.COMMENT_LIMIT + 200
    assert f"+ {added[compare.RESOURCE_LINES - 1]['urn']}" in text and added[compare.RESOURCE_LINES]["urn"] not in text
    assert f"  … and {500 - compare.RESOURCE_LINES} more: + aws:iam/role:Role" in text
    assert "```mermaid" not in text and "The diagrams are left out" in text
