"""The edits the README tells a user to make to the stack files, applied to a copy of the repository.

"Add a service" and "Add an environment": test_stack_edits.py runs the checks of every stack file
on a copy edited this way, test_workflows.py runs the pull request workflow's plan step on one.
"""

import json
import shutil
import subprocess
from pathlib import Path

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
    new = next(n for n in ("staging", "staging-2", "staging-3") if n not in existing)
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
