"""`tasks.py plan` and `tasks.py policy` as a user runs them: broken stack files, width, the same bytes every run.

The commands run in a copy of the repository whose stacks are this test's: `small` (valid) and
`broken` (a key indented one space short, line 6 column 4).
"""

import importlib.metadata
import json
import re

import pytest
from plan_repo import SMALL, copy_repository, run

from offline import plan
from offline.harness import StackFileError, stack_config
from offline.harness.urns import urn

pytestmark = pytest.mark.heavy  # runs commands in processes of its own

BROKEN = """\
config:
  aws:region: eu-west-1
  ecs-platform:network:
    cidr: 10.30.0.0/16
    azCount: 2
   natGateways: single
"""
BROKEN_LINE = (
    "Pulumi.broken.yaml:6:4: this line is not indented like the other keys of its mapping "
    "(which starts at line 2, column 3)"
)


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    path = copy_repository(tmp_path_factory.mktemp("repo"))
    (path / "Pulumi.small.yaml").write_text(SMALL)
    (path / "Pulumi.broken.yaml").write_text(BROKEN)
    return path


@pytest.fixture(scope="module")
def runs(repo):
    """Two runs of `plan --tree --json --diagram` at 80 columns, each with its own hash seed, and what they wrote."""
    results = []
    for seed in ("1", "2"):
        done = run(
            repo, "offline.plan", "--tree", "--json", "out/{stack}.json", "--diagram", "out/{stack}.md",
            COLUMNS="80", PYTHONHASHSEED=seed,
        )  # fmt: skip
        files = {p.name: p.read_bytes() for p in sorted((repo / "out").iterdir())}
        results.append((done, files))
    return results


def test_a_broken_stack_file_is_one_line_and_the_other_stacks_are_still_previewed(runs):
    done, files = runs[0]
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "yaml." not in done.stderr
    assert BROKEN_LINE in done.stderr.splitlines()
    assert sum("Pulumi.broken.yaml" in line for line in done.stderr.splitlines()) == 1
    assert re.search(r"^  broken +not previewed +config error", done.stdout, re.M)
    assert re.search(r"^  small +\d+ to create +ok", done.stdout, re.M)
    small = json.loads(files["small.json"])
    assert small["steps"] and small["ecsPlatform"]["cost"]["totalMonthly"] > 0
    broken = json.loads(files["broken.json"])
    assert "steps" not in broken
    assert broken["diagnostics"] == [{"message": BROKEN_LINE + "\n", "severity": "error"}]


def test_the_policy_check_names_the_broken_file_in_one_line_and_checks_the_rest(repo):
    done = run(repo, "offline.policycheck")
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert BROKEN_LINE in lines
    assert any(line.startswith("== small: ") for line in lines)
    assert lines[-1].endswith("FAILED")


def test_the_summary_comes_first_and_every_line_fits_the_terminal(runs):
    out = runs[0][0].stdout.splitlines()
    assert out[0].startswith("Offline preview")
    assert out[2].split() == ["stack", "resources", "policy", "USD/month"]
    assert max(len(line) for line in out) <= 80
    # the tree, asked for with --tree, comes after the verdicts and the cost
    text = runs[0][0].stdout
    assert text.index("Policy verdicts:") < text.index("Estimated monthly cost") < text.index("     Type")


def test_two_runs_write_the_same_bytes(runs):
    (first, first_files), (second, second_files) = runs
    assert first.stdout == second.stdout
    assert first_files == second_files
    assert set(first_files) == {"small.json", "broken.json", "small.md"}


def test_without_tree_the_tree_is_left_out_and_said_how_to_get_it(tmp_path):
    (tmp_path / "Pulumi.small.yaml").write_text(SMALL)
    result = plan.preview("small", stack_config("small", root=tmp_path))
    text = plan.render(result, tree=False, width=100)
    assert " +   pulumi:pulumi:Stack" not in text
    assert "add --tree" in text
    assert max(len(line) for line in text.splitlines()) <= 100
    with_tree = plan.render(result, tree=True, width=100)
    # within a width, types as `pulumi preview` prints them (aws:ec2/vpc:Vpc -> aws:ec2:Vpc)
    assert re.search(r"^ \+   │  │  └─ aws:ec2:Vpc +network-vpc +create$", with_tree, re.M)
    assert max(len(line) for line in with_tree.splitlines()) <= 100


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (BROKEN, BROKEN_LINE.replace("broken", "bad")),
        (
            "config:\n\taws:region: eu-west-1\n",
            "Pulumi.bad.yaml:2:1: found character '\\t' that cannot start any token",
        ),
        (
            "config:\n  - aws:region\n",
            "Pulumi.bad.yaml:2:3: config must be a mapping of `<namespace>:<key>: value` entries",
        ),
        ("- config\n", "Pulumi.bad.yaml:1:1: a stack file is a mapping of settings (config:, secretsprovider:, ...)"),
        (
            "config:\n  region: eu-west-1\n",
            "Pulumi.bad.yaml:2:3: could not parse 'region' as a configuration key (configuration keys should be of "
            "the form `<namespace>:<name>`, e.g. `ecs-platform:network`, `aws:region`)",
        ),
        (
            "config:\n  aws:region: eu-west-1\n  aws:region: us-east-1\n",
            "Pulumi.bad.yaml:3:3: 'aws:region' is given twice in this mapping (first at line 2)",
        ),
        (
            'config:\n  aws:region: "eu-west-1\n',
            "Pulumi.bad.yaml:3:1: found unexpected end of stream (while scanning a quoted scalar at line 2, column 15)",
        ),
        (
            "config:\n  ecs-platform:database:\n    password:\n      secure: [1, 2]\n",
            "Pulumi.bad.yaml:4:15: ecs-platform:database.password: secure must be the encrypted string "
            "`pulumi config set --secret` writes",
        ),
    ],
)
def test_what_is_wrong_with_a_stack_file_is_one_line_with_file_line_and_column(tmp_path, text, line):
    (tmp_path / "Pulumi.bad.yaml").write_text(text)
    with pytest.raises(StackFileError) as error:
        stack_config("bad", root=tmp_path)
    assert str(error.value) == line


def test_a_stack_file_without_config_is_an_empty_config(tmp_path):
    (tmp_path / "Pulumi.empty.yaml").write_text("secretsprovider: passphrase\n")
    assert stack_config("empty", root=tmp_path) == {}


def test_every_urn_in_the_json_is_the_engines_and_every_reference_resolves(runs):
    doc = json.loads(runs[0][1]["small.json"])
    steps = {step["urn"]: step["newState"] for step in doc["steps"]}
    defaults = {provider["urn"] for provider in doc["ecsPlatform"]["defaultProviders"]}
    # the small stack has no database, so no pulumi-random: awsx's construction is the one default provider
    awsx_version = importlib.metadata.version("pulumi_awsx").replace(".", "_")
    assert defaults == {f"urn:pulumi:small::ecs-platform::pulumi:providers:awsx::default_{awsx_version}"}
    for urn_, state in steps.items():
        assert urn("small", "ecs-platform", state.get("parent", ""), state["type"], urn_.rsplit("::", 1)[1]) == urn_
        assert "pulumi:pulumi:Stack$" not in urn_
        assert all(dependency in steps for dependency in state.get("dependencies", []))
        if "provider" in state:
            assert state["provider"].rsplit("::", 1)[0] in steps.keys() | defaults
    # what awsx registers inside its VPC is there, under the component
    assert (
        "urn:pulumi:small::ecs-platform::ecs-platform:network:Network$awsx:ec2:Vpc$aws:ec2/vpc:Vpc::network-vpc"
        in steps
    )


@pytest.mark.parametrize(
    ("token", "shown"),
    [
        ("aws:s3/bucket:Bucket", "aws:s3:Bucket"),
        ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc:SecurityGroupIngressRule"),
        ("random:index/randomId:RandomId", "random:index:RandomId"),
        ("aws:ec2/vpcEndpoint:VpcEndpoint", "aws:ec2:VpcEndpoint"),
        ("awsx:ec2:Vpc", "awsx:ec2:Vpc"),
        ("pulumi:providers:aws", "pulumi:providers:aws"),
        ("ecs-platform:network:Network", "ecs-platform:network:Network"),
        ("aws:ec2/other:Vpc", "aws:ec2/other:Vpc"),
    ],
)
def test_types_are_shown_as_pulumi_preview_shows_them(token, shown):
    assert plan.display_type(token) == shown
