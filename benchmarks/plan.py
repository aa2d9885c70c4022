#!/usr/bin/env python3
"""Times the offline preview (`python3 tasks.py plan`): dev, prod, both, and 5/10/20 services.

A script, not a test: it prints figures and asserts nothing. Run it with the project's venv:

    venv/bin/python benchmarks/plan.py

Every measurement runs in a FRESH process (interpreter start-up, cold imports of pulumi,
pulumi_aws and awsx, evaluation of the stacks, policy hook, cost, tree and diagram),
because cold imports dominate and that is what a user of the command pays. Inside that
process the same workload then runs a second time, warm, which isolates the part that
grows with the environment. For each row it prints the resources previewed, the wall time
of the whole process, the cold and warm in-process times, and the process's peak resident
memory (resource.getrusage ru_maxrss).

Services: the 5/10/20-service configs replicate the first entry of the dev stack's
`ecs-platform:services`, each copy public under its own path.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / "venv" / "bin" / "python"
SERVICES_KEY = "ecs-platform:services"


def child(spec: dict) -> None:
    """Runs inside the fresh process: the workload twice (cold, then warm); prints one JSON line."""
    import resource

    started = time.perf_counter()
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
    resources = workload(spec)
    cold = time.perf_counter()
    workload(spec)
    warm = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"resources": resources, "cold_s": cold - started, "warm_s": warm - cold, "peak_mb": peak_mb}))


def workload(spec: dict) -> int:
    """What `python3 tasks.py plan` does for the spec: evaluate, policies, cost, tree (and diagram)."""
    from offline import diagram, plan
    from offline.harness import stack_config

    if spec.get("services"):
        config = stack_config("dev")
        config[SERVICES_KEY] = replicate(config[SERVICES_KEY], spec["services"])
        results = [plan.preview("dev", config)]
    else:
        results = [plan.preview(stack) for stack in spec["stacks"]]
    for result in results:
        assert not result.errors, result.errors
        plan.render(result)
        if spec.get("diagram"):
            diagram.mermaid(result.known)
    return sum(len(r.reported.resources) for r in results)


def replicate(services: list[dict], n: int) -> list[dict]:
    """n copies of the first service entry, each public under its own path (rule priorities follow the order)."""
    out = []
    for i in range(n):
        entry = copy.deepcopy(services[0])
        entry["name"] = f"{entry['name']}-{i:02d}"
        if entry.get("public"):
            entry["routing"] = {"paths": [f"/{entry['name']}/*"]}
        out.append(entry)
    return out


def measure(label: str, spec: dict) -> dict:
    started = time.perf_counter()
    out = subprocess.run(
        [str(PYTHON), __file__, "--child", json.dumps(spec)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    # The child runs the workload twice (cold, then warm) and exits normally; the command
    # itself runs it once and skips interpreter teardown, so it costs about wall - warm.
    wall = time.perf_counter() - started
    if out.returncode:
        sys.exit(f"{label}: failed\n{out.stderr}")
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    figures["wall_s"] = wall
    print(
        f"{label:<14} {figures['resources']:>9} {wall:>8.2f} {figures['cold_s']:>8.2f} "
        f"{figures['warm_s']:>8.2f} {figures['peak_mb']:>8.0f}"
    )
    return figures


def main() -> None:
    print("Offline preview, one fresh process per row.")
    print(
        "  wall: the whole child process (start, cold run, warm run, teardown); `tasks.py plan` costs about wall - warm"
    )
    print("  cold: the first preview in the process, imports included; warm: the same again, imports paid")
    print(f"{'run':<14} {'resources':>9} {'wall s':>8} {'cold s':>8} {'warm s':>8} {'peak MB':>8}")
    measure("dev", {"stacks": ["dev"]})
    measure("prod", {"stacks": ["prod"]})
    measure("dev + prod", {"stacks": ["dev", "prod"]})
    measure("both+diagram", {"stacks": ["dev", "prod"], "diagram": True})
    per_service = {}
    for n in (5, 10, 20):
        figures = measure(f"{n} services", {"services": n})
        per_service[n] = figures
    print("\nScaling with the number of services (warm time: imports are paid once and do not grow):")
    for small, large in ((5, 10), (10, 20)):
        ratio = per_service[large]["warm_s"] / per_service[small]["warm_s"]
        grow = per_service[large]["resources"] / per_service[small]["resources"]
        print(f"  {small} -> {large} services: resources x{grow:.2f}, time x{ratio:.2f} (linear or better: <= x2)")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(json.loads(sys.argv[2]))
    else:
        main()
