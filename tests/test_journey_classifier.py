"""Stage and persona detection: the rules of domain.md, German and English, evidence, bad input, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from assistant.journey import InvalidJourneyInput, JourneyClassifier, load_playbook
from assistant.journey.classifier import parse_input
from assistant.journey.cues import Cue, CueMatcher
from assistant.journey.profile_input import ContactNotFound, journey_input_for_contact
from assistant.journey.text import parse_pattern, tokenize
from knowledge.db import Database
from knowledge.profiles import ProfileRecord, ProfileStore, Ref

JOURNEY = str(Path(sys.executable).parent / "journey")
NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def classifier() -> JourneyClassifier:
    return JourneyClassifier.from_path()


def at(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat()


def said(*texts: str, **extra: Any) -> dict[str, Any]:
    """The person wrote ``texts`` (the assistant answered in between)."""
    messages: list[dict[str, Any]] = []
    for text in texts:
        if messages:
            messages.append({"role": "assistant", "content": "Gern."})
        messages.append({"role": "user", "content": text})
    return {"messages": messages, **extra}


CUSTOMER_HISTORY = [
    {"timestamp": at(300), "channel": "email", "type": "order", "detail": "order confirmed"},
    {"timestamp": at(280), "channel": "meeting", "type": "onboarding", "detail": "Onboarding kickoff"},
    {"timestamp": at(20), "channel": "support", "type": "support_ticket", "detail": "Ticket: export question"},
]

# ---- German and English, written for these tests ------------------------------------------------

EXAMPLES = [
    ("en", "awareness", None, said("Hi there – what exactly does your company do?")),
    ("de", "awareness", None, said("Guten Tag, was genau bietet Ihre Firma eigentlich an?")),
    ("en", "consideration", "technical_expert", said("Does your gateway speak OPC UA, and is there a REST API for the data?")),
    ("de", "consideration", "skeptic", said("Habt ihr Referenzkunden und ein ISO-27001-Zertifikat? Ich brauche Belege.")),
    ("en", "consideration", "influencer", said("My boss has to approve this – could you send a one-pager I can show him?")),
    ("de", "consideration", "experience_seeker", said("Gibt es ein Video, in dem man das System live in Aktion sieht?")),
    ("en", "purchase", "budget_owner", said("Please send a quote for 40 licences – and what discount do you give for three years?")),
    ("de", "purchase", "budget_owner", said("Wir möchten bestellen. Welches Zahlungsziel und welchen Rabatt bekommen wir?")),
    ("en", "retention", None, said("Since yesterday's update the dashboard doesn't load any more.")),
    ("de", "retention", None, said("Unsere letzte Rechnung ist doppelt abgebucht worden, bitte korrigieren.")),
    ("en", "advocacy", None, said("We're thrilled with the results and happy to be a reference for your other customers!")),
    ("de", "advocacy", None, said("Ich habe euch einem befreundeten Unternehmen weiterempfohlen. Gibt es ein Empfehlungsprogramm?")),
    ("en", "purchase", "budget_owner", said("pricing?", job_title="Head of Procurement")),
    ("de", "retention", None, said("Hilfe!", customer_status="Kunde", touchpoints=CUSTOMER_HISTORY)),
    ("en", "purchase", None, said("thanks", deal_stage="Negotiation/Review",
                                  touchpoints=[{"timestamp": at(3), "channel": "email", "type": "quote_email", "detail": "quote sent"}])),
    ("de", "purchase", "budget_owner", said("Wir brauchen ein quote für 20 seats, what about discount?")),
]


@pytest.mark.parametrize(("language", "stage", "persona", "data"), EXAMPLES, ids=[f"{e[0]}-{e[1]}-{i}" for i, e in enumerate(EXAMPLES)])
def test_german_and_english_examples(classifier: JourneyClassifier, language: str, stage: str, persona: str | None, data: dict[str, Any]) -> None:
    result = classifier.classify_data(data)
    assert (result["stage"], result["persona"]) == (stage, persona), result["evidence"]
    assert set(result["stage_scores"]) == {"awareness", "consideration", "purchase", "retention", "advocacy"}
    assert abs(sum(result["stage_scores"].values()) - 1) < 0.01 and abs(sum(result["persona_scores"].values()) - 1) < 0.01


def test_the_development_examples_of_the_benchmark_are_mostly_right(classifier: JourneyClassifier) -> None:
    from evals.classify_benchmark import DEV_CASES, _macro_f1

    results = [(case, classifier.classify_data(case[3])) for case in DEV_CASES]
    assert _macro_f1([(case[0], r["stage"]) for case, r in results]) >= 0.9
    assert _macro_f1([(case[1], r["persona"]) for case, r in results]) >= 0.85


# ---- the rules of domain.md ------------------------------------------------------------------------

def test_a_customer_evaluating_a_new_product_line_moves_back_to_consideration(classifier: JourneyClassifier) -> None:
    history = {"customer_status": "customer", "touchpoints": CUSTOMER_HISTORY, "deals": [{"stage": "Closed Won", "status": "won", "product_line": "edgebox"}]}
    assert classifier.classify_data(said("The export from EdgeBox fails with an error.", **history))["stage"] == "retention"
    result = classifier.classify_data(said("We'd also like Insight – does it integrate with our MES, and how does it compare to Tulip?",
                                           product_line="insight", customer_product_lines=["edgebox"], **history))
    assert result["stage"] == "consideration"
    assert any(e["source"] == "rule" and e["label"] == "consideration" and "insight" in e["note"] for e in result["evidence"])


def test_history_alone_is_not_the_stage_for_an_unrelated_new_product(classifier: JourneyClassifier) -> None:
    history = {"customer_status": "Kunde", "touchpoints": CUSTOMER_HISTORY}
    assert classifier.classify_data({"messages": [], **history})["stage"] == "retention"
    result = classifier.classify_data(said("Was ist eigentlich dieses neue TrackCloud, das ihr anbietet?", **history))
    assert result["stage"] == "consideration"
    assert any(e["source"] == "rule" for e in result["evidence"])


def test_the_newest_strong_message_wins_but_small_talk_does_not_erase_it(classifier: JourneyClassifier) -> None:
    assert classifier.classify_data(said("What does it cost for 50 users?", "And since the update our app crashes on login."))["stage"] == "retention"
    assert classifier.classify_data(said("Our app crashes on login.", "Unrelated: please send the quote and the contract for the add-on."))["stage"] == "purchase"
    assert classifier.classify_data(said("Was kostet das für 50 Nutzer?", "ok danke"))["stage"] == "purchase"


def test_the_newest_history_wins_over_older_history(classifier: JourneyClassifier) -> None:
    evaluating = [{"timestamp": at(d), "channel": "webinar", "type": "webinar_attended", "detail": "webinar"} for d in (200, 190, 180, 170)]
    bought = [{"timestamp": at(10), "channel": "email", "type": "contract", "detail": "contract signed"},
              {"timestamp": at(2), "channel": "meeting", "type": "onboarding", "detail": "Onboarding kickoff"}]
    assert classifier.classify_data({"messages": [], "touchpoints": evaluating + bought})["stage"] == "retention"
    later = [{**t, "timestamp": at(t_days)} for t, t_days in zip(evaluating, (4, 3, 2, 1))]
    old_purchase = [{**t, "timestamp": at(400)} for t in bought]
    assert classifier.classify_data({"messages": [], "touchpoints": old_purchase + later})["stage"] == "consideration"


def test_a_rep_override_holds_until_newer_evidence_contradicts_it(classifier: JourneyClassifier) -> None:
    override = {"stage": "purchase", "at": at(5), "by": "Ann Rep", "note": "verbal yes on the phone"}
    quiet = classifier.classify_data({"messages": [{"role": "user", "content": "Hallo", "timestamp": at(1)}],
                                      "touchpoints": CUSTOMER_HISTORY[:1], "stage_override": override})
    assert quiet["stage"] == "purchase" and quiet["override"]["held"] is True
    assert any(e["source"] == "override" for e in quiet["evidence"])
    older = classifier.classify_data({"messages": [{"role": "user", "content": "The export crashes with an error.", "timestamp": at(9)}],
                                      "stage_override": override})
    assert older["stage"] == "purchase" and older["override"]["held"] is True
    newer = classifier.classify_data({"messages": [{"role": "user", "content": "The export crashes with an error.", "timestamp": at(1)}],
                                      "stage_override": override})
    assert newer["stage"] == "retention"
    assert newer["override"] == {"stage": "purchase", "at": at(5), "by": "Ann Rep", "held": False, "contradicted_by": "retention"}


# ---- evidence, robustness ----------------------------------------------------------------------------

def test_every_decision_carries_its_evidence(classifier: JourneyClassifier) -> None:
    result = classifier.classify_data(said("Können Sie mir ein Angebot über 20 Lizenzen schicken?", job_title="Einkaufsleiterin"))
    stage_items = [e for e in result["evidence"] if e["for"] == "stage"]
    assert stage_items[0]["label"] == "purchase" and stage_items[0]["source"] in ("message", "semantic")
    cue = next(e for e in stage_items if e["source"] == "message")
    assert cue["ref"] == 0 and cue["cue"] and cue["matched"] and cue["weight"] > 0
    title = next(e for e in result["evidence"] if e["for"] == "persona" and e["source"] == "job_title")
    assert title["label"] == "budget_owner" and title["text"] == "Einkaufsleiterin"


def test_too_little_signal_gives_no_persona_and_a_low_confidence(classifier: JourneyClassifier) -> None:
    for data in (said("ok"), said("Hallo, habt ihr kurz Zeit?"), {"messages": []}):
        result = classifier.classify_data(data)
        assert result["persona"] is None and result["persona_signal"] == "too little"
        assert result["persona_confidence"] < 0.3
        assert any("too little signal" in note for note in result["notes"])
    assert classifier.classify_data(said("ok", job_title="CFO"))["persona"] == "budget_owner"


def test_a_role_named_in_a_message_counts_like_a_job_title(classifier: JourneyClassifier) -> None:
    from assistant.journey.persona import self_described_roles

    assert self_described_roles("Hi, I'm the CFO of a mid-sized logistics firm.") == ["CFO"]
    assert self_described_roles("I’m the CFO") == ["CFO"]  # a typographic apostrophe
    assert self_described_roles("ich bin Elektroingenieur und betreue die Anlagen") == ["Elektroingenieur"]  # "und" ends the phrase
    assert self_described_roles("As IT lead, I decide") == ["IT lead"]
    assert "it" not in " ".join(self_described_roles("I'm sure it works")).split()  # lower-case "it" is no role
    cases = [
        ("Hi, I'm the CFO here. Quick question about your product.", "budget_owner"),
        ("As IT lead I have a quick question about your product.", "technical_expert"),
        ("Ich bin Elektroingenieur und habe eine Frage zu Ihrem Produkt.", "technical_expert"),
        ("I'm with the procurement department and have a question about your product.", "budget_owner"),
    ]
    for text, persona in cases:
        result = classifier.classify_data(said(text))
        assert result["persona"] == persona, (text, result["persona_scores"])
        named = [e for e in result["evidence"] if e["for"] == "persona" and e["source"] == "message"
                 and e["label"] == persona and "names their role" in e.get("note", "")]
        assert named, result["evidence"]
    # without the introduction the same words name nobody's role
    assert classifier.classify_data(said("I'm sure it works. Quick question about your product."))["persona"] is None


def test_an_empty_conversation_is_answered_from_history_or_with_low_confidence(classifier: JourneyClassifier) -> None:
    nothing = classifier.classify_data({"messages": []})
    assert nothing["stage"] == "awareness" and nothing["stage_confidence"] < 0.3
    assert "no conversation and no history" in " ".join(nothing["notes"])
    history = classifier.classify_data({"messages": [], "deal_stage": "Contract Sent"})
    assert history["stage"] == "purchase" and "from the history" in " ".join(history["notes"])


def test_two_hundred_messages_are_fine(classifier: JourneyClassifier) -> None:
    messages = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"Frage {i}: wie exportiere ich Berichte?"} for i in range(199)]
    messages.append({"role": "user", "content": "Und was kostet eine zusätzliche Lizenz?"})
    result = classifier.classify_data({"messages": messages})
    assert result["stage"] == "purchase"
    assert all(e.get("ref", 199) >= 180 for e in result["evidence"] if e["for"] == "stage")


def test_typos_compounds_negation_and_mixed_language() -> None:
    matcher = CueMatcher(
        [Cue("consideration", parse_pattern("integration"), 2.5), Cue("purchase", parse_pattern("kosten"), 2.5, language="de"),
         Cue("purchase", parse_pattern("angebot*"), 3, language="de"), Cue("purchase", parse_pattern("quote"), 3)],
        negators=["kein", "not", "dont"],
    )
    found = {m.cue.text: m for m in matcher.match(tokenize("Integartion mit SAP? Die Lizenzkosten? Wir brauchen noch kein Angebot."))}
    assert found["integration"].how == "fuzzy" and found["integration"].matched == "integartion"
    assert found["kosten"].how == "compound" and found["kosten"].matched == "lizenzkosten"
    assert found["angebot*"].negated and found["angebot*"].weight == 0
    asked = {m.cue.text: m for m in matcher.match(tokenize("Gibt es kein Angebot für Schulen? Send me a quote"))}
    assert not asked["angebot*"].negated and asked["quote"].weight == 3


def test_sarcastic_praise_is_read_as_a_complaint(classifier: JourneyClassifier) -> None:
    for text in ("Na toll, schon wieder abgestürzt. Super Produkt.", "Oh great, another outage. Love it."):
        result = classifier.classify_data(said(text))
        assert result["stage"] == "retention", result["evidence"]
    assert classifier.classify_data(said("We love the product and would happily recommend you!"))["stage"] == "advocacy"


def test_bad_input_is_named(classifier: JourneyClassifier) -> None:
    with pytest.raises(InvalidJourneyInput, match="messages"):
        classifier.classify_data({"messages": 5})
    with pytest.raises(InvalidJourneyInput, match="touchpoints.0.timestamp"):
        classifier.classify_data({"messages": [], "touchpoints": [{"timestamp": "last tuesday"}]})
    with pytest.raises(InvalidJourneyInput, match="JSON object"):
        classifier.classify_data(["not", "an", "object"])
    result = classifier.classify_data({"messages": ["Was kostet das?"], "expected_stage": "purchase"})
    assert result["stage"] == "purchase" and result["ignored_fields"] == ["expected_stage"]


@pytest.mark.parametrize(("text", "persona"), [
    ("Honestly, every vendor promises that. Why should I believe it works for us?", "skeptic"),
    ("What will this save us per year compared to what we pay now?", "budget_owner"),
])
def test_the_semantic_model_reads_a_persona_no_cue_names(classifier: JourneyClassifier, text: str, persona: str) -> None:
    cues_only = JourneyClassifier(load_playbook())
    assert cues_only.classify_data(said(text))["persona"] is None, "the cues alone name this one: pick another example"
    result = classifier.classify_data(said(text))
    assert result["persona"] == persona, result["persona_scores"]
    read = [e for e in result["evidence"] if e["for"] == "persona" and e["source"] == "semantic"]
    assert read and read[0]["label"] == persona and read[0]["weight"] > 0 and read[0]["ref"] == 0
    assert read[0]["note"].startswith(f"the message reads like {persona} (p = ") and "like nobody in particular" in read[0]["note"]


def test_the_persona_reading_is_a_playbook_setting_and_clear_evidence_needs_no_model(classifier: JourneyClassifier) -> None:
    from assistant.journey.persona import PersonaDetector

    text = "Honestly, every vendor promises that. Why should I believe it works for us?"
    playbook = load_playbook()
    persona_scoring = playbook.scoring.persona.model_copy(update={"semantic_weight": 0.0})
    off = playbook.model_copy(update={"scoring": playbook.scoring.model_copy(update={"persona": persona_scoring})})
    assert JourneyClassifier(off, classifier.semantic).classify_data(said(text))["persona"] is None
    asked: list[str] = []

    def reading(message: str) -> dict[str, float]:
        asked.append(message)
        return {"skeptic": 0.1, "technical_expert": 0.2, "none": 0.7}

    detector = PersonaDetector(playbook)
    quiet = detector.detect(parse_input(said("Hallo, habt ihr kurz Zeit?")), semantic=reading)
    assert asked == ["Hallo, habt ihr kurz Zeit?"] and quiet.persona is None  # reads like nobody: names nobody
    sure = detector.detect(parse_input(said("What discount and payment terms do you offer?", job_title="CFO")), semantic=reading)
    assert len(asked) == 1 and sure.persona == "budget_owner", "title and words decided: the model was not asked"


def test_the_classifier_works_without_the_semantic_model() -> None:
    cues_only = JourneyClassifier(load_playbook())
    result = cues_only.classify_data(said("Can you send me a quote?"))
    assert result["stage"] == "purchase" and all(e["source"] != "semantic" for e in result["evidence"])


# ---- the stored profile ---------------------------------------------------------------------------

def load_profile(db: Database) -> None:
    ProfileStore(db).write("crm", [
        ProfileRecord("account", "acme", {"name": "Acme GmbH", "customer_status": "Kunde"}),
        ProfileRecord("product", "edge", {"name": "EdgeBox G2", "product_line": "edgebox"}),
        ProfileRecord("contact", "jane", {"full_name": "Jane Roe", "email": "jane@acme.example", "account_id": Ref("account", "acme"),
                                          "job_title": "Leiterin Einkauf", "department": "Einkauf"}),
        ProfileRecord("deal", "d1", {"account_id": Ref("account", "acme"), "contact_id": Ref("contact", "jane"), "status": "won",
                                     "stage": "Gewonnen", "closed_on": "2024-06-01"}),
        ProfileRecord("deal_product", "d1-edge", {"deal_id": Ref("deal", "d1"), "product_id": Ref("product", "edge")}),
        ProfileRecord("touchpoint", "t1", {"occurred_at": datetime(2024, 7, 1, tzinfo=UTC), "type": "onboarding", "channel": "meeting",
                                           "contact_id": Ref("contact", "jane"), "title": "Onboarding"}),
        ProfileRecord("conversation", "c1", {"contact_id": Ref("contact", "jane"), "started_at": datetime(2024, 9, 1, tzinfo=UTC)}),
        ProfileRecord("message", "m1", {"conversation_id": Ref("conversation", "c1"), "ordinal": 0, "role": "user",
                                        "content": "Seit dem Update stürzt die EdgeBox ständig ab."}),
    ])


def test_a_stored_contact_becomes_classifier_input(database_url: str, classifier: JourneyClassifier) -> None:
    db = Database(database_url)
    db.migrate()
    load_profile(db)
    try:
        journey = journey_input_for_contact(db, "jane@acme.example", now=datetime(2024, 9, 2, tzinfo=UTC))
        assert journey.job_title == "Leiterin Einkauf" and journey.customer_status == "Kunde"
        assert journey.customer_product_lines == ["edgebox"] and journey.deals[0].stage == "Gewonnen"
        assert [m.content for m in journey.messages] == ["Seit dem Update stürzt die EdgeBox ständig ab."]
        result = classifier.classify(journey).to_dict()
        assert (result["stage"], result["persona"]) == ("retention", "budget_owner")
        with pytest.raises(ContactNotFound, match="no contact 'nobody'"):
            journey_input_for_contact(db, "nobody")
    finally:
        db.dispose()


# ---- the command line ------------------------------------------------------------------------------

def run(*args: str, stdin: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([JOURNEY, "classify", *args], input=stdin, capture_output=True, text=True, timeout=300,
                          cwd=cwd, env={**os.environ, "JOURNEY_CONFIG": "/nonexistent.toml"})


@pytest.mark.slow
def test_cli_json_prints_the_documented_object(tmp_path: Path) -> None:
    data = {"messages": [{"role": "user", "content": "Was kostet die Enterprise-Lizenz pro Jahr?"}],
            "touchpoints": [{"timestamp": at(2), "channel": "web", "kind": "owned", "world": "online", "detail": "pricing page"}],
            "deal_stage": None, "job_title": "CFO"}
    result = run("--json", "--workspace", str(tmp_path / "ws"), stdin=json.dumps(data))
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert {"stage", "stage_scores", "stage_confidence", "persona", "persona_scores", "persona_confidence", "evidence"} <= set(output)
    assert (output["stage"], output["persona"]) == ("purchase", "budget_owner")
    assert not (tmp_path / "ws").exists(), "classifying stdin must not create a workspace"


@pytest.mark.slow
def test_cli_jsonl_answers_every_line_and_names_bad_ones() -> None:
    lines = [json.dumps(said("How do I reset my password?")), "{not json", json.dumps({"messages": 5}), "",
             json.dumps(said("Wir würden euch gern weiterempfehlen!"))]
    result = run("--jsonl", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a.get("stage") for a in answers] == ["retention", None, None, "advocacy"]
    assert answers[1] == {"line": 2, "error": answers[1]["error"]} and "not valid JSON" in answers[1]["error"]
    assert answers[2]["line"] == 3 and "messages" in answers[2]["error"]


@pytest.mark.slow
def test_cli_bad_input_exits_2_with_a_clear_message(tmp_path: Path) -> None:
    for stdin, message in (('{"messages": [', "stdin is not valid JSON"), ("", "no input on stdin"),
                           ('{"messages": "x", "touchpoints": 3}', "invalid input: touchpoints")):
        result = run("--json", stdin=stdin)
        assert result.returncode == 2 and message in result.stderr, result.stderr
    playbook = tmp_path / "acme.yaml"
    playbook.write_text("extends: default\nactions:\n  - id: offer_discount\n    stages: [purchace]\n", encoding="utf-8")
    result = run("--json", "--playbook", str(playbook), stdin=json.dumps(said("hi")))
    assert result.returncode == 2 and "acme.yaml line 4" in result.stderr and "unknown stage 'purchace'" in result.stderr


@pytest.mark.slow
def test_cli_classifies_a_stored_contact(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    db = Database(f"sqlite:///{workspace / 'journey.db'}")
    db.migrate()
    load_profile(db)
    db.dispose()
    result = run("--contact", "crm:contact:jane", "--json", "--workspace", str(workspace))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["persona"] == "budget_owner"
    missing = run("--contact", "crm:contact:nobody", "--json", "--workspace", str(workspace))
    assert missing.returncode == 2 and "no contact 'crm:contact:nobody'" in missing.stderr


def test_a_short_yes_agrees_to_what_the_assistant_asked(classifier: JourneyClassifier) -> None:
    asked = {"role": "assistant", "content": "Glad it went well! Would you be open to writing a review for us on G2?"}
    opener = {"role": "user", "content": "the rollout went fine, thanks"}
    yes = classifier.classify_data({"messages": [opener, asked, {"role": "user", "content": "sure, why not"}]})
    assert yes["stage"] == "advocacy", yes["stage_scores"]
    agreed = [e for e in yes["evidence"] if e["for"] == "stage" and e["ref"] == 1 and "agreed" in e.get("note", "")]
    assert agreed and max(agreed, key=lambda e: e["weight"])["label"] == "advocacy"
    no = classifier.classify_data({"messages": [opener, asked, {"role": "user", "content": "nope, not now"}]})
    assert no["stage"] != "advocacy" and not [e for e in no["evidence"] if e.get("ref") == 1]
    # a reply that says something of its own is read on its own
    own = classifier.classify_data({"messages": [opener, asked, {"role": "user", "content": "how do I export reports?"}]})
    assert own["stage"] == "retention" and not [e for e in own["evidence"] if e.get("ref") == 1]


def test_a_strong_frame_is_what_its_clause_says() -> None:
    """"euer Referenzkundenprogramm" is the programme for customers who advocate: the
    consideration word "Referenzkunde" (references being read) inside the frame is part of it."""
    from assistant.journey.playbook import parse_playbook

    text = "Wie funktioniert euer Referenzkundenprogramm?"
    framed = JourneyClassifier(load_playbook()).classify_data(said(text))
    assert framed["stage"] == "advocacy", framed["stage_scores"]
    assert not [e for e in framed["evidence"] if e["for"] == "stage" and e["label"] == "consideration" and e["source"] == "message"]
    off = parse_playbook("extends: default\nscoring: {stage: {frames_override_from: 1000}}\n")
    loose = JourneyClassifier(off).classify_data(said(text))
    assert [e for e in loose["evidence"] if e["for"] == "stage" and e["label"] == "consideration" and e.get("matched") == "referenzkundenprogramm"]


def test_one_decisive_cue_is_not_outweighed_by_topic_words() -> None:
    """Per stage, a message's strongest cue counts fully and every other one ``message_rest_share``."""
    from assistant.journey.playbook import parse_playbook

    text = "Please send a quote and the order form for the licence renewal price list."
    for share in (0.7, 0.4):
        book = parse_playbook(f"extends: default\nscoring: {{stage: {{message_rest_share: {share}}}}}\n")
        result = JourneyClassifier(book).classify_data(said(text))
        purchase = sorted((e for e in result["evidence"] if e["for"] == "stage" and e["label"] == "purchase" and e["source"] == "message"),
                          key=lambda e: -e["weight"])
        assert len(purchase) >= 2
        raw = {cue.text: cue.weight for cue in JourneyClassifier(book).stages._messages._regex + [
            c for cues in JourneyClassifier(book).stages._messages._exact.values() for c in cues] + [
            c for cues in JourneyClassifier(book).stages._messages._prefix.values() for c in cues]}
        top, other = purchase[0], purchase[1]
        expected = share * raw[other["cue"]] / raw[top["cue"]]
        assert abs(other["weight"] / top["weight"] - expected) < 0.01, (share, purchase)


def test_a_first_visit_after_a_forum_thread_or_a_referral_is_a_newcomer_not_a_customer(classifier: JourneyClassifier) -> None:
    """Community and referral touchpoints look like advocacy, but next to a first visit they are how
    a newcomer found the company: no "a customer asking what something is" rule."""
    first_visit = {"timestamp": at(0.05), "channel": "website", "detail": "First visit, homepage"}
    for found_us in ({"timestamp": at(0.1), "channel": "community", "kind": "earned", "detail": "Read a thread in a user forum"},
                     {"timestamp": at(0.1), "channel": "ai_chat", "kind": "earned", "detail": "Referred from an AI assistant answer"}):
        result = classifier.classify_data(said("Never heard of you before. What do you actually offer?", touchpoints=[found_us, first_visit]))
        assert result["stage"] == "awareness", result["stage_scores"]
        assert not [e for e in result["evidence"] if e["source"] == "rule"], found_us
        referral = [e for e in result["evidence"] if e["source"] == "touchpoint" and e.get("matched") == "referred from"]
        assert all(e["label"] == "awareness" or e["weight"] < 0 for e in referral)


@pytest.mark.parametrize("text", [
    "Ihre Empfehlung ist Paket B – gibt es darauf einen Rabatt?",
    "Kann ich meine Frage auch im Forum stellen?",
    "You recommended the Pro plan – is there a discount for two years?",
    "I was referred by a partner, do you offer a discount for startups?",
    "Our supplier referred us to you, can you send the price list?",
    "We got referred by our integrator, what do you offer?",
    "Can I post my question in the forum instead?",
])
def test_advocacy_frames_leave_their_look_alikes_alone(classifier: JourneyClassifier, text: str) -> None:
    """A recommendation *received*, a support question in the forum: not someone advocating."""
    assert classifier.classify_data(said(text))["stage"] != "advocacy"


@pytest.mark.parametrize("text", [
    "Feel free to use our numbers in the case study.",
    "Wir haben euch an zwei Partner weiterempfohlen – gibt es dafür eine Gutschrift?",
])
def test_advocacy_frames_find_the_offer_next_to_its_topic_words(classifier: JourneyClassifier, text: str) -> None:
    assert classifier.classify_data(said(text))["stage"] == "advocacy"
