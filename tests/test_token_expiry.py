"""`shopdesk token create --expires`: whole days from 1 to 3650, anything else refused in one line with nothing
made. Run in this process (`main([...])`); tests/test_cli.py runs the same command as a process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shopdesk.cli.main import main


def token_create(tmp_path: Path, days: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """The exit code and stderr of `shopdesk token create ... --expires=DAYS` with its shop in `tmp_path`."""
    db = str(tmp_path / "s.sqlite3")
    try:
        code = main(["token", "create", "--db", db, "--subject", "b", "--scopes", "admin", f"--expires={days}"])
    except SystemExit as exc:  # argparse refuses by exiting
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


@pytest.fixture(autouse=True)
def no_shopdesk_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in __import__("os").environ if name.startswith("SHOPDESK_")]:
        monkeypatch.delenv(name)


@pytest.mark.parametrize("days", ["inf", "1e12", "1e-9", "0", "-3", "1.5", "nan", "3651", "٣", "1_0", ""])
def test_anything_but_whole_days_in_range_is_refused_in_one_line(
    tmp_path: Path, days: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = token_create(tmp_path, days, capsys)
    lines = err.splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("shopdesk"), err
    assert "expected whole days from 1 to 3650" in lines[0]
    assert list(tmp_path.iterdir()) == []  # no token, no auth file


@pytest.mark.parametrize("days", ["1", "30", "3650"])
def test_whole_days_land_that_many_days_ahead(tmp_path: Path, days: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = token_create(tmp_path, days, capsys)
    assert code == 0, err
    (record,) = json.loads((tmp_path / "s.auth.json").read_text())["tokens"]
    assert record["expires_at"] - record["created_at"] == int(days) * 86400
