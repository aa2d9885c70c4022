"""`plan --compare GIT_REF`: what a change does to each stack, against the stacks as they are at a git ref.

The base is the ref's own preview: the ref is checked out in a temporary `git worktree` (removed
afterwards) and its own `offline/plan.py` runs there in a subprocess with the current
virtualenv, so a change to the code is compared as well as a change to `Pulumi.<stack>.yaml`.
Its `--json` documents are compared with the working tree's by URN:

- resources added, removed, and changed (the input keys whose values differ; values the
  preview does not know are the same placeholder on both sides, so they never differ);
- policy verdicts that appear or disappear (by policy, level, resource and message);
- the monthly cost, per priced line (resource and item) and in total.

A stack file missing at the ref is `new` (everything added); one missing from the working tree
is `removed`. A base written by an older offline preview (before `ecsPlatform.format` 2) used
the SDK mock's URNs and did not list what awsx registers: its URNs are rebuilt from each step's
type, name and parent with the engine's rule, and the children of remote components are left
out of the comparison, with a note saying so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offline.harness.stacks import PROJECT, ROOT
from offline.harness.urns import name_of, urn as engine_urn
from offline.steps import CONSTRUCTED
from offline.textfit import cut, fit_columns

MARKER = "<!-- ecs-platform offline plan -->"  # lets a workflow find and update its own comment
# GitHub refuses a comment body over 65,536 characters; past this the diagrams are left out.
COMMENT_LIMIT = 60_000
RESOURCE_LINES = 80  # resource changes listed per stack; the rest are counted by type


class RefError(Exception):
    """A git ref that cannot be previewed (unknown, or not a git checkout)."""


@dataclass
class Base:
    """The stacks as they are at a git ref: each one's preview document, or why there is none."""

    ref: str
    commit: str
    stacks: list[str]  # the stack files at the ref
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _git(*args: str, cwd: Path = ROOT) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode:
        raise RefError(result.stderr.strip().splitlines()[-1] if result.stderr.strip() else f"git {args[0]} failed")
    return result.stdout.strip()


def base_at(ref: str, stacks: list[str] | None = None, root: Path = ROOT) -> Base:
    """Previews `stacks` (default: every stack of the working tree or the ref) as they are at `ref`."""
    try:
        commit = _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", cwd=root)
    except RefError:
        raise RefError(f"--compare: {ref!r} is not a commit of this repository (git rev-parse found nothing)") from None
    with tempfile.TemporaryDirectory(prefix="plan-compare-") as tmp:
        worktree = Path(tmp) / "ref"
        _git("worktree", "add", "--detach", "--quiet", str(worktree), commit, cwd=root)
        try:
            return _preview_ref(ref, commit, worktree, Path(tmp) / "out", stacks, root)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=root, capture_output=True)
            subprocess.run(["git", "worktree", "prune"], cwd=root, capture_output=True)


def _preview_ref(ref: str, commit: str, worktree: Path, out: Path, stacks: list[str] | None, root: Path) -> Base:
    at_ref, here = _stacks_in(worktree), _stacks_in(root)
    wanted = stacks if stacks else sorted(set(here) | set(at_ref))
    base = Base(ref, commit[:12], at_ref)
    present = [s for s in wanted if s in at_ref]
    if not present:
        return base
    if not (worktree / "offline" / "plan.py").exists():
        for stack in present:
            base.errors[stack] = f"{ref} has no offline/plan.py to preview it with"
        return base
    out.mkdir(parents=True, exist_ok=True)
    # The ref's own harness and program, the current interpreter and its packages.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "COLUMNS")}
    run = subprocess.run(
        [sys.executable, "-m", "offline.plan", *present, "--json", str(out / "{stack}.json")],
        cwd=worktree,
        env=env,
        capture_output=True,
        text=True,
    )
    for stack in present:
        path = out / f"{stack}.json"
        if path.exists():
            doc = json.loads(path.read_text())
            failure = [d["message"].strip() for d in doc.get("diagnostics", []) if d.get("severity") == "error"]
            if failure and not doc.get("steps"):
                base.errors[stack] = " ".join(failure)
            else:
                base.docs[stack] = doc
        else:
            lines = [line for line in run.stderr.splitlines() if line.strip()]
            base.errors[stack] = lines[-1].strip() if lines else f"the preview at {ref} wrote nothing"
    return base


def _stacks_in(directory: Path) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in directory.glob("Pulumi.*.yaml"))


# --- comparing two documents ---------------------------------------------------------------------------


def compare(stack: str, current: dict[str, Any] | None, base: Base, current_failed: bool = False) -> dict[str, Any]:
    """The comparison of `stack`'s document `current` (None: no stack file now) with its document at the ref."""
    result: dict[str, Any] = {"ref": base.ref, "commit": base.commit, "notes": []}
    before = base.docs.get(stack)
    if stack not in base.stacks:
        result["status"] = "new"
    elif current is None:
        result["status"] = "removed"
    elif stack in base.errors:
        result["status"] = "ref-error"
        result["refError"] = base.errors[stack]
        result["notes"].append(f"not previewed at {base.ref}: {base.errors[stack]}; everything is shown as added")
    else:
        result["status"] = "compared"
    if current_failed:
        result["status"] = "error"
        result["notes"].append("not previewed in the working tree (see its error above): nothing to compare")
        current = None
    old_steps, old_verdicts, old_cost = _parts(before, result["notes"], base.ref) if before else ({}, [], None)
    new_steps, new_verdicts, new_cost = _parts(current, [], base.ref) if current else ({}, [], None)
    if before and before.get("ecsPlatform", {}).get("format", 1) < 2:
        new_steps = {u: s for u, s in new_steps.items() if not _under_constructed(u)}
        for urn_ in list(new_steps):
            if new_steps[urn_]["newState"]["type"] in CONSTRUCTED and urn_ in old_steps:
                old_steps[urn_] = new_steps[urn_]  # the older harness recorded its inputs; awsx registers none
    added = [u for u in new_steps if u not in old_steps]
    removed = [u for u in old_steps if u not in new_steps]
    changed = []
    for u in new_steps:
        if u in old_steps:
            keys = _changed_keys(old_steps[u]["newState"], new_steps[u]["newState"])
            if keys:
                changed.append({"urn": u, "type": _type(new_steps[u]), "keys": keys})
    result["resources"] = {
        "before": len(old_steps),
        "after": len(new_steps),
        "added": [{"urn": u, "type": _type(new_steps[u])} for u in added],
        "removed": [{"urn": u, "type": _type(old_steps[u])} for u in removed],
        "changed": changed,
    }
    key = lambda v: (v["policy"], v["level"], v["urn"], v["message"])  # noqa: E731
    old_keys, new_keys = {key(v) for v in old_verdicts}, {key(v) for v in new_verdicts}
    result["policy"] = {
        "new": [v for v in new_verdicts if key(v) not in old_keys],
        "resolved": [v for v in old_verdicts if key(v) not in new_keys],
        "mandatory": sum(v["level"] == "mandatory" for v in new_verdicts),
        "advisory": sum(v["level"] == "advisory" for v in new_verdicts),
    }
    result["cost"] = _cost_delta(old_cost, new_cost)
    result["changed"] = bool(
        added
        or removed
        or changed
        or result["policy"]["new"]
        or result["policy"]["resolved"]
        or result["cost"]["delta"]
        or result["status"] in ("new", "removed", "ref-error")
    )
    return result


def _type(step: dict[str, Any]) -> str:
    return step["newState"]["type"]


def _under_constructed(urn_: str) -> bool:
    """A resource some remote component's provider registers (its qualified type passes through the component)."""
    qualified = urn_.split("::")[2].split("$")
    return any(part in CONSTRUCTED for part in qualified[:-1])


def _changed_keys(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    old_inputs, new_inputs = old.get("inputs") or {}, new.get("inputs") or {}
    keys = sorted(k for k in set(old_inputs) | set(new_inputs) if old_inputs.get(k) != new_inputs.get(k))
    if bool(old.get("protect")) != bool(new.get("protect")):
        keys.append("(protect)")
    return keys


def _parts(doc: dict[str, Any], notes: list[str], ref: str) -> tuple[dict[str, dict], list[dict], dict | None]:
    """A document's steps by URN, its verdicts and its cost, with an older harness's URNs rebuilt."""
    steps = doc.get("steps") or []
    platform = doc.get("ecsPlatform") or {}
    rename: dict[str, str] = {}
    if platform.get("format", 1) < 2 and steps:
        notes.append(
            f"{ref} was previewed by an older offline preview: its URNs are rebuilt with the engine's rule, "
            "and what awsx registers inside its components (which it did not list) is not compared"
        )
        by_urn = {s["urn"]: s for s in steps}

        def rebuilt(old: str) -> str:
            if old not in rename:
                state = by_urn.get(old, {}).get("newState", {})
                parent = state.get("parent", "")
                stack = old[len("urn:pulumi:") :].split("::")[0]
                rename[old] = engine_urn(
                    stack, PROJECT, rebuilt(parent) if parent else "", state.get("type", ""), name_of(old)
                )
            return rename[old]

        for step in steps:
            rebuilt(step["urn"])
    fix = lambda u: rename.get(u, u)  # noqa: E731
    by_urn = {fix(s["urn"]): s for s in steps}
    verdicts = [{**v, "urn": fix(v.get("urn", ""))} for v in platform.get("policyVerdicts") or []]
    cost = platform.get("cost")
    if cost:
        cost = {**cost, "lines": [{**line, "urn": fix(line["urn"])} for line in cost.get("lines", [])]}
    return by_urn, verdicts, cost


def _cost_delta(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    def lines(cost: dict[str, Any] | None) -> dict[tuple[str, str], dict[str, Any]]:
        return {(line["urn"], line["item"]): line for line in (cost or {}).get("lines", [])}

    old_lines, new_lines = lines(old), lines(new)
    changed = []
    for key in [*new_lines, *(k for k in old_lines if k not in new_lines)]:
        before = old_lines.get(key, {}).get("monthly", 0.0)
        after = new_lines.get(key, {}).get("monthly", 0.0)
        if round(after - before, 2):
            line = new_lines.get(key) or old_lines[key]
            changed.append(
                {
                    "urn": key[0],
                    "name": line["name"],
                    "item": key[1],
                    "before": before,
                    "after": after,
                    "delta": round(after - before, 2),
                }
            )
    total_before = (old or {}).get("totalMonthly", 0.0)
    total_after = (new or {}).get("totalMonthly", 0.0)
    return {
        "before": total_before,
        "after": total_after,
        "delta": round(total_after - total_before, 2),
        "lines": changed,
    }


# --- text and Markdown ----------------------------------------------------------------------------------


def money(delta: float) -> str:
    """`+5.61`, `-3.00`, `+0.00`."""
    return f"{delta:+,.2f}"


def _counts(comparison: dict[str, Any]) -> str:
    res = comparison["resources"]
    return f"+{len(res['added'])} ~{len(res['changed'])} -{len(res['removed'])}"


def _status(comparison: dict[str, Any]) -> str:
    return {
        "new": "new stack",
        "removed": "stack removed",
        "ref-error": "not previewed at the ref",
        "error": "not previewed",
    }.get(comparison["status"], "")


def summary_lines(base: Base, comparisons: dict[str, dict[str, Any]], width: int) -> list[str]:
    rows = [("stack", "resources", "policy", "USD/month", "")]
    for stack, c in comparisons.items():
        policy = f"+{len(c['policy']['new'])} new, -{len(c['policy']['resolved'])} resolved"
        rows.append((stack, _counts(c), policy, money(c["cost"]["delta"]), _status(c)))
    widths = fit_columns(rows, width - 2, shrink=((4, 10), (2, 16), (0, 8)))
    head = f"Compared with {base.ref} ({base.commit}), its code and config (resources: +added ~changed -removed):"
    lines = [cut(head, width, "start")]
    for row in rows:
        lines.append("  " + "  ".join(cut(cell, w, "start").ljust(w) for cell, w in zip(row, widths, strict=True)))
    return [line.rstrip() for line in lines]


def detail_lines(comparison: dict[str, Any], width: int) -> list[str]:
    c = comparison
    res = c["resources"]
    out = [f"Changes against {c['ref']} ({c['commit']}): {_counts(c)} resources ({res['before']} -> {res['after']})"]
    for note in c["notes"]:
        out += textwrap.wrap(f"note: {note}", width, initial_indent="  ", subsequent_indent="    ")
    for sign, entries in (("+", res["added"]), ("-", res["removed"])):
        out += [f"  {sign} {cut(e['urn'], width - 4, 'end')}" for e in entries]
    for entry in res["changed"]:
        out.append(f"  ~ {cut(entry['urn'], width - 4, 'end')}")
        out.append(cut(f"      inputs: {', '.join(entry['keys'])}", width, "start"))
    for title, verdicts in (("new policy findings", c["policy"]["new"]), ("resolved", c["policy"]["resolved"])):
        if verdicts:
            out.append(f"  {title}:")
            for v in verdicts:
                out.append(cut(f"    [{v['level']}] [{v['policy']}] {' '.join(v['message'].split())}", width, "start"))
                out.append(f"      {cut(v['urn'] or '(the stack)', width - 6, 'end')}")
    cost = c["cost"]
    out.append(f"  monthly cost: {money(cost['delta'])} USD ({cost['before']:,.2f} -> {cost['after']:,.2f})")
    for line in cost["lines"]:
        out.append(cut(f"    {money(line['delta']):>10}  {line['name']}  {line['item']}", width, "start"))
    return out


def markdown(base: Base, comparisons: dict[str, dict[str, Any]], diagrams: dict[str, str]) -> str:
    """One pull-request comment for every compared stack: summary, findings, cost, and each changed stack's diagram.

    It stays under GitHub's size limit for a comment: past RESOURCE_LINES a stack's resource
    changes are counted by type, and the diagrams are left out (saying so) if it is still too long.
    """
    text = _markdown(base, comparisons, diagrams)
    if len(text) > COMMENT_LIMIT and diagrams:
        text = _markdown(base, comparisons, {})
        text += "\nThe diagrams are left out: with them this comment would be too long for GitHub.\n"
    return text


def _markdown(base: Base, comparisons: dict[str, dict[str, Any]], diagrams: dict[str, str]) -> str:
    out = [
        MARKER,
        f"### Offline preview against `{base.ref}` (`{base.commit}`)",
        "",
        "Mock engine, no cloud calls: what `pulumi preview` would plan for each stack, checked by the "
        "policy pack and priced (`python3 tasks.py plan --compare`).",
        "",
        "| stack | resources (+ ~ -) | policy now | new findings | monthly cost (USD) |",
        "|---|---|---|---|---|",
    ]
    for stack, c in comparisons.items():
        res, policy, cost = c["resources"], c["policy"], c["cost"]
        verdict = "FAILED" if policy["mandatory"] else "ok"
        verdict += f" ({policy['mandatory']} mandatory, {policy['advisory']} advisory)"
        if c["status"] in ("error", "removed"):
            verdict = _status(c)
        status = f" — {_status(c)}" if _status(c) else ""
        out.append(
            f"| `{stack}`{status} | +{len(res['added'])} ~{len(res['changed'])} -{len(res['removed'])} "
            f"({res['before']} → {res['after']}) | {verdict} | {len(policy['new'])} | "
            f"{cost['after']:,.2f} ({money(cost['delta'])}) |"
        )
    for stack, c in comparisons.items():
        if not c["changed"] and not c["notes"]:
            continue
        res = c["resources"]
        out += ["", f"#### `{stack}`", ""]
        out += [f"> {note}" for note in c["notes"]]
        if c["notes"]:
            out.append("")
        if c["policy"]["new"]:
            out.append("**New policy findings**")
            out.append("")
            for v in c["policy"]["new"]:
                message = " ".join(v["message"].split())
                out.append(f"- **{v['level']}** `{v['policy']}` on `{_short(v['urn'])}`: {_escape(message)}")
            out.append("")
        if c["policy"]["resolved"]:
            resolved = ", ".join(f"`{v['policy']}`" for v in c["policy"]["resolved"])
            out.append(f"Resolved findings: {resolved}")
            out.append("")
        if c["cost"]["lines"]:
            out += ["| monthly cost | resource | item |", "|---:|---|---|"]
            out += [
                f"| {money(line['delta'])} | `{line['name']}` | {_escape(line['item'])} |"
                for line in c["cost"]["lines"]
            ]
            out += [f"| **{money(c['cost']['delta'])}** | **total** | |", ""]
        entries = [("~", e) for e in res["changed"]] + [("+", e) for e in res["added"]]
        entries += [("-", e) for e in res["removed"]]
        changes = [f"{sign} {e['urn']}" + (f"  ({', '.join(e['keys'])})" if sign == "~" else "") for sign, e in entries]
        if len(changes) > RESOURCE_LINES:
            rest = Counter(f"{sign} {e['type']}" for sign, e in entries[RESOURCE_LINES:])
            changes = changes[:RESOURCE_LINES] + [f"  … and {n} more: {kind}" for kind, n in sorted(rest.items())]
        if changes:
            out += [
                f"<details><summary>Resources: {_counts(c)}</summary>",
                "",
                "```diff",
                *changes,
                "```",
                "</details>",
                "",
            ]
        if stack in diagrams:
            out += [
                f"<details><summary>Diagram of <code>{stack}</code></summary>",
                "",
                "```mermaid",
                diagrams[stack],
                "```",
                "</details>",
            ]
    return "\n".join(out).rstrip() + "\n"


def _short(urn_: str) -> str:
    if not urn_:
        return "the stack"
    parts = urn_.split("::")
    return f"{parts[2].split('$')[-1]}::{parts[-1]}" if len(parts) >= 4 else urn_


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
