"""Turns a stream of headings and text blocks, as every structured format yields them, into sections."""

from __future__ import annotations

from dataclasses import dataclass, field

from knowledge.documents import ParsedDocument, Section

from ._text import clean_line, clean_text

# Level 1 is a top-level heading (Markdown "#", HTML <h1>, the outermost reST section,
# DOCX "Heading 1"); DOCX's "Title" style sits above it at level 0.
TOP_LEVEL = 1
# Real headings are short (the Zammad docs' longest is 78 characters); a "heading" of many
# sentences is body text marked up wrongly, as machine-made translations often are.
MAX_HEADING_CHARS = 150


@dataclass
class _Run:
    headings: tuple[tuple[int, str], ...]
    blocks: list[str] = field(default_factory=list)


class SectionBuilder:
    """Collects headings and blocks in document order; ``build`` names the sections once the
    title is known."""

    def __init__(self) -> None:
        self._open_headings: list[tuple[int, str]] = []
        self._runs: list[_Run] = [_Run(headings=())]
        self.first_top_heading: str | None = None

    def heading(self, level: int, text: str) -> None:
        text = clean_line(text)
        if not text:
            return
        if len(text) > MAX_HEADING_CHARS:
            self.add(text)
            return
        while self._open_headings and self._open_headings[-1][0] >= level:
            self._open_headings.pop()
        self._open_headings.append((level, text))
        if self.first_top_heading is None and level <= TOP_LEVEL:
            self.first_top_heading = text
        self._runs.append(_Run(headings=tuple(self._open_headings)))

    def add(self, block: str) -> None:
        block = clean_text(block)
        if block:
            self._runs[-1].blocks.append(block)

    def build(self, title: str, warnings: list[str] | tuple[str, ...] = ()) -> ParsedDocument:
        """Sections with their heading paths; a path that does not start at a top-level heading
        (text before the first heading, a document whose headings start at "##") gets the title
        in front so every section says which document it belongs to."""
        sections = []
        for run in self._runs:
            text = "\n\n".join(run.blocks)
            if not text:
                continue
            names = tuple(name for _, name in run.headings)
            if not run.headings or run.headings[0][0] > TOP_LEVEL:
                names = (title, *names)
            sections.append(Section(path=names, text=text))
        if not sections:
            # A snippet that is nothing but a heading (translated notes often are): the
            # heading is the content.
            sections = [
                Section(path=tuple(name for _, name in run.headings), text=run.headings[-1][1])
                for run in self._runs
                if run.headings
            ]
        return ParsedDocument(title=title, sections=sections, warnings=tuple(warnings))
