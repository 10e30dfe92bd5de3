"""Event ingestion through the real HTTP API into SQLite: batches vs one request per event.

    .venv/bin/python -m evals.events_benchmark [--events 50000] [--batch-size 500] [--single 3000]

Each side gets a fresh SQLite workspace (with a small CRM of 500 contacts imported first, so
identifies merge anonymous histories into CRM persons) and a real server: ``uvicorn`` in a
child process serving ``assistant.api.create_app`` as ``journey serve`` does (access logs
off), which starts its events worker process on the first request. The load is a
realistic mix over a few thousand anonymous visitors: about 72 % page views (direct, organic
and paid search, social, newsletter and internal traffic), 21 % tracked events (webinars,
demo requests, downloads, chat messages, trade fair visits, unmapped clicks) and 7 %
identifies (a fifth of them with an e-mail the CRM knows, some with consent).

- **batch**: ``POST /v1/batch`` with ``--batch-size`` events per request from 4 concurrent
  senders (bodies encoded before the clock starts);
- **single**: the obvious alternative, one ``POST /v1/page|track|identify`` per event from
  one keep-alive client, as a naive integration would send them.

The clock runs from the first request until ``GET /v1/events/status`` reports nothing left
to process, so the figure is end to end: accepted, stored in the inbox, turned into
touchpoints, contacts and consent, identities resolved. CPU seconds of the server and of
its worker are read from /proc as well: unlike events/s they hardly depend on what else
runs on the machine. Prints a table and writes ``evals/results/events_benchmark.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
RESULTS_FILE = HERE / "results" / "events_benchmark.json"
WRITE_KEY = "benchmark-write-key"
CRM_CONTACTS = 500
SENDERS = 4
PATHS = ["/", "/produkte/ticketsystem", "/produkte/wissensdatenbank", "/preise", "/demo", "/blog/omnichannel-support",
         "/blog/ki-im-kundenservice", "/referenzen", "/integrationen/sap", "/integrationen/slack", "/whitepaper/roi",
         "/en/", "/en/pricing", "/en/features", "/karriere", "/kontakt", "/webinare", "/messe", "/docs/api", "/impressum"]
TRACKED = [("Webinar Registered", {"title": "Ticket-Automatisierung 101"}), ("Demo Requested", {}),
           ("Whitepaper Downloaded", {"title": "ROI von Self-Service"}), ("Chat Message", {"text": "Gibt es eine SAP-Schnittstelle?"}),
           ("Video Playback Started", {"title": "Produkttour"}), ("Button Clicked", {"label": "Jetzt testen"}),
           ("Pricing Calculator Used", {"agents": 12}), ("Trade Fair Visit", {"fair": "CeBIT", "world": "offline"})]
SOURCES = [({}, ""), ({}, "https://www.google.de/"), ({"source": "google", "medium": "cpc", "name": "brand-q2"}, "https://www.google.de/"),
           ({}, "https://www.linkedin.com/"), ({"source": "newsletter", "medium": "email", "name": "juni"}, ""),
           ({}, "https://shop.example.de/"), ({}, "https://chatgpt.com/")]


# -- load ---------------------------------------------------------------------------------


def crm_email(n: int) -> str:
    return f"kontakt{n}@kunde{n % 120}.de"


def generate_events(count: int, visitors: int = 3000, seed: int = 7) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    now = datetime.now(UTC)
    events = []
    for n in range(count):
        visitor = min(int(rnd.paretovariate(1.2)) - 1, visitors - 1) if rnd.random() < 0.5 else rnd.randrange(visitors)
        campaign, referrer = SOURCES[rnd.randrange(len(SOURCES))]
        path = PATHS[rnd.randrange(len(PATHS))]
        when = now - timedelta(minutes=rnd.randrange(60 * 24 * 30))
        event: dict[str, Any] = {
            "messageId": f"bench-{seed}-{n}", "anonymousId": f"anon-{visitor:05d}", "timestamp": when.isoformat(),
            "context": {"page": {"url": f"https://www.example.de{path}", "path": path, "referrer": referrer, "title": path.strip("/") or "Start"},
                        "campaign": campaign, "locale": "de-DE", "userAgent": "Mozilla/5.0 (benchmark)"},
        }
        roll = rnd.random()
        if roll < 0.72:
            event.update(type="page", name=path.strip("/") or "Start", properties={"url": event["context"]["page"]["url"], "path": path})
        elif roll < 0.93:
            name, properties = TRACKED[rnd.randrange(len(TRACKED))]
            event.update(type="track", event=name, properties=dict(properties))
        else:
            known = rnd.random() < 0.2
            email = crm_email(rnd.randrange(CRM_CONTACTS)) if known else f"besucher{visitor}@firma{visitor % 400}.de"
            traits: dict[str, Any] = {"email": email, "name": f"Besucher {visitor}", "title": rnd.choice(["Einkauf", "IT-Leitung", "CTO"])}
            if rnd.random() < 0.3:
                traits["consent"] = {"marketing_email": rnd.random() < 0.8}
            event.update(type="identify", userId=f"user-{visitor:05d}", traits=traits)
        events.append(event)
    return events


def seed_crm(workspace: Path) -> None:
    """A CRM export of accounts and contacts, imported before the server starts."""
    from assistant.container import build_container
    from assistant.settings import Settings
    from knowledge.profiles import ProfileRecord, Ref

    container = build_container(Settings(workspace=workspace))
    records = [ProfileRecord("account", f"k{n}", {"name": f"Kunde {n} GmbH", "domain": f"kunde{n}.de"}) for n in range(120)]
    records += [ProfileRecord("contact", str(n), {"email": crm_email(n), "full_name": f"Kontakt {n}", "account_id": Ref("account", f"k{n % 120}")})
                for n in range(CRM_CONTACTS)]
    container.profiles.write("crm", records)
    container.close()


# -- the server ---------------------------------------------------------------------------


def serve(workspace: Path, port: int) -> None:
    """The child process: the real app on loopback."""
    import uvicorn

    from assistant.api import create_app
    from assistant.container import build_container
    from assistant.settings import EventsSettings, Settings

    container = build_container(Settings(workspace=workspace, events=EventsSettings(write_keys=[WRITE_KEY])))
    try:
        uvicorn.run(create_app(container), host="127.0.0.1", port=port, log_level="warning", access_log=False)
    finally:
        container.events.close()
        container.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User + system CPU seconds of a process with its threads, and of its child processes
    (the events worker), on Linux: our cost, whatever load others put on the machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (OSError, IndexError, ValueError):
        return float("nan"), float("nan")
    return own, sum(sum(cpu_seconds(int(child))) for child in children)


def cpu_used(pid: int, before: tuple[float, float], events: int) -> dict[str, Any]:
    api, worker = (after - start for after, start in zip(cpu_seconds(pid), before, strict=True))
    return {"server_cpu_seconds": round(api + worker, 2), "server_cpu_us_per_event": round((api + worker) / events * 1e6),
            "api_cpu_us_per_event": round(api / events * 1e6), "worker_cpu_us_per_event": round(worker / events * 1e6)}


@dataclass
class Server:
    url: str
    pid: int


@contextmanager
def running_server(workspace: Path) -> Iterator[Server]:
    port = free_port()
    child = subprocess.Popen([sys.executable, "-m", "evals.events_benchmark", "--serve", str(workspace), "--port", str(port)],
                             cwd=HERE.parent)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if child.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the API server did not start")
            time.sleep(0.1)
        yield Server(url, child.pid)
    finally:
        child.terminate()
        child.wait(timeout=30)


# -- measuring ----------------------------------------------------------------------------


def wait_processed(client: httpx.Client, url: str, timeout: float = 600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(f"{url}/v1/events/status").json()
        if status["waiting"] == 0:
            return status
        time.sleep(0.1)  # polling costs the server too; 0.1 s is 1 % of a 10 s run
    raise RuntimeError(f"events not processed within {timeout}s: {status}")


def send_batches(url: str, bodies: list[bytes]) -> tuple[dict[str, int], list[float]]:
    totals = {"accepted": 0, "duplicates": 0, "rejected": 0}
    latencies: list[float] = []

    def send(part: list[bytes]) -> None:
        with httpx.Client(auth=(WRITE_KEY, ""), timeout=60, headers={"Content-Type": "application/json"}) as client:
            for body in part:
                started = time.perf_counter()
                reply = client.post(f"{url}/v1/batch", content=body)
                latencies.append(time.perf_counter() - started)
                reply.raise_for_status()
                result = reply.json()
                totals["accepted"] += result["accepted"]
                totals["duplicates"] += result["duplicates"]
                totals["rejected"] += len(result["rejected"])

    with ThreadPoolExecutor(SENDERS) as pool:
        list(pool.map(send, [bodies[i::SENDERS] for i in range(SENDERS)]))
    return totals, latencies


def stored_rows(workspace: Path) -> dict[str, int]:
    with sqlite3.connect(workspace / "journey.db") as connection:
        counts = {table: connection.execute(f"SELECT count(*) FROM {table} WHERE source = 'events'").fetchone()[0]
                  for table in ("touchpoints", "contacts", "consents")}
        for table in ("persons", "identity_links", "identity_merges"):
            counts[table] = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        counts["touchpoints_without_person"] = connection.execute(
            "SELECT count(*) FROM touchpoints WHERE source = 'events' AND person_id IS NULL").fetchone()[0]
    return counts


def run_batches(events: list[dict[str, Any]], batch_size: int, workspace: Path) -> dict[str, Any]:
    seed_crm(workspace)
    bodies = [json.dumps({"batch": events[i : i + batch_size]}).encode() for i in range(0, len(events), batch_size)]
    with running_server(workspace) as server, httpx.Client(auth=(WRITE_KEY, ""), timeout=60) as client:
        url, cpu_before = server.url, cpu_seconds(server.pid)
        started = time.perf_counter()
        totals, latencies = send_batches(url, bodies)
        accepted_after = time.perf_counter() - started
        wait_processed(client, url)
        processed_after = time.perf_counter() - started
        cpu = cpu_used(server.pid, cpu_before, len(events))
        replay = client.post(f"{url}/v1/batch", content=bodies[0], headers={"Content-Type": "application/json"}).json()
    expected_touchpoints = sum(1 for e in events if e["type"] in {"page", "track"})
    return {
        "events": len(events), "batch_size": batch_size, "requests": len(bodies), "senders": SENDERS,
        "body_kb_mean": round(statistics.mean(len(b) for b in bodies) / 1024, 1), **totals,
        "seconds_until_accepted": round(accepted_after, 3), "seconds_until_processed": round(processed_after, 3),
        "accepted_per_second": round(len(events) / accepted_after), "events_per_second": round(len(events) / processed_after),
        **cpu, "request_ms_p50": round(statistics.median(latencies) * 1000, 1),
        "request_ms_p95": round(sorted(latencies)[int(len(latencies) * 0.95) - 1] * 1000, 1),
        "replayed_batch": {"accepted": replay["accepted"], "duplicates": replay["duplicates"]},
        "expected_touchpoints": expected_touchpoints, "stored": stored_rows(workspace),
    }


def run_single(events: list[dict[str, Any]], workspace: Path) -> dict[str, Any]:
    seed_crm(workspace)
    bodies = [(e["type"], json.dumps({k: v for k, v in e.items() if k != "type"}).encode()) for e in events]
    with running_server(workspace) as server, httpx.Client(auth=(WRITE_KEY, ""), timeout=60,
                                                            headers={"Content-Type": "application/json"}) as client:
        url, cpu_before = server.url, cpu_seconds(server.pid)
        started = time.perf_counter()
        for kind, body in bodies:
            client.post(f"{url}/v1/{kind}", content=body).raise_for_status()
        accepted_after = time.perf_counter() - started
        wait_processed(client, url)
        processed_after = time.perf_counter() - started
        cpu = cpu_used(server.pid, cpu_before, len(events))
    return {
        "events": len(events), "requests": len(events),
        "seconds_until_accepted": round(accepted_after, 3), "seconds_until_processed": round(processed_after, 3),
        "accepted_per_second": round(len(events) / accepted_after), "events_per_second": round(len(events) / processed_after),
        **cpu, "stored": stored_rows(workspace),
    }


def run(count: int, batch_size: int, single: int) -> dict[str, Any]:
    events = generate_events(count)
    with tempfile.TemporaryDirectory(prefix="events-bench-") as tmp:
        batch = run_batches(events, batch_size, Path(tmp) / "batch")
        one_by_one = run_single(events[:single], Path(tmp) / "single") if single else None
    result = {
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
                    "sqlite": sqlite3.sqlite_version},
        "batch": batch, "single": one_by_one,
        "speedup_batch_vs_single": round(batch["events_per_second"] / one_by_one["events_per_second"], 1) if one_by_one else None,
        "target_events_per_second": 5000,
    }
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


def print_table(result: dict[str, Any]) -> None:
    rows = [("POST /v1/batch", result["batch"])]
    if result["single"]:
        rows.append(("one request per event", result["single"]))
    print(f"{'':24} {'events':>7} {'requests':>8} {'accepted/s':>10} {'end-to-end/s':>12} {'seconds':>8} {'server CPU µs/event':>20}")
    for label, side in rows:
        print(f"{label:24} {side['events']:>7} {side['requests']:>8} {side['accepted_per_second']:>10} "
              f"{side['events_per_second']:>12} {side['seconds_until_processed']:>8} {side['server_cpu_us_per_event']:>20}")
    batch = result["batch"]
    print(f"server CPU per event: API process {batch['api_cpu_us_per_event']} µs, events worker "
          f"{batch['worker_cpu_us_per_event']} µs")
    print(f"batch requests: p50 {batch['request_ms_p50']} ms, p95 {batch['request_ms_p95']} ms; "
          f"replayed batch: {batch['replayed_batch']}; stored: {batch['stored']}")
    if result["speedup_batch_vs_single"]:
        print(f"batch endpoint is {result['speedup_batch_vs_single']}x faster end to end than one request per event")
    verdict = "meets" if batch["events_per_second"] >= result["target_events_per_second"] else "MISSES"
    print(f"{verdict} the target of {result['target_events_per_second']} events/s; written to {RESULTS_FILE}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--single", type=int, default=3000, help="events sent one per request (0: skip)")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.port)
        return
    print_table(run(args.events, args.batch_size, args.single))


if __name__ == "__main__":
    main()
