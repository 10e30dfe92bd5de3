"""Turn raw documents (Markdown, reStructuredText, HTML, PDF, DOCX, plain text) into sections.

``load_document(doc)`` picks the loader by media type or file extension and returns a
``ParsedDocument``; anything it cannot read raises ``LoaderError`` with a reason a user can act on.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from knowledge.documents import ParsedDocument, SourceDocument

from ._text import LoaderError
from .docx import load_docx
from .html import load_html
from .markdown import load_markdown
from .pdf import load_pdf
from .rst import load_rst
from .text import load_text

__all__ = ["SUPPORTED_EXTENSIONS", "LoaderError", "load_document", "media_type_for"]

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

_MEDIA_TYPE_BY_EXTENSION = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".rst": "text/x-rst",
    ".txt": "text/plain",
    ".html": "text/html",
    ".htm": "text/html",
    ".pdf": "application/pdf",
    ".docx": DOCX_MEDIA_TYPE,
}
SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(_MEDIA_TYPE_BY_EXTENSION)

# A text loader takes the charset a server declared ("text/html; charset=iso-8859-1") as a hint.
_Loader = Callable[[SourceDocument, str | None], ParsedDocument]
_LOADER_BY_MEDIA_TYPE: dict[str, _Loader] = {
    "text/markdown": load_markdown,
    "text/x-markdown": load_markdown,
    "text/x-rst": load_rst,
    "text/prs.fallenstein.rst": load_rst,
    "text/plain": load_text,
    "text/html": load_html,
    "application/xhtml+xml": load_html,
    "application/pdf": lambda doc, _charset: load_pdf(doc),
    DOCX_MEDIA_TYPE: lambda doc, _charset: load_docx(doc),
}


def media_type_for(uri: str) -> str | None:
    """The media type a file or URL path implies by its extension; None if it is not supported."""
    return _MEDIA_TYPE_BY_EXTENSION.get(_extension(uri))


def load_document(doc: SourceDocument) -> ParsedDocument:
    """Title and ordered sections of ``doc``; raises ``LoaderError`` for anything unreadable."""
    if not doc.content or doc.content.isspace():
        raise LoaderError("no text content")
    media_type, charset = _split_media_type(doc.media_type)
    loader = _LOADER_BY_MEDIA_TYPE.get(media_type or "")
    if loader is None:
        # A connector's generic type (application/octet-stream) says less than the extension.
        loader = _LOADER_BY_MEDIA_TYPE.get(media_type_for(doc.uri) or "")
    if loader is None:
        raise LoaderError(_unsupported_reason(doc))
    try:
        parsed = loader(doc, charset)
    except LoaderError:
        raise
    except RecursionError:
        raise LoaderError("document is nested too deeply to parse") from None
    except Exception as error:  # any parser bug or odd input must surface as a reason, not a crash
        raise LoaderError(f"could not parse {media_type or _extension(doc.uri)}: {error}") from error
    if not any(section.text.strip() for section in parsed.sections):
        raise LoaderError("no text content")
    return parsed


def _split_media_type(value: str | None) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    kind, *params = value.split(";")
    charset = None
    for param in params:
        key, _, param_value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = param_value.strip().strip("\"'") or None
    return kind.strip().lower() or None, charset


def _extension(uri: str) -> str:
    parts = urlsplit(uri)
    path = parts.path if parts.scheme and parts.netloc else uri.split("?", 1)[0].split("#", 1)[0]
    return PurePosixPath(path.replace("\\", "/")).suffix.lower()


def _unsupported_reason(doc: SourceDocument) -> str:
    supported = ", ".join(sorted(SUPPORTED_EXTENSIONS))
    extension = _extension(doc.uri)
    if doc.media_type:
        return f"unsupported media type {doc.media_type!r}; supported files: {supported}"
    if extension:
        return f"unsupported file type {extension!r}; supported: {supported}"
    return f"unknown format: no media type and no file extension; supported: {supported}"
