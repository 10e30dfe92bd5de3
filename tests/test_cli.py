"""The ``journey`` command as a user runs it: real processes, real stores, real HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

JOURNEY = str(Path(sys.executable).parent / "journey")
TOPICS = [
    ("Tickets", "A ticket collects every message of one customer request, with its state and owner."),
    ("Webhooks", "Webhooks call an external URL whenever a trigger fires, with a JSON payload."),
    ("Gruppen", "Gruppen bündeln Agenten; jedes Ticket gehört genau einer Gruppe und ihren Berechtigungen."),
    ("Reports", "Reports show how many tickets were opened and closed per week, per group and per agent."),
    ("Zeiterfassung", "Mit der Zeiterfassung buchen Agenten die Arbeitszeit direkt am Ticket."),
]


def run(*args: str, workspace: Path, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [JOURNEY, *args, "--workspace", str(workspace)],
        capture_output=True, text=True, timeout=600, env={**os.environ, **(env or {})},
    )
    if check and result.returncode != 0:
        raise AssertionError(f"journey {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def make_corpus(root: Path, pages: int) -> None:
    for number in range(pages):
        title, body = TOPICS[number % len(TOPICS)]
        path = root / f"section{number % 7}" / f"page{number:03d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        sections = "\n\n".join(f"## Part {part}\n\n{body} Page {number}, part {part}. " * 3 for part in range(4))
        path.write_text(f"# {title} {number}\n\n{body}\n\n{sections}\n", encoding="utf-8")


def chunk_count(workspace: Path) -> int:
    with sqlite3.connect(workspace / "journey.db") as connection:
        return int(connection.execute("SELECT count(*) FROM chunks").fetchone()[0])


def test_ingest_search_sources_sync_json(tmp_path: Path) -> None:
    docs, ws = tmp_path / "docs", tmp_path / "ws"
    make_corpus(docs, 10)
    first = json.loads(run("ingest", str(docs), "--json", workspace=ws).stdout)
    assert {key: first[key] for key in ("added", "updated", "deleted", "unchanged")} == {
        "added": 10, "updated": 0, "deleted": 0, "unchanged": 0
    }
    assert first["chunks"] > 10 and first["failed"] == [] and first["seconds"] > 0

    hits = json.loads(run("search", "Wie buche ich Arbeitszeit auf ein Ticket?", "--json", "--k", "3", workspace=ws).stdout)
    assert len(hits) == 3
    assert set(hits[0]) >= {"uri", "title", "section", "score", "text", "language", "source"}
    assert hits[0]["title"].startswith("Zeiterfassung") and hits[0]["language"] == "de"
    assert hits[0]["uri"].startswith("section") and hits[0]["source"] == "docs"

    english = json.loads(run("search", "time tracking", "--json", "--language", "en", workspace=ws).stdout)
    assert all(h["language"] == "en" for h in english)

    queries = tmp_path / "queries.txt"
    queries.write_text("webhook payload\nweekly report per agent\n", encoding="utf-8")
    lines = run("search", "--queries", str(queries), "--json", workspace=ws).stdout.splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0])[0]["title"].startswith("Webhooks")
    assert json.loads(lines[1])[0]["title"].startswith("Reports")

    (docs / "section0" / "page000.md").unlink()
    again = json.loads(run("sync", "docs", "--json", workspace=ws).stdout)
    assert (again["deleted"], again["unchanged"], again["added"]) == (1, 9, 0)

    sources = json.loads(run("sources", "--json", workspace=ws).stdout)
    assert [s["name"] for s in sources] == ["docs"]
    assert sources[0]["documents"] == 9 and sources[0]["last_status"] == "succeeded"
    assert sources[0]["freshness_seconds"] is not None


def test_user_errors_are_one_line_not_tracebacks(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    missing = run("ingest", str(tmp_path / "nope"), workspace=ws, check=False)
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr
    assert "Traceback" not in missing.stderr
    unknown = run("sync", "nothing", workspace=ws, check=False)
    assert unknown.returncode == 2 and "no source called 'nothing'" in unknown.stderr
    bad_k = run("search", "x", "--k", "0", workspace=ws, check=False)
    assert bad_k.returncode == 2 and "Traceback" not in bad_k.stderr


def test_sync_killed_with_sigkill_resumes_to_the_same_chunk_count(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    make_corpus(docs, 70)
    small_batches = {"JOURNEY_INGEST__BATCH_CHUNKS": "16"}
    reference = json.loads(run("ingest", str(docs), "--json", workspace=tmp_path / "reference", env=small_batches).stdout)

    ws = tmp_path / "killed"
    process = subprocess.Popen(
        [JOURNEY, "ingest", str(docs), "--json", "--workspace", str(ws)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **small_batches},
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if (ws / "journey.db").exists():
            try:
                if chunk_count(ws) >= reference["chunks"] // 3:
                    break
            except sqlite3.OperationalError:
                pass
        if process.poll() is not None:
            pytest.fail("the ingest finished before it could be killed; make the corpus larger")
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    partial = chunk_count(ws)
    assert 0 < partial < reference["chunks"]

    resumed = json.loads(run("ingest", str(docs), "--json", workspace=ws).stdout)
    assert resumed["added"] + resumed["unchanged"] == 70
    assert chunk_count(ws) == reference["chunks"]
    sources = json.loads(run("sources", "--json", workspace=ws).stdout)
    assert sources[0]["chunks"] == reference["chunks"]
    check = subprocess.run(
        [sys.executable, "-c", (
            "import sys; from assistant.container import Container; from assistant.settings import Settings;"
            f"c = Container(Settings(workspace=r'{ws}')); print(c.vectors.count())"
        )], capture_output=True, text=True, check=True,
    )
    assert int(check.stdout.strip()) == reference["chunks"]  # no duplicate and no orphan vector


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_health_and_search_over_http(tmp_path: Path) -> None:
    docs, ws = tmp_path / "docs", tmp_path / "ws"
    make_corpus(docs, 5)
    run("ingest", str(docs), workspace=ws)
    port = free_port()
    server = subprocess.Popen(
        [JOURNEY, "serve", "--port", str(port), "--workspace", str(ws)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("server did not start")
                time.sleep(0.2)
        assert health.status_code == 200 and health.json()["documents"] == 5
        response = httpx.get(f"{base}/v1/search", params={"q": "webhook JSON payload", "k": 2}, timeout=30)
        assert response.status_code == 200
        hits = response.json()
        cli_hits = json.loads(run("search", "webhook JSON payload", "--k", "2", "--json", workspace=ws).stdout)
        assert [h["uri"] for h in hits] == [h["uri"] for h in cli_hits]
        assert hits[0]["title"].startswith("Webhooks")
        assert httpx.get(f"{base}/v1/search", params={"q": "x", "k": 0}).status_code == 422
        assert httpx.get(f"{base}/v1/search", params={"q": "x", "visibility": "secret"}).status_code == 422
        assert httpx.get(f"{base}/v1/search").status_code == 422
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_include_and_exclude_globs(tmp_path: Path) -> None:
    docs, ws = tmp_path / "docs", tmp_path / "ws"
    make_corpus(docs, 14)  # pages spread over section0..section6
    report = json.loads(run("ingest", str(docs), "--exclude", "section1/**", "--exclude", "**/page00*.md", "--json", workspace=ws).stdout)
    indexed = {h["uri"] for h in json.loads(run("search", "ticket", "--k", "50", "--json", workspace=ws).stdout)}
    assert report["added"] == 4  # page010..page013: page000-009 match the second glob, section1 has none of those
    assert not any(uri.startswith("section1/") or "/page00" in uri for uri in indexed)
    only = json.loads(run("ingest", str(docs), "--source", "only", "--include", "section2/*.md", "--json", workspace=ws).stdout)
    assert only["added"] == 2


def test_invalid_source_definitions_are_reported(tmp_path: Path) -> None:
    bad = run("ingest", "http://", workspace=tmp_path / "ws", check=False)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "source" in bad.stderr
