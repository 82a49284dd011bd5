"""The shopdesk command line: clear errors for missing or corrupt files, nothing half-made."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from shop_support import TAU2_DB, server_env, tau2_text


def shopdesk(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=server_env(),
        timeout=120,
    )


def test_version(tmp_path: Path) -> None:
    from server import __version__

    run = shopdesk("version", cwd=tmp_path)
    assert run.returncode == 0 and run.stdout.strip() == f"shopdesk {__version__}"


def test_init_creates_a_shop_of_the_asked_size_and_refuses_to_overwrite(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite3"
    run = shopdesk("init", "--db", str(db), "--customers", "12", "--orders", "34", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "12 customers" in run.stdout and "34 orders" in run.stdout
    again = shopdesk("init", "--db", str(db), cwd=tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr and "Traceback" not in again.stderr


def test_corrupt_database_is_reported_clearly(tmp_path: Path) -> None:
    db = tmp_path / "broken.sqlite3"
    db.write_bytes(b"this is not sqlite" * 100)
    run = shopdesk("serve", "--db", str(db), cwd=tmp_path)
    assert run.returncode == 2
    assert "not a usable shopdesk database" in run.stderr and "Traceback" not in run.stderr
    assert db.read_bytes() == b"this is not sqlite" * 100


def test_export_of_missing_database_says_how_to_make_one(tmp_path: Path) -> None:
    run = shopdesk("export-tau2", "--db", str(tmp_path / "none.sqlite3"), "-", cwd=tmp_path)
    assert run.returncode == 2 and "shopdesk init" in run.stderr
    assert not (tmp_path / "none.sqlite3").exists()


def test_import_of_a_bad_file_leaves_no_database(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"products": {}, "users": {"u": {"user_id": "u"}}, "orders": {}}))
    db = tmp_path / "imported.sqlite3"
    run = shopdesk("import-tau2", str(bad), "--db", str(db), cwd=tmp_path)
    assert run.returncode == 2 and "not a τ² retail database" in run.stderr and "Traceback" not in run.stderr
    assert not db.exists()


def test_import_then_export_round_trips_through_the_cli(tmp_path: Path) -> None:
    db = tmp_path / "tau2.sqlite3"
    assert shopdesk("import-tau2", str(TAU2_DB), "--db", str(db), cwd=tmp_path).returncode == 0
    out = tmp_path / "out.json"
    assert shopdesk("export-tau2", str(out), "--db", str(db), cwd=tmp_path).returncode == 0
    assert json.loads(out.read_text()) == json.loads(tau2_text())
