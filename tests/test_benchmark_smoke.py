"""The benchmark's measuring code on a tiny generated corpus: every figure is there and sane.

No timing thresholds: only that both sides indexed the same files, that an unchanged
re-sync embedded nothing, and that every number the table shows is positive.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evals import benchmark

TOPICS = {
    "tickets.md": "# Tickets\n\nCreate a ticket from an email or the web form.\n\n## Priorities\n\nSet priority 1-3.\n",
    "users.md": "# Users\n\nInvite agents and customers; agents answer tickets.\n",
    "sla.md": "# Service level agreements\n\nAn SLA sets first response and solution times.\n",
    "triggers.md": "# Triggers\n\nTriggers run actions when a ticket is created or updated.\n",
    "reports.md": "# Berichte\n\nBerichte zeigen offene und geschlossene Tickets pro Gruppe.\n",
}


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> list[Path]:
    folders = [tmp_path / "docs" / "admin", tmp_path / "docs" / "user"]
    for number, (name, text) in enumerate(TOPICS.items()):
        folder = folders[number % 2]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text * 20, encoding="utf-8")  # several chunks per file
    (folders[0] / ".hidden").mkdir()
    (folders[0] / ".hidden" / "skip.md").write_text("# Not indexed\n", encoding="utf-8")
    return folders


def test_title_queries_are_the_first_heading_of_each_visible_file(tiny_corpus: list[Path]) -> None:
    queries = benchmark.load_queries(7, tiny_corpus, questions=tiny_corpus[0] / "missing.jsonl")
    assert len(queries) == 7
    assert set(queries) == {"Tickets", "Users", "Service level agreements", "Triggers", "Berichte"}


@pytest.mark.slow
def test_benchmark_reports_every_figure_for_both_sides(tiny_corpus: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    queries = benchmark.load_queries(5, tiny_corpus, questions=tiny_corpus[0] / "missing.jsonl")

    report = benchmark.benchmark(tiny_corpus, queries)

    ours, baseline = report["journey_assistant"], report["langchain_baseline"]
    assert report["machine"]["cpu_count"] >= 1
    assert ours["documents"] == baseline["documents"] == len(TOPICS)
    for side in (ours, baseline):
        for _label, key, _fmt, _kind in benchmark.ROWS:
            assert side[key] > 0, key
        assert side["resync_embedded"] == 0
        assert side["queries"] == 5
    assert ours["failed"] == 0
    assert baseline["resync_unchanged"] == baseline["chunks"]

    benchmark.print_report(report)
    assert "speed-up" in capsys.readouterr().out
