"""The classifier evaluation's metric code on hand-computed examples, and the labelled set itself.

The subprocess path (``journey classify --jsonl``) is not exercised here: it needs the real
classifier and is covered where that exists.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from evals import classify_eval as ce
from evals.classify_eval import Case

CASES_FILE = ce.DEFAULT_CASES
HARD_SUBTAGS = {"short", "mixed_language", "sarcasm", "conflict", "backward", "typo"}


# -- metrics on hand-computed examples -------------------------------------------------------


def test_accuracy_and_macro_f1_by_hand() -> None:
    gold = ["a", "a", "b", "b", "c"]
    pred = ["a", "b", "b", "b", "a"]
    # a: tp 1, fp 1, fn 1 -> P .5 R .5 F1 .5; b: tp 2, fp 1, fn 0 -> P 2/3 R 1 F1 .8; c: tp 0 -> F1 0
    scores = ce.per_label_scores(gold, pred)
    assert scores["a"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert scores["b"]["precision"] == pytest.approx(2 / 3)
    assert scores["b"]["f1"] == pytest.approx(0.8)
    assert scores["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert ce.macro_f1(gold, pred) == pytest.approx((0.5 + 0.8 + 0.0) / 3)
    assert ce.accuracy(gold, pred) == pytest.approx(0.6)


def test_an_abstention_is_a_miss_but_not_a_label() -> None:
    # a: F1 1; b: its one case abstained -> recall 0, F1 0; None adds no third label
    assert ce.label_set(["a", "b"], ["a", None]) == ["a", "b"]
    assert ce.macro_f1(["a", "b"], ["a", None]) == pytest.approx(0.5)
    assert ce.accuracy(["a", "b"], ["a", None]) == pytest.approx(0.5)


def test_a_label_only_predicted_counts_with_f1_zero() -> None:
    # a: P 1 R .5 F1 2/3; b (never gold): P 0 -> F1 0; macro over both, as sklearn does by default
    assert ce.macro_f1(["a", "a"], ["a", "b"]) == pytest.approx((2 / 3 + 0.0) / 2)
    assert ce.macro_f1(["a", "a"], ["a", "b"], labels=["a"]) == pytest.approx(2 / 3)


def test_macro_f1_of_nothing_and_of_a_perfect_run() -> None:
    assert ce.macro_f1([], []) == 0.0
    assert ce.accuracy([], []) == 0.0
    assert ce.macro_f1(["x", "y", "y"], ["x", "y", "y"]) == 1.0


def test_macro_f1_agrees_with_sklearn() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    gold = ["awareness", "purchase", "retention", "purchase", "advocacy", "retention", "awareness", "purchase"]
    pred = ["awareness", "retention", "retention", "purchase", None, "consideration", "purchase", "purchase"]
    labels = ce.label_set(gold, pred, ce.STAGES)
    expected = metrics.f1_score(gold, [p or ce.ABSTAINED for p in pred], labels=labels, average="macro", zero_division=0)
    assert ce.macro_f1(gold, pred) == pytest.approx(expected)


def test_confusion_matrix_rows_are_gold_in_the_given_order_with_an_abstention_column() -> None:
    matrix = ce.confusion_matrix(["x", "x", "y", "x"], ["x", "y", None, "x"], order=("y", "x"))
    assert list(matrix) == ["y", "x"]
    assert list(matrix["x"]) == ["y", "x", ce.ABSTAINED]
    assert matrix == {"y": {"y": 0, "x": 0, ce.ABSTAINED: 1}, "x": {"y": 1, "x": 2, ce.ABSTAINED: 0}}
    assert sum(sum(row.values()) for row in matrix.values()) == 4
    text = ce.format_confusion(matrix)
    assert text.splitlines()[0].split() == ["gold", "\\", "predicted", "y", "x", ce.ABSTAINED]
    assert text.splitlines()[3].split() == ["x", "1", "2", "0"]


def test_confusion_matrix_without_abstentions_has_no_none_column() -> None:
    matrix = ce.confusion_matrix(["a", "b"], ["b", "b"])
    assert matrix == {"a": {"a": 0, "b": 1}, "b": {"a": 0, "b": 1}}


def _case(id: str, stage: str, persona: str | None, tags: tuple[str, ...], language: str = "en") -> Case:
    return Case(id, language, {"messages": [{"role": "user", "content": id}]}, stage, persona, tags)


def _result(stage: str, persona: str | None, confidence: float = 0.9) -> dict[str, Any]:
    return {"stage": stage, "stage_scores": {s: 0.2 for s in ce.STAGES}, "stage_confidence": 0.7, "persona": persona,
            "persona_scores": {}, "persona_confidence": confidence, "evidence": [{"text": "x", "weight": 1.0}]}


@pytest.fixture
def small_run() -> tuple[list[Case], list[dict[str, Any]]]:
    cases = [_case("en-1", "purchase", "budget_owner", ("no_history",)),
             _case("en-2", "purchase", None, ("no_history", "hard", "short")),
             _case("de-1", "retention", "technical_expert", ("history", "hard", "conflict"), "de"),
             _case("de-2", "awareness", "skeptic", ("history",), "de"),
             _case("de-3", "awareness", None, ("no_history", "hard", "short"), "de")]
    results = [_result("purchase", "budget_owner"),
               _result("purchase", "budget_owner", 0.3),    # null case: low confidence -> abstains
               _result("consideration", "technical_expert"),  # stage wrong
               _result("awareness", "influencer", 0.8),     # persona wrong
               _result("consideration", "skeptic", 0.9)]    # stage wrong; null case answered confidently
    return cases, results


def test_per_tag_and_per_language_breakdown(small_run: tuple[list[Case], list[dict[str, Any]]]) -> None:
    cases, results = small_run
    report = ce.evaluate(cases, results, threshold=0.5)
    stage = report["stage"]["groups"]
    assert list(stage)[:3] == ["all", "de", "en"]
    assert stage["all"] == {"n": 5, "accuracy": pytest.approx(0.6), "macro_f1": pytest.approx(
        ce.macro_f1([c.stage for c in cases], [r["stage"] for r in results]))}
    assert stage["en"]["accuracy"] == 1.0 and stage["de"]["accuracy"] == pytest.approx(1 / 3)
    # tag:short = en-2 (right) and de-3 (awareness -> consideration): labels awareness, purchase, consideration
    assert stage["tag:short"]["n"] == 2 and stage["tag:short"]["accuracy"] == 0.5
    assert stage["tag:short"]["macro_f1"] == pytest.approx((0.0 + 1.0 + 0.0) / 3)
    assert stage["tag:conflict"] == {"n": 1, "accuracy": 0.0, "macro_f1": 0.0}
    assert set(stage) == {"all", "de", "en", "tag:no_history", "tag:history", "tag:hard", "tag:short", "tag:conflict"}
    persona = report["persona"]["groups"]
    assert persona["all"]["n"] == 3  # the two null cases are left out
    assert persona["all"]["accuracy"] == pytest.approx(2 / 3)
    assert persona["tag:short"]["n"] == 0
    # counting the null cases too: en-2's and de-3's personas are false positives of budget_owner and skeptic
    # (budget_owner 2/3, technical_expert 1, skeptic 0, influencer 0)
    assert report["persona"]["with_null_cases"] == {"n": 5, "macro_f1": pytest.approx((2 / 3 + 1 + 0 + 0) / 4)}
    assert [w["id"] for w in report["stage"]["wrong"]] == ["de-1", "de-3"]
    assert report["persona"]["wrong"] == [{"id": "de-2", "expected": "skeptic", "got": "influencer", "confidence": 0.8,
                                           "tags": ["history"]}]
    assert report["contract_problems"] == {}


def test_persona_abstention_on_cases_labelled_null(small_run: tuple[list[Case], list[dict[str, Any]]]) -> None:
    cases, results = small_run
    abstention = ce.evaluate(cases, results, threshold=0.5)["persona_abstention"]
    assert abstention["null_cases"] == 2 and abstention["labelled_cases"] == 3
    assert abstention["null_abstained"] == 1 and abstention["null_abstain_rate"] == 0.5
    assert abstention["labelled_abstain_rate"] == 0.0
    assert abstention["median_confidence_null"] == pytest.approx(0.6)
    sweep = {s["threshold"]: s for s in abstention["sweep"]}
    assert sweep[0.3]["null_abstained"] == 0  # 0.3 is not below 0.3
    assert sweep[0.7]["null_abstained"] == 1
    # at 0.85 only the two 0.9 labelled cases remain answered: both right
    high = ce.abstention_report(cases, results, 0.85)
    assert high["labelled_abstain_rate"] == pytest.approx(1 / 3) and high["selective_accuracy"] == 1.0
    assert ce.abstains({"persona": None, "persona_confidence": 0.99}, 0.5)
    assert ce.abstains({"persona": "skeptic"}, 0.5)


def test_contract_problems_name_what_is_missing() -> None:
    assert ce.contract_problems(_result("purchase", None)) == []
    broken = {"stage": "buying", "persona": "ceo", "stage_confidence": 1.5, "evidence": []}
    problems = ce.contract_problems(broken)
    assert "missing stage_scores" in problems and "missing persona_confidence" in problems
    assert {"unknown stage", "unknown persona", "stage_confidence not in [0, 1]", "no evidence",
            "stage_scores lacks a stage"} <= set(problems)


def test_evaluate_refuses_a_result_count_that_does_not_match() -> None:
    with pytest.raises(ValueError, match="1 results for 2 cases"):
        ce.evaluate([_case("a", "purchase", None, ()), _case("b", "purchase", None, ())], [_result("purchase", None)])


def test_load_cases_reports_the_bad_line(tmp_path: Path) -> None:
    good = {"id": "x-1", "language": "en", "input": {"messages": []}, "stage": "purchase", "persona": None, "tags": []}
    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "id": "x-2", "stage": "buying"}) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"cases.jsonl:2: x-2: invalid stage 'buying'"):
        ce.load_cases(path)
    path.write_text(json.dumps(good) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"cases.jsonl:2: not a valid case"):
        ce.load_cases(path)


def test_dataset_counts_split_by_language() -> None:
    cases = [_case("a", "purchase", None, ("short",)), _case("b", "purchase", "skeptic", (), "de")]
    counts = ce.dataset_counts(cases)
    assert counts["stage"] == {"purchase": {"de": 1, "en": 1, "all": 2}}
    assert counts["persona"] == {"skeptic": {"de": 1, "en": 0, "all": 1}, "null": {"de": 0, "en": 1, "all": 1}}
    assert counts["tag"] == {"short": {"de": 0, "en": 1, "all": 1}}


def test_format_table_aligns_numbers_right_and_text_left() -> None:
    lines = ce.format_table(["group", "n", "accuracy"], [["all", 12, 0.5], ["tag:short", 3, None]]).splitlines()
    assert lines[2] == "all        12     0.500"
    assert lines[3] == "tag:short   3         -"


# -- the labelled set ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def raw_cases() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CASES_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]


def _newest_user_message(case: dict[str, Any]) -> str:
    return [m["content"] for m in case["input"]["messages"] if m["role"] == "user"][-1]


def test_every_case_has_the_documented_shape(raw_cases: list[dict[str, Any]]) -> None:
    for case in raw_cases:
        where = case.get("id")
        assert set(case) == {"id", "language", "input", "stage", "persona", "tags", "note"}, where
        assert re.fullmatch(r"(de|en)-\d{3}", case["id"]) and case["id"][:2] == case["language"], where
        assert case["stage"] in ce.STAGES and (case["persona"] is None or case["persona"] in ce.PERSONAS), where
        assert isinstance(case["note"], str) and len(case["note"]) > 20, where
        given = case["input"]
        assert set(given) <= {"messages", "touchpoints", "deal_stage", "job_title"}, where
        assert given["messages"] and any(m["role"] == "user" for m in given["messages"]), where
        for message in given["messages"]:
            assert set(message) == {"role", "content"} and message["role"] in {"user", "assistant"}, where
            assert isinstance(message["content"], str) and message["content"].strip(), where
        for touchpoint in given.get("touchpoints", []):
            assert set(touchpoint) == {"timestamp", "channel", "kind", "world", "detail"}, where
            datetime.fromisoformat(touchpoint["timestamp"])
            assert touchpoint["kind"] in {"owned", "paid", "earned"} and touchpoint["world"] in {"online", "offline"}, where
        assert "touchpoints" not in given or given["touchpoints"], where
        for key in ("deal_stage", "job_title"):
            assert key not in given or (isinstance(given[key], str) and given[key]), where


def test_ids_and_messages_are_unique(raw_cases: list[dict[str, Any]]) -> None:
    ids = Counter(c["id"] for c in raw_cases)
    assert [i for i, n in ids.items() if n > 1] == []
    conversations = Counter(json.dumps(c["input"], sort_keys=True) for c in raw_cases)
    assert [c for c, n in conversations.items() if n > 1] == []


def test_counts_are_above_the_minimums(raw_cases: list[dict[str, Any]]) -> None:
    assert len(raw_cases) >= 200
    stages = Counter(c["stage"] for c in raw_cases)
    personas = Counter(c["persona"] for c in raw_cases)
    languages = Counter(c["language"] for c in raw_cases)
    assert {s: stages[s] for s in ce.STAGES if stages[s] < 30} == {}
    assert {p: personas[p] for p in ce.PERSONAS if personas[p] < 25} == {}
    assert set(languages) == {"de", "en"} and min(languages.values()) >= 100
    assert abs(languages["de"] - languages["en"]) <= len(raw_cases) // 10
    assert personas[None] <= len(raw_cases) // 5  # null only where truly undeterminable
    for language in ("de", "en"):  # every stage and persona in each language
        subset = [c for c in raw_cases if c["language"] == language]
        assert {c["stage"] for c in subset} == set(ce.STAGES)
        assert {c["persona"] for c in subset} - {None} == set(ce.PERSONAS)


def test_tags_are_known_used_and_consistent(raw_cases: list[dict[str, Any]]) -> None:
    used = Counter(t for c in raw_cases for t in c["tags"])
    assert set(used) == set(ce.TAGS)
    assert min(used.values()) >= 10
    for case in raw_cases:
        tags, given, where = set(case["tags"]), case["input"], case["id"]
        has_history = any(key in given for key in ("touchpoints", "deal_stage", "job_title"))
        assert ("history" in tags, "no_history" in tags) == (has_history, not has_history), where
        if tags & HARD_SUBTAGS:
            assert "hard" in tags, where
        if "conflict" in tags:
            assert has_history, where
        words = len(_newest_user_message(case).split())
        assert ("short" not in tags or words <= 5) and (words > 2 or "short" in tags), where


def test_the_runner_loads_the_set(raw_cases: list[dict[str, Any]]) -> None:
    cases = ce.load_cases(CASES_FILE)
    assert [c.id for c in cases] == [c["id"] for c in raw_cases]
    counts = ce.dataset_counts(cases)
    assert sum(row["all"] for row in counts["language"].values()) == len(raw_cases)


def test_every_labelled_set_loads_with_valid_labels_and_ids_unique_across_sets() -> None:
    """The training sets of the semantic head and the held-out set: valid, and no case in two sets."""
    seen: Counter[str] = Counter()
    for path in [*ce.TRAINING_SETS, *ce.HELD_OUT]:
        cases = ce.load_cases(path)
        assert len(cases) >= 80, path.name
        assert {c.stage for c in cases} == set(ce.STAGES), path.name
        assert {c.persona for c in cases} - {None} == set(ce.PERSONAS), path.name
        seen.update(c.id for c in cases)
    assert [i for i, n in seen.items() if n > 1] == []


def test_a_held_out_run_names_one_set_and_keeps_its_cases_to_itself(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--held-out blind5`` classifies that set only (through the CLI) and lists no case, on screen or in the file."""
    with pytest.raises(SystemExit):
        ce.main(["--held-out", "blind9"])
    with pytest.raises(SystemExit):
        ce.main(["--held-out", "blind5", "--cases", str(CASES_FILE)])
    capsys.readouterr()
    output = tmp_path / "held_out.json"
    report = ce.main(["--held-out", "blind5", "--no-bench", "--output", str(output)])
    shown = capsys.readouterr().out
    written = json.loads(output.read_text(encoding="utf-8"))
    assert written["cases_files"] == [str(path) for path in ce.HELD_OUT_SETS["blind5"]]
    assert report["stage"]["groups"]["all"]["n"] == sum(len(ce.load_cases(p)) for p in ce.HELD_OUT_SETS["blind5"])
    assert "predictions" not in written and "wrong" not in written["stage"] and "wrong" not in written["persona"]
    ids = {case.id for path in ce.HELD_OUT_SETS["blind5"] for case in ce.load_cases(path)}
    assert not any(case_id in shown for case_id in ids)
