"""The README and docs/: short front page, every guide reachable, every relative link and anchor alive."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# [text](target) outside code; images too. Targets with a scheme (https:, mailto:) are not ours to check.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~)")


def prose(text: str) -> str:
    """The page without fenced code blocks and inline code, where brackets are not links."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line.lstrip()):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(re.sub(r"`[^`]*`", "``", line))
    return "\n".join(lines)


def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation but - and _ dropped, spaces as -, repeats numbered."""
    found: set[str] = set()
    fenced = False
    for line in page.read_text().splitlines():
        if FENCE.match(line.lstrip()):
            fenced = not fenced
        if fenced or not (heading := re.match(r"#{1,6}\s+(.*)", line)):
            continue
        slug = "".join(c for c in heading[1].strip().lower() if c.isalnum() or c in "-_ ").replace(" ", "-")
        candidate, n = slug, 0
        while candidate in found:
            n += 1
            candidate = f"{slug}-{n}"
        found.add(candidate)
    return found


def links(page: Path) -> list[str]:
    return [t for t in LINK.findall(prose(page.read_text())) if not re.match(r"[a-z][a-z0-9+.-]*:", t)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_reaches_a_file_and_anchor(page):
    for target in links(page):
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        assert file.exists(), f"{page.name}: {target} points at a missing file"
        if anchor:
            assert file.suffix == ".md", f"{page.name}: {target} has an anchor in a file that is not markdown"
            assert anchor in anchors(file), f"{page.name}: {target} points at a missing heading"


def test_the_readme_is_a_front_page_that_leads_to_every_guide():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 300
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert headings[:2] == ["Contents", "Quickstart"]
    assert {"Deploy an environment", "Add a service", "Add an environment", "Day-2 operations"} <= set(headings)
    assert headings[-1] == "Where to read more"
    contents = text.split("## Contents", 1)[1].split("\n## ", 1)[0]
    for heading in headings[1:]:
        assert heading in contents, f"the contents list leaves out {heading}"
    guides = {p.name for p in (ROOT / "docs").glob("*.md")}
    linked = {Path(t.partition("#")[0]).name for t in links(ROOT / "README.md") if t.startswith("docs/")}
    assert guides <= linked, f"the README links no way to {sorted(guides - linked)}"


def test_the_link_check_sees_a_broken_anchor_and_a_missing_file(tmp_path):
    page = tmp_path / "page.md"
    (tmp_path / "other.md").write_text("# Title\n\n## Set up CI\n\n```sh\n# not a heading\n```\n")
    page.write_text(
        "[ok](other.md#set-up-ci) [bad](other.md#not-a-heading) [gone](missing.md) `[code](nowhere.md)`\n"
        "[web](https://example.com/x)\n"
    )
    assert links(page) == ["other.md#set-up-ci", "other.md#not-a-heading", "missing.md"]
    assert anchors(tmp_path / "other.md") == {"title", "set-up-ci"}


def test_the_policy_guide_has_a_row_for_every_policy_of_the_pack():
    """docs/policies.md's table is written by hand (it says why each rule exists); it must not fall behind the pack."""
    from policies.guardrails.pack import all_policies

    rows = set(re.findall(r"^\| `([a-z0-9-]+)` \|", (ROOT / "docs" / "policies.md").read_text(), re.MULTILINE))
    assert {policy.name for policy in all_policies()} - rows == set()
