from knowledge.chunking import chunk_document, embedding_text, section_label
from knowledge.documents import ParsedDocument, Section
from knowledge.text_analysis import analyze_document, analyze_query, tokenize


def test_chunks_keep_their_section_and_never_straddle_sections() -> None:
    parsed = ParsedDocument(
        title="Users",
        sections=[
            Section(("Users",), "Intro paragraph."),
            Section(("Users", "Reference", "Login"), "Login text."),
        ],
    )
    chunks = chunk_document(parsed, max_chars=200, overlap_chars=50)
    assert [(c.ordinal, c.section, c.text) for c in chunks] == [
        (0, "", "Intro paragraph."),
        (1, "Reference > Login", "Login text."),
    ]


def test_long_sections_are_split_with_overlap_and_bounded_size() -> None:
    sentences = [f"Sentence number {i} explains one detail of the feature." for i in range(60)]
    paragraphs = "\n\n".join(" ".join(sentences[i : i + 3]) for i in range(0, 60, 3))
    parsed = ParsedDocument(title="T", sections=[Section(("T", "Long"), paragraphs)])
    chunks = chunk_document(parsed, max_chars=400, overlap_chars=120)
    assert len(chunks) > 5
    assert all(len(c.text) <= 400 for c in chunks)
    for before, after in zip(chunks, chunks[1:]):
        assert before.text.endswith(after.text.split("\n\n")[0])  # the overlap repeats the previous tail
    text = "\n\n".join(c.text for c in chunks)
    assert all(s in text for s in sentences)  # nothing lost


def test_oversized_paragraph_without_sentence_ends_is_hard_split() -> None:
    parsed = ParsedDocument(title="T", sections=[Section(("T",), "x" * 2500)])
    chunks = chunk_document(parsed, max_chars=1000, overlap_chars=0)
    assert [len(c.text) for c in chunks] == [1000, 1000, 500]


def test_labels_and_embedding_text() -> None:
    assert section_label("Users", ("Users", "A", "B")) == "A > B"
    assert section_label("Users", ("Other",)) == "Other"
    assert embedding_text("Users", "A > B", "body") == "Users > A > B\nbody"
    assert embedding_text("Users", "", "body") == "Users\nbody"


def test_analysis_stems_per_language_and_drops_stop_words() -> None:
    assert tokenize("Größe E-Mail") == ["grösse", "e", "mail"]
    assert analyze_document("Die Benutzer werden importiert", "de").split() == ["benutz", "importiert"]
    assert analyze_document("The users were imported", "en").split() == ["user", "import"]
    terms = analyze_query("Wie importiere ich Benutzer?")
    assert "benutz" in terms and "user" not in terms and "wie" not in terms
    assert analyze_query("") == []


def test_reciprocal_rank_fusion_counts_an_item_once_per_group() -> None:
    from knowledge.retrieval import Ranking, reciprocal_rank_fusion

    fused = reciprocal_rank_fusion(
        [Ranking(["a", "b"], 1.0, "dense"), Ranking(["b", "c"], 1.0, "dense"), Ranking(["c", "a"], 0.5, "keyword")], k=10
    )
    assert fused["a"] == 1 / 11 + 0.5 / 12
    assert fused["b"] == 1 / 11  # best of its two dense ranks, not their sum
    assert fused["c"] == 1 / 12 + 0.5 / 11
    assert reciprocal_rank_fusion([]) == {}


def test_connector_globs() -> None:
    from connectors.globs import matches

    assert matches("a.md", ["**/*.md"]) and matches("docs/a.md", ["**/*.md"])
    assert matches("/docs/page", ["/docs/*"]) and not matches("/blog/page", ["/docs/*"])
    assert not matches("a.rst", ["**/*.md"]) and not matches("a.md", [])
