"""The folders server/ and client_demo/ are installed as `shopdesk` and `shopdesk_demo`, import names no other
project uses (a top-level `server` collided with anything else of that name). Nothing in the repository may
run or import them by their folder names: those work in a checkout only, by accident of the working folder."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from shop_support import ROOT

SKIPPED = {"node_modules", ".venv", ".git", ".mypy_roots", "__pycache__", "build", "dist", ".hypothesis"}
RUNS_A_FOLDER = re.compile(r"""-m\s+(server|client_demo)\b|["']-m["'],\s*["'](server|client_demo)\b""")
NAMES = {"Dockerfile", "run"}  # files without a suffix that run commands (.ci/run)
IMPORTS_A_FOLDER = re.compile(r"^\s*(from|import)\s+(server|client_demo)\b", re.MULTILINE)


def repository_texts() -> list[Path]:
    found = []
    for path in ROOT.rglob("*"):
        parts = path.relative_to(ROOT).parts
        if any(part in SKIPPED or part.endswith(".egg-info") for part in parts) or not path.is_file():
            continue
        if path == Path(__file__).resolve():  # this file spells the names it looks for
            continue
        if path.suffix in {".py", ".md", ".toml", ".json", ".yaml", ".yml", ".sh"} or path.name in NAMES:
            found.append(path)
    return found


def test_pyproject_installs_the_folders_under_names_of_their_own() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert setuptools["package-dir"]["shopdesk"] == "server"
    assert setuptools["package-dir"]["shopdesk_demo"] == "client_demo"
    assert not [p for p in setuptools["packages"] if p.split(".")[0] in ("server", "client_demo")]


@pytest.mark.parametrize("pattern", [RUNS_A_FOLDER, IMPORTS_A_FOLDER], ids=["runs", "imports"])
def test_nothing_runs_or_imports_a_folder_by_its_name(pattern: re.Pattern[str]) -> None:
    texts = repository_texts()
    assert any(p.name == "Dockerfile" for p in texts) and any(p.suffix == ".md" for p in texts)
    offenders = [
        f"{path.relative_to(ROOT)}: {match.group(0).strip()}"
        for path in texts
        for match in pattern.finditer(path.read_text(encoding="utf-8", errors="replace"))
        if path.suffix == ".py" or pattern is RUNS_A_FOLDER
    ]
    assert offenders == []


def test_the_check_sees_what_it_looks_for() -> None:
    assert RUNS_A_FOLDER.search("python -m server serve") and RUNS_A_FOLDER.search('["-m", "client_demo"]')
    assert IMPORTS_A_FOLDER.search("from server.app import build_server")
    assert not RUNS_A_FOLDER.search("python -m shopdesk serve")
    assert not IMPORTS_A_FOLDER.search("from shopdesk import x")
