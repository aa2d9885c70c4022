"""The edits the README tells a user to make to the stack files, applied to a copy of the repository.

"Add a service" and "Add an environment": the modules that read the repository's stack files
(test_stack_files.py, test_workflows.py) run each of their checks on this repository and on a
copy edited this way (`parametrize_over_trees`); test_workflows.py also runs the pull request
workflow's plan step on a copy with a new service.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


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
    new = new_environment(existing)
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


def new_environment(existing: list[str]) -> str:
    """The name `add_environment` gives the new stack next to the `existing` ones."""
    return next(n for n in ("staging", "staging-2", "staging-3") if n not in existing)


class Edited:
    """A copy of the repository with the README's edits: a new service in dev, a new environment copied
    from prod (with a new service of its own)."""

    def __init__(self, root: Path):
        self.root = root
        stacks = stack_files(root)
        assert stacks, "no Pulumi.<stack>.yaml to edit"
        self.service_stack = "dev" if "dev" in stacks else stacks[0]
        self.source = "prod" if "prod" in stacks else stacks[-1]
        self.service = add_service(root, self.service_stack)
        self.new = add_environment(root, self.source)
        self.new_service = add_service(root, self.new)
        self.stacks = stack_files(root)

    @staticmethod
    def stacks_after(stacks: list[str]) -> list[str]:
        """The stack files of the edited copy of a repository that has `stacks`, known before the copy is made."""
        return sorted([*stacks, new_environment(stacks)])


# The trees whose stack files the checks of every stack file run on: this repository, and the copy
# of it edited as the README says (the session fixture `edited_repository` of conftest.py).
REPOSITORY, EDITED = "repository", "edited"


def parametrize_over_trees(metafunc: pytest.Metafunc) -> None:
    """`pytest_generate_tests` of the modules that read the repository's stack files.

    A test asking for `root` (the tree's folder, a fixture of conftest.py) runs once per tree; one
    asking for `stack` as well runs once per stack file of each tree: every check of such a module,
    including one added later, runs on the edited copy too. Ids: `[dev]` here, `[edited-staging]`
    on the copy.
    """
    names = ("tree", "stack")
    if "stack" in metafunc.fixturenames and "tree" not in metafunc.fixturenames:
        raise pytest.UsageError(f"{metafunc.function.__name__}: a test of a stack file reads it from `root`")
    if "tree" not in metafunc.fixturenames:
        return
    here = stack_files(ROOT)
    trees = {REPOSITORY: here, EDITED: Edited.stacks_after(here)}
    if "stack" not in metafunc.fixturenames:
        metafunc.parametrize("tree", list(trees))
        return
    cases = [(tree, stack) for tree, stacks in trees.items() for stack in stacks]
    ids = [stack if tree == REPOSITORY else f"{tree}-{stack}" for tree, stack in cases]
    metafunc.parametrize(names, cases, ids=ids)
