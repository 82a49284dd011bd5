"""bench/demo_concurrency.py's report: the medians and ratios of each case and way, and the table it prints."""

from __future__ import annotations

import statistics
from typing import Any

from demo_concurrency_ways import MODES, Bench


def median_ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 1)


def summarise(cases: dict[str, list[int]], bench: Bench) -> dict[str, Any]:
    report: dict[str, Any] = {}
    for name, delays in cases.items():
        slowest, total = max(delays), sum(delays)
        ways: dict[str, Any] = {}
        for way in MODES:
            samples = bench.samples[(name, way)]
            measured = median_ms([s.seconds for s in samples])
            figures: dict[str, Any] = {
                "measured_ms": measured,
                "rounds_ms": [round(s.seconds * 1000, 1) for s in samples],
                "measured_over_slowest": round(measured / slowest, 3) if slowest else None,
                "measured_over_sum": round(measured / total, 3) if total else None,
                "call_ms_sum": median_ms([sum(s.call_seconds) for s in samples]),  # the calls' own times, added
                "call_ms_max": median_ms([max(s.call_seconds) for s in samples]),
                "results_ok": [s.results for s in samples],
                "server_calls_seen": [s.server_calls for s in samples],
                "server_peak_in_flight": [s.server_peak_in_flight for s in samples],
            }
            asks = [s.ask_seconds for s in samples if s.ask_seconds is not None]
            if asks:
                figures["ask_ms"] = median_ms(asks)
            ways[way] = figures
        loop, floor = ways["agent loop"]["measured_ms"], ways["direct, gathered"]["measured_ms"]
        report[name] = {
            "calls": len(delays),
            "delays_ms": delays,
            "slowest_ms": slowest,
            "sum_ms": total,
            "ways": ways,
            "loop_overhead_ms": round(loop - floor, 1),
        }
    return report


def print_table(report: dict[str, Any], rounds: int) -> None:
    header = (
        f"{'case':<20} {'way':<22} {'calls':>5} {'slowest':>8} {'sum':>7} {'measured':>9} "
        f"{'/slowest':>9} {'/sum':>6} {'peak':>5}"
    )
    print(f"medians of {rounds} round(s), ms; peak: most calls in flight at once in the tool server")
    print(header)
    print("-" * len(header))
    for name, case in report.items():
        for way, figures in case["ways"].items():
            print(
                f"{name:<20} {way:<22} {case['calls']:>5} {case['slowest_ms']:>8} {case['sum_ms']:>7} "
                f"{figures['measured_ms']:>9.1f} {figures['measured_over_slowest'] or 0:>9.2f} "
                f"{figures['measured_over_sum'] or 0:>6.2f} {max(figures['server_peak_in_flight']):>5}"
            )
    print()
    for name, case in report.items():
        loop = case["ways"]["agent loop"]
        print(
            f"{name}: agent loop's whole ask() {loop['ask_ms']:.1f} ms, of which the tool phase "
            f"{loop['measured_ms']:.1f} ms (the rest: two fake API replies and the loop); loop over a bare gather: "
            f"{case['loop_overhead_ms']:+.1f} ms"
        )
