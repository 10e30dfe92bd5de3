"""The text of Tasks and Events (call notes, e-mail bodies, meeting notes) as internal
documents of their account.

A Task or Event with a ``Description`` becomes the document ``salesforce/task/{Id}`` or
``salesforce/event/{Id}``: a short header (subject, type, date, who, what, account) and the
description, internal and tied to one account. The account is the activity's
``AccountId``, which Salesforce derives itself (from an account, opportunity or contract in
``WhatId``, else from the contact in ``WhoId``), else an account named in ``WhatId``. An
activity with neither (a lead's e-mail, a to-do on a custom object) gets no document:
internal text without an account would reach every rep. The connector counts those.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.salesforce.objects import ACCOUNT, SalesforceRecord, parse_time, related_name, task_type
from knowledge.documents import SourceDocument, Visibility
from knowledge.profiles import Ref

ACTIVITY_OBJECTS = frozenset({"Task", "Event"})
"""The objects whose records carry text that becomes documents."""

_LABELS = {"call": "Call", "email": "E-mail", "meeting": "Meeting", "task": "Task"}


def activity_uri(sobject: str, record_id: str) -> str:
    return f"salesforce/{sobject.lower()}/{record_id}"


def activity_text(record: SalesforceRecord) -> str:
    """The activity's description, stripped ('' when it has none)."""
    description = record.get("Description")
    return description.strip() if isinstance(description, str) else ""


def activity_account(record: SalesforceRecord) -> str | None:
    """The account the activity belongs to: its AccountId, else an account in WhatId."""
    for value in (record.get("AccountId"), record.get("WhatId")):
        if isinstance(value, str) and value.startswith(ACCOUNT):
            return value
    return None


def _occurred_at(sobject: str, record: SalesforceRecord) -> datetime | None:
    if sobject == "Event":
        names = ("StartDateTime", "ActivityDateTime", "ActivityDate", "CreatedDate")
    else:
        names = ("CompletedDateTime", "ActivityDate", "CreatedDate")
    for name in names:
        when = parse_time(record.get(name))
        if when is not None:
            return when
    return None


def _kind(sobject: str, record: SalesforceRecord) -> str:
    return "meeting" if sobject == "Event" else task_type(record)


def _header(sobject: str, record: SalesforceRecord, occurred_at: datetime | None) -> list[str]:
    """What a reader (and the retriever) needs to place the text: subject, type, date, names."""
    kind = _LABELS[_kind(sobject, record)]
    details = [str(record[name]).lower() for name in ("CallType", "Status") if record.get(name)]
    lines = [
        f"Subject: {record.get('Subject') or '(none)'}",
        f"Type: {kind}" + (f" ({', '.join(details)})" if details else ""),
        f"Date: {occurred_at.date().isoformat() if occurred_at else 'undated'}",
    ]
    for label, relation in (("Who", "Who"), ("Related to", "What"), ("Account", "Account")):
        name = related_name(record, relation)
        if name:
            lines.append(f"{label}: {name}")
    if record.get("Location"):
        lines.append(f"Location: {record['Location']}")
    return lines


def activity_document(sobject: str, record: Mapping[str, Any], account_id: str) -> SourceDocument | None:
    """The activity's text as internal content of ``account_id`` (None if it has no text)."""
    text = activity_text(record)
    if not text:
        return None
    occurred_at = _occurred_at(sobject, record)
    subject = " ".join(str(record.get("Subject") or "").split())
    day = occurred_at.date().isoformat() if occurred_at else "undated"
    title = f"{_LABELS[_kind(sobject, record)]} {day}: {subject or ' '.join(text.split())[:80]}"
    content = "\n".join(_header(sobject, record, occurred_at)) + "\n\n" + text + "\n"
    return SourceDocument(
        uri=activity_uri(sobject, str(record["Id"])),
        content=content.encode("utf-8"),
        media_type="text/plain",
        title=title,
        updated_at=parse_time(record.get("LastModifiedDate") or record.get("SystemModstamp")),
        visibility=Visibility.INTERNAL,
        account_id=Ref("account", account_id),
        metadata={
            "salesforce_object": sobject,
            "activity_type": _kind(sobject, record),
            "occurred_at": occurred_at.isoformat() if occurred_at else None,
            "who_id": record.get("WhoId"),
            "what_id": record.get("WhatId"),
        },
    )
