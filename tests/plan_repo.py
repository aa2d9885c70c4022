"""A copy of the repository with stack files of the test's own, to run `tasks.py plan` and `policy` on as a user does.

The copy holds every file git knows (tracked, and new files not ignored), without the shipped
`Pulumi.<stack>.yaml` files, so the commands see the test's stacks only.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from readme_edits import tracked_files

ROOT = Path(__file__).resolve().parent.parent

# A small environment: a VPC over two AZs with one NAT gateway, and one public service.
SMALL = """\
config:
  aws:region: eu-west-1
  ecs-platform:network:
    cidr: 10.30.0.0/16
    azCount: 2
    natGateways: single
    flowLogs:
      retentionDays: 30
  ecs-platform:cluster:
    loadBalancer:
      httpOnly: true
  ecs-platform:services:
    - name: web
      public: true
      image: public.ecr.aws/nginx/nginx:1.27-alpine
      port: 80
"""


def copy_repository(dest: Path) -> Path:
    for name in tracked_files(ROOT):
        if Path(name).parent == Path(".") and name.startswith("Pulumi.") and name != "Pulumi.yaml":
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    return dest


def run(repo: Path, module: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`python -m <module> <args>` in `repo` with this interpreter, as tasks.py runs it."""
    environment = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "PYTHONPATH")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=repo, env=environment, capture_output=True, text=True
    )


def git(repo: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"]
    return subprocess.run([*command, *args], cwd=repo, capture_output=True, text=True, check=True).stdout
