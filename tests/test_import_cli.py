"""``journey import`` as a user runs it: the real entry point in a subprocess, real SQLite."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from test_csv_connector import BROKEN_DEALS, write_tiny

JOURNEY = str(Path(sys.executable).parent / "journey")
MAVEN = "maven_crm_sales_opportunities"
MAVEN_TABLES = {"account": 85, "deal": 8800, "deal_product": 8800, "owner": 35, "product": 7}


def journey(*args: str, workspace: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([JOURNEY, *args, "--workspace", str(workspace)], capture_output=True, text=True, timeout=600,
                            env={**os.environ, "COLUMNS": "200"})
    if check and result.returncode != 0:
        raise AssertionError(f"journey {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def import_json(*args: str, workspace: Path) -> dict[str, Any]:
    return json.loads(journey("import", *args, "--json", workspace=workspace).stdout)


def stored(summary: dict[str, Any]) -> dict[str, int]:
    return {table: counts["stored"] for table, counts in summary["tables"].items()}


def deal_count(workspace: Path) -> int:
    with sqlite3.connect(workspace / "journey.db", timeout=0.2) as connection:
        return int(connection.execute("SELECT count(*) FROM deals").fetchone()[0])


@pytest.mark.realdata
def test_import_maven_preset_json_summary_and_unchanged_rerun(datasets: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    first = import_json("--preset", "maven-crm", str(datasets / MAVEN), workspace=ws)
    assert first["source"] == "maven-crm" and stored(first) == MAVEN_TABLES
    assert {table: counts["added"] for table, counts in first["tables"].items()} == MAVEN_TABLES
    assert first["rejected"] == [] and first["rejected_count"] == 0
    assert first["warnings"] == ["1425 deals without an account"]
    assert {f["file"]: (f["status"], f["rows"]) for f in first["files"]} == {
        "accounts.csv": ("read", 85), "products.csv": ("read", 7), "sales_teams.csv": ("read", 35), "sales_pipeline.csv": ("read", 8800)}
    assert 0 < first["seconds"] < 10

    again = import_json("--preset", "maven-crm", str(datasets / MAVEN), workspace=ws)
    assert stored(again) == MAVEN_TABLES and again["warnings"] == first["warnings"]
    assert all(c["added"] == c["updated"] == c["deleted"] == 0 for c in again["tables"].values())
    assert {f["status"] for f in again["files"]} == {"unchanged"}

    human = journey("import", "--preset", "maven-crm", str(datasets / MAVEN), workspace=ws).stdout
    assert "deal_product" in human and "8800" in human and "1425 deals without an account" in human


def test_import_mapping_reports_rejected_rows_with_file_line_and_reason(tmp_path: Path) -> None:
    mapping = write_tiny(tmp_path / "export")
    summary = import_json("--mapping", str(mapping), str(tmp_path / "export"), workspace=tmp_path / "ws")
    assert summary["source"] == "mapping"  # the mapping file's stem
    assert stored(summary) == {"account": 2, "deal": 5}
    rejected = {(row["file"], row["line"]): row["reason"] for row in summary["rejected"]}
    assert summary["rejected_count"] == len(rejected) == 7
    assert rejected[("deals.csv", 7)] == "duplicate id D1 (first on line 2)"
    assert rejected[("deals.csv", 6)] == "expected 5 columns, found 4"
    assert rejected[("accounts.csv", 3)] == "missing required field name (from name)"
    human = journey("import", "--mapping", str(mapping), str(tmp_path / "export"), "--source", "other", workspace=tmp_path / "ws")
    assert "rejected deals.csv line 5: closed_on (from closed): cannot read '2024-13-45'" in human.stdout


def test_user_errors_are_one_line_with_exit_code_2(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    mapping = write_tiny(tmp_path / "export", deals=BROKEN_DEALS)
    text = mapping.read_text(encoding="utf-8").replace("id: account", "id: acount")
    mapping.write_text(text, encoding="utf-8")
    line = text.splitlines().index("        id: acount") + 1
    cases = {
        ("--mapping", str(mapping), str(tmp_path / "export")):
            f"error: mapping.yaml line {line}: column 'acount' is not in accounts.csv (columns: account, name)",
        ("--preset", "hubspot", str(tmp_path / "export")): "error: unknown preset 'hubspot'; known: maven-crm, olist-funnel",
        ("--preset", "maven-crm", str(tmp_path / "missing")): f"error: {tmp_path / 'missing'}: no such folder",
        ("--mapping", str(tmp_path / "nope.yaml"), str(tmp_path / "export")): f"error: {tmp_path / 'nope.yaml'}: no such mapping file",
        (str(tmp_path / "export"),): "error: give either --preset NAME or --mapping FILE",
    }
    for args, message in cases.items():
        result = journey("import", *args, workspace=ws, check=False)
        assert result.returncode == 2 and result.stderr.strip() == message, result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.realdata
@pytest.mark.slow
def test_import_killed_with_sigkill_and_rerun_ends_with_the_same_counts(datasets: Path, tmp_path: Path) -> None:
    data = tmp_path / "maven"
    shutil.copytree(datasets / MAVEN, data)
    reference = import_json("--preset", "maven-crm", str(data), workspace=tmp_path / "reference")

    ws = tmp_path / "killed"
    process = subprocess.Popen([JOURNEY, "import", "--preset", "maven-crm", str(data), "--json", "--workspace", str(ws)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    partial = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            partial = deal_count(ws) if (ws / "journey.db").exists() else 0
        except sqlite3.OperationalError:
            partial = 0  # no deals table yet, or a writer holds the lock
        if partial:
            process.send_signal(signal.SIGKILL)  # the first batch of records is committed
            break
        time.sleep(0.01)
    process.wait(timeout=60)
    killed = process.returncode == -signal.SIGKILL

    resumed = import_json("--preset", "maven-crm", str(data), workspace=ws)
    assert stored(resumed) == stored(reference) == MAVEN_TABLES
    assert resumed["warnings"] == reference["warnings"]
    if killed:  # the usual case; on a very fast machine the import may finish first
        assert 0 < partial < 8800 and resumed["resumed"] is True
        assert resumed["tables"]["deal"]["unchanged"] >= partial
        assert resumed["tables"]["deal"]["added"] == 8800 - resumed["tables"]["deal"]["unchanged"]
    with sqlite3.connect(ws / "journey.db") as connection:
        won = connection.execute("SELECT count(*), sum(amount) FROM deals WHERE stage = 'Won'").fetchone()
    with sqlite3.connect(tmp_path / "reference" / "journey.db") as connection:
        assert connection.execute("SELECT count(*), sum(amount) FROM deals WHERE stage = 'Won'").fetchone() == won
