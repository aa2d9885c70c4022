"""docs/policy-coverage.md: generated from the pack, current, and every anchor rule covered or explained."""

from pathlib import Path

from offline.coverage import COVERAGE, render
from policies.guardrails.anchors import ANCHORS
from policies.guardrails.pack import all_policies, covers

ROOT = Path(__file__).resolve().parent.parent


def test_the_coverage_page_is_current():
    assert (ROOT / COVERAGE).read_text() == render(ROOT), "docs/policy-coverage.md is stale: run python3 tasks.py docs"


def test_every_anchor_rule_is_covered_or_has_a_reason_and_never_both():
    covered = {rule for ids in covers().values() for rule in ids}
    unexplained = sorted(r for r, a in ANCHORS.items() if r not in covered and not a.reason)
    assert not unexplained, f"anchor rules neither covered by a policy nor given a reason: {unexplained}"
    contradictory = sorted(r for r, a in ANCHORS.items() if r in covered and a.reason)
    assert not contradictory, f"anchor rules covered by a policy yet given a reason not to adopt them: {contradictory}"


def test_covers_names_only_policies_of_the_pack_and_rules_of_the_catalogue():
    names = {p.name for p in all_policies()}
    mapping = covers()
    assert set(mapping) <= names, f"COVERS names policies the pack lacks: {sorted(set(mapping) - names)}"
    assert names <= set(mapping), f"policies without a COVERS entry: {sorted(names - set(mapping))}"
    unknown = sorted({r for ids in mapping.values() for r in ids} - set(ANCHORS))
    assert not unknown, f"COVERS names rules missing from the anchor catalogue: {unknown}"


def test_the_page_counts_what_the_catalogue_holds():
    text = render(ROOT)
    covered = {rule for ids in covers().values() for rule in ids}
    assert f"**{len(covered)} of {len(ANCHORS)} applicable anchor rules are covered**" in text
    for rule, anchor in ANCHORS.items():
        assert f"| `{rule}` | {anchor.source} |" in text
