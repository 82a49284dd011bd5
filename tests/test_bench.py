"""bench/mcp_bench.py runs end to end on a tiny shop and reports every case. Nothing here checks a timing:
timings belong to the bench's own output, as ratios measured side by side."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pg_support import unavailable_reason
from shop_support import server_env

pytestmark = pytest.mark.slow  # runs the bench scripts as processes

ROOT = Path(__file__).resolve().parent.parent
CASES = {"floor (no-op)", "get_order_details", "get_user_details", "search_orders", "search_orders_next"}
CASES |= {"search_customers", "list_tickets", "write", "write_key", "write_confirmed"}
# A few calls of each kind, on the tiny shop: what is checked is that every part runs, not how fast.
FEW_CALLS = ["--sizes", "tiny", "--calls", "4", "--rounds", "2", "--warmup", "1", "--starts", "1"]
FEW_CALLS += ["--concurrency", "4", "--concurrent-seconds", "0.4", "--sdk-calls", "2"]


def test_the_bench_reports_every_tool_transport_and_ratio(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    chart = tmp_path / "latency.png"
    drawing = importlib.util.find_spec("matplotlib") is not None
    command = [
        sys.executable,
        str(ROOT / "bench" / "mcp_bench.py"),
        *FEW_CALLS,
        "--shops",
        str(tmp_path / "shops"),
        "--json",
        str(results),
        "--chart",
        str(chart),
    ] + ([] if drawing else ["--no-chart"])
    run = subprocess.run(command, capture_output=True, text=True, env=server_env(), cwd=tmp_path, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "floor (no-op)" in run.stdout

    report = json.loads(results.read_text())
    assert report["backends"] == ["sqlite"] and "postgresql" not in report
    tiny = report["sizes"]["tiny"]
    assert tiny["backend"] == "sqlite"
    for transport in ("stdio", "http"):
        assert set(tiny["latency"][transport]) == CASES
        for figures in tiny["latency"][transport].values():
            assert figures["ratio"] > 0 and figures["calls"] == 4
    assert tiny["startup_s"]["stdio"]["shopdesk"] > 0 and tiny["memory_mb"]["shopdesk"] > 0
    assert tiny["generate_s"] > 0
    concurrent = tiny["concurrent"]
    assert concurrent["sessions"] == 4 and concurrent["throughput_ratio"] > 0
    assert concurrent["shopdesk"]["errors"] == 0 and concurrent["floor"]["errors"] == 0
    assert {"floor (no-op)", "get_order_details"} <= set(tiny["sdk_client"])
    assert all("validation_ratio" in v for v in tiny["sdk_client"].values())
    # The generated shop is kept for the next run, with how long it took.
    assert (tmp_path / "shops" / "tiny.sqlite3").exists() and (tmp_path / "shops" / "tiny.json").exists()
    assert chart.exists() == drawing


def _bench_module(monkeypatch: pytest.MonkeyPatch) -> Any:
    spec = importlib.util.spec_from_file_location("mcp_bench", ROOT / "bench" / "mcp_bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "mcp_bench", module)
    monkeypatch.syspath_prepend(str(ROOT / "bench"))  # its parts, bench/bench_*.py, import as when run as a script
    spec.loader.exec_module(module)
    return module


def test_the_bench_says_why_it_cannot_run_postgresql_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = _bench_module(monkeypatch)
    monkeypatch.setattr(bench, "postgres_unavailable", lambda: "PostgreSQL's initdb is not installed")
    with pytest.raises(SystemExit) as stopped:
        bench.main(["--backends", "sqlite,postgresql", "--sizes", "tiny"])
    assert stopped.value.code == 2
    assert "cannot run the postgresql backend: PostgreSQL's initdb is not installed" in capsys.readouterr().err


def test_the_bench_runs_every_case_on_sqlite_and_postgresql_side_by_side(tmp_path: Path) -> None:
    reason = unavailable_reason()
    if reason:
        if os.environ.get("SHOPDESK_REQUIRE_PEERS") == "1":
            pytest.fail(f"SHOPDESK_REQUIRE_PEERS=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    results = tmp_path / "results.json"
    command = [sys.executable, str(ROOT / "bench" / "mcp_bench.py"), *FEW_CALLS, "--backends", "sqlite,postgresql"]
    command += ["--shops", str(tmp_path / "shops"), "--json", str(results), "--no-chart"]
    run = subprocess.run(command, capture_output=True, text=True, env=server_env(), cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "postgresql" in run.stdout and "stateless replicas" in run.stdout

    report = json.loads(results.read_text())
    assert report["backends"] == ["sqlite", "postgresql"]
    sqlite, postgresql = report["sizes"]["tiny"], report["postgresql"]["sizes"]["tiny"]
    assert (sqlite["backend"], postgresql["backend"]) == ("sqlite", "postgresql")
    for entry in (sqlite, postgresql):
        for transport in ("stdio", "http"):
            assert set(entry["latency"][transport]) == CASES
            assert all(f["ratio"] > 0 and f["calls"] == 4 for f in entry["latency"][transport].values())
            # Every write was answered without an error, and the orders show their new addresses.
            assert entry["writes_checked"][transport] > 0
        assert entry["startup_s"]["stdio"]["shopdesk"] > 0 and entry["memory_mb"]["shopdesk"] > 0
        assert entry["concurrent"]["shopdesk"]["errors"] == 0 and entry["concurrent"]["floor"]["errors"] == 0
        assert {"floor (no-op)", "get_order_details"} <= set(entry["sdk_client"])
    # Filled this run with the same generated shop: the same counts and ids, so the same samples.
    assert postgresql["generate_s"] > 0 and postgresql["same_as_sqlite"] is True
    assert postgresql["orders"] == sqlite["orders"] and postgresql["customers"] == sqlite["customers"]
    # Both backends were measured against one floor per transport.
    for transport in ("stdio", "http"):
        assert postgresql["latency"][transport]["floor (no-op)"] == sqlite["latency"][transport]["floor (no-op)"]
    replicas = postgresql["replicas"]
    assert replicas["replicas"] == 2 and replicas["sessions"] == 4 and replicas["throughput_ratio"] > 0
    assert (
        replicas["shopdesk"]["errors"] == 0 and replicas["floor"]["errors"] == 0 and replicas["shopdesk"]["calls"] > 0
    )
    assert report["postgresql"]["server_version"]
