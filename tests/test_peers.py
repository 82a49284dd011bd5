"""Other MCP implementations against shopdesk (issue 10): the conformance suite, the MCP Inspector CLI and a
TypeScript SDK client, all pinned in tests/peers/package.json and run with the Node 22 installed there.

Without tests/peers/node_modules (a machine with no Node) these tests skip; with SHOPDESK_REQUIRE_PEERS=1 (CI)
they fail instead.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from http_support import env, running
from shop_support import ROOT

pytestmark = pytest.mark.slow  # Node peers against shopdesk processes

PEERS = Path(__file__).resolve().parent / "peers"
MODULES = PEERS / "node_modules"
NODE = MODULES / ".bin" / "node"
CONFORMANCE = MODULES / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
INSPECTOR = MODULES / ".bin" / "inspector"
TS_CLIENT = PEERS / "ts_client.mjs"
PIN_PROTOCOL = PEERS / "pin-protocol.mjs"
BASELINE = PEERS / "conformance-baseline.json"
PROTOCOLS = ("2025-06-18", "2025-11-25")
REQUIRED = os.environ.get("SHOPDESK_REQUIRE_PEERS") == "1"


def _missing_peers() -> str | None:
    """Why the peers cannot run here, or None."""
    if not MODULES.is_dir():
        return "tests/peers/node_modules is missing: run `npm ci --prefix tests/peers` (needs npm)"
    for path in (NODE, CONFORMANCE, INSPECTOR, MODULES / "@modelcontextprotocol" / "sdk" / "package.json"):
        if not path.exists():
            return f"{path.relative_to(ROOT)} is missing: run `npm ci --prefix tests/peers`"
    try:
        version = subprocess.run([NODE, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except OSError as exc:
        return f"{NODE.relative_to(ROOT)} does not run ({exc}); was its install script blocked?"
    if not version.startswith("v22."):
        return f"{NODE.relative_to(ROOT)} is {version or 'not a working Node'}, not Node 22"
    return None


@pytest.fixture(scope="module")
def peers() -> None:
    """The peers are installed: skip without them, or fail if SHOPDESK_REQUIRE_PEERS=1."""
    reason = _missing_peers()
    if reason is None:
        return
    if REQUIRED:
        pytest.fail(f"SHOPDESK_REQUIRE_PEERS=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def server_command(db: Path, *options: str) -> list[str]:
    """`shopdesk serve` over stdio on `db`, from this checkout."""
    return [sys.executable, "-m", "shopdesk", "serve", "--db", str(db), *options]


def node(*args: str | Path, timeout: float = 120, **options: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(NODE), *map(str, args)], capture_output=True, text=True, timeout=timeout, **options)


# --- the conformance suite -------------------------------------------------------------------------------------


@dataclass
class ConformanceRun:
    protocol: str
    out: Path
    version_log: Path
    process: subprocess.Popen[str] | None = None
    started: float = 0.0
    seconds: float = 0.0
    output: str = ""
    scenarios: dict[str, Scenario] = field(default_factory=dict)


@dataclass
class Scenario:
    passed: bool
    seconds: float
    problems: list[str]


_RESULTS_FOLDER = re.compile(r"server-(.+)-(\d{4}-\d\d-\d\d)T(\d\d)-(\d\d)-(\d\d)-(\d{3})Z")


def _timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _read_scenarios(out: Path) -> dict[str, Scenario]:
    """Each scenario's verdict from the suite's results folders (server-NAME-TIMESTAMP/checks.json)."""
    scenarios: dict[str, Scenario] = {}
    for checks_file in sorted(out.glob("server-*/checks.json")):
        folder = _RESULTS_FOLDER.fullmatch(checks_file.parent.name)
        assert folder, f"unexpected results folder {checks_file.parent}"
        name, date, hours, minutes, seconds, millis = folder.groups()
        started = _timestamp(f"{date}T{hours}:{minutes}:{seconds}.{millis}Z")
        checks = json.loads(checks_file.read_text(encoding="utf-8"))
        ended = max((_timestamp(c["timestamp"]) for c in checks), default=started)
        # The suite's own rule for a baseline: a FAILURE or a WARNING makes the scenario fail.
        bad = [c for c in checks if c["status"] in ("FAILURE", "WARNING")]
        problems = [f"{c['id']} {c['status']}: {c.get('errorMessage') or c.get('details', '')}"[:300] for c in bad]
        scenarios[name] = Scenario(not bad, max((ended - started).total_seconds(), 0.0), problems)
    return scenarios


def _start_conformance(url: str, protocol: str, folder: Path) -> ConformanceRun:
    """The whole suite (`--suite all`: active and pending scenarios) for one protocol version, as one process.

    The suite's client offers the newest version it knows; pin-protocol.mjs makes it offer `protocol` instead
    and logs what the server answered, so the scenarios really run on that version."""
    out = folder / "results"
    version_log = folder / "negotiated.txt"
    command = [str(NODE), "--import", PIN_PROTOCOL.as_uri(), str(CONFORMANCE), "server", "--url", url]
    command += ["--suite", "all", "--spec-version", protocol, "-o", str(out)]
    environment = {**os.environ, "SHOPDESK_PIN_PROTOCOL": protocol, "SHOPDESK_PIN_PROTOCOL_LOG": str(version_log)}
    process = subprocess.Popen(
        command, cwd=PEERS, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    return ConformanceRun(protocol, out, version_log, process, time.monotonic())


def _baseline() -> dict[str, str]:
    entries: dict[str, str] = json.loads(BASELINE.read_text(encoding="utf-8"))["expected_failures"]
    return entries


def _expected_to_fail(baseline: dict[str, str], scenario: str, protocol: str) -> bool:
    return scenario in baseline or f"{scenario}@{protocol}" in baseline


def judge(runs: list[ConformanceRun], baseline: dict[str, str]) -> list[str]:
    """Every way the results and the baseline disagree: unexpected failures, stale entries, unknown entries."""
    problems: list[str] = []
    ran: set[str] = set()
    for run in runs:
        for name, scenario in sorted(run.scenarios.items()):
            ran.update((name, f"{name}@{run.protocol}"))
            expected = _expected_to_fail(baseline, name, run.protocol)
            if not scenario.passed and not expected:
                problems.append(f"{name} fails on {run.protocol}, not in the baseline: {'; '.join(scenario.problems)}")
            if scenario.passed and expected:
                problems.append(f"{name} passes on {run.protocol}: remove it from {BASELINE.name}")
    problems += [f"{entry} is in {BASELINE.name} but no scenario of that name ran" for entry in baseline.keys() - ran]
    return problems


def _table(runs: list[ConformanceRun], baseline: dict[str, str]) -> str:
    lines = [f"conformance: {' + '.join(f'{r.protocol} {r.seconds:.1f}s' for r in runs)} (run in parallel)"]
    names = sorted({name for run in runs for name in run.scenarios})
    for name in names:
        cells = []
        for run in runs:
            scenario = run.scenarios.get(name)
            if scenario is None:
                cells.append(f"{'-':<24}")
                continue
            verdict = "pass" if scenario.passed else "expected fail" if name in baseline else "FAIL"
            cells.append(f"{verdict + f' {scenario.seconds:.2f}s':<24}")
        lines.append(f"  {name:<32}{''.join(cells)}")
    return "\n".join(lines)


def test_conformance_suite_on_both_protocol_versions_matches_the_baseline(peers: None, tmp_path: Path) -> None:
    baseline = _baseline()
    assert all(reason.strip() and "\n" not in reason for reason in baseline.values()), "one-line reasons"
    runs: list[ConformanceRun] = []
    with running(tmp_path / "shop.sqlite3") as server:
        runs = [_start_conformance(server.url, protocol, tmp_path / protocol) for protocol in PROTOCOLS]
        try:
            for run in runs:
                assert run.process is not None
                run.output, _ = run.process.communicate(timeout=600)
                run.seconds = time.monotonic() - run.started
        finally:
            for run in runs:
                if run.process is not None and run.process.poll() is None:
                    run.process.kill()
                    run.process.wait()
    for run in runs:
        run.scenarios = _read_scenarios(run.out)
        assert run.scenarios, f"no results from the suite on {run.protocol}:\n{run.output[-3000:]}"
        # Every session the suite's SDK client opened negotiated the pinned version.
        negotiated = run.version_log.read_text(encoding="utf-8").split()
        assert negotiated and set(negotiated) == {run.protocol}, (run.protocol, sorted(set(negotiated)))
    print(_table(runs, baseline))

    assert {"server-initialize", "tools-list", "ping"} <= runs[0].scenarios.keys()
    # 2025-11-25 runs everything 2025-06-18 runs, and more (the suite's spec-version filter is cumulative).
    assert runs[0].scenarios.keys() < runs[1].scenarios.keys()
    problems = judge(runs, baseline)
    assert not problems, "\n".join(problems)


def test_the_baseline_judge_reports_unexpected_failures_stale_and_unknown_entries(tmp_path: Path) -> None:
    """The comparison itself can fail: each kind of disagreement is reported."""
    run = ConformanceRun("2025-11-25", tmp_path, tmp_path)
    run.scenarios = {
        "ping": Scenario(True, 0.1, []),
        "tools-call-image": Scenario(False, 0.1, ["tools-call-image FAILURE: No image content found"]),
        "prompts-list": Scenario(False, 0.1, ["prompts-list FAILURE: boom"]),
    }
    assert judge([run], {"tools-call-image": "reference server tool"}) == [
        "prompts-list fails on 2025-11-25, not in the baseline: prompts-list FAILURE: boom"
    ]
    assert judge([run], {"tools-call-image": "x", "ping": "x", "prompts-list@2025-11-25": "x"}) == [
        "ping passes on 2025-11-25: remove it from conformance-baseline.json"
    ]
    assert judge([run], {"tools-call-image": "x", "prompts-list": "x", "no-such-scenario": "x"}) == [
        "no-such-scenario is in conformance-baseline.json but no scenario of that name ran"
    ]


def test_results_folders_are_read_with_the_suites_rule(tmp_path: Path) -> None:
    """A WARNING fails a scenario as a FAILURE does; a scenario's time runs from its folder to its last check."""
    for name, statuses in (("ping", ["SUCCESS", "INFO"]), ("server-sse-polling", ["SUCCESS", "WARNING"])):
        folder = tmp_path / f"server-{name}-2026-11-26T15-19-32-809Z"
        folder.mkdir()
        checks = [
            {"id": f"{name}-{i}", "status": s, "timestamp": "2026-11-26T15:19:33.059Z"} for i, s in enumerate(statuses)
        ]
        (folder / "checks.json").write_text(json.dumps(checks), encoding="utf-8")
    scenarios = _read_scenarios(tmp_path)
    assert scenarios["ping"].passed and not scenarios["server-sse-polling"].passed
    assert scenarios["ping"].seconds == pytest.approx(0.25)
    assert scenarios["server-sse-polling"].problems[0].startswith("server-sse-polling-1 WARNING")


# --- the MCP Inspector CLI ------------------------------------------------------------------------------------


def inspector(home: Path, target: list[str], *request: str) -> dict[str, Any]:
    """One Inspector CLI request; its result object."""
    run = node(
        INSPECTOR,
        "--cli",
        "--format",
        "json",
        "-q",
        *request,
        *target,
        env={**env(), "HOME": str(home)},
        cwd=home,
    )
    assert run.returncode == 0, f"inspector {' '.join(request)}: exit {run.returncode}\n{run.stdout}\n{run.stderr}"
    result: dict[str, Any] = json.loads(run.stdout)["result"]
    return result


def call(home: Path, target: list[str], tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """A tool call through the Inspector that must succeed with a structured result; that result."""
    result = inspector(
        home, target, "--method", "tools/call", "--tool-name", tool, "--tool-args-json", json.dumps(arguments)
    )
    assert result.get("isError") is False, result
    assert isinstance(result.get("structuredContent"), dict), result
    structured: dict[str, Any] = result["structuredContent"]
    return structured


def _inspector_session(home: Path, target: list[str]) -> None:
    tools = {tool["name"]: tool for tool in inspector(home, target, "--method", "tools/list")["tools"]}
    assert {"search_orders", "get_order_details", "cancel_pending_order", "create_ticket"} <= tools.keys()
    assert all("outputSchema" in tool for tool in tools.values()), [
        n for n, t in tools.items() if "outputSchema" not in t
    ]

    order = call(home, target, "search_orders", {"status": "pending", "limit": 2})["orders"][0]
    details = call(home, target, "get_order_details", {"order_id": order["order_id"]})
    assert (details["order_id"], details["status"], details["user_id"]) == (
        order["order_id"],
        "pending",
        order["user_id"],
    )

    cancelled = call(
        home, target, "cancel_pending_order", {"order_id": order["order_id"], "reason": "ordered by mistake"}
    )
    assert cancelled["status"] == "cancelled"
    again = call(home, target, "get_order_details", {"order_id": order["order_id"]})
    assert (again["status"], again["cancel_reason"]) == ("cancelled", "ordered by mistake")

    ticket = call(
        home,
        target,
        "create_ticket",
        {"user_id": order["user_id"], "subject": "Inspector was here", "message": "Please call me back."},
    )
    read = call(home, target, "get_ticket", {"ticket_id": ticket["ticket_id"]})
    assert (read["subject"], read["user_id"]) == ("Inspector was here", order["user_id"])
    assert [m["body"] for m in read["messages"]] == ["Please call me back."]


def test_inspector_cli_over_stdio(peers: None, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    # Each Inspector call spawns its own server on the same database file: the write must outlive the process.
    target = ["-e", f"PYTHONPATH={ROOT}", "--cwd", str(ROOT), "--", *server_command(tmp_path / "shop.sqlite3")]
    _inspector_session(home, target)


def test_inspector_cli_over_http(peers: None, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with running(tmp_path / "shop.sqlite3") as server:
        _inspector_session(home, [server.url])


# --- a TypeScript SDK client ----------------------------------------------------------------------------------


def ts_client(*args: str, cwd: Path) -> dict[str, Any]:
    run = node(TS_CLIENT, *args, env=env(), cwd=cwd)
    assert run.returncode == 0, f"ts_client {args[0]}: exit {run.returncode}\n{run.stdout}\n{run.stderr[-3000:]}"
    summary: dict[str, Any] = json.loads(run.stdout)
    return summary


def _check_reads_and_writes(summary: dict[str, Any]) -> None:
    assert summary["server"]["name"] == "shopdesk"
    assert summary["protocolVersion"] == "2025-11-25"  # the SDK's newest version, accepted by the server
    assert summary["toolsWithoutOutputSchema"] == []
    # Every result was checked against its tool's outputSchema by the client's own Ajv, and matched.
    calls = summary["calls"]
    assert len(calls) >= 10
    assert [c for c in calls if c["isError"] or not c["structured"] or c["valid"] is not True] == []
    # ...and that check can fail: a broken copy of a real result is rejected.
    assert summary["selfCheck"] == {
        "tool": "get_order_details",
        "acceptsGood": True,
        "rejectsMissingRequired": True,
        "removed": summary["selfCheck"]["removed"],
        "rejectsWrongType": True,
    }
    assert summary["selfCheck"]["removed"]
    order = summary["order"]
    assert order["userFoundByEmail"] == {"user_id": order["user"]}
    assert (order["statusBefore"], order["cancelIsError"], order["statusAfter"]) == ("pending", False, "cancelled")
    assert order["cancelReason"] == "ordered by mistake"
    ticket = summary["ticket"]
    assert ticket["subject"] == ticket["expectedSubject"] and ticket["messages"] == ["Where is my refund?"]
    assert ticket["listed"]


def test_typescript_sdk_client_over_stdio(peers: None, tmp_path: Path) -> None:
    summary = ts_client("stdio", "--", *server_command(tmp_path / "shop.sqlite3"), cwd=tmp_path)
    assert summary["mode"] == "stdio"
    _check_reads_and_writes(summary)


def test_typescript_sdk_client_over_streamable_http(peers: None, tmp_path: Path) -> None:
    with running(tmp_path / "shop.sqlite3") as server:
        summary = ts_client("http", server.url, cwd=tmp_path)
    _check_reads_and_writes(summary)


def test_typescript_sdk_client_confirms_with_the_two_step_token(peers: None, tmp_path: Path) -> None:
    with running(tmp_path / "shop.sqlite3", "--confirm", "always") as server:
        summary = ts_client("two-step", server.url, cwd=tmp_path)
    assert summary["tokenInInputSchema"] is True
    steps = summary["twoStep"]
    # First call: nothing written, the preview and a token instead.
    assert steps["first"]["isError"] is True and steps["first"]["token"] is True
    assert steps["first"]["text"].startswith("Confirmation needed.")
    assert steps["order"] in steps["first"]["text"]
    assert steps["statusAfterFirst"] == "pending"
    # A token the shop did not issue writes nothing.
    assert steps["forged"]["isError"] is True and "not a token this shop issued" in steps["forged"]["text"]
    assert steps["statusAfterForged"] == "pending"
    # The same call with the token writes.
    assert steps["second"]["isError"] is False and steps["second"]["text"].startswith("Cancelled.")
    assert steps["statusAfterSecond"] == "cancelled"
    assert [c for c in summary["calls"] if not c["isError"] and c["valid"] is not True] == []
