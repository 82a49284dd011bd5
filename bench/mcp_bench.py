"""shopdesk's tools next to the MCP SDK's floor, side by side in one run, over stdio and Streamable HTTP.

    .venv/bin/pip install -e '.[bench]'                     # matplotlib, for the chart (optional)
    .venv/bin/python bench/mcp_bench.py                      # 1k, 100k and 1M orders (1M: minutes, once)
    .venv/bin/python bench/mcp_bench.py --sizes 1k,100k      # a quicker run
    .venv/bin/python bench/mcp_bench.py --sizes tiny --calls 5 --no-chart   # a smoke run (what the test does)
    .venv/bin/python bench/mcp_bench.py --sizes 1k,100k --backends sqlite,postgresql   # the shop in both

What it measures, per shop size:

- latency (p50, p99) and calls/s of each tool, one call after another, from a raw JSON-RPC client (no SDK
  client, so its costs are not counted) over stdio (a subprocess) and over Streamable HTTP, against the
  floor: a bare SDK server with one no-op tool (bench/floor_server.py), run as its own process the same
  way. Rounds of every case are interleaved so machine noise hits all alike; the ratio is the tool's p50
  over the floor's p50 in the same run, size and transport. The tools: get_order_details,
  get_user_details, search_orders (a status filter) and its next page, search_customers (a common name
  prefix), list_tickets, and a write, modify_pending_order_address on distinct pending orders, plain, with
  an idempotency key, and confirmed (`--confirm always`: a first call answered with a token, the same call
  again with the token, timed as one operation). Writes commit with synchronous=FULL, the default;
- start-up: process start until `initialize` has answered and the first tools/list returned (stdio);
- memory: the server's VmRSS (and peak, VmHWM) after the calls;
- 50 concurrent HTTP sessions (each its own initialize), get_order_details against the floor's no-op,
  in alternating phases: throughput ratio and errors;
- what the SDK's Python client (`mcp.Client`, over stdio) pays to validate each result against the tool's
  output schema: the same calls with its validation on and off;
- the time to generate each shop (`shopdesk init`), once: shops are kept in bench/.shops/ (git-ignored)
  with the time it took, so later runs skip it. The calls run on a scratch copy, so the kept shop stays
  as generated.

With `--backends sqlite,postgresql` every case runs with the shop in SQLite and in PostgreSQL, side by side:
one throwaway PostgreSQL server for the whole run (tests/pg_support.py: initdb into a temporary folder, on
127.0.0.1, with fsync and synchronous_commit off, as for the tests), one database per size filled with the
same generated shop as the SQLite file (`shopdesk init --db postgresql://...` with the same customers,
orders and seed; filled and timed afresh each run, nothing kept), and `shopdesk serve --db postgresql://...`
in place of the file. Both backends' servers run during the same interleaved rounds, against one floor per
transport. Over HTTP, PostgreSQL also gets a run with `--replicas` (default 2) `--stateless` servers sharing
the database, the concurrent sessions split across them round-robin, in the same alternating phases as the
floor and the single servers.

It prints a table, writes JSON (--json) and draws the p50 ratios by tool and shop size (--chart, needs
matplotlib). Timings depend on the machine: compare ratios, and run it twice.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# The bench's parts are its sibling modules, bench/bench_*.py (bench/ is sys.path[0] when this runs as a script).
from bench_cases import Options
from bench_report import chart, table
from bench_runs import size_run
from bench_servers import BENCH
from bench_shops import SIZES, PostgresShops, postgres_unavailable

BACKENDS = ("sqlite", "postgresql")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog="\n\n".join(__doc__.split("\n\n")[1:]) if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--sizes", default="1k,100k,1m", help=f"shop sizes, comma-separated, of {', '.join(SIZES)} (default 1k,100k,1m)"
    )
    parser.add_argument("--transports", default="stdio,http", help="stdio, http or both (default stdio,http)")
    parser.add_argument(
        "--backends",
        default="sqlite",
        help="where the shop is: sqlite, postgresql or both, comma-separated (default sqlite)",
    )
    parser.add_argument(
        "--replicas",
        type=int,
        default=2,
        help="stateless PostgreSQL replicas sharing the concurrent HTTP load (default 2; 0: skip)",
    )
    parser.add_argument("--calls", type=int, default=500, help="timed calls per case, transport and size (default 500)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds the calls are split into (default 5)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed calls per case first (default 10)")
    parser.add_argument("--concurrency", type=int, default=50, help="HTTP sessions at once (default 50; 0: skip)")
    parser.add_argument(
        "--concurrent-seconds", type=float, default=6.0, help="seconds of load each for floor and shopdesk (default 6)"
    )
    parser.add_argument(
        "--sdk-calls", type=int, default=300, help="mcp.Client calls per case and mode (default 300; 0: skip)"
    )
    parser.add_argument(
        "--starts", type=int, default=3, help="start-ups timed per server and size; the median counts (default 3)"
    )
    parser.add_argument(
        "--shops", type=Path, default=BENCH / ".shops", help="where generated shops are kept (default bench/.shops)"
    )
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "latest.json", help="write the results here")
    parser.add_argument("--chart", type=Path, default=BENCH / "results" / "latency.png", help="draw the chart here")
    parser.add_argument("--no-chart", action="store_true", help="draw no chart")
    args = parser.parse_args(argv)
    args.sizes = [s.strip().lower() for s in args.sizes.split(",") if s.strip()]
    args.transports = [t.strip() for t in args.transports.split(",") if t.strip()]
    args.backends = [b.strip().lower() for b in args.backends.split(",") if b.strip()]
    if unknown := [s for s in args.sizes if s not in SIZES]:
        parser.error(f"unknown size {unknown[0]!r}; choose from {', '.join(SIZES)}")
    if unknown := [t for t in args.transports if t not in ("stdio", "http")]:
        parser.error(f"unknown transport {unknown[0]!r}; choose stdio or http")
    if unknown := [b for b in args.backends if b not in BACKENDS]:
        parser.error(f"unknown backend {unknown[0]!r}; choose sqlite or postgresql")
    if not args.backends:
        parser.error("--backends needs sqlite, postgresql or both")
    args.backends = [b for b in BACKENDS if b in args.backends]  # SQLite first, whatever the order given
    if args.replicas < 0:
        parser.error("--replicas must be 0 or more")
    if args.calls < 1 or args.rounds < 1:
        parser.error("--calls and --rounds must be at least 1")
    return args


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    from shopdesk import __version__

    report: dict[str, Any] = {
        "version": __version__,
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_before": os.getloadavg()[0],
        },
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "backends": args.backends,
        "transports": args.transports,
        "sizes": {},  # SQLite's results by size (where they have always been)
    }
    postgres = PostgresShops() if "postgresql" in args.backends else None
    if postgres is not None:
        report["postgresql"] = {
            "server": "throwaway, tests/pg_support.py: 127.0.0.1, fsync=off, synchronous_commit=off, "
            "full_page_writes=off, shared_buffers=64MB",
            "sizes": {},  # PostgreSQL's results by size, as report["sizes"] for SQLite
        }
    try:
        await _bench_sizes(args, report, postgres)
    finally:
        if postgres is not None:
            report["postgresql"]["server_version"] = postgres.version
            postgres.stop()
    report["machine"]["load_after"] = os.getloadavg()[0]
    return report


async def _bench_sizes(args: argparse.Namespace, report: dict[str, Any], postgres: PostgresShops | None) -> None:
    with tempfile.TemporaryDirectory(prefix="shopdesk-bench-") as scratch_dir:
        scratch = Path(scratch_dir)
        options = Options(
            calls=args.calls,
            rounds=args.rounds,
            warmup=args.warmup,
            concurrency=args.concurrency if "http" in args.transports else 0,
            concurrent_seconds=args.concurrent_seconds,
            sdk_calls=args.sdk_calls,
            starts=args.starts,
            logs=scratch,
            replicas=args.replicas,
        )
        for size in args.sizes:
            for backend, (about, result) in (await size_run(size, args, options, scratch, postgres)).items():
                for measured in (result.concurrent, result.replicas):
                    for name in ("floor", "shopdesk"):
                        measured.get(name, {}).pop("times", None)
                entry: dict[str, Any] = {
                    "backend": backend,
                    "orders": about["orders"],
                    "customers": about["customers"],
                    "generate_s": about.get("generate_s"),  # PostgreSQL: this run's fill
                    "latency": result.latency,
                    "startup_s": result.startup_s,
                    "memory_mb": result.memory_mb,
                    "concurrent": result.concurrent,
                    "sdk_client": result.sdk_client,
                    "writes_checked": result.writes_checked,
                }
                if backend == "postgresql":
                    entry["same_as_sqlite"] = about.get("same_as_sqlite")
                    entry["replicas"] = result.replicas
                    report["postgresql"]["sizes"][size] = entry
                else:
                    report["sizes"][size] = entry


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.concurrency == 0 or "http" not in args.transports:
        args.concurrency = 0
    if "postgresql" in args.backends and (reason := postgres_unavailable()):
        print(f"mcp_bench: cannot run the postgresql backend: {reason}", file=sys.stderr)
        sys.exit(2)
    report = asyncio.run(bench(args))
    print(table(report))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1) + "\n")
    print(f"\nwrote {args.json}")
    if not args.no_chart:
        try:
            chart(report, args.chart)
            print(f"drew {args.chart}")
        except ImportError:
            print("no chart: matplotlib is not installed (pip install -e '.[bench]')", file=sys.stderr)


if __name__ == "__main__":
    main()
