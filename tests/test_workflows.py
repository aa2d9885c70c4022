"""The GitHub Actions workflows of the infrastructure itself (`.github/workflows/`).

actionlint (with shellcheck on every `run:` script) must find nothing, and the properties that
keep the AWS accounts safe must hold: checks without credentials on every pull request, cloud
access only through OIDC and never for forks, prod only after dev and behind the protected
`production` environment, one update per stack at a time. The pull request workflow derives its
stacks from the `Pulumi.<stack>.yaml` files (its listing script is run here on a directory of
stack files), and the offline plan reaches every pull request, forks included, through an
artifact that pr-comment.yml posts without running any of the pull request's code (its script
is run here against a stand-in `gh`). Nothing here lists the repository's stacks by name, and the
tests that read the stack files run on a copy of the repository edited as the README says too
(`readme_edits.parametrize_over_trees`).
"""

import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from plan_repo import git
from readme_edits import add_service, copy_repository, parametrize_over_trees, stack_files

from offline import compare
from offline.harness import stack_names
from offline.policycheck import new_analyzer, reconcile

pytestmark = pytest.mark.heavy  # runs commands in processes of its own
pytest_generate_tests = parametrize_over_trees

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
WORKFLOW_FILES = sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])
SCRIPTS = Path(sysconfig.get_path("scripts"))

CREDENTIALS_ACTION = "aws-actions/configure-aws-credentials"
PULUMI_ACTION = "pulumi/actions"


def tool(name: str) -> str:
    """A binary installed by requirements-dev.txt into this environment; missing is a failure, not a skip."""
    path = shutil.which(name, path=str(SCRIPTS))
    if path is None:
        pytest.fail(f"{name} is not installed in {SCRIPTS}: install requirements-dev.txt (python3 tasks.py test does)")
    return path


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    # shellcheck from the venv, so `run:` scripts are checked the same way on every machine.
    # pyflakes is only for `shell: python` steps, which these workflows do not have.
    command = [tool("actionlint"), "-oneline", "-no-color", "-shellcheck", tool("shellcheck"), "-pyflakes="]
    return subprocess.run([*command, *map(str, files)], cwd=ROOT, capture_output=True, text=True, check=False)


def load(name: str) -> dict[str, Any]:
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the bare key `on` as the boolean true.
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job.get("steps", []) if s.get("uses", "").split("@")[0] == action]


def run_scripts(job: dict[str, Any]) -> str:
    return "\n".join(s.get("run", "") for s in job.get("steps", []))


def conjuncts(condition: str) -> list[str]:
    """The `&&` clauses of a job condition; a condition with `||` has none that guard on their own."""
    assert "||" not in condition, f"an `||` can bypass the guard: {condition}"
    return [" ".join(c.split()) for c in condition.split("&&")]


def pulumi_runs(job: dict[str, Any]) -> list[dict[str, Any]]:
    """The pulumi/actions steps that run a command on a stack (the others only install the CLI)."""
    return [s for s in steps_using(job, PULUMI_ACTION) if "command" in s.get("with", {})]


def job_stacks(job: dict[str, Any], root: Path = ROOT) -> list[str]:
    """The stacks a job's pulumi runs work on: the stack files (of `root`) for the listing job's matrix,
    or the literal its STACK names."""
    stack = job["env"]["STACK"]
    if "matrix.stack" in stack:
        assert job["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.stacks) }}"
        return stack_names(root)
    return [re.fullmatch(r"\$\{\{ .* \|\| '([\w-]+)' \}\}", stack).group(1)]


@pytest.fixture(scope="module")
def pr() -> dict[str, Any]:
    return load("pull-request.yml")


@pytest.fixture(scope="module")
def deploy() -> dict[str, Any]:
    return load("deploy.yml")


@pytest.fixture(scope="module")
def comment() -> dict[str, Any]:
    return load("pr-comment.yml")


@pytest.fixture(scope="module")
def all_jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [(f.name, name, job) for f in WORKFLOW_FILES for name, job in load(f.name)["jobs"].items()]


# --- actionlint -------------------------------------------------------------------------------


def test_the_workflows_exist():
    assert {"deploy.yml", "pull-request.yml", "pr-comment.yml"} <= {f.name for f in WORKFLOW_FILES}


@pytest.mark.parametrize("workflow", WORKFLOW_FILES, ids=lambda p: p.name)
def test_actionlint_finds_nothing(workflow: Path):
    result = actionlint(workflow)
    findings = result.stdout + result.stderr
    assert result.returncode == 0 and not findings, f"actionlint:\n{findings}"


def test_actionlint_and_shellcheck_catch_a_broken_workflow(tmp_path: Path):
    """Proves the check above can fail: actionlint and its shellcheck integration both report."""
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: pull_request\n"
        "jobs:\n"
        "  preview:\n"
        "    needs: tests\n"
        "    runs-on: ubuntu-24.04\n"
        "    steps:\n"
        "      - uses: pulumi/actions@v7\n"
        "        with:\n"
        "          stack: dev\n"
        "      - run: rm -rf $WORKDIR/*\n"
    )
    result = actionlint(broken)
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'job "preview" needs job "tests" which does not exist' in result.stdout
    assert 'input "stack" is not defined in action "pulumi/actions@v7"' in result.stdout
    assert "SC2086" in result.stdout  # unquoted variable, found by shellcheck


# --- every workflow ---------------------------------------------------------------------------


# What would run the repository's code (and so, after a pull request, that pull request's code).
RUNS_REPOSITORY_CODE = re.compile(r"\b(python3?|pip|pulumi|make|tasks\.py|npm|node|source)\b|(^|\s)\.{1,2}/")


def test_no_workflow_runs_untrusted_code_with_secrets():
    """`pull_request_target` runs with the base repository's token and secrets: never used. A
    `workflow_run` workflow has them too, so it checks nothing out and runs nothing of the repository."""
    for f in WORKFLOW_FILES:
        assert "pull_request_target" not in f.read_text(), f.name
        doc = load(f.name)
        if "workflow_run" not in doc["on"]:
            continue
        for name, job in doc["jobs"].items():
            assert not steps_using(job, "actions/checkout"), f"{f.name}:{name} checks out code"
            assert {s["uses"].split("@")[0] for s in job["steps"] if "uses" in s} <= {"actions/download-artifact"}
            for step in job["steps"]:
                assert not RUNS_REPOSITORY_CODE.search(step.get("run", "")), f"{f.name}:{name}: {step.get('run')}"
                assert "shell" not in step, f"{f.name}:{name}: the default bash only"
            assert "secrets." not in yaml.safe_dump(job), f"{f.name}:{name} needs no secret but its token"


def test_run_scripts_take_event_data_through_the_environment_only(all_jobs):
    """An expression inside a `run:` script is pasted into the script before bash reads it: a branch
    name or title like `$(curl ...)` would run. Event data reaches scripts as environment variables."""
    for file, name, job in all_jobs:
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), f"{file}:{name}: {step.get('name', step.get('run'))}"


def test_permissions_are_empty_by_default_and_granted_per_job(all_jobs):
    for f in WORKFLOW_FILES:
        assert load(f.name)["permissions"] == {}, f.name
    for file, name, job in all_jobs:
        assert "permissions" in job, f"{file}:{name} has no explicit permissions"
        assert "write-all" not in str(job["permissions"]), f"{file}:{name}"
        writes = {scope for scope, level in job["permissions"].items() if level == "write"}
        assert writes <= {"id-token", "pull-requests"}, f"{file}:{name} writes {writes}"


def test_id_token_write_exactly_where_oidc_is_used(all_jobs):
    for file, name, job in all_jobs:
        uses_oidc = bool(steps_using(job, CREDENTIALS_ACTION))
        assert (job["permissions"].get("id-token") == "write") == uses_oidc, f"{file}:{name}"


def test_aws_credentials_come_only_from_an_assumed_role(all_jobs):
    for file, name, job in all_jobs:
        for step in steps_using(job, CREDENTIALS_ACTION):
            inputs = step["with"]
            assert re.fullmatch(r"\$\{\{ vars\.AWS_(PREVIEW|DEPLOY)_ROLE_ARN \}\}", inputs["role-to-assume"])
            assert not {"aws-access-key-id", "aws-secret-access-key", "aws-session-token"} & inputs.keys()
        assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} & job.get("env", {}).keys(), f"{file}:{name}"


def test_a_deploy_session_lasts_as_long_as_its_job_may_run(all_jobs):
    # configure-aws-credentials asks for one hour unless told otherwise; an `up` that runs longer
    # loses its credentials half-way. The bootstrap's deploy roles allow two hours.
    for file, name, job in all_jobs:
        for step in steps_using(job, CREDENTIALS_ACTION):
            if "DEPLOY" in step["with"]["role-to-assume"]:
                seconds = int(step["with"].get("role-duration-seconds", 3600))
                assert seconds >= job["timeout-minutes"] * 60, f"{file}:{name}"
                assert seconds <= 2 * 3600, f"{file}:{name}: more than the deploy role's maximum session"


def test_pulumi_secrets_come_from_repository_secrets_never_from_the_repo(all_jobs):
    for f in WORKFLOW_FILES:
        doc = load(f.name)
        envs = [doc.get("env", {})] + [job.get("env", {}) for job in doc["jobs"].values()]
        for env in envs:
            for key in ("PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE"):
                if key in env:
                    assert env[key] == f"${{{{ secrets.{key} }}}}", f"{f.name}: {key}={env[key]}"
            if "PULUMI_BACKEND_URL" in env:
                assert env["PULUMI_BACKEND_URL"] == "${{ vars.PULUMI_BACKEND_URL }}"


def test_actions_are_pinned_to_a_major_version_or_a_commit(all_jobs):
    for file, name, job in all_jobs:
        for step in job["steps"]:
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@(v\d+|[0-9a-f]{40})", step["uses"]), f"{file}:{name}"


def test_checkouts_do_not_leave_the_token_on_disk(all_jobs):
    for file, name, job in all_jobs:
        for step in steps_using(job, "actions/checkout"):
            assert step["with"]["persist-credentials"] is False, f"{file}:{name}"


def test_every_job_has_a_timeout(all_jobs):
    for file, name, job in all_jobs:
        assert isinstance(job.get("timeout-minutes"), int), f"{file}:{name}"


def test_the_pulumi_cli_matches_the_pinned_sdk():
    pin = re.search(r"^pulumi==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    for f in WORKFLOW_FILES:
        doc = load(f.name)
        if any(steps_using(job, PULUMI_ACTION) for job in doc["jobs"].values()):
            assert doc["env"]["PULUMI_VERSION"] == pin, f.name
            for job in doc["jobs"].values():
                for step in steps_using(job, PULUMI_ACTION):
                    assert step["with"]["pulumi-version"] == "${{ env.PULUMI_VERSION }}", f.name


def test_pulumi_runs_install_the_policy_pack_dependencies_first(all_jobs):
    for file, name, job in all_jobs:
        steps = job["steps"]
        for step in steps_using(job, PULUMI_ACTION):
            if "command" not in step.get("with", {}):
                continue  # installs the CLI only
            assert step["with"]["policyPacks"] == "policies", f"{file}:{name}"
            before = "\n".join(s.get("run", "") for s in steps[: steps.index(step)])
            assert "pulumi install --cwd policies" in before, f"{file}:{name}"


# --- pull requests ----------------------------------------------------------------------------


def test_pull_requests_run_the_checks_and_the_offline_plan_without_credentials(pr):
    assert list(pr["on"]) == ["pull_request"]
    checks = {
        "stacks": "for file in Pulumi.*.yaml; do",
        "test": "python3 tasks.py test",
        "policy": "python3 tasks.py policy",
        "plan": 'python3 tasks.py plan --compare "origin/${BASE_REF}" --markdown plan-comment/plan.md || status=$?',
    }
    for name, command in checks.items():
        job = pr["jobs"][name]
        assert command in [line.strip() for line in run_scripts(job).splitlines()], name
        assert job["permissions"] == {"contents": "read"}, name
        text = yaml.safe_dump(job)
        assert "secrets." not in text and "vars." not in text, name
        assert not steps_using(job, CREDENTIALS_ACTION) and not steps_using(job, PULUMI_ACTION), name
        assert "if" not in job, f"{name} must run for every pull request, forks included"


def test_the_stacks_are_the_stack_files_and_no_job_lists_them(pr):
    stacks = pr["jobs"]["stacks"]
    assert stacks["outputs"] == {"stacks": "${{ steps.list.outputs.stacks }}"}
    for name, job in pr["jobs"].items():
        matrix = job.get("strategy", {}).get("matrix", {})
        if "stack" in matrix:
            assert matrix["stack"] == "${{ fromJSON(needs.stacks.outputs.stacks) }}", name
            assert "stacks" in job["needs"], name
        for line in run_scripts(job).splitlines():
            # `tasks.py policy` and `tasks.py plan` without stack names: every stack file.
            if re.search(r"python3 tasks\.py (policy|plan)\b", line):
                assert stack_arguments(line) == [], f"{name} names stacks: {line.strip()}"
    assert pr["jobs"]["preview"]["strategy"]["matrix"] == {"stack": "${{ fromJSON(needs.stacks.outputs.stacks) }}"}


# Options of `tasks.py plan` / `tasks.py policy` that take a value.
VALUED_OPTIONS = {"--compare", "--markdown", "--json", "--diagram"}


def stack_arguments(line: str) -> list[str]:
    """The positional arguments of the `python3 tasks.py <task>` command on a script line: its stacks."""
    tokens = shlex.split(re.split(r"\|\||&&|;", line)[0])
    arguments = tokens[tokens.index("tasks.py") + 2 :]
    stacks, skip = [], False
    for token in arguments:
        if skip:
            skip = False
        elif token.startswith("-"):
            skip = token in VALUED_OPTIONS
        else:
            stacks.append(token)
    return stacks


def test_the_command_line_reader_sees_named_stacks():
    assert stack_arguments("python3 tasks.py policy dev prod") == ["dev", "prod"]
    assert stack_arguments('python3 tasks.py plan --compare "origin/${BASE_REF}" staging --markdown x.md || s=$?') == [
        "staging"
    ]
    assert stack_arguments("python3 tasks.py policy") == []


def listing_script(pr) -> str:
    [step] = [s for s in pr["jobs"]["stacks"]["steps"] if s.get("id") == "list"]
    return step["run"]


def run_step(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A `run:` script as GitHub's ubuntu runners run it: bash --noprofile --norc -eo pipefail."""
    bash = shutil.which("bash")
    assert bash, "bash is needed to run the workflow scripts"
    for tool_name in ("jq", "head", "tr", "wc"):
        if shutil.which(tool_name, path=env.get("PATH")) is None:
            pytest.fail(f"{tool_name} is not installed: the workflows' scripts use it as GitHub's runners have it")
    with tempfile.TemporaryDirectory() as scripts:
        path = Path(scripts) / "step.sh"  # outside `cwd`, which may be the repository itself
        path.write_text(script)
        return subprocess.run(
            [bash, "--noprofile", "--norc", "-eo", "pipefail", str(path)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )


def listed_stacks(pr, root: Path, tmp_path: Path) -> list[str]:
    output = tmp_path / "github-output"
    output.write_text("")
    result = run_step(listing_script(pr), root, {"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(output)})
    assert result.returncode == 0, result.stdout + result.stderr
    [line] = output.read_text().splitlines()
    key, _, value = line.partition("=")
    assert key == "stacks"
    return json.loads(value)


def test_the_listing_job_lists_every_stack_file_and_only_those(pr, tmp_path):
    root = tmp_path / "repository"
    root.mkdir()
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml", "Pulumi.staging.yaml", "Pulumi.staging-2.yaml",
                 "Pulumi.eu-1.yml", "README.md"):  # fmt: skip
        (root / name).write_text("config: {}\n")
    # Sorted by name like the tests' list (a glob puts "staging-2.yaml" before "staging.yaml").
    assert listed_stacks(pr, root, tmp_path) == ["dev", "prod", "staging", "staging-2"]


def test_the_listing_job_agrees_with_the_tests_on_this_repository(pr, root, tmp_path):
    """What CI would plan and preview for this commit is what test_stack_files.py checks."""
    assert listed_stacks(pr, root, tmp_path) == stack_names(root)


def test_a_stack_name_pulumi_refuses_stops_the_listing_before_it_reaches_an_expression(pr, tmp_path):
    root = tmp_path / "repository"
    root.mkdir()
    (root / "Pulumi.dev.yaml").write_text("config: {}\n")
    (root / "Pulumi.$(touch pwned).yaml").write_text("config: {}\n")
    output = tmp_path / "github-output"
    output.write_text("")
    result = run_step(listing_script(pr), root, {"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(output)})
    assert result.returncode == 1
    assert "::error file=Pulumi.$(touch pwned).yaml::a stack name has only letters" in result.stdout
    assert output.read_text() == "" and not (root / "pwned").exists()


def test_the_offline_plan_compares_with_the_base_branch_and_hands_its_summary_to_an_artifact(pr, comment):
    job = pr["jobs"]["plan"]
    [checkout] = steps_using(job, "actions/checkout")
    assert checkout["with"] == {"fetch-depth": 0, "persist-credentials": False}  # the base branch's history too
    [plan] = [s for s in job["steps"] if "tasks.py plan" in s.get("run", "")]
    assert plan["env"] == {"BASE_REF": "${{ github.base_ref }}", "PR_NUMBER": "${{ github.event.pull_request.number }}"}
    assert "printf '%s\\n' \"${PR_NUMBER}\" > plan-comment/pr-number" in plan["run"]
    assert 'exit "${status}"' in plan["run"]  # a failing plan still fails the job, after the summary is kept
    [upload] = steps_using(job, "actions/upload-artifact")
    assert job["steps"].index(plan) < job["steps"].index(upload)
    assert upload["if"] == "${{ !cancelled() }}", "the summary of a failing plan is the one to read"
    assert upload["with"]["path"] == "plan-comment/" and upload["with"]["if-no-files-found"] == "error"
    [download] = steps_using(comment["jobs"]["comment"], "actions/download-artifact")
    assert download["with"]["name"] == upload["with"]["name"] == "plan-comment"


def test_the_plan_step_comments_on_what_a_pull_request_changes(pr, tmp_path):
    """The `plan` job's script, run as the runner runs it, on a git repository whose base branch is
    this repository and whose pull request adds a service as the README says: the artifact holds
    the number and a summary that names the new service against `origin/<base>`."""
    venv = ROOT / "venv"
    if not (venv / "bin" / "python").exists():
        pytest.fail(f"{venv} is missing: run the tests with python3 tasks.py test, which creates it")
    repo = copy_repository(tmp_path / "repo")
    (repo / "venv").symlink_to(venv)  # tasks.py finds its virtualenv ready (the same requirements)
    git(repo, "init", "--quiet", "--initial-branch", "main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", "base")
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")  # what the checkout's fetch-depth 0 fetches
    git(repo, "checkout", "--quiet", "-b", "pull-request")
    stacks = stack_files(repo)
    service = add_service(repo, "dev" if "dev" in stacks else stacks[0])
    git(repo, "commit", "--quiet", "--all", "--message", "a service")
    [step] = [s for s in pr["jobs"]["plan"]["steps"] if "tasks.py plan" in s.get("run", "")]
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "BASE_REF": "main", "PR_NUMBER": "42"}
    result = run_step(step["run"], repo, env)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert (repo / "plan-comment" / "pr-number").read_text() == "42\n"
    summary = (repo / "plan-comment" / "plan.md").read_text()
    assert summary.startswith(compare.MARKER) and "origin/main" in summary
    assert f"::{service['name']}-repository" in summary  # the new service's resources, by URN


def test_preview_runs_only_where_oidc_is_possible_and_never_for_forks(pr):
    job = pr["jobs"]["preview"]
    clauses = conjuncts(job["if"])
    assert "github.event.pull_request.head.repo.full_name == github.repository" in clauses
    assert "github.actor != 'dependabot[bot]'" in clauses
    assert "vars.AWS_PREVIEW_ROLE_ARN != ''" in clauses
    assert set(job["needs"]) == {"stacks", "test", "policy"}
    assert job["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    [credentials] = steps_using(job, CREDENTIALS_ACTION)
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_PREVIEW_ROLE_ARN }}"


def test_preview_runs_per_stack_with_the_policy_pack_and_comments_on_the_pull_request(pr):
    job = pr["jobs"]["preview"]
    assert job["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.stacks) }}"
    assert job["strategy"]["fail-fast"] is False
    [preview] = [s for s in steps_using(job, PULUMI_ACTION) if "command" in s["with"]]
    assert preview["with"]["command"] == "preview"
    assert preview["with"]["stack-name"] == "${{ env.STACK }}" and "matrix.stack" in job["env"]["STACK"]
    assert preview["with"]["policyPacks"] == "policies"
    assert preview["with"]["comment-on-pr"] is True
    steps = job["steps"]
    assert steps.index(steps_using(job, CREDENTIALS_ACTION)[0]) < steps.index(preview)


# --- the pull request comment -------------------------------------------------------------------


def test_the_comment_is_posted_after_the_pull_request_workflow_by_a_workflow_that_can_only_comment(pr, comment):
    assert comment["on"] == {"workflow_run": {"workflows": [pr["name"]], "types": ["completed"]}}
    assert comment["permissions"] == {}
    [job] = comment["jobs"].values()
    # actions: read to download another run's artifact; pull-requests: write to comment.
    assert job["permissions"] == {"actions": "read", "pull-requests": "write"}
    clauses = conjuncts(job["if"])
    assert "github.event.workflow_run.event == 'pull_request'" in clauses
    assert "github.event.workflow_run.conclusion != 'cancelled'" in clauses
    [download] = steps_using(job, "actions/download-artifact")
    assert download["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
    assert download["with"]["github-token"] == "${{ github.token }}"
    [post] = [s for s in job["steps"] if "run" in s]
    assert post["env"]["GH_TOKEN"] == "${{ github.token }}"
    assert post["env"]["HEAD_SHA"] == "${{ github.event.workflow_run.head_sha }}"


MARKER = "<!-- ecs-platform offline plan -->"
FAKE_GH = """#!{python}
import json, os, subprocess, sys

args = sys.argv[1:]
stdin = sys.stdin.read() if "--input" in args else None
with open(os.environ["FAKE_GH_LOG"], "a") as log:
    log.write(json.dumps({{"args": args, "stdin": stdin}}) + "\\n")
method, jq, path, i = "GET", None, None, 1
while i < len(args):
    if args[i] in ("--method", "--jq", "--input"):
        method, jq = (args[i + 1], jq) if args[i] == "--method" else (method, args[i + 1] if args[i] == "--jq" else jq)
        i += 2
    elif args[i] == "--paginate":
        i += 1
    else:
        path, i = args[i], i + 1
if method != "GET":
    print("{{}}")
    sys.exit(0)
body = json.dumps(json.load(open(os.environ["FAKE_GH_RESPONSES"]))[path])
if jq is None:
    print(body)
else:
    sys.stdout.write(subprocess.run(["jq", "-r", jq], input=body, capture_output=True, text=True, check=True).stdout)
"""


class Posting:
    """The comment workflow's posting step, run with a stand-in `gh` that answers from `responses`."""

    def __init__(self, comment: dict[str, Any], tmp_path: Path):
        [step] = [s for s in comment["jobs"]["comment"]["steps"] if "run" in s]
        self.script = step["run"]
        self.tmp = tmp_path
        self.summary = tmp_path / "plan-comment"
        self.summary.mkdir()
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        gh = bin_dir / "gh"
        gh.write_text(FAKE_GH.format(python=sys.executable))
        gh.chmod(gh.stat().st_mode | stat.S_IEXEC)
        self.log = tmp_path / "gh.log"
        self.responses = tmp_path / "responses.json"
        self.env = {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "GH_TOKEN": "token",
            "REPOSITORY": "acme/ecs-platform",
            "HEAD_SHA": "0123abc",
            "RUN_URL": "https://github.com/acme/ecs-platform/actions/runs/42",
            "SUMMARY": str(self.summary),
            "RUNNER_TEMP": str(tmp_path),
            "FAKE_GH_LOG": str(self.log),
            "FAKE_GH_RESPONSES": str(self.responses),
        }

    def run(self, number: str = "7", body: str = "## Offline plan\n", pull=None, comments=()):
        (self.summary / "pr-number").write_text(number)
        (self.summary / "plan.md").write_text(body)
        pull = pull or {"state": "open", "head": {"sha": "0123abc"}}
        responses = {
            "repos/acme/ecs-platform/pulls/7": pull,
            "repos/acme/ecs-platform/issues/7/comments": list(comments),
        }
        self.responses.write_text(json.dumps(responses))
        self.log.write_text("")
        result = run_step(self.script, self.tmp, self.env)
        calls = [json.loads(line) for line in self.log.read_text().splitlines()]
        return result, calls


@pytest.fixture
def posting(comment, tmp_path) -> Posting:
    return Posting(comment, tmp_path)


def writes(calls: list[dict]) -> list[tuple[str, str, str]]:
    """(method, path, body) of each call that writes."""
    found = []
    for call in calls:
        args = call["args"]
        if "--method" in args:
            path = next(a for a in args[1:] if a.startswith("repos/"))
            found.append((args[args.index("--method") + 1], path, json.loads(call["stdin"])["body"]))
    return found


def test_the_first_run_posts_one_comment_with_the_summary_under_a_hidden_marker(posting):
    result, calls = posting.run(body="## Offline plan\n\n| stack | change |\n")
    assert result.returncode == 0, result.stdout + result.stderr
    assert writes(calls) == [
        ("POST", "repos/acme/ecs-platform/issues/7/comments", f"{MARKER}\n## Offline plan\n\n| stack | change |\n")
    ]


def test_the_marker_is_written_once_whatever_the_summary_holds(posting):
    """`tasks.py plan --markdown` starts with the same marker (offline/compare.py): it stays one line."""
    assert MARKER == compare.MARKER
    result, calls = posting.run(body=f"{MARKER}\n## Offline plan\n{MARKER}\n")
    assert result.returncode == 0, result.stdout + result.stderr
    [(_, _, body)] = writes(calls)
    assert body == f"{MARKER}\n## Offline plan\n"


def test_a_later_run_edits_the_comment_it_posted_and_no_one_elses(posting):
    comments = [
        {"id": 11, "user": {"login": "mallory"}, "body": f"{MARKER}\nlooks like the bot's"},
        {"id": 12, "user": {"login": "github-actions[bot]"}, "body": "a comment of another workflow"},
        {"id": 13, "user": {"login": "github-actions[bot]"}, "body": f"{MARKER}\nthe previous plan"},
    ]
    result, calls = posting.run(body="the new plan\n", comments=comments)
    assert result.returncode == 0, result.stdout + result.stderr
    assert writes(calls) == [("PATCH", "repos/acme/ecs-platform/issues/comments/13", f"{MARKER}\nthe new plan\n")]


@pytest.mark.parametrize("number", ["7; rm -rf /", "$(id)", "-1", "0", "7.5", "", "1234567890123"])
def test_a_pull_request_number_that_is_not_a_plain_number_is_refused_before_any_call(posting, number):
    result, calls = posting.run(number=number)
    assert result.returncode == 1
    assert "::error::the artifact's pull request number is not a number" in result.stdout
    assert calls == []


@pytest.mark.parametrize(
    "pull",
    [{"state": "open", "head": {"sha": "fedcba9"}}, {"state": "closed", "head": {"sha": "0123abc"}}],
    ids=["another-head", "closed"],
)
def test_a_number_naming_another_commit_or_a_closed_pull_request_gets_no_comment(posting, pull):
    """An artifact may name any pull request: only the one whose head the run checked is commented on."""
    result, calls = posting.run(pull=pull)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "::notice::pull request #7 is not open at 0123abc" in result.stdout
    assert writes(calls) == []


def test_a_body_over_githubs_limit_is_cut_and_says_where_the_whole_is(posting):
    result, calls = posting.run(body="x" * 70_000 + "\u00e9" * 10)
    assert result.returncode == 0, result.stdout + result.stderr
    [(_, _, body)] = writes(calls)
    assert len(body) < 65_536
    assert body.startswith(f"{MARKER}\n" + "x" * 60_000)
    assert body.endswith(
        "the whole summary is the plan-comment artifact of [the run](https://github.com/acme/ecs-platform/actions/runs/42)._\n"
    )


def test_an_artifact_file_that_is_a_link_is_refused(posting, tmp_path):
    (tmp_path / "elsewhere").write_text("7")
    (posting.summary / "pr-number").symlink_to(tmp_path / "elsewhere")
    (posting.summary / "plan.md").write_text("plan")
    result = run_step(posting.script, tmp_path, posting.env)
    assert result.returncode == 1 and "::error::the artifact has no plain file pr-number" in result.stdout


# --- deploys ----------------------------------------------------------------------------------


def test_deploys_run_on_merge_to_main_only(deploy):
    assert list(deploy["on"]) == ["push"]
    assert deploy["on"]["push"]["branches"] == ["main"]


def up_step(job: dict[str, Any]) -> dict[str, Any]:
    [step] = [s for s in steps_using(job, PULUMI_ACTION) if "command" in s["with"]]
    assert step["with"]["command"] == "up"
    return step


def test_dev_is_deployed_after_the_checks_and_prod_after_dev(deploy):
    """The promotion order is explicit (deploy.yml says why); the checks before it cover every stack file."""
    jobs = deploy["jobs"]
    check = run_scripts(jobs["check"]).splitlines()
    assert "python3 tasks.py test" in check and "python3 tasks.py policy" in check
    assert jobs["check"]["permissions"] == {"contents": "read"}
    assert "secrets." not in yaml.safe_dump(jobs["check"]), "the checks need no credentials"
    assert jobs["dev"]["needs"] == "check"
    assert jobs["prod"]["needs"] == "dev"
    assert job_stacks(jobs["dev"]) == ["dev"] and job_stacks(jobs["prod"]) == ["prod"]


def test_prod_deploys_only_through_the_protected_production_environment(deploy):
    prod = deploy["jobs"]["prod"]
    assert prod["environment"] == "production"
    assert "if" not in prod, "a condition could let prod run without dev"
    # The guard that refuses an unprotected environment runs before any credential is fetched.
    guard = next(i for i, s in enumerate(prod["steps"]) if "required_reviewers" in s.get("run", ""))
    assert guard < prod["steps"].index(steps_using(prod, CREDENTIALS_ACTION)[0])
    assert prod["permissions"]["actions"] == "read"  # reading the environment's protection rules


def test_two_updates_of_one_stack_never_overlap(deploy):
    groups = {}
    for name in ("dev", "prod"):
        concurrency = deploy["jobs"][name]["concurrency"]
        assert concurrency["cancel-in-progress"] is False, "a running update must never be cancelled"
        assert "${{" not in concurrency["group"], "the group must be the same for every run"
        groups[name] = concurrency["group"]
    assert len(set(groups.values())) == 2
    assert "concurrency" not in deploy, "a workflow-wide group would make prod's approval block dev"


# --- every run of the pack ----------------------------------------------------------------------


def test_every_pulumi_run_passes_the_pack_config_of_its_own_stack(all_jobs, root):
    """Without --policy-pack-config the CLI runs the pack at its defaults: prod's mandatory
    rds-multi-az, rds-deletion-protection and rds-backup-retention would be advisory in CI."""
    runs = 0
    for file, name, job in all_jobs:
        for step in pulumi_runs(job):
            runs += 1
            inputs = step["with"]
            assert inputs["policyPacks"] == "policies", f"{file}:{name}"
            assert inputs["stack-name"] == "${{ env.STACK }}", f"{file}:{name}: one stack name for every step"
            stacks = job_stacks(job, root)
            if "matrix.stack" in job["env"]["STACK"]:
                assert inputs.get("policyPackConfigs") == "policies/config.${{ matrix.stack }}.json", f"{file}:{name}"
            else:
                assert inputs.get("policyPackConfigs") == f"policies/config.{stacks[0]}.json", f"{file}:{name}"
            for stack in stacks:
                assert (root / f"Pulumi.{stack}.yaml").is_file(), f"{file}:{name} deploys {stack}, which has no file"
                assert (root / "policies" / f"config.{stack}.json").is_file(), f"{file}:{name}: {stack}"
    assert runs == 3  # preview (per stack file), up dev, up prod


def test_every_stack_file_has_the_pack_config_ci_passes_for_it(root, stack):
    """The preview of each stack file passes policies/config.<stack>.json, which must exist and be one
    the pack accepts (README, "Add an environment", step 2)."""
    path = root / "policies" / f"config.{stack}.json"
    assert path.is_file(), f"Pulumi.{stack}.yaml has no {path.relative_to(root)}: CI's preview passes it"
    info = new_analyzer().GetAnalyzerInfo(None, None)
    reconcile(info, json.loads(path.read_text()))


def test_a_stack_nobody_created_stops_the_job_with_a_pointer_and_is_never_created(all_jobs):
    """CI selects, never creates: a person creates each stack once with its secrets provider."""
    for file, name, job in all_jobs:
        steps = job["steps"]
        for step in pulumi_runs(job):
            assert step["with"].get("upsert") in (None, False), f"{file}:{name}"
            before = steps[: steps.index(step)]
            [guard] = [s for s in before if "pulumi stack select" in s.get("run", "")]
            assert 'pulumi stack select "${STACK}"' in guard["run"] and "--create" not in guard["run"]
            assert "::error::" in guard["run"] and "Set up CI" in guard["run"], f"{file}:{name}"
            # The backend (S3) may need the AWS credentials the job assumes first.
            assert steps.index(steps_using(job, CREDENTIALS_ACTION)[0]) < steps.index(guard), f"{file}:{name}"
    for f in WORKFLOW_FILES:
        text = f.read_text()
        assert "stack init" not in text.replace("pulumi stack init ${STACK} --secrets-provider", ""), f.name
        assert "--create" not in text, f.name


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def commands_in(section: str) -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    return [line.split("#")[0].strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_the_readme_deploys_from_a_fresh_backend():
    """`pulumi stack select dev` fails where no dev stack exists; the steps create it first."""
    commands = [c for c in commands_in(readme_section("Deploy an environment")) if c.startswith("pulumi ")]
    first_stack = next(c for c in commands if c.startswith("pulumi stack"))
    assert first_stack in ("pulumi stack select --create dev", "pulumi stack init dev")
    assert commands.index(first_stack) < commands.index("pulumi install --cwd policies")
    runs = [c for c in commands if c.startswith(("pulumi preview", "pulumi up"))]
    assert runs and all("--policy-pack policies --policy-pack-config policies/config.dev.json" in c for c in runs)
    assert commands.index("pulumi install --cwd policies") < commands.index(runs[0])
