"""Structure-aware chunking: chunks never straddle sections, and keep their heading path.

Within a section, paragraphs are packed up to ``max_chars``; an oversized paragraph is split
on sentence ends, then hard-split. Neighbouring chunks of one section overlap by up to
``overlap_chars`` (whole sentences where possible) so an answer cut at a boundary is still
found.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from knowledge.documents import ChunkDraft, ParsedDocument, Section

_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def section_label(title: str, path: tuple[str, ...]) -> str:
    """The heading path under the document title, e.g. ``Reference Guide > Login``."""
    parts = list(path[1:] if path and path[0] == title else path)
    return " > ".join(p for p in parts if p)


def _pieces(text: str, max_chars: int) -> Iterator[str]:
    """Paragraphs no longer than ``max_chars`` (long ones cut at sentences, then hard)."""
    for paragraph in _PARAGRAPH_BREAK.split(text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if len(paragraph) <= max_chars:
            yield paragraph
            continue
        for sentence in _SENTENCE_END.split(paragraph):
            while len(sentence) > max_chars:
                cut = sentence.rfind(" ", 0, max_chars)
                cut = cut if cut > max_chars // 2 else max_chars
                yield sentence[:cut].strip()
                sentence = sentence[cut:].strip()
            if sentence:
                yield sentence


def _tail(pieces: list[str], overlap_chars: int) -> list[str]:
    """The trailing text of a chunk that fits in the overlap budget: whole pieces, and
    whole sentences of the piece that no longer fits."""
    tail: list[str] = []
    size = 0
    for piece in reversed(pieces):
        if size + len(piece) <= overlap_chars:
            tail.insert(0, piece)
            size += len(piece) + 2
            continue
        sentences: list[str] = []
        for sentence in reversed(_SENTENCE_END.split(piece)):
            if size + len(sentence) > overlap_chars:
                break
            sentences.insert(0, sentence)
            size += len(sentence) + 1
        if sentences:
            tail.insert(0, " ".join(sentences))
        break
    return tail


def chunk_section(section: Section, max_chars: int, overlap_chars: int) -> Iterator[str]:
    current: list[str] = []
    size = 0
    fresh = 0  # pieces in ``current`` not already emitted as overlap
    for piece in _pieces(section.text, max_chars):
        if current and size + len(piece) > max_chars:
            yield "\n\n".join(current)
            current = _tail(current, overlap_chars)
            size = sum(len(p) + 2 for p in current)
            fresh = 0
        current.append(piece)
        size += len(piece) + 2
        fresh += 1
    if current and fresh:
        yield "\n\n".join(current)


def chunk_document(parsed: ParsedDocument, max_chars: int = 1000, overlap_chars: int = 150) -> list[ChunkDraft]:
    """All chunks of a document, in order, each with its section label."""
    drafts: list[ChunkDraft] = []
    for section in parsed.sections:
        label = section_label(parsed.title, section.path)
        for text in chunk_section(section, max_chars, overlap_chars):
            drafts.append(ChunkDraft(ordinal=len(drafts), text=text, section=label))
    return drafts


def embedding_text(title: str, section: str, text: str) -> str:
    """What is embedded for a chunk: its text prefixed with where it sits."""
    heading = f"{title} > {section}" if section else title
    return f"{heading}\n{text}" if heading else text
