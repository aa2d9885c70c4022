"""How long the mock harness takes to evaluate each stack, cold and warm (a script, not a test).

    venv/bin/python benchmarks/evaluate.py

Cold: a fresh interpreter imports pulumi, pulumi_aws and awsx and evaluates one stack.
Warm: the same process evaluates the stack again, as every test after the first does.
"""

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COLD = """
import resource, sys, time
start = time.perf_counter()
from offline.harness import evaluate
imported = time.perf_counter()
graph = evaluate(sys.argv[1])
done = time.perf_counter()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{len(graph.registered)} {imported - start:.2f} {done - imported:.2f} {peak:.0f}")
"""


def main() -> None:
    from offline.harness import evaluate, stack_names

    print(f"{'stack':<8}{'resources':>10}{'imports s':>11}{'cold eval s':>13}{'warm eval s':>13}{'peak MiB':>10}")
    for stack in stack_names():
        out = subprocess.run([sys.executable, "-c", COLD, stack], cwd=ROOT, capture_output=True, text=True, check=True)
        count, imports, cold, peak = out.stdout.split()
        evaluate(stack)
        runs = 20
        start = time.perf_counter()
        for _ in range(runs):
            evaluate(stack)
        warm = (time.perf_counter() - start) / runs
        print(f"{stack:<8}{count:>10}{imports:>11}{cold:>13}{warm:>13.3f}{peak:>10}")


if __name__ == "__main__":
    main()
