"""`journey sync hubspot|salesforce`: credentials from settings only, clear one-line errors."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

JOURNEY = str(Path(sys.executable).parent / "journey")


class _Refuse(BaseHTTPRequestHandler):
    """A CRM that rejects every token the way HubSpot and Salesforce do."""

    def _answer(self) -> None:
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        self.server.auth.append(self.headers.get("Authorization"))  # type: ignore[attr-defined]
        if "/services/data" in self.path:
            body = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
        else:
            body = {"status": "error", "message": "Authentication credentials not found.", "category": "INVALID_AUTHENTICATION"}
        data = json.dumps(body).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing_crm() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refuse)
    server.paths, server.auth = [], []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def journey(workspace: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("JOURNEY_HUBSPOT", "JOURNEY_SALESFORCE"))}
    return subprocess.run([JOURNEY, *args, "--workspace", str(workspace)], capture_output=True, text=True, timeout=120,
                          env={**clean, **(env or {})})


@pytest.mark.parametrize("crm", ["hubspot", "salesforce"])
def test_a_crm_without_credentials_is_a_clear_error(tmp_path: Path, crm: str) -> None:
    result = journey(tmp_path, "sync", crm)
    assert result.returncode == 2
    assert f"JOURNEY_{crm.upper()}__ACCESS_TOKEN" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("crm", ["hubspot", "salesforce"])
def test_a_refused_token_stops_with_one_line_and_is_never_stored(tmp_path: Path, crm: str, refusing_crm: ThreadingHTTPServer) -> None:
    url = f"http://127.0.0.1:{refusing_crm.server_address[1]}"
    env = {f"JOURNEY_{crm.upper()}__ACCESS_TOKEN": "secret-token-123"}
    env |= {"JOURNEY_HUBSPOT__BASE_URL": url} if crm == "hubspot" else {"JOURNEY_SALESFORCE__INSTANCE_URL": url}
    result = journey(tmp_path, "sync", crm, env=env)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert ("refused the access token (401)" if crm == "hubspot" else "INVALID_SESSION_ID") in result.stderr
    assert refusing_crm.auth and all(a == "Bearer secret-token-123" for a in refusing_crm.auth)  # type: ignore[attr-defined]
    with sqlite3.connect(tmp_path / "journey.db") as db:
        stored = db.execute("SELECT config FROM sources WHERE name = ?", (crm,)).fetchone()[0]
    assert "secret-token-123" not in stored and "access_token" not in stored
