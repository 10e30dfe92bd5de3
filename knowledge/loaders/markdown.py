"""Markdown (CommonMark plus tables) to sections, walking markdown-it-py's token stream."""

from __future__ import annotations

import html
import re
from functools import lru_cache

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from knowledge.documents import ParsedDocument, SourceDocument

from ._sections import SectionBuilder
from ._text import clean_line, decode_text, fallback_title, table_row_line

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_FRONT_MATTER_LINE = re.compile(r"^([A-Za-z_][\w-]*):[ \t]*(.*)$", re.MULTILINE)
_HTML_DROPPED = re.compile(r"<!--.*?-->|<(script|style)\b.*?</\1\s*>", re.DOTALL | re.IGNORECASE)
_HTML_TAG = re.compile(r"<[^>]*>")
_SPACE_RUNS = re.compile(r"  +")


def load_markdown(doc: SourceDocument, charset: str | None = None) -> ParsedDocument:
    text, warnings = decode_text(doc.content, charset)
    body, front_title = split_front_matter(text)
    builder = SectionBuilder()
    add_markdown(builder, body)
    # A front-matter title is the author's explicit choice, so it beats the first heading.
    title = front_title or builder.first_top_heading or fallback_title(doc)
    return builder.build(title, warnings)


def split_front_matter(text: str) -> tuple[str, str | None]:
    """Removes a leading ``---`` YAML block; returns the rest and the block's ``title``, if any."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    match = _FRONT_MATTER.match(text)
    if not match:
        return text, None
    fields = _front_matter_fields(match.group(1))
    if fields is None:
        # Two thematic breaks around a paragraph, not metadata: keep it as content.
        return text, None
    title = fields.get("title")
    return text[match.end() :], (clean_line(str(title)) or None) if title is not None else None


def _front_matter_fields(block: str) -> dict | None:
    try:
        data = yaml.safe_load(block)
    except yaml.YAMLError:
        data = None
    if isinstance(data, dict):
        return data
    # Front matter that is not valid YAML still usually has readable "key: value" lines.
    lines = dict(_FRONT_MATTER_LINE.findall(block))
    return {key: value.strip("\"' ") for key, value in lines.items()} or None


@lru_cache(maxsize=1)
def _markdown_parser() -> MarkdownIt:
    # Built on first use, not at import: a parser is an engine, and imports stay free of work.
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def add_markdown(builder: SectionBuilder, text: str) -> None:
    """Feeds Markdown ``text`` into ``builder``: headings open sections, blocks become text."""
    _TokenWalker(builder).walk(_markdown_parser().parse(text))


class _TokenWalker:
    """One pass over the flat token stream; lists, quotes and tables are tracked by open/close pairs."""

    def __init__(self, builder: SectionBuilder) -> None:
        self.builder = builder
        self.list_depth = 0
        self.list_lines: list[str] = []
        self.table_lines: list[str] | None = None
        self.row_cells: list[str] = []

    def walk(self, tokens: list[Token]) -> None:
        pending_heading: int | None = None
        for token in tokens:
            if token.type == "heading_open":
                pending_heading = int(token.tag[1:])
            elif token.type == "inline" and pending_heading is not None:
                self.builder.heading(pending_heading, inline_text(token.children or []))
                pending_heading = None
            elif token.type.endswith("_list_open"):
                self.list_depth += 1
            elif token.type.endswith("_list_close"):
                self.list_depth -= 1
                if self.list_depth == 0:
                    self._emit("\n".join(self.list_lines))
                    self.list_lines = []
            else:
                self._leaf_or_table(token)

    def _leaf_or_table(self, token: Token) -> None:
        kind = token.type
        if kind == "inline":
            self._emit(inline_text(token.children or []), inline=True)
        elif kind in ("fence", "code_block"):
            self._emit(token.content.rstrip("\n"))
        elif kind == "html_block":
            self._emit(strip_html(token.content))
        elif kind == "table_open":
            self.table_lines = []
        elif kind == "tr_close" and self.table_lines is not None:
            self.table_lines.append(table_row_line(self.row_cells))
            self.row_cells = []
        elif kind == "table_close" and self.table_lines is not None:
            self._emit("\n".join(line for line in self.table_lines if line))
            self.table_lines = None

    def _emit(self, text: str, inline: bool = False) -> None:
        if self.table_lines is not None and inline:
            self.row_cells.append(text)
        elif self.list_depth:
            # List items stay one per line; code inside an item keeps its own lines.
            if text.strip():
                self.list_lines.append(text.strip("\n"))
        else:
            self.builder.add(text)


def inline_text(children: list[Token]) -> str:
    """Visible text of an inline run: markup dropped, link text kept, images dropped."""
    parts: list[str] = []
    for child in children:
        if child.type == "image":
            # The alt text lives in the image token's own children, which are skipped with it.
            continue
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "softbreak":
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
        elif child.type == "html_inline" and child.content.lower().startswith("<br"):
            parts.append("\n")
    # Dropped images and inline HTML leave double spaces behind.
    return _SPACE_RUNS.sub(" ", "".join(parts))


def strip_html(fragment: str) -> str:
    """Text of a raw HTML block inside Markdown (``<details>``, ``<div align=center>``)."""
    text = _HTML_DROPPED.sub("", fragment)
    text = re.sub(r"<br\s*/?>|</p>|</div>|</li>|</h\d>", "\n", text, flags=re.IGNORECASE)
    return html.unescape(_HTML_TAG.sub("", text))
