"""Writes the demo world to disk: CRM CSVs, Segment JSONL, Markdown docs, ground truth.

Files are written only when their bytes change, so a second generation with the same seed
leaves modification times alone and the files connector sees nothing new. ``demo.json`` lists
every file the generator owns with its hash; files of an earlier generation that the new one
does not produce are removed, and nothing else in the folder is touched.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from assistant.demo.web import segment_payload
from assistant.demo.world import World

MANIFEST = "demo.json"
CRM_DIR = "crm"
EVENTS_DIR = "events"
DOCS_DIR = "docs"
TRUTH_DIR = "truth"
MAPPING_FILE = "crm-mapping.yaml"
"""The csv connector's mapping for ``crm/``, copied beside it so the folder stands alone."""


@dataclass
class WriteReport:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()


def crm_files(world: World) -> dict[str, str]:
    """``crm/<table>.csv`` -> text, in the shape of a German CRM's export."""
    w = world
    return {
        "owners.csv": csv_text(
            ["owner_id", "name", "email", "team", "office", "role", "manager_id", "manager_name"],
            [(o.owner_id, o.name, o.email, o.team, o.office, o.role, o.manager_id, o.manager_name) for o in w.owners]),
        "accounts.csv": csv_text(
            ["account_id", "name", "domain", "industry", "employees", "annual_revenue", "currency", "country", "city",
             "founded_year", "phone", "owner_id", "customer_status", "referred_by", "created_at"],
            [(a.account_id, a.name, a.domain, a.industry, a.employees, a.annual_revenue, "EUR", a.country, a.city,
              a.founded_year, a.phone, a.owner_id, a.customer_status, a.referred_by, a.created_at) for a in w.accounts]),
        "contacts.csv": csv_text(
            ["contact_id", "account_id", "first_name", "last_name", "email", "phone", "job_title", "department",
             "buying_role", "lifecycle_stage", "language", "owner_id", "original_source", "first_touch_at", "created_at"],
            [(c.contact_id, c.account_id, c.first_name, c.last_name, c.email, c.phone, c.job_title, c.department,
              c.buying_role, c.lifecycle_stage, c.language, c.owner_id, c.first_touch_channel, c.first_touch_at,
              c.created_at) for c in w.contacts]),
        "products.csv": csv_text(["sku", "name", "product_line", "price", "currency", "billing", "unit", "description"], w.product_rows),
        "deals.csv": csv_text(
            ["deal_id", "name", "account_id", "contact_id", "owner_id", "pipeline", "stage", "status", "probability",
             "amount", "currency", "product_line", "created_on", "engaged_on", "closed_on", "expected_close_on", "lost_reason"],
            [(d.deal_id, d.name, d.account_id, d.contact_id, d.owner_id, d.pipeline, d.stage, d.status, d.probability,
              d.amount, "EUR", d.line, d.created_on, d.engaged_on, d.closed_on, d.expected_close_on, d.lost_reason) for d in w.deals]),
        "deal_products.csv": csv_text(
            ["line_id", "deal_id", "sku", "product_name", "quantity", "unit_price", "discount_percent", "amount"],
            [(x.line_id, x.deal_id, x.sku, x.product_name, x.quantity, x.unit_price, x.discount_percent, x.amount) for x in w.deal_lines]),
        "deal_contacts.csv": csv_text(
            ["deal_contact_id", "deal_id", "contact_id", "role", "is_primary"],
            [(f"{d.deal_id}:{c}", d.deal_id, c, role, primary) for d in w.deals for c, role, primary in d.contacts]),
        "activities.csv": csv_text(
            ["activity_id", "occurred_at", "activity_type", "channel", "subject", "notes", "contact_id", "account_id",
             "owner_id", "deal_id", "campaign", "direction", "outcome"],
            [(a.activity_id, a.occurred_at, a.activity_type, a.channel, a.subject, a.notes, a.contact_id, a.account_id,
              a.owner_id, a.deal_id, a.campaign, a.direction, a.outcome) for a in w.activities]),
        "consents.csv": csv_text(
            ["consent_id", "contact_id", "email", "purpose", "status", "recorded_at", "source"],
            [(c.consent_id, c.contact_id, c.email, c.purpose, c.status, c.recorded_at, c.source) for c in w.consents]),
        "conversations.csv": csv_text(
            ["conversation_id", "contact_id", "anonymous_id", "account_id", "channel", "language", "started_at", "ended_at"],
            [(c.conversation_id, c.contact_id, c.anonymous_id, c.account_id, "website_chat", c.language, c.started_at, c.ended_at)
             for c in w.conversations]),
        "messages.csv": csv_text(
            ["message_id", "conversation_id", "ordinal", "role", "content", "created_at"],
            [(m.message_id, m.conversation_id, m.ordinal, m.role, m.content, m.created_at) for m in w.messages]),
    }


def event_files(world: World) -> dict[str, str]:
    """``events/<yyyy-mm>.jsonl`` -> text, one Segment call per line in time order."""
    by_month: dict[str, list[str]] = {}
    for event in sorted(world.events, key=lambda e: (e.timestamp, e.message_id)):
        line = json.dumps(segment_payload(event), ensure_ascii=False, sort_keys=True)
        by_month.setdefault(f"{event.timestamp:%Y-%m}.jsonl", []).append(line)
    return {name: "\n".join(lines) + "\n" for name, lines in sorted(by_month.items())}


def truth_files(world: World) -> dict[str, str]:
    t = world.truth
    emails = {c.contact_id: c.email for c in world.contacts}
    accounts = {c.contact_id: c.account_id for c in world.contacts}
    return {
        "personas.csv": csv_text(["contact_id", "email", "persona", "secondary_persona"],
                                 [(cid, emails[cid], p, s) for cid, (p, s) in t.personas.items()]),
        "stages.csv": csv_text(["contact_id", "email", "account_id", "stage", "product_line", "journey"],
                               [(cid, emails[cid], accounts[cid], s, line, note) for cid, (s, line, note) in t.stages.items()]),
        "accounts.csv": csv_text(["account_id", "archetype"], sorted(t.archetypes.items())),
        "identities.csv": csv_text(["anonymous_id", "contact_id", "how"], t.identities),
        "chats.csv": csv_text(["conversation_id", "script", "contact_id", "began_anonymous"], t.chats),
    }


def mapping_text() -> str:
    return resources.files("assistant.demo").joinpath("mapping.yaml").read_text(encoding="utf-8")


def all_files(world: World, docs: dict[str, str]) -> dict[str, str]:
    files: dict[str, str] = {MAPPING_FILE: mapping_text()}
    files.update({f"{CRM_DIR}/{k}": v for k, v in crm_files(world).items()})
    files.update({f"{EVENTS_DIR}/{k}": v for k, v in event_files(world).items()})
    files.update({f"{DOCS_DIR}/{k}": v for k, v in docs.items()})
    files.update({f"{TRUTH_DIR}/{k}": v for k, v in truth_files(world).items()})
    return files


def write_tree(root: Path, files: dict[str, str], manifest: dict[str, Any]) -> WriteReport:
    """Write ``files`` under ``root`` (only changed ones), drop files an earlier run owned."""
    report = WriteReport()
    previous = read_manifest(root)
    hashes = {}
    for relative, text in sorted(files.items()):
        data = text.encode("utf-8")
        hashes[relative] = hashlib.sha256(data).hexdigest()
        path = root / relative
        if path.is_file() and path.read_bytes() == data:
            report.unchanged.append(relative)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        report.written.append(relative)
    for relative in sorted(set((previous or {}).get("files", {})) - set(files)):
        stale = root / relative
        if stale.is_file():
            stale.unlink()
            report.removed.append(relative)
    body = json.dumps({**manifest, "files": hashes}, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    target = root / MANIFEST
    if not target.is_file() or target.read_text(encoding="utf-8") != body:
        target.write_text(body, encoding="utf-8")
    return report


def read_manifest(root: Path) -> dict[str, Any] | None:
    path = root / MANIFEST
    if not path.is_file():
        return None
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError):
        return None
