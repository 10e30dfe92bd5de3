"""PDF to sections with pypdf: one section per page, named by the outline chapter when there is one."""

from __future__ import annotations

import bisect
import re
from io import BytesIO

from pypdf import PdfReader
from pypdf.errors import DependencyError

from knowledge.documents import ParsedDocument, Section, SourceDocument

from ._text import LoaderError, clean_line, clean_text, fallback_title

# Producers fill the title field with placeholders and file names more often than with titles.
_PLACEHOLDER_TITLE = re.compile(
    r"^(untitled.*|title|document\d*|microsoft (word|powerpoint) - .*|.*\.(docx?|pdf|tex|indd|odt))$",
    re.IGNORECASE,
)


def load_pdf(doc: SourceDocument) -> ParsedDocument:
    reader = _open(doc.content)
    title = _metadata_title(reader) or fallback_title(doc)
    chapters = _top_level_chapters(reader)
    sections: list[Section] = []
    warnings: list[str] = []
    for number, page in enumerate(reader.pages, start=1):
        try:
            text = clean_text(page.extract_text() or "")
        except Exception as error:  # one broken content stream should not cost the other pages
            warnings.append(f"page {number}: text could not be extracted ({error})")
            continue
        if text:
            chapter = _chapter_of(chapters, number - 1)
            path = (title, chapter, f"Page {number}") if chapter else (title, f"Page {number}")
            sections.append(Section(path=path, text=text))
    if not sections:
        raise LoaderError("PDF has no extractable text (scanned image?)")
    return ParsedDocument(title=title, sections=sections, warnings=tuple(warnings))


def _open(content: bytes) -> PdfReader:
    try:
        reader = PdfReader(BytesIO(content), strict=False)
    except Exception as error:
        raise LoaderError(f"unreadable PDF: {error}") from None
    if reader.is_encrypted:
        # Many PDFs are encrypted only against editing, with an empty password for reading.
        try:
            unlocked = reader.decrypt("")
        except DependencyError:
            raise LoaderError(
                "unreadable PDF: AES-encrypted; reading it needs the 'cryptography' package"
            ) from None
        except Exception as error:
            raise LoaderError(f"unreadable PDF: encrypted ({error})") from None
        if not unlocked:
            raise LoaderError("unreadable PDF: encrypted with a password; upload an unprotected copy")
    try:
        reader.pages[0]
    except Exception as error:
        raise LoaderError(f"unreadable PDF: {error or 'no pages'}") from None
    return reader


def _metadata_title(reader: PdfReader) -> str | None:
    try:
        title = clean_line(str(reader.metadata.title or "")) if reader.metadata else ""
    except Exception:  # a damaged info dictionary only costs the title
        return None
    return title if title and not _PLACEHOLDER_TITLE.match(title) else None


def _top_level_chapters(reader: PdfReader) -> list[tuple[int, str]]:
    """(first page index, title) of each top-level outline entry, by page; empty without an outline."""
    try:
        entries = [item for item in reader.outline if not isinstance(item, list)]
        chapters = {reader.get_destination_page_number(item): clean_line(str(item.title)) for item in entries}
    except Exception:  # outlines are optional and often broken; pages alone are still fine
        return []
    return sorted((page, name) for page, name in chapters.items() if page is not None and page >= 0 and name)


def _chapter_of(chapters: list[tuple[int, str]], page_index: int) -> str | None:
    position = bisect.bisect_right([page for page, _ in chapters], page_index)
    return chapters[position - 1][1] if position else None
