"""Offline preview: what an environment will contain, its policy verdicts and its monthly cost, without a cloud call.

    python3 tasks.py plan [STACK ...] [--tree] [--json FILE] [--diagram FILE]
                          [--compare GIT_REF [--markdown FILE]]

For each stack (all `Pulumi.<stack>.yaml` files when none is named) this reads the stack file,
runs the program under the mock harness the way `pulumi preview` runs it for a new stack
(computed values unknown) and prints, first, one summary line per stack (resources to create,
policy verdict, monthly cost), then per stack the program's warnings, the policy verdicts and
the cost estimate; `--tree` adds the resource tree and the counts per type. Text fits the
terminal (`COLUMNS`, 100 when output is not a terminal). All stacks run in one process, so
pulumi_aws is imported once for all of them.

A stack file that is not valid YAML or not a stack file's shape is one line,
`Pulumi.<stack>.yaml:<line>:<column>: <what is wrong>`; a config value the program refuses is
its one-line error. Either way the other stacks are still previewed.

`--json FILE` writes the `pulumi preview --json` shape (see offline/preview_json.py);
`--diagram FILE` writes a Mermaid flowchart (Markdown with a ```mermaid block when FILE ends
in .md). With several stacks, `{stack}` in FILE is replaced by the stack name, or the stack name
is put before the extension (plan.json -> plan.dev.json, plan.prod.json).

`--compare GIT_REF` also previews each stack as it is at GIT_REF (its config and its code, run
by its own harness in a temporary git worktree) and prints what changes: resources added,
removed and changed, policy verdicts that appear or disappear, the monthly cost delta (see
offline/compare.py). `--json` then carries the comparison under `ecsPlatform.comparison`, and
`--markdown FILE` writes one pull-request comment for all stacks.

Exit status: 0; 1 when a stack file or config is invalid or a mandatory policy is violated (in
the working tree); 2 for a usage error (also an unknown GIT_REF).
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import re
import sys
import textwrap
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offline import compare, cost as cost_model, diagram, policycheck, preview_json
from offline.harness.engine import evaluate
from offline.harness.graph import CapturedGraph, Resource
from offline.harness.stacks import ROOT, StackFileError, stack_config, stack_names
from offline.steps import Steps, engine_steps
from offline.textfit import cut, fit_columns, terminal_width
from offline.workers import forked_map
from policies.guardrails.types import STACK


@dataclass
class Preview:
    """One stack's offline preview."""

    stack: str
    config: dict[str, Any]
    graph: CapturedGraph  # what the program registers, as `pulumi preview` runs it for a new stack
    steps: Steps | None = None  # what the engine reports for it, in order
    cost: cost_model.Estimate | None = None
    verdicts: list[policycheck.Finding] = field(default_factory=list)
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    file_error: bool = False  # the stack file itself could not be read (errors holds its one line)

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
    def reported(self) -> CapturedGraph:
        """The steps the preview reports (the program's resources and what awsx registers for it)."""
        return self.steps.graph if self.steps else CapturedGraph(self.stack, [], {})

    @property
    def failed(self) -> bool:
        return bool(self.errors) or any(v.level == "mandatory" for v in self.verdicts)


def preview(stack: str, config: dict[str, Any] | None = None, root: Path = ROOT) -> Preview:
    """Evaluates one stack (with `config` instead of its file's, if given) and prices it.

    `root` is the repository whose stack file and pack config are read: this one, or a copy of it
    with other stack files (the program is this checkout's).
    """
    started = time.perf_counter()
    if config is None:
        try:
            config = stack_config(stack, root)
        except StackFileError as error:
            return Preview(stack, {}, CapturedGraph(stack, [], {}), errors=[str(error)], file_error=True)
    graph = evaluate(stack, config, preview=True)
    result = Preview(stack=stack, config=config, graph=graph)
    if graph.error:
        result.errors = graph.error.splitlines()
    else:
        result.steps = engine_steps(graph, config)
        # The same graph the engine would hand the pack during `pulumi preview`.
        try:
            result.verdicts = sorted(
                policycheck.check(graph, policycheck.pack_config(stack, root), dry_run=True).findings,
                key=lambda v: (v.level != "mandatory", v.policy, v.urn),
            )
        except policycheck.PolicyConfigFileError as error:
            result.errors = [str(error)]
        except policycheck.PolicyConfigError as error:
            result.errors = [f"policies/config.{stack}.json: {error}"]
        result.cost = cost_model.estimate(graph)
    result.seconds = time.perf_counter() - started
    return result


def preview_all(
    stacks: list[str], *, known: bool = False, workers: int | None = None, root: Path = ROOT
) -> list[Preview]:
    """`preview` of each stack, in order; in parallel worker processes when the machine has several cores.

    Each worker is forked from this process (`offline.workers`), so it starts with pulumi, the
    program's packages and the pack already imported, and sends its previews back as bytes. With
    `known` the workers also evaluate the graph the diagram reads. The previews are the same as
    `preview` returns here: evaluations of different stacks share nothing.
    """
    return forked_map(functools.partial(_preview_one, known=known, root=root), stacks, workers=workers)


def _preview_one(stack: str, known: bool, root: Path) -> Preview:
    result = preview(stack, root=root)
    if known and not result.errors:
        result.known  # noqa: B018 - evaluated here, in the worker, for the diagram
    return result


# --- text ----------------------------------------------------------------------------------------


def display_type(type_: str) -> str:
    """A type token as `pulumi preview` prints it: `aws:s3/bucket:Bucket` -> `aws:s3:Bucket`.

    pkg/backend/display `simplifyTypeName`: the module's last path part is dropped when it is the
    type's name in camelCase.
    """
    parts = type_.split(":")
    if len(parts) != 3 or "/" not in parts[1] or not parts[2]:
        return type_
    module, file = parts[1].rsplit("/", 1)
    if file != parts[2][:1].lower() + parts[2][1:]:
        return type_
    return f"{parts[0]}:{module}:{parts[2]}"


def summary(results: list[Preview], width: int | None = None) -> list[str]:
    """One line per stack: resources to create, the policy verdict, the monthly cost."""
    rows = [("stack", "resources", "policy", "USD/month")]
    for result in results:
        if result.errors:
            rows.append((result.stack, "not previewed", "config error" if _config_error(result) else "error", "-"))
            continue
        mandatory = sum(v.level == "mandatory" for v in result.verdicts)
        advisory = len(result.verdicts) - mandatory
        verdict = f"FAILED: {mandatory} mandatory" if mandatory else "ok"
        if advisory:
            verdict += f", {advisory} advisory"
        total = f"{result.cost.total:,.2f}" if result.cost else "-"
        if result.cost and any("not priced" in w for w in result.cost.warnings):
            total += " (incomplete)"
        rows.append((result.stack, f"{len(result.reported.resources)} to create", verdict, total))
    widths = fit_columns(rows, None if width is None else width - 2, shrink=((2, 12), (0, 8)))
    lines = []
    for row in rows:
        cells = [cut(cell, w, "start").ljust(w) for cell, w in zip(row[:3], widths, strict=False)]
        lines.append(("  " + "  ".join([*cells, row[3].rjust(widths[3])])).rstrip())
    return lines


def _config_error(result: Preview) -> bool:
    return result.file_error or any(re.match(r"[\w-]+:[\w.\[\]-]+: ", line) for line in result.errors)


def error_lines(result: Preview) -> list[str]:
    """The stack's errors: a stack file's own line as it is (file:line:column: ...), the program's after `error: `."""
    return list(result.errors) if result.file_error else [f"error: {line}" for line in result.errors]


def render(result: Preview, *, tree: bool = True, width: int | None = None) -> str:
    """One stack's preview: warnings, verdicts, cost, the count of resources, and (with `tree`) the tree and counts."""
    out = [f"Previewing update ({result.stack}) offline: mock engine, no cloud calls", ""]
    if result.errors:
        out += error_lines(result)
        return "\n".join(out)
    # The program's own warnings, as `pulumi preview` prints them (e.g. example domains left in config).
    out += _wrapped([f"warning: {line}" for line in result.graph.warnings], width, "    ")
    if result.graph.warnings:
        out.append("")
    out += verdict_lines(result.verdicts, width)
    if result.cost:
        out += ["", *cost_lines(result.cost, width)]
    out += ["", "Resources:", f"    + {len(result.reported.resources)} to create"]
    out += _wrapped(_unreported_notes(result), width, " ")
    if tree:
        out += ["", *tree_lines(result.reported, width)]
        out += ["", "Resources by type:"]
        counts = sorted(Counter(r.type for r in result.reported.resources).items())
        out += [
            f"    {count:>3}  {type_ if width is None else cut(type_, width - 9, 'end')}" for type_, count in counts
        ]
    elif width is not None:
        out.append("    (the resource tree and the counts per type: add --tree)")
    return "\n".join(out)


def _unreported_notes(result: Preview) -> list[str]:
    notes = []
    if result.steps and result.steps.default_providers:
        names = ", ".join(f"{p.type} {p.name}" for p in result.steps.default_providers)
        notes.append(
            f"    (the engine also registers default providers, which `pulumi preview` does not list: {names})"
        )
    for urn, why in result.steps.unlisted if result.steps else []:
        notes.append(f"    (the resources {urn.rsplit('::', 1)[-1]} registers inside it are not listed: {why})")
    return notes


def _wrapped(lines: list[str], width: int | None, indent: str) -> list[str]:
    if width is None:
        return lines
    out = []
    for line in lines:
        lead = line[: len(line) - len(line.lstrip())]
        out += textwrap.wrap(line, width, initial_indent="", subsequent_indent=lead + indent) or [""]
    return out


def tree(graph: CapturedGraph) -> list[str]:
    """The resource tree as `pulumi preview` prints it: parents first, children indented under them."""
    return tree_lines(graph, None)


def tree_lines(graph: CapturedGraph, width: int | None) -> list[str]:
    """The tree; within `width`, types as `pulumi preview` prints them and cells cut to fit."""
    children: dict[str, list[Resource]] = {}
    for res in graph.resources:
        children.setdefault(res.parent, []).append(res)
    rows: list[tuple[str, str, str]] = []  # (tree prefix, type, name)

    def walk(res: Resource, prefix: str, branch: str) -> None:
        rows.append((f"{prefix}{branch}", res.type if width is None else display_type(res.type), res.name))
        kids = children.get(res.urn, [])
        for i, kid in enumerate(kids):
            last = i == len(kids) - 1
            deeper = prefix + ("   " if branch in ("└─ ", "") else "│  ")
            walk(kid, deeper if branch else "", "└─ " if last else "├─ ")

    for root in children.get("", []):
        walk(root, "", "")
    if not rows:
        return []
    cells = [(prefix + type_, name) for prefix, type_, name in rows]
    type_width, name_width = fit_columns(
        [("Type", "Name"), *cells], None if width is None else width - 13, ((1, 24), (0, 30), (1, 8))
    )
    lines = [f"     {'Type':<{type_width}}  {'Name':<{name_width}}  Plan"]
    for prefix, type_, name in rows:
        shown = prefix + cut(type_, type_width - len(prefix), "end")
        lines.append(f" +   {shown:<{type_width}}  {cut(name, name_width, 'start'):<{name_width}}  create")
    return lines


def verdict_lines(verdicts: list[policycheck.Finding], width: int | None = None) -> list[str]:
    if not verdicts:
        return ["Policy verdicts: no violations"]
    lines = ["Policy verdicts:"]
    for level in ("mandatory", "advisory"):
        found = [v for v in verdicts if v.level == level]
        if not found:
            continue
        lines.append(f"    {level} ({len(found)}):")
        for v in found:
            if width is None:
                lines.append(f"      [{v.policy}] {v.message}" + (f"  ({v.urn})" if v.urn else ""))
                continue
            lines += _wrapped([f"      [{v.policy}] {' '.join(v.message.split())}"], width, "  ")
            lines.append(cut(f"        on {v.urn or 'the stack'}", width, "end"))
    return lines


def cost_lines(estimate: cost_model.Estimate, width: int | None = None) -> list[str]:
    head = (
        f"Estimated monthly cost (USD, {estimate.price_region} on-demand list prices of {estimate.price_date}, "
        "730 h a month):"
    )
    rows = [(line.name, line.item, line.formula, f"{line.monthly:>10,.2f}") for line in estimate.lines]
    if not rows:
        rows = [("", "nothing with a fixed monthly charge", "", f"{0:>10.2f}")]
    lines = _wrapped([head], width, "  ")
    # The formula gives up room first, then the item, then the resource's name.
    name_w, item_w, formula_w, amount_w = fit_columns(
        rows, None if width is None else width - 4, ((2, 20), (1, 30), (0, 16), (2, 8), (1, 12))
    )
    lines += [
        f"    {cut(a, name_w, 'start'):<{name_w}}  {cut(b, item_w, 'start'):<{item_w}}  "
        f"{cut(c, formula_w, 'start'):<{formula_w}}  {d:>{amount_w}}"
        for a, b, c, d in rows
    ]
    total_width = name_w + item_w + formula_w + 4
    unpriced = [w for w in estimate.warnings if "not priced" in w]
    label = f"Total (incomplete: {len(unpriced)} item(s) not priced, see warnings)" if unpriced else "Total"
    lines.append(f"    {label:<{total_width}}  {estimate.total:>{amount_w},.2f}")
    for title, items in (
        ("Assumptions", estimate.assumptions),
        ("Left out (usage-based, not estimated)", estimate.left_out),
        ("Warnings", estimate.warnings),
    ):
        if items:
            lines.append(f"  {title}:")
            lines += _wrapped([f"    - {item}" for item in items], width, "  ")
    lines += _wrapped(
        ["  Prices: offline/prices.json (AWS public price list and pricing pages; see its per-entry notes)"],
        width,
        "  ",
    )
    return lines


# --- files -------------------------------------------------------------------------------------


def output_path(template: str, stack: str, several: bool) -> Path:
    """FILE for one stack: `{stack}` replaced, or the stack name before the extension when there are several."""
    if "{stack}" in template:
        return Path(template.replace("{stack}", stack))
    path = Path(template)
    return path.with_name(f"{path.stem}.{stack}{path.suffix}") if several else path


def json_document(result: Preview) -> dict[str, Any]:
    """The stack's `pulumi preview --json` document (the same bytes on every run of the same input)."""
    error_lines_ = result.errors if result.file_error else [f"error: {line}" for line in result.errors]
    diagnostics = [{"message": f"{line}\n", "severity": "error"} for line in error_lines_]
    diagnostics += [{"message": f"warning: {line}\n", "severity": "warning"} for line in result.graph.warnings]
    if result.cost:
        diagnostics += [{"message": f"warning: cost: {w}\n", "severity": "warning"} for w in result.cost.warnings]
    urn = next((r.urn for r in result.graph.resources if r.type == STACK), "")
    for diag in diagnostics:
        if urn:
            diag["urn"] = urn
    return preview_json.document(
        result.reported,
        result.config,
        cost=result.cost,
        verdicts=[v.__dict__ for v in result.verdicts],
        diagnostics=diagnostics,
        default_providers=result.steps.default_providers if result.steps else [],
        unlisted=result.steps.unlisted if result.steps else [],
    )


def write_json(result: Preview, path: Path, comparison: dict[str, Any] | None = None) -> None:
    doc = json_document(result)
    if comparison is not None:
        doc["ecsPlatform"]["comparison"] = comparison
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=4, ensure_ascii=False) + "\n")


def write_diagram(result: Preview, path: Path) -> None:
    title = f"Environment `{result.stack}` (generated by `python3 tasks.py plan {result.stack} --diagram {path}`)"
    text = diagram.markdown(result.known, title) if path.suffix == ".md" else diagram.mermaid(result.known) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


# --- entry point -----------------------------------------------------------------------------


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    """`root`: the repository whose stack files and pack configs are previewed (see `preview`)."""
    parser = argparse.ArgumentParser(prog="python3 tasks.py plan", description=__doc__.split("\n\n")[0])
    parser.add_argument("stacks", nargs="*", metavar="STACK", help="stacks to preview (default: every stack)")
    parser.add_argument("--tree", action="store_true", help="also print each stack's resource tree and counts per type")
    parser.add_argument("--json", metavar="FILE", help="write the preview in the shape of `pulumi preview --json`")
    parser.add_argument("--diagram", metavar="FILE", help="write a Mermaid diagram (.md: Markdown for GitHub)")
    parser.add_argument(
        "--compare", metavar="GIT_REF", help="also preview the stacks as they are at GIT_REF and print what changes"
    )
    parser.add_argument(
        "--markdown", metavar="FILE", help="with --compare: write a pull-request comment for all stacks"
    )
    args = parser.parse_args(argv)
    if args.markdown and not args.compare:
        parser.error("--markdown needs --compare GIT_REF")
    known = stack_names(root)
    unknown = [s for s in args.stacks if s not in known]
    if unknown:
        parser.error(f"no Pulumi.{unknown[0]}.yaml; stacks: {', '.join(known)}")
    base = None
    if args.compare:
        try:
            base = compare.base_at(args.compare, args.stacks or None, root)
        except compare.RefError as error:
            parser.error(str(error))
    stacks = args.stacks or known
    started = time.perf_counter()
    width = terminal_width()
    results = preview_all(stacks, known=bool(args.diagram or args.markdown), root=root)
    comparisons = {}
    if base is not None:
        for stack in [*stacks, *(s for s in base.stacks if s not in stacks)]:
            current = next((r for r in results if r.stack == stack), None)
            comparisons[stack] = compare.compare(
                stack,
                json_document(current) if current else None,
                base,
                current_failed=bool(current and current.errors),
            )

    print(f"Offline preview (mock engine, no cloud calls) of {len(results)} stack(s):\n")
    print("\n".join(summary(results, width)))
    if base is not None:
        print("")
        print("\n".join(compare.summary_lines(base, comparisons, width)))
    several = len(results) > 1
    for result in results:
        print("\n" + f"== {result.stack} {'=' * width}"[:width] + "\n")
        sys.stdout.flush()
        print(render(result, tree=args.tree, width=width), file=sys.stderr if result.errors else sys.stdout)
        sys.stderr.flush()
        if base is not None:
            print("")
            print("\n".join(compare.detail_lines(comparisons[result.stack], width)))
        if args.json:
            path = output_path(args.json, result.stack, several)
            write_json(result, path, comparisons[result.stack] if base is not None else None)
            print(f"\nwrote {path}")
        if args.diagram and not result.errors:
            path = output_path(args.diagram, result.stack, several)
            write_diagram(result, path)
            print(f"wrote {path}")
    for stack in (s for s in comparisons if s not in stacks):
        print("\n" + f"== {stack} (only at {args.compare}) {'=' * width}"[:width] + "\n")
        print("\n".join(compare.detail_lines(comparisons[stack], width)))
    if args.markdown:
        diagrams = {
            r.stack: diagram.mermaid(r.known) for r in results if not r.errors and comparisons[r.stack]["changed"]
        }
        path = Path(args.markdown)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(compare.markdown(base, comparisons, diagrams))
        print(f"\nwrote {path}")
    seconds = time.perf_counter() - started
    # Timing to stderr: stdout is the same bytes on every run of the same input.
    print(f"\n{len(results)} stack(s) previewed offline in {seconds:.2f} s", file=sys.stderr)
    return 1 if any(r.failed for r in results) else 0


if __name__ == "__main__":
    # A short run whose objects all live to its end: the cyclic collector would only walk them
    # (the imported modules' hundreds of thousands first) without finding garbage.
    gc.freeze()
    gc.disable()
    code = main()
    # Tearing down pulumi_aws's thousands of classes takes about half a second at exit and
    # changes nothing: everything is written, so leave at once.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
