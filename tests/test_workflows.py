"""The GitHub Actions workflows of the infrastructure itself (`.github/workflows/`).

actionlint (with shellcheck on every `run:` script) must find nothing, and the properties that
keep the AWS accounts safe must hold: checks without credentials on every pull request, cloud
access only through OIDC and never for forks, prod only after dev and behind the protected
`production` environment, one update per stack at a time.
"""

import re
import shutil
import subprocess
import sysconfig
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline.harness import stack_names

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


def job_stacks(job: dict[str, Any]) -> list[str]:
    """The stacks a job's pulumi runs work on: its stack matrix, or the literal its STACK names."""
    stack = job["env"]["STACK"]
    if "matrix.stack" in stack:
        return job["strategy"]["matrix"]["stack"]
    return [re.fullmatch(r"\$\{\{ .* \|\| '([\w-]+)' \}\}", stack).group(1)]


@pytest.fixture(scope="module")
def pr() -> dict[str, Any]:
    return load("pull-request.yml")


@pytest.fixture(scope="module")
def deploy() -> dict[str, Any]:
    return load("deploy.yml")


@pytest.fixture(scope="module")
def all_jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [(f.name, name, job) for f in WORKFLOW_FILES for name, job in load(f.name)["jobs"].items()]


# --- actionlint -------------------------------------------------------------------------------


def test_the_workflows_exist():
    assert {"deploy.yml", "pull-request.yml"} <= {f.name for f in WORKFLOW_FILES}


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


def test_no_workflow_runs_untrusted_code_with_secrets():
    for f in WORKFLOW_FILES:
        assert "pull_request_target" not in f.read_text(), f.name
        assert "workflow_run" not in load(f.name)["on"], f.name


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


def test_pull_requests_run_tests_and_the_policy_check_without_credentials(pr):
    assert list(pr["on"]) == ["pull_request"]
    checks = {"test": "python3 tasks.py test", "policy": f"python3 tasks.py policy {' '.join(stack_names())}"}
    for name, command in checks.items():
        job = pr["jobs"][name]
        assert command in run_scripts(job).splitlines()
        assert job["permissions"] == {"contents": "read"}
        text = yaml.safe_dump(job)
        assert "secrets." not in text and "vars." not in text, name
        assert not steps_using(job, CREDENTIALS_ACTION) and not steps_using(job, PULUMI_ACTION), name
        assert "if" not in job, f"{name} must run for every pull request, forks included"


def test_preview_runs_only_where_oidc_is_possible_and_never_for_forks(pr):
    job = pr["jobs"]["preview"]
    clauses = conjuncts(job["if"])
    assert "github.event.pull_request.head.repo.full_name == github.repository" in clauses
    assert "github.actor != 'dependabot[bot]'" in clauses
    assert "vars.AWS_PREVIEW_ROLE_ARN != ''" in clauses
    assert set(job["needs"]) == {"test", "policy"}
    assert job["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    [credentials] = steps_using(job, CREDENTIALS_ACTION)
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_PREVIEW_ROLE_ARN }}"


def test_preview_runs_per_stack_with_the_policy_pack_and_comments_on_the_pull_request(pr):
    job = pr["jobs"]["preview"]
    assert job["strategy"]["matrix"]["stack"] == stack_names()
    assert job["strategy"]["fail-fast"] is False
    [preview] = [s for s in steps_using(job, PULUMI_ACTION) if "command" in s["with"]]
    assert preview["with"]["command"] == "preview"
    assert preview["with"]["stack-name"] == "${{ env.STACK }}" and "matrix.stack" in job["env"]["STACK"]
    assert preview["with"]["policyPacks"] == "policies"
    assert preview["with"]["comment-on-pr"] is True
    steps = job["steps"]
    assert steps.index(steps_using(job, CREDENTIALS_ACTION)[0]) < steps.index(preview)


# --- deploys ----------------------------------------------------------------------------------


def test_deploys_run_on_merge_to_main_only(deploy):
    assert list(deploy["on"]) == ["push"]
    assert deploy["on"]["push"]["branches"] == ["main"]


def up_step(job: dict[str, Any]) -> dict[str, Any]:
    [step] = [s for s in steps_using(job, PULUMI_ACTION) if "command" in s["with"]]
    assert step["with"]["command"] == "up"
    return step


def test_small_is_deployed_after_the_checks_and_prodlike_after_small(deploy):
    jobs = deploy["jobs"]
    check = run_scripts(jobs["check"]).splitlines()
    assert "python3 tasks.py test" in check and f"python3 tasks.py policy {' '.join(stack_names())}" in check
    assert jobs["check"]["permissions"] == {"contents": "read"}
    assert "secrets." not in yaml.safe_dump(jobs["check"]), "the checks need no credentials"
    assert jobs["dev"]["needs"] == "check"
    assert jobs["prod"]["needs"] == "dev"
    assert job_stacks(jobs["dev"]) == ["dev"] and job_stacks(jobs["prod"]) == ["prod"]


def test_prodlike_deploys_only_through_the_protected_production_environment(deploy):
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


def test_every_pulumi_run_passes_the_pack_config_of_its_own_stack(all_jobs):
    """Without --policy-pack-config the CLI runs the pack at its defaults: prod's mandatory
    rds-multi-az, rds-deletion-protection and rds-backup-retention would be advisory in CI."""
    runs = 0
    for file, name, job in all_jobs:
        for step in pulumi_runs(job):
            runs += 1
            inputs = step["with"]
            assert inputs["policyPacks"] == "policies", f"{file}:{name}"
            assert inputs["stack-name"] == "${{ env.STACK }}", f"{file}:{name}: one stack name for every step"
            stacks = job_stacks(job)
            if "matrix.stack" in job["env"]["STACK"]:
                assert inputs.get("policyPackConfigs") == "policies/config.${{ matrix.stack }}.json", f"{file}:{name}"
            else:
                assert inputs.get("policyPackConfigs") == f"policies/config.{stacks[0]}.json", f"{file}:{name}"
            for stack in stacks:
                assert (ROOT / "policies" / f"config.{stack}.json").is_file(), f"{file}:{name}: {stack}"
    assert runs == 3  # preview (per stack), up dev, up prod


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
