"""Website chat conversations: the scripts in ``data/chats.yaml`` given to fitting people.

A script goes to a contact of its language whose plan has a phase of the script's stage (and,
for expansion scripts, a phase for a product line the account does not own yet), preferring the
script's persona. Anonymous scripts take place before the person identified on the website;
those that end with an e-mail address send an identify call, which is how the product learns
that an anonymous chatter is a known CRM contact.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

import yaml

from assistant.demo.timeline import Person, Timeline
from assistant.demo.web import Device
from assistant.demo.world import Conversation, Message


def load_scripts() -> list[dict[str, Any]]:
    text = resources.files("assistant.demo").joinpath("data").joinpath("chats.yaml").read_text(encoding="utf-8")
    return list(yaml.safe_load(text))


class ChatWriter:
    def __init__(self, timeline: Timeline, rng: random.Random) -> None:
        self.timeline = timeline
        self.rng = rng
        self.conversations: list[Conversation] = []
        self.messages: list[Message] = []
        self.taken: set[str] = set()
        self.assigned: list[tuple[str, str, bool]] = []
        """(script id, contact id or "" for a visitor, whether the chat began anonymously)."""

    def write_all(self, scripts: list[dict[str, Any]]) -> None:
        for script in scripts:
            if script.get("visitor"):
                self._visitor_chat(script)
                continue
            chosen = self._candidate(script)
            if chosen is not None:
                person, at = chosen
                self._person_chat(script, person, at)

    def _candidate(self, script: dict[str, Any]) -> tuple[Person, datetime] | None:
        """The best-fitting person and a moment in the right phase, or None."""
        fits: list[tuple[int, str, Person, datetime, datetime]] = []
        for person in self.timeline.people.values():
            if person.contact_id in self.taken or person.language != script["language"]:
                continue
            for stage, begin, end, line in person.plan.phases:
                if stage != script["stage"] or (script.get("expansion") and line == person.plan.account.line):
                    continue
                if script.get("anonymous") and person.identified_at is not None and person.identified_at <= begin:
                    continue
                score = (person.plan.persona == script["persona"]) * 2 + (line == script["line"])
                fits.append((score, person.contact_id, person, begin, end))
        if not fits:
            return None
        best = max(f[0] for f in fits)
        _, _, person, begin, end = self.rng.choice(sorted([f for f in fits if f[0] == best], key=lambda f: (f[1], f[3])))
        if script.get("anonymous") and person.identified_at is not None:
            end = min(end, person.identified_at - timedelta(hours=1))
        seconds = max(60, int((end - begin).total_seconds()) - 60)
        return person, begin + timedelta(seconds=self.rng.randint(0, seconds))

    def _person_chat(self, script: dict[str, Any], person: Person, at: datetime) -> None:
        self.taken.add(person.contact_id)
        contact = person.plan.contact
        anonymous = bool(script.get("anonymous"))
        device = person.primary
        values = {"email": contact.email, "first_name": contact.first_name, "company": person.plan.account.account.name}
        traits = {"email": contact.email, "firstName": contact.first_name, "lastName": contact.last_name}
        if not anonymous and device.user_at(at) == "":
            # A known chatter filled in the widget's pre-chat form: the widget identifies them.
            self.timeline.tracker.identify(device, at - timedelta(seconds=30), contact.contact_id, traits, person.language)
            person.identified_at = min(person.identified_at or at, at)
        ended = self._conversation(script, at, device, "" if anonymous else contact.contact_id,
                                   "" if anonymous else contact.account_id, values)
        if anonymous and script.get("identifies") and device.user_at(at) == "":
            self.timeline.tracker.identify(device, ended, contact.contact_id, traits, person.language)
            if person.identified_at is None or ended < person.identified_at:
                person.identified_at = ended
        self.assigned.append((script["id"], contact.contact_id, anonymous))

    def _visitor_chat(self, script: dict[str, Any]) -> None:
        tracker = self.timeline.tracker
        device = tracker.device()
        reference = self.timeline.reference
        at = reference - timedelta(days=self.rng.randint(3, 40), hours=self.rng.randint(0, 10))
        page = self.timeline.page(f"{script['line']}-overview")
        tracker.visit(device, at - timedelta(minutes=3), [page], script["language"], "organic_search", script["line"])
        self._conversation(script, at, device, "", "", {"email": "", "first_name": "", "company": ""})
        self.assigned.append((script["id"], "", True))

    def _conversation(
        self, script: dict[str, Any], at: datetime, device: Device, contact_id: str, account_id: str, values: dict[str, str],
    ) -> datetime:
        conversation_id = f"CV-{len(self.conversations) + 1:03d}"
        language = script["language"]
        page = self.timeline.page(f"{script['line']}-overview")
        self.timeline.tracker.track(device, at, "Chat Started", {"conversation_id": conversation_id}, language, page=page)
        moment = at
        for ordinal, (role, text) in enumerate(script["turns"], 1):
            moment += timedelta(seconds=self.rng.randint(8, 25) if role == "assistant" else self.rng.randint(20, 120))
            self.messages.append(Message(f"{conversation_id}-{ordinal:02d}", conversation_id, ordinal, role, text.format(**values), moment))
        self.conversations.append(Conversation(
            conversation_id, contact_id, device.anonymous_id, account_id, language, at, moment, script["id"],
        ))
        return moment
