"""Offline preview: what an environment will contain, its policy verdicts and its monthly cost, without a cloud call.

    python3 tasks.py plan [STACK ...] [--json FILE] [--diagram FILE]

For each stack (all `Pulumi.<stack>.yaml` files when none is named) this validates the
config (the program's own one-line errors), runs the program under the mock harness the
way `pulumi preview` runs it for a new stack (computed values unknown), and prints the
resource tree, counts per type, the policy verdicts and an estimated monthly cost. All
stacks run in one process, so pulumi_aws is imported once for all of them (and for the
policy check, which reads the same graphs).

`--json FILE` writes the `pulumi preview --json` shape (see offline/preview_json.py);
`--diagram FILE` writes a Mermaid flowchart (Markdown with a ```mermaid block when FILE
ends in .md). With several stacks, `{stack}` in FILE is replaced by the stack name, or
the stack name is put before the extension (plan.json -> plan.dev.json, plan.prod.json).
Exit status: 0, or 1 when a stack's config is invalid or a mandatory policy is violated,
2 for a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offline import cost as cost_model, diagram, policycheck, preview_json
from offline.harness.engine import evaluate
from offline.harness.graph import CapturedGraph, Resource
from offline.harness.stacks import stack_config, stack_names
from policies.guardrails.types import STACK


@dataclass
class Preview:
    """One stack's offline preview."""

    stack: str
    config: dict[str, Any]
    graph: CapturedGraph  # as `pulumi preview` sees a new stack: computed values unknown
    cost: cost_model.Estimate | None = None
    verdicts: list[policycheck.Finding] = field(default_factory=list)
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    _known: CapturedGraph | None = None

    @property
    def known(self) -> CapturedGraph:
        """The same program with the mock's deployed values (which subnet ids went where), for the diagram.

        Evaluated on first use only: the tree, the JSON, the policies and the cost all read the
        preview graph, and a second evaluation would double the run time.
        """
        if self._known is None:
            self._known = evaluate(self.stack, self.config)
        return self._known

    @property
    def failed(self) -> bool:
        return bool(self.errors) or any(v.level == "mandatory" for v in self.verdicts)


def preview(stack: str, config: dict[str, Any] | None = None) -> Preview:
    """Evaluates one stack (with `config` instead of its file's, if given) and prices it."""
    started = time.perf_counter()
    config = stack_config(stack) if config is None else config
    graph = evaluate(stack, config, preview=True)
    result = Preview(stack=stack, config=config, graph=graph)
    if graph.error:
        result.errors = graph.error.splitlines()
    else:
        # The same graph the engine would hand the pack during `pulumi preview`.
        try:
            result.verdicts = policycheck.check(graph, dry_run=True).findings
        except policycheck.PolicyConfigError as error:
            result.errors = [f"policies/config.{stack}.json: {error}"]
        result.cost = cost_model.estimate(graph)
    result.seconds = time.perf_counter() - started
    return result


# --- printing --------------------------------------------------------------------------------


def render(result: Preview) -> str:
    out = [f"Previewing update ({result.stack}) offline: mock engine, no cloud calls", ""]
    if result.errors:
        out += [f"error: {line}" for line in result.errors]
        return "\n".join(out)
    # The program's own warnings, as `pulumi preview` prints them (e.g. example domains left in config).
    out += [f"warning: {line}" for line in result.graph.warnings]
    if result.graph.warnings:
        out.append("")
    out += tree(result.graph)
    out += ["", "Resources by type:"]
    for type_, count in sorted(Counter(r.type for r in result.graph.resources).items()):
        out.append(f"    {count:>3}  {type_}")
    out += ["", "Resources:", f"    + {len(result.graph.resources)} to create", ""]
    out += _verdict_lines(result.verdicts)
    if result.cost:
        out += ["", *cost_lines(result.cost)]
    return "\n".join(out)


def tree(graph: CapturedGraph) -> list[str]:
    """The resource tree as `pulumi preview` prints it: parents first, children indented under them."""
    children: dict[str, list[Resource]] = {}
    for res in graph.resources:
        children.setdefault(res.parent, []).append(res)
    rows: list[tuple[str, str]] = []

    def walk(res: Resource, prefix: str, branch: str) -> None:
        rows.append((f"{prefix}{branch}{res.type}", res.name))
        kids = children.get(res.urn, [])
        for i, kid in enumerate(kids):
            last = i == len(kids) - 1
            deeper = prefix + ("   " if branch in ("└─ ", "") else "│  ")
            walk(kid, deeper if branch else "", "└─ " if last else "├─ ")

    for root in children.get("", []):
        walk(root, "", "")
    width = max(len(t) for t, _ in rows) + 2
    name_width = max(len(n) for _, n in rows) + 2
    lines = [f"     {'Type':<{width}}{'Name':<{name_width}}Plan"]
    lines += [f" +   {t:<{width}}{n:<{name_width}}create" for t, n in rows]
    return lines


def _verdict_lines(verdicts: list[policycheck.Finding]) -> list[str]:
    if not verdicts:
        return ["Policy verdicts: no violations"]
    lines = ["Policy verdicts:"]
    for level in ("mandatory", "advisory"):
        found = [v for v in verdicts if v.level == level]
        if found:
            lines.append(f"    {level} ({len(found)}):")
            lines += [f"      [{v.policy}] {v.message}" + (f"  ({v.urn})" if v.urn else "") for v in found]
    return lines


def cost_lines(estimate: cost_model.Estimate) -> list[str]:
    head = (
        f"Estimated monthly cost (USD, {estimate.price_region} on-demand list prices of {estimate.price_date}, "
        "730 h a month):"
    )
    rows = [(line.name, line.item, line.formula, f"{line.monthly:,.2f}") for line in estimate.lines]
    if not rows:
        rows = [("", "nothing with a fixed monthly charge", "", "0.00")]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [head]
    lines += [f"    {a:<{widths[0]}}  {b:<{widths[1]}}  {c:<{widths[2]}}  {d:>10}" for a, b, c, d in rows]
    total_width = sum(widths) + 6
    unpriced = [w for w in estimate.warnings if "not priced" in w]
    label = f"Total (incomplete: {len(unpriced)} item(s) not priced, see warnings)" if unpriced else "Total"
    lines.append(f"    {label:<{total_width}}  {estimate.total:>10,.2f}")
    for title, items in (
        ("Assumptions", estimate.assumptions),
        ("Left out (usage-based, not estimated)", estimate.left_out),
        ("Warnings", estimate.warnings),
    ):
        if items:
            lines.append(f"  {title}:")
            lines += [f"    - {item}" for item in items]
    lines.append("  Prices: offline/prices.json (AWS public price list and pricing pages; see its per-entry notes)")
    return lines


# --- files -------------------------------------------------------------------------------------


def output_path(template: str, stack: str, several: bool) -> Path:
    """FILE for one stack: `{stack}` replaced, or the stack name before the extension when there are several."""
    if "{stack}" in template:
        return Path(template.replace("{stack}", stack))
    path = Path(template)
    return path.with_name(f"{path.stem}.{stack}{path.suffix}") if several else path


def write_json(result: Preview, path: Path) -> None:
    diagnostics = [{"message": f"error: {line}\n", "severity": "error"} for line in result.errors]
    diagnostics += [{"message": f"warning: {line}\n", "severity": "warning"} for line in result.graph.warnings]
    if result.cost:
        diagnostics += [{"message": f"warning: cost: {w}\n", "severity": "warning"} for w in result.cost.warnings]
    urn = next((r.urn for r in result.graph.resources if r.type == STACK), "")
    for diag in diagnostics:
        if urn:
            diag["urn"] = urn
    doc = preview_json.document(
        result.graph if not result.errors else CapturedGraph(result.stack, [], {}),
        result.config,
        cost=result.cost,
        verdicts=[v.__dict__ for v in result.verdicts],
        duration_seconds=result.seconds,
        diagnostics=diagnostics,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=4) + "\n")


def write_diagram(result: Preview, path: Path) -> None:
    title = f"Environment `{result.stack}` (generated by `python3 tasks.py plan {result.stack} --diagram {path}`)"
    text = diagram.markdown(result.known, title) if path.suffix == ".md" else diagram.mermaid(result.known) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


# --- entry point -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 tasks.py plan", description=__doc__.split("\n\n")[0])
    parser.add_argument("stacks", nargs="*", metavar="STACK", help="stacks to preview (default: every stack)")
    parser.add_argument("--json", metavar="FILE", help="write the preview in the shape of `pulumi preview --json`")
    parser.add_argument("--diagram", metavar="FILE", help="write a Mermaid diagram (.md: Markdown for GitHub)")
    args = parser.parse_args(argv)
    known = stack_names()
    stacks = args.stacks or known
    unknown = [s for s in stacks if s not in known]
    if unknown:
        parser.error(f"no Pulumi.{unknown[0]}.yaml; stacks: {', '.join(known)}")
    started = time.perf_counter()
    results = [preview(stack) for stack in stacks]
    several = len(results) > 1
    for i, result in enumerate(results):
        if i:
            print("\n" + "=" * 100 + "\n")
        text = render(result)
        print(text, file=sys.stderr if result.errors else sys.stdout)
        if args.json:
            path = output_path(args.json, result.stack, several)
            write_json(result, path)
            print(f"\nwrote {path}")
        if args.diagram and not result.errors:
            path = output_path(args.diagram, result.stack, several)
            write_diagram(result, path)
            print(f"wrote {path}")
    seconds = time.perf_counter() - started
    print(f"\n{len(results)} stack(s) previewed offline in {seconds:.2f} s")
    return 1 if any(r.failed for r in results) else 0


if __name__ == "__main__":
    code = main()
    # Tearing down pulumi_aws's thousands of classes takes about half a second at exit and
    # changes nothing: everything is written, so leave at once.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
