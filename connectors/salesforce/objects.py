"""How each Salesforce object becomes profile records: which fields to read, how to map them.

Field lists name what the connector would like; a sync reads only those the org's describe
lists for the token (``CurrencyIsoCode`` exists only in multi-currency orgs,
``TaskSubtype`` only in newer ones, field-level security hides others), so a query never
fails on a field the org lacks. ``Parent.Name`` style fields are read when their
``ParentId`` lookup is listed.

Salesforce ids say what they point to by their first three characters: ``003`` a Contact,
``00Q`` a Lead, ``005`` a User, ``006`` an Opportunity, ``001`` an Account. Leads become
contact records (``lifecycle_stage`` ``lead``) under their own id, so an activity with a
lead as ``WhoId`` points to that lead's contact record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from knowledge.profiles import Ref

Values = dict[str, Any]
SalesforceRecord = Mapping[str, Any]

CONTACT, LEAD, USER, OPPORTUNITY, ACCOUNT = "003", "00Q", "005", "006", "001"


@dataclass(frozen=True)
class SObjectSpec:
    """One synced object: its profile entity, wanted fields and mapping. ``to_values``
    returns ``None`` for records that stand for nothing of their own (an invitee's copy of
    a group event)."""

    name: str
    entity: str
    fields: tuple[str, ...]
    to_values: Callable[[SalesforceRecord], Values | None]

    def readable_fields(self, available: Mapping[str, str]) -> list[str]:
        """The wanted fields the describe lists (``A.B`` needs the lookup ``AId``), with
        ``Id`` and ``SystemModstamp`` first and ``IsDeleted`` last when the object has it."""
        chosen = ["Id", "SystemModstamp"]
        for name in self.fields:
            lookup = f"{name.split('.', 1)[0]}Id" if "." in name else name
            if lookup in available and name not in chosen:
                chosen.append(name)
        if "IsDeleted" in available:
            chosen.append("IsDeleted")
        return chosen


def parse_time(value: Any) -> datetime | None:
    """``2026-05-01T07:25:37.000+0000`` or ``2026-05-04`` -> an aware datetime (None if
    unreadable); Salesforce's dates and datetimes, SystemModstamp included."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _clean(values: Values) -> Values:
    return {key: value for key, value in values.items() if value is not None and value != ""}


def _id_ref(entity: str, salesforce_id: Any, *prefixes: str) -> Ref | None:
    if not isinstance(salesforce_id, str) or not salesforce_id:
        return None
    if prefixes and not salesforce_id.startswith(prefixes):
        return None
    return Ref(entity, salesforce_id)


def _owner(record: SalesforceRecord) -> Values:
    """Users own records as owner records; a queue (``00G``) owning a lead is kept aside."""
    owner_id = record.get("OwnerId")
    ref = _id_ref("owner", owner_id, USER)
    return {"owner_id": ref, "owner_queue_id": None if ref else owner_id}


def related_name(record: SalesforceRecord, relation: str) -> Any:
    """``Parent.Name`` style values: the name of the record a lookup points to."""
    related = record.get(relation)
    return related.get("Name") if isinstance(related, Mapping) else None


def _full_name(record: SalesforceRecord) -> str | None:
    parts = [record.get("FirstName"), record.get("LastName")]
    return record.get("Name") or " ".join(p for p in parts if p) or None


def email_domain_of(website: Any) -> str | None:
    """``www.Burlington.com/about`` -> ``burlington.com``: the form identity resolution
    compares with e-mail domains."""
    if not isinstance(website, str) or not website.strip():
        return None
    text = website.strip()
    host = urlsplit(text if "://" in text else f"//{text}").hostname
    if not host or "." not in host:
        return None
    return host.removeprefix("www.")


def account_values(r: SalesforceRecord) -> Values:
    year = str(r.get("YearStarted") or "").strip()
    return _clean({
        "name": r.get("Name"),
        "domain": email_domain_of(r.get("Website")),
        "industry": r.get("Industry"),
        "employees": r.get("NumberOfEmployees"),
        "annual_revenue": r.get("AnnualRevenue"),
        "currency": r.get("CurrencyIsoCode"),
        "country": r.get("BillingCountry"),
        "city": r.get("BillingCity"),
        "founded_year": int(year) if year.isdigit() else None,
        "parent_account_id": _id_ref("account", r.get("ParentId")),
        "parent_name": related_name(r, "Parent"),
        "customer_status": r.get("Type"),
        "created_at": r.get("CreatedDate"),
        "updated_at": r.get("LastModifiedDate") or r.get("SystemModstamp"),
        **_owner(r),
        "website": r.get("Website"),
        "phone": r.get("Phone"),
        "account_number": r.get("AccountNumber"),
        "account_source": r.get("AccountSource"),
        "billing_state": r.get("BillingState"),
    })


def contact_values(r: SalesforceRecord) -> Values:
    return _clean({
        "first_name": r.get("FirstName"),
        "last_name": r.get("LastName"),
        "full_name": _full_name(r),
        "email": r.get("Email"),
        "phone": r.get("Phone") or r.get("MobilePhone"),
        "job_title": r.get("Title"),
        "department": r.get("Department"),
        "account_id": _id_ref("account", r.get("AccountId")),
        "lifecycle_stage": "contact",
        "first_touch_channel": r.get("LeadSource"),
        "created_at": r.get("CreatedDate"),
        "updated_at": r.get("LastModifiedDate") or r.get("SystemModstamp"),
        **_owner(r),
        "mobile_phone": r.get("MobilePhone"),
        "mailing_city": r.get("MailingCity"),
        "mailing_country": r.get("MailingCountry"),
        "reports_to_id": _id_ref("contact", r.get("ReportsToId"), CONTACT),
    })


def lead_values(r: SalesforceRecord) -> Values:
    return _clean({
        "first_name": r.get("FirstName"),
        "last_name": r.get("LastName"),
        "full_name": _full_name(r),
        "email": r.get("Email"),
        "phone": r.get("Phone") or r.get("MobilePhone"),
        "job_title": r.get("Title"),
        "company_name": r.get("Company"),
        "lifecycle_stage": "lead",
        "first_touch_channel": r.get("LeadSource"),
        "first_touch_at": r.get("CreatedDate"),
        "created_at": r.get("CreatedDate"),
        "updated_at": r.get("LastModifiedDate") or r.get("SystemModstamp"),
        **_owner(r),
        "lead_status": r.get("Status"),
        "industry": r.get("Industry"),
        "country": r.get("Country"),
        "city": r.get("City"),
        "website": r.get("Website"),
        "is_converted": r.get("IsConverted") or None,
        "converted_on": r.get("ConvertedDate"),
        "converted_contact_id": _id_ref("contact", r.get("ConvertedContactId"), CONTACT),
        "converted_account_id": _id_ref("account", r.get("ConvertedAccountId"), ACCOUNT),
        "converted_deal_id": _id_ref("deal", r.get("ConvertedOpportunityId"), OPPORTUNITY),
    })


def deal_status(r: SalesforceRecord) -> str:
    """won/lost/open from IsClosed and IsWon; from the stage name where a query did not
    read them (the standard stages are "Closed Won" and "Closed Lost")."""
    if isinstance(r.get("IsClosed"), bool):
        if not r["IsClosed"]:
            return "open"
        return "won" if r.get("IsWon") else "lost"
    stage = str(r.get("StageName") or "").strip().lower()
    return {"closed won": "won", "closed lost": "lost"}.get(stage, "open")


def opportunity_values(r: SalesforceRecord) -> Values:
    status = deal_status(r)
    closed = status != "open"
    return _clean({
        "name": r.get("Name"),
        "account_id": _id_ref("account", r.get("AccountId")),
        "contact_id": _id_ref("contact", r.get("ContactId"), CONTACT),
        "stage": r.get("StageName"),
        "status": status,
        "amount": r.get("Amount"),
        "currency": r.get("CurrencyIsoCode"),
        "created_on": r.get("CreatedDate"),
        "closed_on": r.get("CloseDate") if closed else None,
        "updated_at": r.get("LastModifiedDate") or r.get("SystemModstamp"),
        **_owner(r),
        "expected_close_on": None if closed else r.get("CloseDate"),
        "deal_type": r.get("Type"),
        "lead_source": r.get("LeadSource"),
        "probability": r.get("Probability"),
        "forecast_category": r.get("ForecastCategoryName"),
    })


def contact_role_values(r: SalesforceRecord) -> Values:
    return _clean({
        "deal_id": _id_ref("deal", r.get("OpportunityId")),
        "contact_id": _id_ref("contact", r.get("ContactId")),
        "role": r.get("Role"),
        "is_primary": bool(r.get("IsPrimary")),
    })


def _activity_links(r: SalesforceRecord) -> Values:
    """Who (a contact or a lead), what (a deal or an account), the account and the owner;
    ids of other kinds of records are kept as they are."""
    who, what = r.get("WhoId"), r.get("WhatId")
    contact = _id_ref("contact", who, CONTACT, LEAD)
    deal = _id_ref("deal", what, OPPORTUNITY)
    account = _id_ref("account", r.get("AccountId")) or _id_ref("account", what, ACCOUNT)
    what_is_linked = deal is not None or (account is not None and account.source_id == what)
    return {
        "contact_id": contact,
        "deal_id": deal,
        "account_id": account,
        **_owner(r),
        "who_id": None if contact else who,
        "what_id": None if what_is_linked else what,
    }


_TASK_KINDS = {"call": "call", "email": "email", "listemail": "email", "meeting": "meeting"}
_CHANNEL_AND_WORLD = {
    "call": ("phone", "offline"),
    "email": ("email", "online"),
    "meeting": ("meeting", "offline"),
    "task": (None, None),
}


def task_type(r: SalesforceRecord) -> str:
    """call, email, meeting or task: the task's subtype, else its Type picklist."""
    for value in (r.get("TaskSubtype"), r.get("Type")):
        kind = _TASK_KINDS.get(str(value or "").strip().lower())
        if kind:
            return kind
    return "task"


def task_values(r: SalesforceRecord) -> Values:
    kind = task_type(r)
    channel, world = _CHANNEL_AND_WORLD[kind]
    call_type = str(r.get("CallType") or "").lower()
    return _clean({
        "occurred_at": r.get("CompletedDateTime") or r.get("ActivityDate") or r.get("CreatedDate"),
        "type": kind,
        "channel": channel,
        "kind": "owned",
        "world": world,
        "direction": call_type if call_type in ("inbound", "outbound") else None,
        "title": r.get("Subject"),
        "detail": r.get("Description"),
        **_activity_links(r),
        "activity": "Task",
        "status": r.get("Status"),
        "priority": r.get("Priority"),
        "task_subtype": r.get("TaskSubtype"),
        "activity_type": r.get("Type"),
        "call_duration_seconds": r.get("CallDurationInSeconds"),
        "call_disposition": r.get("CallDisposition"),
    })


def event_values(r: SalesforceRecord) -> Values | None:
    if r.get("IsChild") is True:
        return None  # an invitee's copy of a group event; the parent event is the meeting
    return _clean({
        "occurred_at": r.get("StartDateTime") or r.get("ActivityDateTime") or r.get("ActivityDate") or r.get("CreatedDate"),
        "type": "meeting",
        "channel": "meeting",
        "kind": "owned",
        "world": "offline",
        "title": r.get("Subject"),
        "detail": r.get("Description"),
        **_activity_links(r),
        "activity": "Event",
        "ends_at": r.get("EndDateTime"),
        "duration_minutes": r.get("DurationInMinutes"),
        "location": r.get("Location"),
        "all_day": r.get("IsAllDayEvent") or None,
        "event_subtype": r.get("EventSubtype"),
        "activity_type": r.get("Type"),
    })


def user_values(r: SalesforceRecord) -> Values:
    return _clean({
        "name": _full_name(r) or r.get("Username"),
        "email": r.get("Email"),
        "team": r.get("Department"),
        "role": related_name(r, "UserRole"),
        "manager_id": _id_ref("owner", r.get("ManagerId"), USER),
        "manager_name": related_name(r, "Manager"),
        "office": r.get("Division"),
        "active": r.get("IsActive") if isinstance(r.get("IsActive"), bool) else None,
        "username": r.get("Username"),
        "title": r.get("Title"),
        "profile": related_name(r, "Profile"),
        "city": r.get("City"),
        "country": r.get("Country"),
    })


_ACTIVITY_FIELDS = ("Subject", "Description", "WhoId", "WhatId", "AccountId", "OwnerId", "ActivityDate",
                    "CreatedDate", "LastModifiedDate", "Type", "Who.Name", "What.Name", "Account.Name")
"""Who/What/Account names go into the header of the activity's document."""

SPECS: dict[str, SObjectSpec] = {spec.name: spec for spec in (
    SObjectSpec("User", "owner", (
        "Name", "FirstName", "LastName", "Username", "Email", "IsActive", "Title", "Department", "Division",
        "City", "Country", "UserRole.Name", "Manager.Name", "ManagerId", "Profile.Name",
    ), user_values),
    SObjectSpec("Account", "account", (
        "Name", "Website", "Industry", "NumberOfEmployees", "AnnualRevenue", "CurrencyIsoCode", "BillingCountry",
        "BillingCity", "BillingState", "ParentId", "Parent.Name", "OwnerId", "Type", "AccountNumber",
        "AccountSource", "Phone", "YearStarted", "CreatedDate", "LastModifiedDate",
    ), account_values),
    SObjectSpec("Contact", "contact", (
        "FirstName", "LastName", "Name", "Email", "Phone", "MobilePhone", "Title", "Department", "AccountId",
        "OwnerId", "LeadSource", "MailingCity", "MailingCountry", "ReportsToId", "CreatedDate", "LastModifiedDate",
    ), contact_values),
    SObjectSpec("Lead", "contact", (
        "FirstName", "LastName", "Name", "Email", "Phone", "MobilePhone", "Title", "Company", "LeadSource",
        "Status", "Industry", "Country", "City", "Website", "OwnerId", "IsConverted", "ConvertedDate",
        "ConvertedContactId", "ConvertedAccountId", "ConvertedOpportunityId", "CreatedDate", "LastModifiedDate",
    ), lead_values),
    SObjectSpec("Opportunity", "deal", (
        "Name", "AccountId", "ContactId", "OwnerId", "StageName", "IsClosed", "IsWon", "Amount", "CurrencyIsoCode",
        "CloseDate", "CreatedDate", "LastModifiedDate", "Type", "LeadSource", "Probability", "ForecastCategoryName",
    ), opportunity_values),
    SObjectSpec("OpportunityContactRole", "deal_contact", (
        "OpportunityId", "ContactId", "Role", "IsPrimary",
    ), contact_role_values),
    SObjectSpec("Task", "touchpoint", (
        *_ACTIVITY_FIELDS, "TaskSubtype", "Status", "Priority", "CompletedDateTime", "CallType",
        "CallDurationInSeconds", "CallDisposition",
    ), task_values),
    SObjectSpec("Event", "touchpoint", (
        *_ACTIVITY_FIELDS, "StartDateTime", "EndDateTime", "ActivityDateTime", "DurationInMinutes", "Location",
        "IsAllDayEvent", "EventSubtype", "IsChild",
    ), event_values),
)}
"""Every object the connector can sync, by its Salesforce name."""
