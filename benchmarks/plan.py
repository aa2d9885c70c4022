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

Services: when the dev stack's config has an `ecs-platform:services` list, the 5/10/20-service
configs replicate its first entry with distinct names and path patterns. Until that key
exists (the compute component lands on another branch) the service runs use the synthetic
environment of tests/synthetic_env.py with N copies of its public service (security group,
ingress rule, target group, listener rule, task definition, service, alarm, pipeline) and
say so.
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
    """What `python3 tasks.py plan` does for the spec: evaluate, policy hook, cost, tree, diagram."""
    from offline import cost, diagram, plan
    from offline.harness import evaluate, stack_config

    if not spec.get("services"):
        results = [plan.preview(stack) for stack in spec["stacks"]]
        plan.policy_verdicts({r.stack: r.graph for r in results})
        for result in results:
            plan.render(result)
            if spec.get("diagram"):
                diagram.mermaid(result.known)
        return sum(len(r.graph.resources) for r in results)
    n = spec["services"]
    config = stack_config("dev")
    if SERVICES_KEY in config:
        config[SERVICES_KEY] = replicate(config[SERVICES_KEY], n)
        result = plan.preview("dev", config)
        plan.policy_verdicts({"dev": result.graph})
        plan.render(result)
        if spec.get("diagram"):
            diagram.mermaid(result.known)
        return len(result.graph.resources)
    import synthetic_env

    def program():
        synthetic_env.program(services=n)

    graph = evaluate("dev", {"aws:region": "eu-west-1"}, preview=True, program=program)
    plan.policy_verdicts({"dev": graph})
    plan.render(plan.Preview("dev", {}, graph, cost.estimate(graph)))
    if spec.get("diagram"):
        diagram.mermaid(evaluate("dev", {"aws:region": "eu-west-1"}, program=program))
    return len(graph.resources)


def replicate(services: list[dict], n: int) -> list[dict]:
    """n copies of the first service entry with distinct names, path patterns and rule priorities."""
    out = []
    for i in range(n):
        entry = copy.deepcopy(services[0])
        name = f"{entry.get('name', 'svc')}-{i:02d}"
        entry["name"] = name
        for key, value in list(entry.items()):
            if "path" in key.lower() and isinstance(value, list):
                entry[key] = [f"/{name}{v}" if isinstance(v, str) and v.startswith("/") else v for v in value]
            if "priority" in key.lower() and isinstance(value, int):
                entry[key] = value + i
        out.append(entry)
    return out


def measure(label: str, spec: dict) -> dict:
    started = time.perf_counter()
    out = subprocess.run(
        [str(PYTHON), __file__, "--child", json.dumps(spec)], cwd=ROOT, capture_output=True, text=True, check=False
    )
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
    sys.path.insert(0, str(ROOT))
    import yaml

    dev_config = (yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text()) or {}).get("config") or {}
    print("Offline preview, one fresh process per row.")
    print("  wall: the whole process (interpreter start, cold imports, preview) = what `tasks.py plan` costs")
    print("  cold: the first preview in the process, imports included; warm: the same again, imports paid")
    print(f"{'run':<14} {'resources':>9} {'wall s':>8} {'cold s':>8} {'warm s':>8} {'peak MB':>8}")
    measure("dev", {"stacks": ["dev"]})
    measure("prod", {"stacks": ["prod"]})
    measure("dev + prod", {"stacks": ["dev", "prod"]})
    measure("both+diagram", {"stacks": ["dev", "prod"], "diagram": True})
    if SERVICES_KEY not in dev_config:
        print(
            f"\nnote: Pulumi.dev.yaml has no `{SERVICES_KEY}` yet (the compute component is on another branch);\n"
            "the service runs below use tests/synthetic_env.py with N copies of its public service instead."
        )
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
