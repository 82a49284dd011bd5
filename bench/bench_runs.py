"""The parts of a run at one shop size: start-up, every case over each transport, the concurrent HTTP
sessions, and the size's results for each backend."""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bench_shops
import httpx2
from bench_cases import FLOOR, TOOL_CASES, Call, Options, check_writes, figures, interleaved, prepare, tool_cases
from bench_clients import CallFailed, HttpSession
from bench_sdk_client import sdk_client_run
from bench_servers import Running, floor_command, free_port, shop_command, start
from bench_shops import PostgresShops, Samples, Shop, postgres_samples, scratch_copy, sqlite_samples

REPLICAS = "replicas"  # the concurrent phase of the stateless PostgreSQL replicas


@dataclass
class SizeResult:
    latency: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)  # transport -> case -> figures
    startup_s: dict[str, dict[str, float]] = field(default_factory=dict)
    memory_mb: dict[str, float] = field(default_factory=dict)
    concurrent: dict[str, Any] = field(default_factory=dict)
    sdk_client: dict[str, Any] = field(default_factory=dict)
    replicas: dict[str, Any] = field(default_factory=dict)
    writes_checked: dict[str, int] = field(default_factory=dict)  # transport -> orders read back after the writes


async def transport_run(
    transport: str, shops: list[Shop], options: Options, results: dict[str, SizeResult], run: str
) -> None:
    """Every case of every backend over one transport, interleaved, against one floor."""
    http = transport == "http"
    log = options.logs / f"{shops[0].name}-{transport}.log"
    port = free_port() if http else None
    started: list[Running] = []
    try:
        floor = await start(floor_command(port), transport, port, log)
        started.append(floor)
        servers: dict[str, tuple[Running, Running]] = {}
        for shop in shops:
            ports = [free_port() if http else None for _ in range(2)]
            plain = await start(shop_command(shop.db, "off", ports[0]), transport, ports[0], log)
            started.append(plain)
            confirming = await start(shop_command(shop.db, "always", ports[1]), transport, ports[1], log)
            started.append(confirming)
            servers[shop.backend] = (plain, confirming)
        cases: dict[str, Call] = {}
        written: dict[str, dict[str, str]] = {shop.backend: {} for shop in shops}
        for shop in shops:
            plain, confirming = servers[shop.backend]
            cursors = await prepare(plain.session, shop.found, tickets=60)
            where = f"{run}-{transport}-{shop.backend}"
            for name, case in tool_cases(
                floor.session, plain.session, confirming.session, shop.found, cursors, where, written[shop.backend]
            ).items():
                if name != FLOOR:
                    cases[f"{shop.backend}|{name}"] = case
                elif not cases:
                    cases[FLOOR] = case
        times = await interleaved(cases, options.calls, options.rounds, options.warmup)
        floor_figures = {**figures(times[FLOOR]), "calls": len(times[FLOOR]), "ratio": 1.0}
        for shop in shops:
            result, (plain, _) = results[shop.backend], servers[shop.backend]
            latency: dict[str, dict[str, float]] = {FLOOR: dict(floor_figures)}
            for name in TOOL_CASES:
                case_times = times[f"{shop.backend}|{name}"]
                latency[name] = {**figures(case_times), "calls": len(case_times)}
                latency[name]["ratio"] = latency[name]["p50_ms"] / floor_figures["p50_ms"]
            result.latency[transport] = latency
            if not http:
                result.memory_mb = {"shopdesk": plain.memory().get("VmRSS", 0), "floor": floor.memory().get("VmRSS", 0)}
                result.memory_mb["shopdesk_peak"] = plain.memory().get("VmHWM", 0)
            result.startup_s.setdefault(transport, {})["shopdesk_first"] = plain.startup
            result.writes_checked[transport] = await check_writes(plain.session, written[shop.backend])
        if http and options.concurrency:
            targets = {shop.backend: [servers[shop.backend][0].url] for shop in shops}
            postgres = [shop for shop in shops if shop.backend == "postgresql"]
            if postgres and options.replicas:
                replicas = []
                for _ in range(options.replicas):
                    replica_port = free_port()
                    command = shop_command(postgres[0].db, "off", replica_port, stateless=True)
                    replica = await start(command, transport, replica_port, log)
                    started.append(replica)
                    replicas.append(replica.url)
                targets[REPLICAS] = replicas
            measured = await concurrent_run(floor.url, targets, shops[0].found, options)
            for shop in shops:
                results[shop.backend].concurrent = measured[shop.backend]
            if REPLICAS in measured:
                results["postgresql"].replicas = {"replicas": options.replicas, **measured[REPLICAS]}
    finally:
        for server in reversed(started):
            await server.stop()


async def startup_run(shops: list[Shop], options: Options, results: dict[str, SizeResult]) -> None:
    """Start-up over stdio, a few times each, floor and each backend's shopdesk in turn: the median."""
    log = options.logs / f"{shops[0].name}-startup.log"
    commands = {"floor": floor_command(None), **{shop.backend: shop_command(shop.db, "off", None) for shop in shops}}
    measured: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(options.starts):
        for name, command in commands.items():
            server = await start(command, "stdio", None, log)
            measured[name].append(server.startup)
            await server.stop()
    for shop in shops:
        result = results[shop.backend]
        result.startup_s["stdio"] = {
            **result.startup_s.get("stdio", {}),
            "shopdesk": statistics.median(measured[shop.backend]),
            "floor": statistics.median(measured["floor"]),
        }


async def load(urls: list[str], tool: str, ids: list[str], sessions: int, seconds: float) -> dict[str, Any]:
    """`sessions` HTTP sessions (spread over `urls` round-robin) calling `tool` as fast as they can for
    `seconds`: calls, errors, latency."""
    limits = httpx2.Limits(max_connections=sessions + 10, max_keepalive_connections=sessions + 10)
    async with httpx2.AsyncClient(timeout=60, limits=limits) as http:
        clients = [HttpSession(urls[n % len(urls)], http) for n in range(sessions)]
        await asyncio.gather(*(c.initialize() for c in clients))
        times: list[float] = []
        errors: list[str] = []
        deadline = time.perf_counter() + seconds

        async def worker(n: int, client: HttpSession) -> None:
            while time.perf_counter() < deadline:
                n += sessions
                started = time.perf_counter()
                try:
                    await client.call(tool, {"order_id": ids[n % len(ids)]})
                    times.append(time.perf_counter() - started)
                except (CallFailed, httpx2.HTTPError) as exc:
                    errors.append(str(exc)[:200])

        started = time.perf_counter()
        await asyncio.gather(*(worker(n, c) for n, c in enumerate(clients)))
        elapsed = time.perf_counter() - started
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    return {
        "calls": len(times),
        "errors": len(errors),
        "elapsed_s": elapsed,
        "times": times,
        "first_errors": errors[:3],
    }


async def concurrent_run(
    floor_url: str, targets: dict[str, list[str]], found: Samples, options: Options
) -> dict[str, dict[str, Any]]:
    """The floor and each target (a backend's server, or the replicas) under the same load, in alternating
    phases (floor, a, b, b, a, floor); for each target, its figures next to the floor's."""
    phases = [("floor", [floor_url], "noop"), *((name, urls, "get_order_details") for name, urls in targets.items())]
    totals: dict[str, dict[str, Any]] = {
        name: {"calls": 0, "errors": 0, "elapsed_s": 0.0, "times": [], "first_errors": []} for name, *_ in phases
    }
    for name, urls, tool in (*phases, *reversed(phases)):
        measured = await load(urls, tool, found.orders, options.concurrency, options.concurrent_seconds / 2)
        for key in ("calls", "errors", "elapsed_s", "times", "first_errors"):
            totals[name][key] += measured[key]

    def summary(total: dict[str, Any]) -> dict[str, Any]:
        return {
            "calls_per_s": total["calls"] / total["elapsed_s"],
            "errors": total["errors"],
            "calls": total["calls"],
            **({k: v for k, v in figures(total["times"]).items() if k != "calls_per_s"} if total["times"] else {}),
        }

    floor = summary(totals["floor"])
    out: dict[str, dict[str, Any]] = {}
    for name in targets:
        shopdesk = summary(totals[name])
        out[name] = {
            "sessions": options.concurrency,
            "seconds_each": options.concurrent_seconds,
            "floor": floor,
            "shopdesk": shopdesk,
            "throughput_ratio": shopdesk["calls_per_s"] / floor["calls_per_s"],
            "first_errors": (totals["floor"]["first_errors"] + totals[name]["first_errors"])[:3],
        }
    return out


async def size_run(
    size: str, args: argparse.Namespace, options: Options, scratch: Path, postgres: PostgresShops | None
) -> dict[str, tuple[dict[str, Any], SizeResult]]:
    """Every part of the bench at one shop size, for each backend: backend -> (how the shop was made, results)."""
    count = max(50, min(2000, args.calls * 2))
    shops: list[Shop] = []
    dropped: list[str] = []  # PostgreSQL databases to drop afterwards
    fingerprints: dict[str, list[Any]] = {}
    try:
        if "sqlite" in args.backends:
            path, about = bench_shops.shop(size, args.shops)
            db = scratch_copy(path, scratch)
            found, fingerprints["sqlite"] = await sqlite_samples(db, count, random.Random(size))
            shops.append(Shop("sqlite", db, about, found, f"{size}-sqlite"))
        if postgres is not None:
            url, about = await postgres.fill(size)
            dropped.append(url)
            found, fingerprints["postgresql"] = await postgres_samples(url, count, random.Random(size))
            shops.append(Shop("postgresql", url, about, found, f"{size}-postgresql"))
            if "sqlite" in fingerprints:
                # The same generated shop: the same counts and highest ids, so the same samples were drawn.
                same = fingerprints["postgresql"] == fingerprints["sqlite"] and found == shops[0].found
                about["same_as_sqlite"] = same
                if not same:
                    print(
                        f"[{size}] the PostgreSQL shop differs from the SQLite one: "
                        f"{fingerprints['postgresql']} vs {fingerprints['sqlite']}",
                        file=sys.stderr,
                    )
        results = {shop.backend: SizeResult() for shop in shops}
        run = f"{int(time.time())}-{size}"
        print(f"[{size}] start-up ...", file=sys.stderr)
        await startup_run(shops, options, results)
        for transport in args.transports:
            cases = len(shops) * len(TOOL_CASES) + 1
            print(f"[{size}] {transport}: {cases} cases x {args.calls} calls ...", file=sys.stderr)
            await transport_run(transport, shops, options, results, run)
        if args.sdk_calls:
            for one in shops:
                print(f"[{size}] {one.backend}: SDK client validation ...", file=sys.stderr)
                results[one.backend].sdk_client = await sdk_client_run(one, options)
        return {one.backend: (one.about, results[one.backend]) for one in shops}
    finally:
        for one in shops:
            if one.backend == "sqlite":
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{one.db}{suffix}").unlink(missing_ok=True)
        for url in dropped:
            assert postgres is not None
            await postgres.drop(url)
