"""Journey decisions and next best actions over the HTTP API (with internal keys) and the CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from assistant.api import create_app
from assistant.container import Container
from assistant.settings import Settings
from journey_world import build_world

KEY = "test-internal-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
JOURNEY = shutil.which("journey", path=str(Path(sys.executable).parent)) or "journey"


def _container(workspace: Path, keys: list[str]) -> Container:
    settings = Settings(workspace=workspace)
    settings.api.keys = [SecretStr(key) for key in keys]
    settings.journey.semantic = False
    return Container(settings)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    container = _container(tmp_path / "ws", [KEY])
    build_world(container.db)
    with TestClient(create_app(container)) as client:
        yield client
    container.close()


def test_internal_endpoints_need_a_key(client: TestClient, tmp_path: Path) -> None:
    path = "/v1/contacts/jane@acme.example/next-actions"
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get(path, headers={"Authorization": f"Basic {KEY}"}).status_code == 401
    assert client.get("/v1/accounts/Acme/committee").status_code == 401
    assert client.get(path, headers=AUTH).status_code == 200
    # With no keys configured the internal endpoints are off, and say how to turn them on.
    closed = _container(tmp_path / "closed", [])
    with TestClient(create_app(closed)) as anonymous:
        response = anonymous.get(path, headers=AUTH)
        assert response.status_code == 403 and "api.keys" in response.json()["detail"]
        assert anonymous.post("/v1/journey/classify", json={"messages": ["Was kostet das?"]}).status_code == 403
    closed.close()


def test_next_actions_outcome_and_cooldown_over_http(client: TestClient) -> None:
    path = "/v1/contacts/jane@acme.example/next-actions"
    first = client.get(path, params={"n": 3, "explore": "false"}, headers=AUTH).json()
    assert (first["stage"], first["persona"]) == ("consideration", "budget_owner")
    assert len(first["actions"]) == 3
    top = first["actions"][0]
    assert top["explanation"] and top["evidence"] and top["id"].startswith("act_")
    assert {"propensity", "value", "fit", "lever", "history"} <= set(top["components"])
    assert {"action": "propose_sales_call", "reason": "no phone consent on record"} in first["skipped"]
    recorded = client.post(f"/v1/actions/{top['id']}/outcome", json={"outcome": "dismissed", "by": "anna"}, headers=AUTH)
    assert recorded.status_code == 200 and recorded.json()["outcome"] == "dismissed"
    second = client.get(path, params={"n": 10, "explore": "false"}, headers=AUTH).json()
    assert top["action"] not in [a["action"] for a in second["actions"]]
    assert any(s["action"] == top["action"] and "cooldown" in s["reason"] for s in second["skipped"])
    german = client.get(path, params={"language": "de", "n": 1}, headers=AUTH).json()
    assert "Phase Erwägung" in german["actions"][0]["explanation"]


def test_decisions_and_overrides_over_http(client: TestClient) -> None:
    contact = "/v1/contacts/jane@acme.example"
    assessed = client.get(f"{contact}/journey", headers=AUTH).json()
    assert assessed["stage"] == "consideration" and assessed["evidence"]
    override = client.post(f"{contact}/stage-override", json={"stage": "purchase", "by": "anna", "note": "said yes"}, headers=AUTH)
    assert override.status_code == 200 and override.json()["source"] == "rep_override"
    assert client.get(f"{contact}/journey", headers=AUTH).json()["stage"] == "purchase"
    history = client.get(f"{contact}/journey/history", params={"kind": "stage"}, headers=AUTH).json()
    assert [(h["value"], h["source"]) for h in history] == [("purchase", "rep_override"), ("consideration", "classifier")]


def test_bad_requests_get_clear_answers(client: TestClient) -> None:
    assert client.get("/v1/contacts/nobody@nowhere.example/next-actions", headers=AUTH).json() == {
        "detail": "no contact 'nobody@nowhere.example': give a contact id (source:contact:ID), its source id, e-mail or person id"}
    missing = client.post("/v1/actions/act_nope/outcome", json={"outcome": "accepted"}, headers=AUTH)
    assert missing.status_code == 404 and "no proposal 'act_nope'" in missing.json()["detail"]
    assert client.post("/v1/actions/act_nope/outcome", json={"outcome": "liked"}, headers=AUTH).status_code == 422
    bad_stage = client.post("/v1/contacts/jane@acme.example/stage-override", json={"stage": "kauf"}, headers=AUTH)
    assert bad_stage.status_code == 422 and "unknown stage 'kauf'" in bad_stage.json()["detail"]
    assert client.get("/v1/contacts/jane@acme.example/next-actions", params={"n": 0}, headers=AUTH).status_code == 422
    not_json = client.post("/v1/journey/classify", json=[1, 2], headers=AUTH)
    assert not_json.status_code == 422 and "JSON object with a messages list" in not_json.json()["detail"]
    empty = client.post("/v1/journey/classify", json={"messages": []}, headers=AUTH).json()
    assert empty["stage_confidence"] < 0.5
    long = client.post("/v1/journey/classify", json={"messages": ["ok"] * 199 + ["Was kostet die Lizenz?"]}, headers=AUTH).json()
    assert long["stage"] == "purchase"


# ---- the command line -----------------------------------------------------------------------------

def run(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JOURNEY_CONFIG": "/nonexistent.toml", "JOURNEY_JOURNEY__SEMANTIC": "false"}
    return subprocess.run([JOURNEY, *args, "--workspace", str(workspace)], capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.slow
def test_cli_next_actions_outcome_override_history(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    container = _container(workspace, [])
    build_world(container.db)
    container.close()
    shown = run(workspace, "next-actions", "jane@acme.example", "--json", "--no-explore")
    assert shown.returncode == 0, shown.stderr
    result = json.loads(shown.stdout)
    top = result["actions"][0]
    human = run(workspace, "next-actions", "jane@acme.example", "--language", "de", "--no-explore")
    assert human.returncode == 0 and top["id"] in human.stdout and top["title"]["de"] in human.stdout
    assert "not proposed: propose_sales_call – no phone consent on record" in human.stdout
    done = run(workspace, "outcome", top["id"], "dismissed", "--by", "anna", "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["outcome"] == "dismissed"
    again = json.loads(run(workspace, "next-actions", "jane@acme.example", "--json", "-n", "10").stdout)
    assert top["action"] not in [a["action"] for a in again["actions"]]
    assert run(workspace, "override", "jane@acme.example", "purchase", "--by", "anna").returncode == 0
    history = json.loads(run(workspace, "history", "jane@acme.example", "--json", "--kind", "stage").stdout)
    assert history[0]["value"] == "purchase" and history[0]["source"] == "rep_override"
    for args, message in (
        (("next-actions", "nobody@nowhere.example"), "no contact 'nobody@nowhere.example'"),
        (("outcome", "act_nope", "accepted"), "no proposal 'act_nope'"),
        (("outcome", top["id"], "liked"), "unknown outcome 'liked'"),
        (("override", "jane@acme.example", "kauf"), "unknown stage 'kauf'"),
        (("next-actions", "jane@acme.example", "--language", "fr"), "--language is en or de"),
        (("history", "jane@acme.example", "--kind", "mood"), "--kind is stage or persona"),
    ):
        failed = run(workspace, *args)
        assert failed.returncode == 2 and message in failed.stderr, (args, failed.stderr)
    playbook = tmp_path / "acme.yaml"
    playbook.write_text("extends: default\nlevers:\n  offer_discout: 2\n", encoding="utf-8")
    typo = run(workspace, "next-actions", "jane@acme.example", "--playbook", str(playbook))
    assert typo.returncode == 2 and "acme.yaml line 3" in typo.stderr and "unknown action or channel 'offer_discout'" in typo.stderr
