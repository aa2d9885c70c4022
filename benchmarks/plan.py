#!/usr/bin/env python3
"""Times the offline preview (`python3 tasks.py plan`): dev, prod, both, 10/20/40 services; tests; the CDK peer.

A script, not a test: it prints figures and asserts nothing. Run it with the project's venv:

    venv/bin/python benchmarks/plan.py            the preview rows and the scaling ratios
    venv/bin/python benchmarks/plan.py --tests    also the wall time of `python3 tasks.py test`
    venv/bin/python benchmarks/plan.py --cdk [N]  `python3 tasks.py plan` against the CDK peer's
                                                  `node app.js` (benchmarks/cdk-peer, `npm ci` there
                                                  first), N runs each in turn (default 5): medians

Every measurement runs in a FRESH process (interpreter start-up, cold imports of pulumi,
pulumi_aws and awsx, evaluation of the stacks, policy hook, cost, tree and diagram),
because cold imports dominate and that is what a user of the command pays. Inside that
process the same workload then runs a few more times, warm (the fastest counts), which isolates
the part that grows with the environment. For each row it prints the resources previewed, the
wall time of the process less its warm runs (what the command costs), the cold and warm
in-process times, and the peak resident memory after the cold run (resource.getrusage ru_maxrss).

The child runs the way the command does: the cyclic collector frozen and off, and the stacks of
a row previewed by `offline.plan.preview_all` (in parallel worker processes on a multi-core machine).

Services: the 10/20/40-service configs replicate the first entry of the dev stack's
`ecs-platform:services`, each copy public under its own path. Their scaling ratios come from one
more fresh process that runs the three sizes in turn (`interleaved`), so that a change in the
machine's speed between rows does not pass for growth.
"""

from __future__ import annotations

import copy
import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / "venv" / "bin" / "python"
SERVICES_KEY = "ecs-platform:services"
SERVICES = (10, 20, 40)
# Warm runs per row: single runs on a shared 2-core machine vary by +-40%; the fastest of a few is
# the figure least moved by other work (noise only ever adds time).
WARM_RUNS = 5
# Rounds of the interleaved scaling measurement (see `interleaved`).
SCALING_ROUNDS = 7
CDK_PEER = ROOT / "benchmarks" / "cdk-peer"


def child(spec: dict) -> None:
    """Runs inside the fresh process: the workload twice (cold, then warm); prints one JSON line."""
    import gc
    import resource

    started = time.perf_counter()
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
    gc.freeze()
    gc.disable()
    resources = workload(spec)
    cold = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    warm = []
    for _ in range(WARM_RUNS):
        # The command runs once per process; its garbage is never there when it starts. Clear the
        # previous run's (the collector is off) so a warm run measures the work, not a fuller heap.
        gc.collect()
        gc.freeze()
        began = time.perf_counter()
        workload(spec)
        warm.append(time.perf_counter() - began)
    print(json.dumps({"resources": resources, "cold_s": cold, "warm_runs": warm, "peak_mb": peak_mb}))


def interleaved(sizes: list[int]) -> None:
    """Runs inside a fresh process: each size once cold, then SCALING_ROUNDS rounds of one warm run of
    each size in turn; prints the resources and the fastest warm run of each size as one JSON line.

    Taking the sizes in turn puts the same drift of the machine's speed on each of them, so their
    ratio is not the ratio of a quiet moment to a busy one (as separate processes can be).
    """
    import gc

    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
    gc.freeze()
    gc.disable()
    resources = {n: workload({"services": n}) for n in sizes}
    fastest = {n: float("inf") for n in sizes}
    for _ in range(SCALING_ROUNDS):
        for n in sizes:
            gc.collect()
            gc.freeze()
            began = time.perf_counter()
            workload({"services": n})
            fastest[n] = min(fastest[n], time.perf_counter() - began)
    print(json.dumps({"resources": resources, "warm_s": fastest}))


def workload(spec: dict) -> int:
    """What `python3 tasks.py plan` does for the spec: evaluate, policies, cost, tree (and diagram)."""
    from offline import diagram, plan
    from offline.harness import stack_config

    if spec.get("services"):
        config = stack_config("dev")
        config[SERVICES_KEY] = replicate(config[SERVICES_KEY], spec["services"])
        results = [plan.preview("dev", config)]
    else:
        results = plan.preview_all(spec["stacks"], known=bool(spec.get("diagram")))
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
    # The child runs the workload once cold, then WARM_RUNS times warm; the command runs it once,
    # so its cost is about the child's wall less the warm runs.
    wall = time.perf_counter() - started
    if out.returncode:
        sys.exit(f"{label}: failed\n{out.stderr}")
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    figures["wall_s"] = wall = wall - sum(figures["warm_runs"])
    figures["warm_s"] = min(figures["warm_runs"])
    print(
        f"{label:<14} {figures['resources']:>9} {wall:>8.2f} {figures['cold_s']:>8.2f} "
        f"{figures['warm_s']:>8.2f} {figures['peak_mb']:>8.0f}"
    )
    return figures


def main() -> None:
    print("Offline preview, one fresh process per row.")
    print("  wall: the child less its warm runs (start, imports, one preview, teardown), as `tasks.py plan`")
    print(f"  cold: the first preview, imports included; warm: the fastest of {WARM_RUNS} more, imports paid")
    print(f"{'run':<14} {'resources':>9} {'wall s':>8} {'cold s':>8} {'warm s':>8} {'peak MB':>8}")
    measure("dev", {"stacks": ["dev"]})
    measure("prod", {"stacks": ["prod"]})
    measure("dev + prod", {"stacks": ["dev", "prod"]})
    measure("both+diagram", {"stacks": ["dev", "prod"], "diagram": True})
    for n in SERVICES:
        measure(f"{n} services", {"services": n})
    out = subprocess.run(
        [str(PYTHON), __file__, "--interleaved", json.dumps(SERVICES)], cwd=ROOT, capture_output=True, text=True
    )
    if out.returncode:
        sys.exit(f"scaling: failed\n{out.stderr}")
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    resources = {int(n): r for n, r in figures["resources"].items()}
    warm = {int(n): s for n, s in figures["warm_s"].items()}
    print(
        f"\nScaling with the number of services: warm seconds, the fastest of {SCALING_ROUNDS} runs of each size"
        "\ntaken in turn in one process (imports are paid once and do not grow):"
    )
    for n in SERVICES:
        print(f"  {n} services: {resources[n]} resources, {warm[n]:.2f} s")
    for small, large in itertools.pairwise(SERVICES):
        ratio = warm[large] / warm[small]
        grow = resources[large] / resources[small]
        added = (warm[large] - warm[small]) / (large - small)
        print(
            f"  {small} -> {large} services: resources x{grow:.2f}, time x{ratio:.2f}; "
            f"each added service {added * 1000:.0f} ms (linear: the same for every step)"
        )


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds (the process and everything it started) of one run of `command`."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        sys.exit(f"{' '.join(command)}: exit {done.returncode}\n{done.stderr.decode()[-2000:]}")
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def tests() -> None:
    wall, cpu = timed(["python3", "tasks.py", "test"], ROOT)
    print(f"\nTest suite (`python3 tasks.py test`): wall {wall:.1f} s, CPU {cpu:.1f} s (all workers)")


def cdk(runs: int) -> None:
    """The plan command and the CDK peer's synth of the same two environments, in turn, `runs` times each."""
    import statistics

    if not (CDK_PEER / "node_modules" / "aws-cdk-lib").is_dir():
        sys.exit(f"{CDK_PEER.relative_to(ROOT)}: run `npm ci` there first")
    commands = {
        "python3 tasks.py plan": (["python3", "tasks.py", "plan"], ROOT),
        "node app.js (CDK synth)": (["node", "app.js"], CDK_PEER),
    }
    figures: dict[str, list[tuple[float, float]]] = {label: [] for label in commands}
    for command, cwd in commands.values():  # one warm-up each: disk caches
        timed(command, cwd)
    for _ in range(runs):
        for label, (command, cwd) in commands.items():
            figures[label].append(timed(command, cwd))
    print(f"\nBoth stacks, dev and prod: median of {runs} runs each, taken in turn")
    print(f"{'command':<26} {'wall s':>8} {'cpu s':>8}")
    medians = {}
    for label, rows in figures.items():
        medians[label] = statistics.median(w for w, _ in rows)
        print(f"{label:<26} {medians[label]:>8.2f} {statistics.median(c for _, c in rows):>8.2f}")
    plan_wall, cdk_wall = medians.values()
    print(f"plan / CDK synth, wall: {plan_wall / cdk_wall:.2f} (the goal: <= 0.50)")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(json.loads(sys.argv[2]))
    elif len(sys.argv) > 2 and sys.argv[1] == "--interleaved":
        interleaved(json.loads(sys.argv[2]))
    elif sys.argv[1:2] == ["--cdk"]:
        cdk(int(sys.argv[2]) if len(sys.argv) > 2 else 5)
    else:
        main()
        if "--tests" in sys.argv[1:]:
            tests()
