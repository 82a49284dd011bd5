"""bench/demo_concurrency.py runs end to end (the fake Messages API, the demo's agent loop, a stdio tool
server) and reports every case and way. Nothing here checks a timing: timings belong to the bench's own
output, as ratios."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs the bench script as a process

ROOT = Path(__file__).resolve().parent.parent
WAYS = {"agent loop", "direct, one at a time", "direct, gathered"}


def test_the_concurrency_bench_runs_every_call_of_every_case(tmp_path: Path) -> None:
    results = tmp_path / "demo_concurrency.json"
    rounds = 2
    command = [sys.executable, str(ROOT / "bench" / "demo_concurrency.py")]
    command += ["--case", "1,2,3", "--case", "4x1", "--rounds", str(rounds), "--warmup", "0", "--json", str(results)]
    run = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "agent loop" in run.stdout and "direct, one at a time" in run.stdout

    report = json.loads(results.read_text())
    assert report["benchmark"] == "demo_concurrency"
    assert report["settings"] == {"rounds": rounds, "warmup": 0, "cases": {"1,2,3": [1, 2, 3], "4x1": [1, 1, 1, 1]}}
    for name, calls in (("1,2,3", 3), ("4x1", 4)):
        case = report["cases"][name]
        assert case["calls"] == calls and len(case["delays_ms"]) == calls
        assert case["slowest_ms"] == max(case["delays_ms"]) and case["sum_ms"] == sum(case["delays_ms"])
        assert set(case["ways"]) == WAYS
        for figures in case["ways"].values():
            assert {"measured_ms", "measured_over_slowest", "measured_over_sum", "rounds_ms"} <= set(figures)
            assert len(figures["rounds_ms"]) == rounds
            # Every call reached the tool server and came back as a good result, every round.
            assert figures["server_calls_seen"] == [calls] * rounds
            assert figures["results_ok"] == [calls] * rounds
        # One at a time means one at a time: the server never had two in flight. (A count, not a timing.)
        assert case["ways"]["direct, one at a time"]["server_peak_in_flight"] == [1] * rounds
        assert "ask_ms" in case["ways"]["agent loop"]
