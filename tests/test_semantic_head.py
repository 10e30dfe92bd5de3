"""The semantic heads (stage and persona): what they are trained on, that the shipped files match the
shipped playbook, and that the held-out sets never reach them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.journey.playbook import load_playbook
from assistant.journey.semantic import (HEAD_FILE, NO_PERSONA, PERSONA_HEAD_FILE, case_examples, fingerprint, load_head,
                                       load_persona_head, newest_messages, persona_cases, persona_labels, same_text,
                                       stage_examples, train_head)
from evals.classify_eval import HELD_OUT, TRAINING_SETS


def test_the_shipped_head_fits_the_shipped_playbook_and_names_what_it_learned_from() -> None:
    head = load_head(HEAD_FILE)
    playbook = load_playbook()
    assert head is not None
    assert head.fingerprint == fingerprint(head.model, stage_examples(playbook)), "retrain: python -m evals train semantic-head"
    assert head.cases is not None and head.cases["files"] == [path.name for path in TRAINING_SETS]
    texts, record = case_examples(TRAINING_SETS, playbook.stage_ids, HELD_OUT)
    assert record["count"] == head.cases["count"] == len(texts) and record["digest"] == head.cases["digest"]
    assert not {path.name for path in HELD_OUT} & set(head.cases["files"])
    assert head.cases["held_out"] == [path.name for path in HELD_OUT]
    held_out = {same_text(text) for text, _ in newest_messages(HELD_OUT, playbook.stage_ids)}
    assert not held_out & {same_text(text) for text, _ in texts}, "a held-out message is among the training conversations"


def test_the_shipped_persona_head_fits_the_shipped_playbook_and_never_saw_a_held_out_message() -> None:
    playbook = load_playbook()
    stage_head = load_head(HEAD_FILE)
    assert stage_head is not None
    head = load_persona_head(playbook, stage_head.model)
    assert head is not None, "retrain: python -m evals train semantic-head"
    assert head.labels == [*playbook.persona_ids, NO_PERSONA]
    assert head.cases is not None and head.cases["files"] == [path.name for path in TRAINING_SETS]
    texts, record = persona_cases(TRAINING_SETS, playbook, HELD_OUT)
    assert record["count"] == head.cases["count"] == len(texts) and record["digest"] == head.cases["digest"]
    assert {label for _, label in texts} == set(persona_labels(playbook)), "every persona and none is learned"
    held_out = {same_text(text) for text, _ in newest_messages(HELD_OUT, playbook.stage_ids)}
    assert not held_out & {same_text(text) for text, _ in texts}, "a held-out message is among the persona head's conversations"
    # another model's vectors, or other personas, do not fit it: such a playbook works on its cues
    assert load_persona_head(playbook, "another/model") is None
    other = playbook.model_copy(update={"personas": playbook.personas[:4]})
    assert load_persona_head(other, stage_head.model) is None


def test_persona_cases_read_null_as_none_and_name_a_bad_persona_with_its_line(tmp_path: Path) -> None:
    def case(text: str, persona: str | None) -> str:
        return json.dumps({"input": {"messages": [{"role": "user", "content": text}]}, "stage": "consideration", "persona": persona})
    file = tmp_path / "cases.jsonl"
    file.write_text("\n".join([case("Has it got an API?", "technical_expert"), case("Hallo", None)]) + "\n", encoding="utf-8")
    playbook = load_playbook()
    found, record = persona_cases([file], playbook)
    assert found == [("Has it got an API?", "technical_expert"), ("Hallo", NO_PERSONA)] and record["weight"] == 1.0
    file.write_text(case("Has it got an API?", "engineer") + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"cases.jsonl:1: unknown persona 'engineer'"):
        persona_cases([file], playbook)


def test_a_training_message_that_a_held_out_set_also_has_is_not_learned(tmp_path: Path) -> None:
    def case(text: str, stage: str) -> str:
        return json.dumps({"input": {"messages": [{"role": "user", "content": text}]}, "stage": stage})
    training, held_out = tmp_path / "train.jsonl", tmp_path / "held_out.jsonl"
    training.write_text("\n".join([case("Pricing?", "purchase"), case("Do you have an API?", "consideration")]) + "\n",
                        encoding="utf-8")
    held_out.write_text(case("pricing ?", "purchase") + "\n" + case("  PRICING? ", "purchase") + "\n", encoding="utf-8")
    stages = load_playbook().stage_ids
    assert case_examples([training], stages)[0] == [("Pricing?", "purchase"), ("Do you have an API?", "consideration")]
    found, record = case_examples([training], stages, [held_out])
    assert found == [("Do you have an API?", "consideration")]
    assert record["count"] == 1 and record["left_out_as_held_out"] == 1 and record["held_out"] == ["held_out.jsonl"]


def test_a_case_counts_as_its_weight_in_copies() -> None:
    """Weighting a sample by 2 trains the same head as listing it twice."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(12, 5))
    y = ["a", "b", "c"] * 4
    twice = train_head(np.vstack([x, x[:3]]), y + y[:3], ["a", "b", "c"], "m", "t")
    weighted = train_head(x, y, ["a", "b", "c"], "m", "t", [2.0] * 3 + [1.0] * 9)
    assert np.allclose(twice.weights, weighted.weights, atol=1e-5) and np.allclose(twice.bias, weighted.bias, atol=1e-5)
    plain = train_head(x, y, ["a", "b", "c"], "m", "t")
    assert not np.allclose(plain.weights, weighted.weights, atol=1e-3)


def test_cases_give_their_newest_message_and_a_bad_label_names_its_line(tmp_path: Path) -> None:
    good = {"input": {"messages": [{"role": "user", "content": "Was kostet das?"}, {"role": "assistant", "content": "Gern."},
                                   {"role": "user", "content": "Und wie lange dauert die Einführung?"}]}, "stage": "consideration"}
    file = tmp_path / "cases.jsonl"
    file.write_text(json.dumps(good) + "\n\n" + json.dumps({**good, "stage": "loyalty"}) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"cases.jsonl:3: unknown stage 'loyalty'"):
        case_examples([file], load_playbook().stage_ids)
    file.write_text(json.dumps(good) + "\n", encoding="utf-8")
    found, record = case_examples([file], load_playbook().stage_ids)
    assert found == [("Und wie lange dauert die Einführung?", "consideration")] and record["count"] == 1


def test_head_cv_folds_pair_the_languages_of_a_set() -> None:
    from evals.head_cv import folds

    grouped = folds(list(TRAINING_SETS))
    assert list(grouped) == ["cases", "dev", "blind3", "terse", "threads", "indirect", "formal", "history", "voices"]
    assert all(len(paths) == (1 if name == "cases" else 2) for name, paths in grouped.items())
    assert not {path for paths in grouped.values() for path in paths} & set(HELD_OUT)


def test_head_cv_refuses_a_missing_set_or_a_held_out_one(capsys: pytest.CaptureFixture[str]) -> None:
    from evals.head_cv import main

    with pytest.raises(SystemExit):
        main(["--sets", "no/such/set.jsonl"])
    assert "no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--sets", str(TRAINING_SETS[0]), str(HELD_OUT[0])])
    assert "is a held-out set" in capsys.readouterr().err


@pytest.mark.parametrize(("text", "read"), [
    ("Guten Tag,  wir möchten die Testphase in ein Abo umwandeln. Wie läuft das ab?  Mit freundlichen Grüßen Lena Hofmann, Einkauf",
     "wir möchten die Testphase in ein Abo umwandeln. Wie läuft das ab?"),
    ("Dear team, can you send a quote? Cheers, Tom", "can you send a quote?"),
    ("Können Sie mir bitte helfen?\n\nDanke und freundliche Grüße\nS. Roth", "Können Sie mir bitte helfen?"),
    ("Thanks for the demo. Best regards, Anna Smith, Head of IT", "Thanks for the demo."),
    ("Welche Optionen haben wir?  MfG H. Becker Geschäftsführung", "Welche Optionen haben wir?"),
    # not a letter's frame: left as written
    ("Hi there – what exactly does your company do?", "Hi there – what exactly does your company do?"),
    ("this is the best solution we have found so far.", "this is the best solution we have found so far."),
    ("Danke, und Grüße an Herrn Weber, der uns super betreut hat.", "Danke, und Grüße an Herrn Weber, der uns super betreut hat."),
    ("Grüße aus Wien! Was kostet das?", "Grüße aus Wien! Was kostet das?"),
    ("Kind regards", "Kind regards"),  # nothing else to read: the text stays
    ("Our screens are all from LG", "Our screens are all from LG"),
    ("I have two questions with regards to the API", "I have two questions with regards to the API"),
])
def test_the_model_reads_a_letter_without_its_greeting_and_signature(text: str, read: str) -> None:
    """The model reads the end of a message; a signature must not fill it with a name."""
    from assistant.journey.semantic import clip_text, letter_body

    assert letter_body(text) == read
    assert clip_text(text) == " ".join(read.split())
