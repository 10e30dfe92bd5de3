"""Language detection for documents and queries (py3langid, restricted to likely languages)."""

from __future__ import annotations

from functools import lru_cache

SUPPORTED_LANGUAGES = ("de", "en", "fr", "es", "it", "nl", "pt")
UNDETERMINED = "und"


@lru_cache(maxsize=1)
def _identifier():  # type: ignore[no-untyped-def]
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(SUPPORTED_LANGUAGES))
    return identifier


def detect_language(text: str, *, min_chars: int = 12, sample_chars: int = 6000) -> str:
    """ISO 639-1 code of ``text`` (``und`` when too short to tell)."""
    sample = text[:sample_chars].strip()
    if len(sample) < min_chars:
        return UNDETERMINED
    language, _probability = _identifier().classify(sample)
    return str(language)
