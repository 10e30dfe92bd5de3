"""Word (.docx) to sections with python-docx: "Title" and "Heading N" paragraphs build the path."""

from __future__ import annotations

import re
import zipfile
from io import BytesIO

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.paragraph import Paragraph

from knowledge.documents import ParsedDocument, SourceDocument

from ._sections import SectionBuilder
from ._text import LoaderError, clean_line, fallback_title, table_row_line

_HEADING_STYLE = re.compile(r"^heading\s*([1-9])$", re.IGNORECASE)
# "Title" sits above "Heading 1", so a document with both gets the path (Title, Heading 1, ...).
_TITLE_LEVEL = 0


def load_docx(doc: SourceDocument) -> ParsedDocument:
    document = _open(doc.content)
    builder = SectionBuilder()
    list_lines: list[str] = []
    for block in document.iter_inner_content():
        level = _heading_level(block) if isinstance(block, Paragraph) else None
        if isinstance(block, Paragraph) and level is None and _is_list_item(block):
            # Consecutive list paragraphs stay together, one item per line.
            list_lines.append(block.text)
            continue
        if list_lines:
            builder.add("\n".join(list_lines))
            list_lines = []
        if isinstance(block, Table):
            builder.add("\n".join(_table_lines(block)))
        elif level is not None:
            builder.heading(level, block.text)
        else:
            builder.add(block.text)
    builder.add("\n".join(list_lines))
    title = builder.first_top_heading or _core_title(document) or fallback_title(doc)
    return builder.build(title)


def _open(content: bytes):
    try:
        return docx.Document(BytesIO(content))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError):
        # KeyError: a zip archive, but without the parts every .docx has.
        raise LoaderError(
            "unreadable DOCX: not a Word .docx package (an old .doc must be re-saved as .docx)"
        ) from None
    except Exception as error:
        raise LoaderError(f"unreadable DOCX: {error}") from None


def _style_name(paragraph: Paragraph) -> str:
    try:
        return paragraph.style.name if paragraph.style is not None else ""
    except (KeyError, ValueError):  # a style id the document does not define
        return ""


def _heading_level(paragraph: Paragraph) -> int | None:
    name = _style_name(paragraph)
    if name == "Title":
        return _TITLE_LEVEL
    match = _HEADING_STYLE.match(name)
    return int(match.group(1)) if match else None


def _is_list_item(paragraph: Paragraph) -> bool:
    properties = paragraph._p.pPr
    numbered = properties is not None and properties.numPr is not None
    return numbered or _style_name(paragraph).startswith("List")


def _table_lines(table: Table) -> list[str]:
    lines = [table_row_line([cell.text for cell in row.cells]) for row in table.rows]
    return [line for line in lines if line]


def _core_title(document) -> str | None:
    try:
        return clean_line(document.core_properties.title or "") or None
    except Exception:  # damaged docProps only cost the title
        return None
