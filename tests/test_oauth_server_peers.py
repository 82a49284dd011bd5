"""The official TypeScript SDK's OAuth client (tests/peers/ts_oauth_server_client.mjs) against `serve --oauth-server`,
end to end: 401 -> metadata -> registration -> authorize -> consent -> token (PKCE) -> tools -> refresh ->
revoke. Without tests/peers/node_modules this skips; with SHOPDESK_REQUIRE_PEERS=1 (CI) it fails instead."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from oauth_server_support import OPERATOR, PASSWORD, oauth_server

from shopdesk.settings import Settings
from shopdesk.tools import TOOLS

TOOL_SCOPES = {spec.name: spec.access.scope for spec in TOOLS}  # as each tool declares it

pytestmark = pytest.mark.slow

PEERS = Path(__file__).resolve().parent / "peers"
NODE = PEERS / "node_modules" / ".bin" / "node"
SDK = PEERS / "node_modules" / "@modelcontextprotocol" / "sdk" / "package.json"


def test_the_typescript_sdk_signs_in_calls_refreshes_and_is_refused_once_revoked(
    settings: Settings, tmp_path: Path
) -> None:
    if not (NODE.exists() and SDK.exists()):
        reason = "the Node peers are not installed: npm ci --prefix tests/peers"
        if os.environ.get("SHOPDESK_REQUIRE_PEERS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    with oauth_server(settings, tmp_path) as auth:
        env = {"PATH": os.environ.get("PATH", ""), "OAUTH_EMAIL": OPERATOR, "OAUTH_PASSWORD": PASSWORD}
        run = subprocess.run(
            [str(NODE), "ts_oauth_server_client.mjs", auth.url],
            cwd=PEERS,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    summary = json.loads(run.stdout)
    assert "error" not in summary, summary["error"]
    assert summary["steps"] == ["registered", "redirect to authorize", "consented", "tokens", "tokens"]
    assert summary["firstConnect"] == "unauthorized"
    assert summary["authorize"] == {"resource": auth.url, "method": "S256", "scope": "orders:read catalog:read"}
    assert (summary["stateBack"], summary["grantedScope"]) == ("ts-state-1", "orders:read catalog:read")
    assert summary["tools"] == sorted(t for t, s in TOOL_SCOPES.items() if s in (None, "orders:read", "catalog:read"))
    assert not summary["callIsError"]
    assert (summary["refresh"], summary["refreshRotated"], summary["callAfterRefresh"]) == ("AUTHORIZED", True, "ok")
    assert (summary["revokeStatus"], summary["afterRevokeStatus"]) == (200, 401)
