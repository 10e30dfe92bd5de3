"""Plain text: one section named after the document, paragraphs as written."""

from __future__ import annotations

from knowledge.documents import ParsedDocument, SourceDocument

from ._sections import SectionBuilder
from ._text import decode_text, fallback_title


def load_text(doc: SourceDocument, charset: str | None = None) -> ParsedDocument:
    text, warnings = decode_text(doc.content, charset)
    builder = SectionBuilder()
    builder.add(text)
    return builder.build(fallback_title(doc), warnings)
