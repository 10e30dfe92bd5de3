"""The journey playbook: the shipped defaults, validation errors that name their line, company overrides."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.journey.playbook import DEFAULT_PLAYBOOK, PlaybookError, load_playbook, parse_playbook

STAGES = ["awareness", "consideration", "purchase", "retention", "advocacy"]
PERSONAS = ["skeptic", "experience_seeker", "influencer", "budget_owner", "technical_expert"]

SMALL = """\
version: 1
stages:
  - id: awareness
    name: {de: Aufmerksamkeit, en: Awareness}
    description: {de: neu, en: new}
    cues:
      en: {"what do you do": 3}
  - id: purchase
    name: {de: Kauf, en: Purchase}
    description: {de: kauft, en: buys}
    cues:
      de: {"angebot*": 3, "was kostet": 3}
      en: {"quote": 3}
personas:
  - id: budget_owner
    name: {de: Budget, en: Budget}
    description: {de: entscheidet, en: decides}
    advice: {de: ROI, en: ROI}
    titles:
      en: {cfo: 3}
channels: [email, meeting]
consent_purposes: [marketing_email]
actions:
  - id: offer_discount
    title: {de: Rabatt anbieten, en: Offer a discount}
    channel: meeting
    stages: [purchase]
    personas: [budget_owner]
    eligibility: {cooldown_days: 30, requires_open_deal: true}
    value: 5
  - id: send_case_study
    title: {de: Fallstudie senden, en: Send a case study}
    channel: email
    stages: [awareness]
    eligibility: {consent: marketing_email}
"""


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line containing ``needle``."""
    hits = [number for number, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


def broken(old: str, new: str, occurrence: int = 1) -> str:
    assert SMALL.count(old) >= occurrence, old
    head, *rest = SMALL.split(old)
    return old.join([head, *rest[: occurrence - 1]]) + new + old.join(rest[occurrence - 1:])


def error_of(text: str) -> str:
    with pytest.raises(PlaybookError) as caught:
        parse_playbook(text, "company.yaml")
    return str(caught.value)


def test_the_default_playbook_holds_the_stages_personas_and_actions_of_the_domain() -> None:
    book = load_playbook()
    assert book.stage_ids == STAGES
    assert book.persona_ids == PERSONAS
    expected = {"send_case_study", "send_reviews", "offer_roi_calculation", "offer_technical_deep_dive", "send_demo_video",
                "invite_webinar", "invite_trade_fair", "send_decision_summary", "offer_trial", "offer_discount",
                "propose_sales_call", "onboarding_check_in", "ask_for_review", "ask_for_referral", "propose_upgrade"}
    assert expected <= {action.id for action in book.actions}
    for stage in book.stages:
        assert stage.name.de and stage.name.en and stage.cues.de and stage.cues.en, stage.id
        assert stage.exemplars.de and stage.exemplars.en, stage.id
    for persona in book.personas:
        assert persona.titles.de and persona.titles.en and persona.cues.de and persona.cues.en, persona.id
    assert book.deal_stages["closedwon"].stage == "retention"
    assert book.action("offer_discount").eligibility.requires_open_deal


def test_a_valid_small_playbook_loads() -> None:
    book = parse_playbook(SMALL)
    assert book.stage_ids == ["awareness", "purchase"]
    assert book.action("send_case_study").eligibility.consent == "marketing_email"
    with pytest.raises(KeyError, match="no action 'nope'"):
        book.action("nope")


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        ("    stages: [purchase]", "    stages: [purchse]", "stages: [purchse]", "unknown stage 'purchse'"),
        ("    personas: [budget_owner]", "    personas: [budget_ownr]", "personas: [budget_ownr]", "unknown persona 'budget_ownr'"),
        ("    channel: meeting", "    channel: pigeon", "channel: pigeon", "unknown channel 'pigeon'"),
        ("{consent: marketing_email}", "{consent: newsletter}", "consent: newsletter", "unknown consent purpose 'newsletter'"),
        ('"quote": 3', '"quote": 0', '"quote": 0', "a weight is a number from -5 to 10 other than 0"),
        ('"quote": 3', '"quote": 25', '"quote": 25', "a weight is a number from -5 to 10"),
        ('"quote": 3', '"quote": lots', '"quote": lots', "weight"),
        ('"quote": 3', '"re:(unclosed": 3', "unclosed", "regular expression does not compile"),
        ('"quote": 3', '"*": 3', '"*": 3', "has no letters or digits"),
        ('"was kostet": 3', '"was kostet": 3, "Was  Kostet": 2', "Was  Kostet", "the same cue as 'was kostet'"),
        ("    value: 5", "    value: -1", "value: -1", "greater than or equal to 0"),
        ("{cooldown_days: 30,", "{cooldown_days: -3,", "cooldown_days: -3", "greater than or equal to 0"),
        ("    channel: meeting", "    chanel: meeting", "chanel: meeting", "Extra inputs are not permitted"),
        ("    value: 5", "    value: 5\n    seen_in: {text: {de: {\"re:(x\": 1}}}", "re:(x", "regular expression does not compile"),
        ("    value: 5", "    value: 5\n    seen_in: {typs: {demo: 1}}", "typs", "Extra inputs are not permitted"),
        ("consent_purposes: [marketing_email]", "consent_purposes: [marketing_email]\nlevers: {offer_discout: 2}",
         "offer_discout", "unknown action or channel 'offer_discout'"),
        ("consent_purposes: [marketing_email]", "consent_purposes: [marketing_email]\nlevers: {email: 0}",
         "email: 0", "greater than 0"),
        ("consent_purposes: [marketing_email]", "consent_purposes: [marketing_email]\nlearning: {rewards: {liked: 1}}",
         "liked", "Input should be 'accepted', 'dismissed' or 'converted'"),
    ],
)
def test_a_mistake_is_reported_with_its_line(old: str, new: str, needle: str, message: str) -> None:
    text = broken(old, new)
    error = error_of(text)
    assert f"company.yaml line {line_of(text, needle)}:" in error, error
    assert message in error


def test_a_duplicate_id_names_the_line_of_the_second_one() -> None:
    text = broken("  - id: send_case_study", "  - id: offer_discount")
    error = error_of(text)
    assert f"company.yaml line {line_of(text, '- id: offer_discount', 2)}: actions.1.id: duplicate id 'offer_discount'" in error


def test_a_duplicate_yaml_key_and_bad_yaml_name_their_line() -> None:
    text = broken('"quote": 3', '"quote": 3, "quote": 2')
    assert f"company.yaml line {line_of(text, 'quote')}: 'quote' is given twice" in error_of(text)
    text = broken("    value: 5", "    value: [5")
    assert re.search(r"company\.yaml line \d+: not valid YAML", error_of(text))


def test_every_mistake_is_listed_not_only_the_first() -> None:
    text = broken("    stages: [purchase]", "    stages: [purchse]").replace("channel: meeting", "channel: pigeon")
    error = error_of(text)
    assert "unknown stage 'purchse'" in error and "unknown channel 'pigeon'" in error


def test_a_company_playbook_extends_the_default(tmp_path: Path) -> None:
    company = tmp_path / "acme.yaml"
    company.write_text(
        "extends: default\n"
        "stages:\n"
        "  - id: purchase\n"
        "    cues:\n"
        "      de: {\"rahmenvertrag\": 3.5, \"preis\": null}\n"
        "actions:\n"
        "  - {id: offer_discount, remove: true}\n"
        "  - id: send_acme_magazine\n"
        "    title: {de: Kundenmagazin senden, en: Send the customer magazine}\n"
        "    channel: mail\n"
        "    stages: [retention]\n",
        encoding="utf-8",
    )
    book = load_playbook(company)
    purchase = next(stage for stage in book.stages if stage.id == "purchase")
    assert purchase.cues.de["rahmenvertrag"] == 3.5
    assert "preis" not in purchase.cues.de and "preise" in purchase.cues.de
    assert purchase.cues.en == load_playbook().stages[2].cues.en
    ids = [action.id for action in book.actions]
    assert "offer_discount" not in ids and ids[-1] == "send_acme_magazine"
    assert book.stage_ids == STAGES


def test_a_mistake_in_a_company_file_names_that_file_and_line(tmp_path: Path) -> None:
    company = tmp_path / "acme.yaml"
    text = ("extends: default\n"
            "actions:\n"
            "  - id: send_case_study\n"
            "    stages: [consideration, purchase, loyalty]\n")
    company.write_text(text, encoding="utf-8")
    with pytest.raises(PlaybookError) as caught:
        load_playbook(company)
    assert f"acme.yaml line {line_of(text, 'loyalty')}: actions.0.stages.2: unknown stage 'loyalty'" in str(caught.value)


def test_only_the_default_can_be_extended_and_a_missing_file_is_named(tmp_path: Path) -> None:
    assert "only 'default' can be extended" in error_of("extends: other\n")
    with pytest.raises(PlaybookError, match="cannot read playbook .*missing.yaml"):
        load_playbook(tmp_path / "missing.yaml")
    assert "a playbook is a YAML mapping" in error_of("- just\n- a list\n")


def test_a_full_copy_of_the_default_loads_as_a_company_file(tmp_path: Path) -> None:
    copy = tmp_path / "copy.yaml"
    copy.write_text(DEFAULT_PLAYBOOK.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_playbook(copy).model_dump() == load_playbook().model_dump()
