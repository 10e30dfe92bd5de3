"""Which account a HubSpot engagement belongs to, and keeping it right when a contact
changes company.

An engagement (note, call, meeting, e-mail) belongs to the company it names, else to its
first contact's primary company. The second kind drifts: when the contact moves to another
company, HubSpot does not modify the engagement, so an incremental search never shows it
again and its document would stay visible to the old account's reps.

So the cursor remembers, for every contact some engagement took its account from, the
company it took (``HubSpotCursor.engagement_contacts``; '' when the contact had none and
the text stayed out of the index). When a sync reads such a contact with another company,
the engagements of each type associated with it are looked up (v4 associations), the ones
whose account came through that contact are fetched again and yielded with the new account:
the runner restamps their documents (same content: no re-embedding) and rewrites their
touchpoints. While no such contact moves, nothing extra is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from connectors.hubspot.client import HubSpotClient
from connectors.hubspot.mapping import Associations, ordered_associations


class EngagementAccounts:
    """The accounts of one run's engagements, and the contacts that moved company."""

    def __init__(self, client: HubSpotClient, remembered: Mapping[str, str]) -> None:
        self.client = client
        self.previous = dict(remembered)
        self.derived: dict[str, str] = {}
        self.moved: dict[str, str] = {}
        """Contacts engagements took their account from, that now have another company."""

    def see_contact(self, contact_id: str, company_id: str | None) -> None:
        """A contact as this run read it."""
        before = self.previous.get(contact_id)
        if before is not None and before != (company_id or ""):
            self.moved[contact_id] = company_id or ""

    def accounts(self, objects: Sequence[tuple[Mapping[str, Any], Associations]]) -> dict[str, str]:
        """Each engagement's company: its own, else its first contact's primary company."""
        accounts: dict[str, str] = {}
        contact_of: dict[str, str] = {}
        for obj, associations in objects:
            object_id = str(obj.get("id", ""))
            if associations.get("companies"):
                accounts[object_id] = associations["companies"][0]
            elif associations.get("contacts"):
                contact_of[object_id] = associations["contacts"][0]
        if not contact_of:
            return accounts
        links = self.client.read_associations("contacts", "companies", contact_of.values())
        for object_id, contact_id in contact_of.items():
            companies = ordered_associations("contacts", {"companies": links.get(contact_id, [])}).get("companies")
            if companies:
                accounts[object_id] = companies[0]
            self.derived[contact_id] = companies[0] if companies else ""
        return accounts

    def engagements_of_moved(self, object_type: str, skip: Iterable[str]) -> list[str]:
        """Ids of the engagements of one type associated with a moved contact, but for ``skip``
        (those this run already yielded)."""
        if not self.moved:
            return []
        found = self.client.read_associations("contacts", object_type, self.moved)
        ids = {str(link["toObjectId"]) for links in found.values() for link in links}
        return sorted(ids - set(skip))

    def through_moved_contact(self, associations: Associations) -> bool:
        """Whether an engagement with these associations takes its account from a moved contact."""
        contacts = associations.get("contacts") or []
        return not associations.get("companies") and bool(contacts) and contacts[0] in self.moved

    def remembered(self, all_engagements_listed: bool) -> dict[str, str]:
        """What the next cursor keeps. A run that listed every engagement starts afresh, so
        contacts no engagement takes its account from any more are forgotten."""
        if all_engagements_listed:
            return dict(sorted(self.derived.items()))
        return dict(sorted({**self.previous, **self.moved, **self.derived}.items()))
