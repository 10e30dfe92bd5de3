"""A small world of stored people for journey tests: a prospect account with a budget owner
comparing vendors and an engineer who withdrew marketing consent, and a customer account with
a plant manager who has a support problem."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from assistant.settings import IdentitySettings
from knowledge.db import Database
from knowledge.profiles import ProfileRecord, ProfileStore, Ref
from knowledge.profiles.identity import IdentityResolver

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def _day(days_ago: float) -> datetime:
    return NOW - timedelta(days=days_ago)


def _chat(key: str, contact: str, *texts: str, days_ago: float = 0.1) -> list[ProfileRecord]:
    records = [ProfileRecord("conversation", key, {"contact_id": Ref("contact", contact), "started_at": _day(days_ago)})]
    for ordinal, text in enumerate(texts):
        records.append(ProfileRecord("message", f"{key}-{ordinal}", {
            "conversation_id": Ref("conversation", key), "ordinal": ordinal, "role": "user", "content": text,
            "created_at": _day(days_ago) + timedelta(minutes=ordinal)}))
    return records


def _consent(key: str, contact: str, purpose: str, status: str, days_ago: float = 100) -> ProfileRecord:
    return ProfileRecord("consent", key, {"contact_id": Ref("contact", contact), "purpose": purpose, "status": status,
                                          "recorded_at": _day(days_ago)})


def build_world(db: Database) -> None:
    store = ProfileStore(db, identity=IdentityResolver(db, IdentitySettings()))
    records = [
        ProfileRecord("account", "acme", {"name": "Acme Maschinenbau GmbH", "industry": "machinery", "domain": "acme.example",
                                          "customer_status": "prospect"}),
        ProfileRecord("account", "kunde", {"name": "Kunde AG", "industry": "machinery", "domain": "kunde.example",
                                           "customer_status": "customer"}),
        # Jane: head of procurement, comparing offers; marketing e-mail yes, phone no.
        ProfileRecord("contact", "jane", {"full_name": "Jane Roe", "email": "jane@acme.example", "job_title": "Leiterin Einkauf",
                                          "account_id": Ref("account", "acme")}),
        _consent("c1", "jane", "marketing_email", "granted"),
        *_chat("chat-jane", "jane", "Wie unterscheidet sich eure Lösung von Siemens? Habt ihr Fallstudien aus dem Maschinenbau?"),
        # Bob: an engineer at the same account who withdrew marketing consent.
        ProfileRecord("contact", "bob", {"full_name": "Bob Weber", "email": "bob@acme.example", "job_title": "Automatisierungsingenieur",
                                         "account_id": Ref("account", "acme")}),
        _consent("c2", "bob", "marketing_email", "granted", days_ago=200),
        _consent("c3", "bob", "marketing_email", "withdrawn", days_ago=20),
        *_chat("chat-bob", "bob", "Welche Protokolle unterstützt das Gateway? OPC UA und MQTT?"),
        # Carla: a customer's plant manager with an open support problem.
        ProfileRecord("contact", "carla", {"full_name": "Carla Klein", "email": "carla@kunde.example", "job_title": "Werksleiterin",
                                           "account_id": Ref("account", "kunde")}),
        ProfileRecord("deal", "won1", {"account_id": Ref("account", "kunde"), "status": "won", "stage": "Closed Won",
                                       "closed_on": "2024-11-01"}),
        _consent("c4", "carla", "marketing_email", "granted"),
        _consent("c5", "carla", "phone", "granted"),
        *_chat("chat-carla", "carla", "Seit dem Update verbindet sich das Gateway nicht mehr, wie richte ich das neu ein?"),
        ProfileRecord("touchpoint", "t-carla", {"occurred_at": _day(3), "type": "support_ticket", "channel": "support_portal",
                                                "contact_id": Ref("contact", "carla"), "title": "Gateway offline"}),
    ]
    store.write("crm", records)
