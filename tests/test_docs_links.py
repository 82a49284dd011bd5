"""The Markdown in the repository holds together: every relative link names a file that exists, every `#anchor`
names a heading of the page it points at (as GitHub makes anchors), and the README fits on a screen.

External http(s) links are not fetched: they are not this repository's to keep.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

from shop_support import ROOT

SKIPPED_FOLDERS = {"node_modules", ".venv", ".git", ".pytest_cache", ".mypy_cache", ".ruff_cache", "build", "dist"}
README_MOST_LINES = 200

FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)
# [text](target) and ![alt](target), the text possibly over several lines; an optional "title" after the target.
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^\s)>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def markdown_files(root: Path = ROOT) -> list[Path]:
    return sorted(
        path
        for path in root.rglob("*.md")
        if not any(part in SKIPPED_FOLDERS or part.endswith(".egg-info") for part in path.relative_to(root).parts)
    )


def without_code(text: str) -> str:
    """The text with fenced blocks and code spans blanked (a `](#x)` or `# x` in code is neither link nor heading)."""
    text = FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    return CODE_SPAN.sub(lambda m: "x" * len(m.group(0)) if "\n" not in m.group(0) else m.group(0), text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: markup dropped, lowercased, punctuation but hyphens and underscores removed,
    each space a hyphen."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link or image keeps only its text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.replace("`", "").replace("*", "").lower()
    text = "".join(ch for ch in text if ch.isalnum() or ch in "-_ ")
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor the page's headings make; a repeated heading gets -1, -2, ... as on GitHub."""
    made: set[str] = set()
    seen: dict[str, int] = {}
    fenced = FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    for match in HEADING.finditer(fenced):
        base = slug(match.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        made.add(base if count == 0 else f"{base}-{count}")
    return made


def links(text: str) -> list[str]:
    return [m.group(1) for m in LINK.finditer(without_code(text))]


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    """What is wrong with the page's relative links, one line each (none: all resolve)."""
    problems = []
    for target in links(page.read_text(encoding="utf-8")):
        if SCHEME.match(target):  # http(s), mailto: not fetched
            continue
        path_part, _, anchor = target.partition("#")
        if not path_part:
            linked = page
        elif path_part.startswith("/"):
            linked = root / unquote(path_part).lstrip("/")
        else:
            linked = page.parent / unquote(path_part)
        where = f"{page.relative_to(root)}: ({target})"
        if not linked.exists():
            problems.append(f"{where} names no file")
        elif anchor and linked.suffix == ".md" and unquote(anchor) not in anchors(linked.read_text(encoding="utf-8")):
            problems.append(f"{where} names no heading of {linked.resolve().relative_to(root)}")
        elif anchor and linked.suffix != ".md":
            problems.append(f"{where} has an anchor into a file that is not Markdown")
    return problems


def test_every_link_in_the_repository_markdown_resolves() -> None:
    pages = markdown_files()
    assert ROOT / "README.md" in pages and ROOT / "docs" / "architecture.md" in pages
    assert [problem for page in pages for problem in broken_links(page)] == []


def test_the_readme_links_to_every_docs_page() -> None:
    named = {target.partition("#")[0] for target in links((ROOT / "README.md").read_text(encoding="utf-8"))}
    pages = {f"docs/{path.name}" for path in (ROOT / "docs").glob("*.md")}
    assert pages - named == set()


def test_the_readme_fits_on_a_screen() -> None:
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= README_MOST_LINES


def test_a_link_to_a_missing_file_or_heading_is_reported(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other page\n\n## Its part\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\n[ok](other.md#its-part) [ok](#title) [gone](missing.md) [no such part](other.md#nothing)\n"
        "[no such heading here](#its-part) `[in code](#not-checked)`\n\n```\n[in a block](#not-checked)\n```\n",
        encoding="utf-8",
    )
    assert broken_links(page, root=tmp_path) == [
        "page.md: (missing.md) names no file",
        "page.md: (other.md#nothing) names no heading of other.md",
        "page.md: (#its-part) names no heading of page.md",
    ]


def test_anchors_follow_githubs_slug_rules() -> None:
    page = (
        "# Measure an agent: τ²-bench retail, end to end over MCP\n"
        "## The `shopdesk` command line\n"
        "## Targets (issue 11) and where they stand today\n"
        "## Notes\n## Notes\n## Notes\n"
        "## `find_user_id_by_email` and [links](x.md)\n"
        "```\n# not a heading\n```\n"
    )
    assert anchors(page) == {
        "measure-an-agent-τ²-bench-retail-end-to-end-over-mcp",
        "the-shopdesk-command-line",
        "targets-issue-11-and-where-they-stand-today",
        "notes",
        "notes-1",
        "notes-2",
        "find_user_id_by_email-and-links",
    }
