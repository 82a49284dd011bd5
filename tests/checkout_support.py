"""The checkout as the test run found it: a fingerprint of its files, to show a run left them alone.

conftest.py takes one at the start of the run and one at the end; a file added, removed or changed in between
fails the run (screenshots are written only where SHOPDESK_SCREENSHOTS asks, traces under temporary folders).
Files are read, not asked of git: the suite does not need git.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

# Caches and installs that tools keep in the checkout, and are not the project's files.
NOT_THE_PROJECTS = {
    ".git",
    ".venv",
    "venv",
    "node_modules",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    ".mypy_cache",
    ".ruff_cache",
}


def fingerprint(root: Path, leave_out: tuple[Path, ...] = ()) -> dict[str, str]:
    """Each file under `root` (as a path relative to it) and the SHA-256 of its bytes, bar the caches above,
    egg-info folders and the folders in `leave_out`."""
    skipped = {os.path.realpath(path) for path in leave_out}
    files: dict[str, str] = {}
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [
            name
            for name in subfolders
            if name not in NOT_THE_PROJECTS
            and not name.endswith(".egg-info")
            and os.path.realpath(os.path.join(folder, name)) not in skipped
        ]
        for name in names:
            path = Path(folder) / name
            if path.is_file():
                files[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """What became of the files between two fingerprints, one line per file, sorted."""
    return sorted(
        [f"added {path}" for path in after.keys() - before.keys()]
        + [f"removed {path}" for path in before.keys() - after.keys()]
        + [f"changed {path}" for path in before.keys() & after.keys() if before[path] != after[path]]
    )
