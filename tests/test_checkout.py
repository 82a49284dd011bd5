"""The check that a test run leaves the checkout as it found it (checkout_support.py, run by conftest.py)."""

from __future__ import annotations

from pathlib import Path

from checkout_support import changes, fingerprint


def test_a_file_added_removed_or_changed_is_named(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "shot.png").write_bytes(b"before")
    (tmp_path / "README.md").write_text("shopdesk\n")
    before = fingerprint(tmp_path)

    (tmp_path / "docs" / "shot.png").write_bytes(b"after")
    (tmp_path / "README.md").unlink()
    (tmp_path / "traces").mkdir()
    (tmp_path / "traces" / "t.jsonl").write_text("{}\n")

    assert changes(before, fingerprint(tmp_path)) == [
        "added traces/t.jsonl",
        "changed docs/shot.png",
        "removed README.md",
    ]


def test_a_file_rewritten_with_the_same_bytes_is_no_change(tmp_path: Path) -> None:
    (tmp_path / "view.html").write_text("<p>order</p>")
    before = fingerprint(tmp_path)
    (tmp_path / "view.html").write_text("<p>order</p>")
    assert changes(before, fingerprint(tmp_path)) == []


def test_caches_installs_and_the_folder_asked_for_are_left_out(tmp_path: Path) -> None:
    before = fingerprint(tmp_path, (tmp_path / "shots",))
    for folder in (".hypothesis", "tests/__pycache__", "views/node_modules", "shopdesk_mcp.egg-info", "shots"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "written").write_text("x")
    assert changes(before, fingerprint(tmp_path, (tmp_path / "shots",))) == []
