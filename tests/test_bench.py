"""bench/mcp_bench.py runs end to end on a tiny shop and reports every case. Nothing here checks a timing:
timings belong to the bench's own output, as ratios measured side by side."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from shop_support import server_env

ROOT = Path(__file__).resolve().parent.parent


def test_the_bench_reports_every_tool_transport_and_ratio(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    chart = tmp_path / "latency.png"
    drawing = importlib.util.find_spec("matplotlib") is not None
    command = [
        sys.executable,
        str(ROOT / "bench" / "mcp_bench.py"),
        "--sizes",
        "tiny",
        "--calls",
        "4",
        "--rounds",
        "2",
        "--warmup",
        "1",
        "--starts",
        "1",
        "--concurrency",
        "4",
        "--concurrent-seconds",
        "0.4",
        "--sdk-calls",
        "2",
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
    tiny = report["sizes"]["tiny"]
    cases = {"floor (no-op)", "get_order_details", "get_user_details", "search_orders", "search_orders_next"}
    cases |= {"search_customers", "list_tickets", "write", "write_key", "write_confirmed"}
    for transport in ("stdio", "http"):
        assert set(tiny["latency"][transport]) == cases
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
