"""How HubSpot CRM v3 companies, contacts, deals and owners become profile records.

Pure functions over the JSON HubSpot returns: no HTTP here. Record source ids are
HubSpot's own ids (``hubspot:contact:51``). Engagements (notes, calls, meetings, e-mails)
are in ``connectors.hubspot.engagements``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from knowledge.profiles import ProfileRecord, Ref

Associations = dict[str, list[str]]
"""Associated object ids by object type (``{"companies": ["406260751575"]}``), primary first."""

SINGULAR = {
    "companies": "company",
    "contacts": "contact",
    "deals": "deal",
    "notes": "note",
    "calls": "call",
    "meetings": "meeting",
    "emails": "email",
}
ENTITY = {"companies": "account", "contacts": "contact", "deals": "deal"}

PROPERTIES: dict[str, tuple[str, ...]] = {
    "companies": (
        "name", "domain", "website", "industry", "numberofemployees", "annualrevenue", "country", "city", "state",
        "phone", "description", "founded_year", "lifecyclestage", "hubspot_owner_id", "hs_parent_company_id",
        "createdate", "hs_lastmodifieddate",
    ),
    "contacts": (
        "firstname", "lastname", "email", "phone", "mobilephone", "jobtitle", "department", "hs_buying_role", "company",
        "lifecyclestage", "hs_lead_status", "hs_language", "hubspot_owner_id", "associatedcompanyid", "createdate",
        "lastmodifieddate",
    ),
    "deals": (
        "dealname", "pipeline", "dealstage", "amount", "deal_currency_code", "closedate", "createdate",
        "hubspot_owner_id", "hs_is_closed_won", "description", "hs_lastmodifieddate",
    ),
    "notes": ("hs_timestamp", "hs_note_body", "hubspot_owner_id", "hs_createdate", "hs_lastmodifieddate"),
    "calls": (
        "hs_timestamp", "hs_call_title", "hs_call_body", "hs_call_direction", "hs_call_duration", "hs_call_status",
        "hs_call_disposition", "hubspot_owner_id", "hs_createdate", "hs_lastmodifieddate",
    ),
    "meetings": (
        "hs_timestamp", "hs_meeting_title", "hs_meeting_body", "hs_internal_meeting_notes", "hs_meeting_start_time",
        "hs_meeting_end_time", "hs_meeting_location", "hs_meeting_outcome", "hubspot_owner_id", "hs_createdate",
        "hs_lastmodifieddate",
    ),
    "emails": (
        "hs_timestamp", "hs_email_subject", "hs_email_text", "hs_email_html", "hs_email_direction", "hs_email_status",
        "hubspot_owner_id", "hs_createdate", "hs_lastmodifieddate",
    ),
}

ASSOCIATIONS: dict[str, tuple[str, ...]] = {
    "companies": (),
    "contacts": ("companies",),
    "deals": ("companies", "contacts"),
    "notes": ("contacts", "companies", "deals"),
    "calls": ("contacts", "companies", "deals"),
    "meetings": ("contacts", "companies", "deals"),
    "emails": ("contacts", "companies", "deals"),
}


def modified_property(object_type: str) -> str:
    """The property a search filters and sorts on (contacts have their own name for it)."""
    return "lastmodifieddate" if object_type == "contacts" else "hs_lastmodifieddate"


def parse_time(value: Any) -> datetime | None:
    """A HubSpot time (ISO 8601, or epoch milliseconds in older properties) as aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    text = str(value).strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, tz=timezone.utc)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def modified_at(obj: Mapping[str, Any], object_type: str) -> datetime | None:
    properties = obj.get("properties") or {}
    return parse_time(properties.get(modified_property(object_type)) or obj.get("updatedAt"))


PRIMARY_TYPE_IDS: dict[tuple[str, str], int] = {("contacts", "companies"): 1, ("deals", "companies"): 5}
"""HubSpot-defined association type ids of the primary company (v4 labels them "Primary")."""


def _rank(object_type: str, target_type: str, link: Mapping[str, Any]) -> int:
    """0 for the primary association, 1 for one with another label, 2 for a plain one."""
    if "associationTypes" in link:  # v4: a target with every type that links it
        kinds = [kind for kind in link.get("associationTypes") or [] if isinstance(kind, Mapping)]
        primary_type = PRIMARY_TYPE_IDS.get((object_type, target_type))
        if any(str(kind.get("label") or "").lower() == "primary"
               or (kind.get("category") == "HUBSPOT_DEFINED" and str(kind.get("typeId")) == str(primary_type))
               for kind in kinds):
            return 0
        return 1 if any(kind.get("label") for kind in kinds) else 2
    # v3 (inline in list responses): the primary association has the plain name
    # ("contact_to_company"); others to the same type are "..._unlabeled" or a custom label.
    label = str(link.get("type", ""))
    default = f"{SINGULAR.get(object_type, object_type)}_to_{SINGULAR.get(target_type, target_type)}"
    if label == default:
        return 0
    return 2 if label.endswith("_unlabeled") else 1


def _target_id(link: Mapping[str, Any]) -> str | None:
    value = link.get("toObjectId", link.get("id"))
    return str(value) if value not in (None, "") else None


def ordered_associations(object_type: str, found: Mapping[str, Iterable[Mapping[str, Any]]]) -> Associations:
    """Links as HubSpot returns them (v4 ``{"toObjectId", "associationTypes"}`` or v3
    ``{"id", "type"}``) as ids per type, primary first, without repeats."""
    result: Associations = {}
    for target_type, links in found.items():
        ranked = sorted(
            (_rank(object_type, target_type, link), index, target)
            for index, link in enumerate(links)
            if (target := _target_id(link)) is not None
        )
        ids = list(dict.fromkeys(object_id for _, _, object_id in ranked))
        if ids:
            result[target_type] = ids
    return result


def inline_associations(object_type: str, obj: Mapping[str, Any]) -> Associations:
    """The associations a list request returned inside the object (their first page)."""
    blocks = obj.get("associations") or {}
    return ordered_associations(object_type, {t: (b or {}).get("results") or [] for t, b in blocks.items()})


def truncated_associations(obj: Mapping[str, Any]) -> list[str]:
    """The types whose inline associations go on past the page a list request returned."""
    blocks = obj.get("associations") or {}
    return [t for t, block in blocks.items() if ((block or {}).get("paging") or {}).get("next")]


def object_uri(object_type: str, object_id: str) -> str:
    """Where a HubSpot object is named in reports and, for engagements, the document uri."""
    return f"hubspot/{object_type}/{object_id}"


def optional_ref(entity: str, value: Any) -> Ref | None:
    return Ref(entity, str(value)) if value not in (None, "") else None


def first_associated(associations: Associations, object_type: str) -> str | None:
    ids = associations.get(object_type) or []
    return ids[0] if ids else None


def properties_of(obj: Mapping[str, Any]) -> dict[str, Any]:
    return dict(obj.get("properties") or {})


def company_record(obj: Mapping[str, Any]) -> ProfileRecord:
    p = properties_of(obj)
    name = (p.get("name") or "").strip() or p.get("domain") or f"HubSpot company {obj['id']}"
    return ProfileRecord("account", str(obj["id"]), {
        "name": name,
        "domain": p.get("domain"),
        "industry": p.get("industry"),
        "employees": p.get("numberofemployees"),
        "annual_revenue": p.get("annualrevenue"),
        "country": p.get("country"),
        "city": p.get("city"),
        "founded_year": p.get("founded_year"),
        "parent_account_id": optional_ref("account", p.get("hs_parent_company_id")),
        "owner_id": optional_ref("owner", p.get("hubspot_owner_id")),
        "customer_status": p.get("lifecyclestage"),
        "created_at": parse_time(p.get("createdate") or obj.get("createdAt")),
        "updated_at": modified_at(obj, "companies"),
        "website": p.get("website"),
        "phone": p.get("phone"),
        "state": p.get("state"),
        "description": p.get("description"),
    })


def contact_company(obj: Mapping[str, Any], associations: Associations) -> str | None:
    """A contact's primary company: HubSpot keeps it in ``associatedcompanyid`` too."""
    value = properties_of(obj).get("associatedcompanyid") or first_associated(associations, "companies")
    return str(value) if value not in (None, "") else None


def contact_record(obj: Mapping[str, Any], associations: Associations) -> ProfileRecord:
    p = properties_of(obj)
    first, last = p.get("firstname"), p.get("lastname")
    full_name = " ".join(part for part in (first, last) if part) or None
    company_id = contact_company(obj, associations)
    return ProfileRecord("contact", str(obj["id"]), {
        "first_name": first,
        "last_name": last,
        "full_name": full_name,
        "email": p.get("email"),
        "phone": p.get("phone") or p.get("mobilephone"),
        "job_title": p.get("jobtitle"),
        "department": p.get("department"),
        "buying_role": p.get("hs_buying_role"),
        "lifecycle_stage": p.get("lifecyclestage"),
        "company_name": p.get("company"),
        "language": p.get("hs_language"),
        "owner_id": optional_ref("owner", p.get("hubspot_owner_id")),
        "account_id": optional_ref("account", company_id),
        "created_at": parse_time(p.get("createdate") or obj.get("createdAt")),
        "updated_at": modified_at(obj, "contacts"),
        "lead_status": p.get("hs_lead_status"),
        "hubspot_company_ids": associations.get("companies"),
    })


def owner_record(obj: Mapping[str, Any]) -> ProfileRecord:
    name = " ".join(part for part in (obj.get("firstName"), obj.get("lastName")) if part)
    teams = obj.get("teams") or []
    primary = next((t for t in teams if t.get("primary")), teams[0] if teams else None)
    return ProfileRecord("owner", str(obj["id"]), {
        "name": name or obj.get("email") or f"HubSpot owner {obj['id']}",
        "email": obj.get("email"),
        "team": primary.get("name") if primary else None,
        "active": not obj.get("archived", False),
        "teams": [t.get("name") for t in teams if t.get("name")] or None,
        "user_id": obj.get("userId"),
        "owner_type": obj.get("type"),
    })


@dataclass(frozen=True)
class Stage:
    """A deal stage with what its pipeline says about it."""

    pipeline_id: str
    pipeline_label: str
    stage_id: str
    label: str
    is_closed: bool
    probability: float | None

    def status(self, closed_won: bool = False) -> str:
        if not self.is_closed:
            return "open"
        if closed_won or (self.probability is not None and self.probability >= 1.0):
            return "won"
        return "lost"


class StageBook:
    """Deal stage labels and open/won/lost from ``GET /crm/v3/pipelines/deals``."""

    def __init__(self, pipelines: Iterable[Mapping[str, Any]]) -> None:
        self.pipelines: dict[str, str] = {}
        self._stages: dict[tuple[str, str], Stage] = {}
        self._by_stage_id: dict[str, Stage] = {}
        for pipeline in pipelines:
            pipeline_id = str(pipeline.get("id"))
            self.pipelines[pipeline_id] = str(pipeline.get("label") or pipeline_id)
            for raw in pipeline.get("stages") or []:
                metadata = raw.get("metadata") or {}
                probability = metadata.get("probability")
                stage = Stage(
                    pipeline_id=pipeline_id,
                    pipeline_label=self.pipelines[pipeline_id],
                    stage_id=str(raw.get("id")),
                    label=str(raw.get("label") or raw.get("id")),
                    is_closed=str(metadata.get("isClosed", "false")).lower() == "true",
                    probability=float(probability) if probability not in (None, "") else None,
                )
                self._stages[(pipeline_id, stage.stage_id)] = stage
                self._by_stage_id.setdefault(stage.stage_id, stage)

    def find(self, pipeline_id: str | None, stage_id: str | None) -> Stage | None:
        if not stage_id:
            return None
        if pipeline_id:
            return self._stages.get((pipeline_id, stage_id))
        return self._by_stage_id.get(stage_id)  # a deal read without its pipeline property


def deal_records(obj: Mapping[str, Any], associations: Associations, stages: StageBook) -> list[ProfileRecord]:
    """The deal and one ``deal_contact`` per associated contact."""
    p = properties_of(obj)
    deal_id = str(obj["id"])
    pipeline_id, stage_id = p.get("pipeline"), p.get("dealstage")
    stage = stages.find(pipeline_id, stage_id)
    status = stage.status(str(p.get("hs_is_closed_won", "")).lower() == "true") if stage else "open"
    close_date = parse_time(p.get("closedate"))
    contacts = associations.get("contacts") or []
    deal = ProfileRecord("deal", deal_id, {
        "name": p.get("dealname"),
        "account_id": optional_ref("account", first_associated(associations, "companies")),
        "contact_id": optional_ref("contact", contacts[0] if contacts else None),
        "owner_id": optional_ref("owner", p.get("hubspot_owner_id")),
        "pipeline": stage.pipeline_label if stage else stages.pipelines.get(str(pipeline_id), pipeline_id),
        "stage": stage.label if stage else stage_id,
        "status": status,
        "amount": p.get("amount"),
        "currency": p.get("deal_currency_code"),
        "created_on": parse_time(p.get("createdate") or obj.get("createdAt")),
        # For an open deal HubSpot's closedate is the expected one, not a fact.
        "closed_on": close_date if status != "open" else None,
        "expected_close_on": close_date.date().isoformat() if close_date and status == "open" else None,
        "updated_at": modified_at(obj, "deals"),
        "pipeline_id": pipeline_id,
        "stage_id": stage_id,
        "stage_probability": stage.probability if stage else None,
        "description": p.get("description"),
        "hubspot_company_ids": associations.get("companies"),
    })
    links = [
        ProfileRecord("deal_contact", f"{deal_id}-{contact_id}", {
            "deal_id": Ref("deal", deal_id),
            "contact_id": Ref("contact", contact_id),
            "is_primary": index == 0,
        })
        for index, contact_id in enumerate(contacts)
    ]
    return [deal, *links]
