"""The bench's output: the table it prints and the chart of p50 ratios by tool and shop size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench_cases import FLOOR, TOOL_CASES


def backend_sizes(report: dict[str, Any], backend: str) -> dict[str, Any]:
    """A backend's results by size: SQLite's where they always were (report["sizes"]), PostgreSQL's in
    report["postgresql"]["sizes"]; each entry says its "backend"."""
    if backend == "sqlite":
        found: dict[str, Any] = report["sizes"]
        return found
    return dict(report.get(backend, {}).get("sizes", {}))


def table(report: dict[str, Any]) -> str:
    lines: list[str] = []
    backends: list[str] = report.get("backends", ["sqlite"])
    by_backend = {backend: backend_sizes(report, backend) for backend in backends}
    sizes = list(dict.fromkeys(size for results in by_backend.values() for size in results))
    for transport in report["transports"]:
        lines.append(f"\n{transport}: p50 ms / p99 ms / calls/s, and p50 ratio to the floor (same run and transport)")
        lines.append(f"{'case':<22}{'backend':<12}" + "".join(f"{size:>36}" for size in sizes))
        rows = [(FLOOR, backends[0])] + [(case, backend) for case in TOOL_CASES for backend in backends]
        for case, backend in rows:
            label = ("-" if len(backends) > 1 else backend) if case == FLOOR else backend
            row = f"{case:<22}{label:<12}"
            for size in sizes:
                entry = by_backend[backend].get(size)
                if entry is None and case == FLOOR:  # the floor is shared: take it from any backend run
                    entry = next((r[size] for r in by_backend.values() if size in r), None)
                f = (entry or {}).get("latency", {}).get(transport, {}).get(case)
                row += (
                    f"{f['p50_ms']:>9.2f}{f['p99_ms']:>9.2f}{f['calls_per_s']:>8.0f}{f['ratio']:>8.2f}x"
                    if f
                    else f"{'-':>36}"
                )
            lines.append(row)
    lines.append("\nper size")
    for size in sizes:
        for backend in backends:
            s = by_backend[backend].get(size)
            if s is None:
                continue
            start = s["startup_s"].get("stdio", {})
            memory = s["memory_mb"]
            made = (
                f"filled in {s['generate_s']} s (this run)"
                + ("" if s.get("same_as_sqlite") is None else f", same shop as SQLite's: {s['same_as_sqlite']}")
                if backend == "postgresql"
                else f"generated in {s['generate_s']} s"
            )
            lines.append(
                f"  {size} {backend}: {s['orders']:,} orders, {made}; "
                f"start-up {start.get('shopdesk', 0):.2f} s (floor {start.get('floor', 0):.2f} s); "
                f"RSS {memory.get('shopdesk', 0):.0f} MB (peak {memory.get('shopdesk_peak', 0):.0f}, "
                f"floor {memory.get('floor', 0):.0f})"
            )
            concurrent, replicas = s.get("concurrent") or {}, s.get("replicas") or {}
            for title, c in (
                (f"HTTP x{concurrent.get('sessions')} sessions", concurrent),
                (
                    f"HTTP x{replicas.get('sessions')} sessions on {replicas.get('replicas')} stateless replicas",
                    replicas,
                ),
            ):
                if not c:
                    continue
                shopdesk, floor = c["shopdesk"], c["floor"]
                lines.append(
                    f"    {title}: shopdesk {shopdesk['calls_per_s']:.0f} calls/s, "
                    f"floor {floor['calls_per_s']:.0f} calls/s, ratio {c['throughput_ratio']:.2f}; "
                    f"errors {shopdesk['errors']} (floor {floor['errors']}); "
                    f"p50/p99 {shopdesk.get('p50_ms', 0):.1f}/{shopdesk.get('p99_ms', 0):.1f} ms "
                    f"(floor {floor.get('p50_ms', 0):.1f}/{floor.get('p99_ms', 0):.1f})"
                )
            for case, v in s.get("sdk_client", {}).items():
                lines.append(
                    f"    mcp.Client {case:<18} p50 validated {v['validated_p50_ms']:.2f} ms, "
                    f"unvalidated {v['unvalidated_p50_ms']:.2f} ms; validation {v['validation_us']:.0f} us "
                    f"({v['validation_ratio']:.2f}x); {v['ratio_to_floor']:.2f}x the floor"
                )
    return "\n".join(lines)


def chart(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    backends: list[str] = report.get("backends", ["sqlite"])
    by_backend = {backend: backend_sizes(report, backend) for backend in backends}
    sizes = list(dict.fromkeys(size for results in by_backend.values() for size in results))
    # One bar per size and backend: a colour per size; SQLite solid, PostgreSQL hatched and paler.
    bars = [(size, backend) for size in sizes for backend in backends if size in by_backend[backend]]
    transports = report["transports"]
    wide = 7 if len(backends) == 1 else 9
    fig, axes = plt.subplots(1, len(transports), figsize=(wide * len(transports), 4.8), squeeze=False)
    width = 0.8 / max(1, len(bars))
    for ax, transport in zip(axes[0], transports, strict=True):
        for i, (size, backend) in enumerate(bars):
            entry = by_backend[backend][size]
            latency = entry["latency"].get(transport, {})
            ratios = [latency.get(case, {}).get("ratio", 0) for case in TOOL_CASES]
            positions = [x + (i - (len(bars) - 1) / 2) * width for x in range(len(TOOL_CASES))]
            colour = f"C{sizes.index(size)}"
            label = f"{entry['orders']:,} orders" + ("" if len(backends) == 1 else f", {backend}")
            if backend == "sqlite":
                ax.bar(positions, ratios, width, label=label, color=colour)
            else:
                ax.bar(positions, ratios, width, label=label, color=colour, alpha=0.45, hatch="///", edgecolor=colour)
        ax.axhline(1, color="black", linewidth=0.8)
        # The targets over a raw client: id lookups 1.2x, searches 2x, writes 3x.
        for target in (1.2, 2, 3):
            ax.axhline(target, color="grey", linewidth=0.7, linestyle="--")
        ax.set_xticks(range(len(TOOL_CASES)))
        ax.set_xticklabels(TOOL_CASES, rotation=35, ha="right", fontsize=8)
        ax.set_title(f"{transport}: p50 latency / the SDK floor's (dashed: targets 1.2x, 2x, 3x)", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("x the no-op tool on a bare SDK server, same transport")
    axes[0][0].legend(fontsize=8)
    fig.suptitle(f"shopdesk {report['version']} ({report['machine']['cpus']} CPUs, {report['date']})", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
