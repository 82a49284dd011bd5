"""The shopdesk command line: clear errors for missing or corrupt files, nothing half-made."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from shop_support import TAU2_DB, server_env, tau2_text

pytestmark = pytest.mark.slow  # runs the shopdesk CLI as a process


def shopdesk(
    *args: str, cwd: Path, env: dict[str, str] | None = None, prefix: tuple[str, ...] = (), timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "shopdesk", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**server_env(), **(env or {})},
        timeout=timeout,
    )


def one_line_failure(run: subprocess.CompletedProcess[str]) -> str:
    """The run failed to start the way every start-up failure should: exit 2, one line on stderr."""
    assert run.returncode == 2, (run.returncode, run.stderr)
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("shopdesk"), run.stderr
    return lines[0]


def test_version(tmp_path: Path) -> None:
    from shopdesk import __version__

    for args in (["version"], ["--version"]):
        run = shopdesk(*args, cwd=tmp_path)
        assert run.returncode == 0 and run.stdout.strip() == f"shopdesk {__version__}"


def test_version_works_even_with_a_bad_setting_that_other_commands_report(tmp_path: Path) -> None:
    run = shopdesk("--version", cwd=tmp_path, env={"SHOPDESK_LOG_LEVEL": "loud"})
    assert run.returncode == 0 and run.stdout.startswith("shopdesk ")
    assert "SHOPDESK_LOG_LEVEL" in one_line_failure(shopdesk("serve", cwd=tmp_path, env={"SHOPDESK_LOG_LEVEL": "loud"}))


def test_a_bad_import_file_is_named_in_its_error(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{")
    line = one_line_failure(shopdesk("import-tau2", "broken.json", "--db", "x.sqlite3", cwd=tmp_path))
    assert line.startswith("shopdesk: error: broken.json: not a τ² retail database") and ": :" not in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.json"]


def test_help_names_the_environment_variables_and_how_to_stop(tmp_path: Path) -> None:
    top = shopdesk("--help", cwd=tmp_path).stdout
    for name in ("SHOPDESK_DB", "SHOPDESK_LOG_LEVEL", "SHOPDESK_HOST", "SHOPDESK_PORT"):
        assert name in top
    serve = shopdesk("serve", "--help", cwd=tmp_path).stdout
    assert "Ctrl-C" in serve and "SHOPDESK_PORT" in serve
    # Every option of every command says what it is for.
    for command in ("serve", "init", "import-tau2", "export-tau2"):
        text = shopdesk(command, "--help", cwd=tmp_path).stdout
        options = text.split("options:")[1].split("environment variables")[0]
        entries = re.findall(r"^  (\S.*?)(?:\n(?=  \S)|\Z)", options, re.M | re.S)
        assert entries and all(len(entry.split()) > 2 for entry in entries), (command, entries)


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["serve", "--db", "/proc/x.sqlite3"], {}, "cannot create /proc/x.sqlite3"),
        (["serve", "--db", "no-such-folder/shop.sqlite3"], {}, "does not exist"),
        (["serve"], {"SHOPDESK_LOG_LEVEL": "bogus"}, "SHOPDESK_LOG_LEVEL"),
        (["serve"], {"SHOPDESK_PORT": "eighty"}, "port"),
        (["serve", "--transport", "http", "--port", "99999"], {}, "port"),
        (["serve", "--transport", "carrier-pigeon"], {}, "invalid choice"),
        (["init", "--orders", "many"], {}, "whole number"),
        (["import-tau2", "missing.json"], {}, "no such file or directory: missing.json"),
        (["init", "--customers", "0"], {}, "1 or more"),
        (["serve", "--db", ""], {}, "not an empty value"),
    ],
)
def test_every_start_up_failure_is_one_line_and_exit_code_2(
    tmp_path: Path, args: list[str], env: dict[str, str], says: str
) -> None:
    assert says in one_line_failure(shopdesk(*args, cwd=tmp_path, env=env))
    assert list(tmp_path.iterdir()) == []  # and nothing was made


def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        db = tmp_path / "s.sqlite3"
        assert shopdesk("init", "--db", str(db), "--customers", "2", "--orders", "2", cwd=tmp_path).returncode == 0
        line = one_line_failure(shopdesk("serve", "--db", str(db), "--transport", "http", "--port", port, cwd=tmp_path))
        assert "in use" in line


def test_serve_refuses_another_programs_database(tmp_path: Path) -> None:
    theirs = tmp_path / "app.sqlite3"
    with closing(sqlite3.connect(theirs)) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    before = theirs.read_bytes()
    assert "another program's tables" in one_line_failure(shopdesk("serve", "--db", str(theirs), cwd=tmp_path))
    assert theirs.read_bytes() == before


def test_init_shows_progress_and_how_long_it_took(tmp_path: Path) -> None:
    run = shopdesk("init", "--db", str(tmp_path / "s.sqlite3"), "--customers", "50", "--orders", "45000", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    progress = run.stderr.splitlines()  # not a terminal: a few plain lines, no bar
    assert 2 <= len(progress) <= 5 and progress[-1].startswith("45,000 of 45,000 orders (100%)")
    assert re.search(r"created .* in \d+\.\d s: ", run.stdout)


@pytest.mark.skipif(shutil.which("prlimit") is None, reason="needs util-linux prlimit")
@pytest.mark.parametrize(
    "command", [["init", "--customers", "3000", "--orders", "30000"], ["import-tau2"]], ids=["init", "import"]
)
def test_a_full_disk_leaves_nothing_behind_and_the_next_try_works(tmp_path: Path, command: list[str]) -> None:
    db = tmp_path / "shop.sqlite3"
    # A file size limit: writes past 1 MB fail as on a full disk.
    full = shopdesk(*command, "--db", str(db), cwd=tmp_path, prefix=("prlimit", "--fsize=1000000"))
    assert "nothing was left behind" in one_line_failure(full)
    assert list(tmp_path.iterdir()) == []
    again = shopdesk(*command, "--db", str(db), cwd=tmp_path)
    assert again.returncode == 0, again.stderr


def test_import_without_a_file_loads_the_bundled_tau2_shop(tmp_path: Path) -> None:
    db = tmp_path / "tau2.sqlite3"
    run = shopdesk("import-tau2", "--db", str(db), cwd=tmp_path)
    assert run.returncode == 0 and "500 customers" in run.stdout and "1,000 orders" in run.stdout


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


def test_the_command_line_page_names_every_environment_variable() -> None:
    from shop_support import ROOT

    from shopdesk.settings import ENVIRONMENT

    page = (ROOT / "docs" / "command-line.md").read_text()
    assert [name for name in ENVIRONMENT if f"`{name}`" not in page] == []


def test_serving_a_customer_who_does_not_exist_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite3"
    assert shopdesk("init", "--db", str(db), "--customers", "2", "--orders", "2", cwd=tmp_path).returncode == 0
    line = one_line_failure(shopdesk("serve", "--db", str(db), "--customer", "nobody_0000", cwd=tmp_path))
    assert "is not a customer" in line


def test_tokens_are_listed_without_their_secrets_and_revoked_by_id(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite3"
    assert shopdesk("init", "--db", str(db), "--customers", "2", "--orders", "2", cwd=tmp_path).returncode == 0
    made = shopdesk("token", "create", "--db", str(db), "--subject", "bot", "--scopes", "orders:read", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    token = made.stdout.splitlines()[0]
    assert token.startswith("sdt_")
    auth = tmp_path / "s.auth.json"
    assert auth.stat().st_mode & 0o777 == 0o600 and token not in auth.read_text()
    listed = shopdesk("token", "list", "--db", str(db), cwd=tmp_path).stdout
    token_id = token.split("_")[1]
    assert token_id in listed and "active" in listed and token not in listed
    assert shopdesk("token", "revoke", token_id, "--db", str(db), cwd=tmp_path).returncode == 0
    assert "revoked" in shopdesk("token", "list", "--db", str(db), cwd=tmp_path).stdout
    assert "no token with id" in one_line_failure(shopdesk("token", "revoke", "nope", "--db", str(db), cwd=tmp_path))


def test_tools_lists_the_toolsets_and_a_misspelt_one_stops_serve(tmp_path: Path) -> None:
    listing = shopdesk("tools", cwd=tmp_path)
    assert listing.returncode == 0 and "orders: get_order_details, search_orders," in listing.stdout
    line = one_line_failure(
        shopdesk("serve", "--toolsets", "orders,tikets", "--db", str(tmp_path / "s.db"), cwd=tmp_path)
    )
    assert "unknown toolset tikets; the toolsets are customers, orders, catalog, tickets, audit" in line
    assert not (tmp_path / "s.db").exists()
    line = one_line_failure(shopdesk("serve", cwd=tmp_path, env={"SHOPDESK_TOOLS": "get_order"}))
    assert "unknown tool get_order" in line


def test_token_commands_use_the_auth_file_the_environment_names(tmp_path: Path) -> None:
    auth = tmp_path / "elsewhere" / "tokens.json"
    auth.parent.mkdir()
    env = {"SHOPDESK_AUTH_FILE": str(auth)}
    made = shopdesk(
        "token", "create", "--subject", "ops", "--scopes", "admin", "--db", "x.sqlite3", cwd=tmp_path, env=env
    )
    assert made.returncode == 0, made.stderr
    assert auth.is_file() and not (tmp_path / "x.auth.json").exists()
    listed = shopdesk("token", "list", "--db", "x.sqlite3", cwd=tmp_path, env=env)
    assert "ops" in listed.stdout


# Every value is tried in process by tests/test_token_expiry.py; these run the command as a process.
@pytest.mark.parametrize("days", ["inf", "1e12"])
def test_token_expiry_refuses_anything_but_whole_days_in_range(tmp_path: Path, days: str) -> None:
    run = shopdesk(
        "token", "create", "--db", "s.sqlite3", "--subject", "b", "--scopes", "admin", f"--expires={days}", cwd=tmp_path
    )
    assert "expected whole days from 1 to 3650" in one_line_failure(run)
    assert list(tmp_path.iterdir()) == []  # no token, no auth file


@pytest.mark.parametrize("days", ["30"])
def test_token_expiry_in_whole_days_lands_that_many_days_ahead(tmp_path: Path, days: str) -> None:
    made = shopdesk(
        "token", "create", "--db", "s.sqlite3", "--subject", "b", "--scopes", "admin", "--expires", days, cwd=tmp_path
    )
    assert made.returncode == 0, made.stderr
    (record,) = json.loads((tmp_path / "s.auth.json").read_text())["tokens"]
    assert record["expires_at"] - record["created_at"] == int(days) * 86400
    assert " active " in shopdesk("token", "list", "--db", "s.sqlite3", cwd=tmp_path).stdout


def test_a_bad_expiry_already_in_the_auth_file_is_listed_as_invalid_and_never_admits(tmp_path: Path) -> None:
    from shopdesk.access.tokens import AuthFile

    auth = AuthFile(tmp_path / "s.auth.json")
    tokens = [auth.create(f"bot{i}", ["admin"])[1] for i in range(4)]
    data = json.loads(auth.path.read_text())
    # What --expires 1e12 wrote before (a date no calendar shows), and what hands may write.
    for entry, expiry in zip(data["tokens"], [86_400_000_000_000_000, float("inf"), "soon", -5], strict=True):
        entry["expires_at"] = expiry
    auth.path.write_text(json.dumps(data))
    listed = shopdesk("token", "list", "--db", "s.sqlite3", cwd=tmp_path)
    assert listed.returncode == 0 and listed.stderr == ""
    lines = listed.stdout.splitlines()
    assert len(lines) == 4 and all(" invalid " in line and "expires invalid (" in line for line in lines), lines
    assert [auth.find(token) for token in tokens] == [None] * 4


@pytest.mark.parametrize("command", [["serve"], ["serve", "--read-only"], ["audit"]], ids=lambda c: " ".join(c))
def test_dev_null_is_refused_with_nothing_made_beside_it(tmp_path: Path, command: list[str]) -> None:
    journal = Path("/dev/null-journal")
    if journal.exists():
        pytest.skip("/dev/null-journal is already there: whatever made it, this test cannot tell")
    line = one_line_failure(shopdesk(*command, "--db", "/dev/null", cwd=tmp_path))
    assert "/dev/null is a device, not a database file" in line
    assert not journal.exists() and not Path("/dev/null-wal").exists()


@pytest.mark.parametrize("command", [["serve"], ["serve", "--read-only"], ["audit"]], ids=lambda c: " ".join(c))
def test_a_pipe_is_refused_not_waited_on(tmp_path: Path, command: list[str]) -> None:
    pipe = tmp_path / "shop.sqlite3"
    os.mkfifo(pipe)
    try:
        run = shopdesk(*command, "--db", str(pipe), cwd=tmp_path, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("shopdesk waited on the pipe for a writer")
    assert "is a pipe, not a database file" in one_line_failure(run)
    assert [p.name for p in tmp_path.iterdir()] == ["shop.sqlite3"]
