"""`journey merges`, `journey unmerge`, `journey never-merge`: merges can be seen and undone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from assistant.container import build_container
from assistant.settings import load_settings
from knowledge.profiles import ProfileRecord

JOURNEY = str(Path(sys.executable).parent / "journey")


def journey(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([JOURNEY, *args, "--workspace", str(workspace)], capture_output=True, text=True, timeout=120)


def test_an_account_merge_is_listed_undone_and_not_repeated(tmp_path: Path) -> None:
    container = build_container(load_settings(workspace=tmp_path))
    container.profiles.write("crm", [ProfileRecord("account", "1", {"name": "Acme Corporation GmbH", "domain": "acme.example"})])
    container.profiles.write("shop", [ProfileRecord("account", "7", {"name": "ACME Corp."})])
    container.close()

    listed = json.loads(journey(tmp_path, "merges", "--json").stdout)
    assert [(m["entity"], m["winner_id"], m["loser_id"]) for m in listed] == [("account", "crm:account:1", "shop:account:7")]
    assert journey(tmp_path, "accounts", "--json").stdout.count('"name"') == 1  # shown as one account

    undone = journey(tmp_path, "unmerge", str(listed[0]["id"]))
    assert undone.returncode == 0 and "will not be merged again" in undone.stdout
    assert journey(tmp_path, "accounts", "--json").stdout.count('"name"') == 2
    again = journey(tmp_path, "unmerge", str(listed[0]["id"]))
    assert again.returncode == 2 and "already undone" in again.stderr

    # A later write of the same records does not merge them again.
    container = build_container(load_settings(workspace=tmp_path))
    container.profiles.write("shop", [ProfileRecord("account", "7", {"name": "ACME Corp.", "city": "Berlin"})])
    container.close()
    assert journey(tmp_path, "accounts", "--json").stdout.count('"name"') == 2


def test_never_merge_and_bad_ids_are_clear(tmp_path: Path) -> None:
    container = build_container(load_settings(workspace=tmp_path))
    container.profiles.write("crm", [ProfileRecord("account", "1", {"name": "Globex Logistics AG"})])
    container.close()
    told = journey(tmp_path, "never-merge", "account", "crm:account:1", "shop:account:9", "--reason", "different companies")
    assert told.returncode == 0, told.stderr
    container = build_container(load_settings(workspace=tmp_path))
    container.profiles.write("shop", [ProfileRecord("account", "9", {"name": "Globex Logistics"})])
    container.close()
    assert json.loads(journey(tmp_path, "merges", "--json").stdout) == []
    assert journey(tmp_path, "accounts", "--json").stdout.count('"name"') == 2
    missing = journey(tmp_path, "unmerge", "999")
    assert missing.returncode == 2 and "no merge with id 999" in missing.stderr
    wrong = journey(tmp_path, "never-merge", "planet", "a", "b")
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
