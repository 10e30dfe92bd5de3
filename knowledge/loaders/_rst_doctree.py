"""A docutils document tree as sections: section titles build the path, body elements become text."""

from __future__ import annotations

import re
from collections.abc import Iterator

from docutils import nodes

from ._sections import SectionBuilder
from ._text import table_row_line

# Elements that never carry text a reader should see: pictures, link targets, comments, parser
# messages (which quote the raw markup), substitution definitions (used where referenced).
_INVISIBLE = (
    nodes.image,
    nodes.comment,
    nodes.system_message,
    nodes.substitution_definition,
    nodes.raw,
    nodes.pending,
    nodes.footnote_reference,
    nodes.citation_reference,
    nodes.label,
    nodes.meta,
    nodes.transition,
)
_SPACE_RUNS = re.compile(r"  +")
_LITERAL = (nodes.literal_block, nodes.doctest_block, nodes.math_block)
_LISTS = (nodes.bullet_list, nodes.enumerated_list)


def add_doctree(builder: SectionBuilder, document: nodes.document) -> None:
    """Feeds the parsed document into ``builder``, one section per docutils section."""
    _add_children(builder, document, depth=0)


def _add_children(builder: SectionBuilder, parent: nodes.Element, depth: int) -> None:
    for child in parent.children:
        if isinstance(child, nodes.section):
            has_title = bool(child.children) and isinstance(child[0], nodes.title)
            builder.heading(depth + 1, inline_text(child[0]) if has_title else "")
            _add_children(builder, child, depth + 1)
        elif isinstance(child, nodes.title) and child.parent is parent and depth:
            continue  # the section's own title, already in the path
        else:
            for block in blocks(child):
                builder.add(block)


def blocks(node: nodes.Node) -> Iterator[str]:
    """Text blocks (paragraphs, whole lists, tables, code) of one body element, in order."""
    if isinstance(node, _INVISIBLE) or isinstance(node, nodes.Text):
        return
    if isinstance(node, _LITERAL):
        yield node.astext()
    elif isinstance(node, _LISTS):
        yield "\n".join(_list_lines(node))
    elif isinstance(node, nodes.table):
        yield from _table_blocks(node)
    elif isinstance(node, nodes.field_list):
        yield "\n".join(_field_lines(node))
    elif isinstance(node, nodes.line_block):
        yield "\n".join(inline_text(line) for line in node.findall(nodes.line))
    elif isinstance(node, nodes.attribution):
        yield "— " + inline_text(node)
    elif isinstance(node, nodes.TextElement):
        # paragraph, title of an admonition or topic, rubric, caption, term
        yield inline_text(node)
    elif isinstance(node, nodes.Element):
        # admonitions, figures, containers, block quotes, definition lists, footnotes
        for child in node.children:
            yield from blocks(child)


def _list_lines(node: nodes.Element) -> Iterator[str]:
    for item in node.children:
        if isinstance(item, nodes.list_item):
            # An item's own paragraphs and nested lists all stay one line each.
            for block in blocks(item):
                yield from (line for line in block.split("\n") if line.strip())


def _field_lines(node: nodes.Element) -> Iterator[str]:
    for field in node.findall(nodes.field):
        name = inline_text(field[0])
        body = " ".join(" ".join(blocks(child)) for child in field[1].children)
        yield f"{name}: {body}" if body else name


def _table_blocks(table: nodes.table) -> Iterator[str]:
    for title in (child for child in table.children if isinstance(child, nodes.title)):
        yield inline_text(title)
    rows = []
    for row in table.findall(nodes.row):
        cells = [" ".join(" ".join(blocks(child)).split()) for child in row.children]
        rows.append(table_row_line(cells))
    yield "\n".join(line for line in rows if line)


def inline_text(node: nodes.Node) -> str:
    """Visible text of a paragraph-like element; source line breaks inside it become spaces."""
    parts: list[str] = []
    _collect_inline(node, parts)
    # Dropped icons and substitutions leave double spaces behind.
    return _SPACE_RUNS.sub(" ", "".join(parts).replace("\n", " "))


def _collect_inline(node: nodes.Node, parts: list[str]) -> None:
    if isinstance(node, nodes.Text):
        parts.append(node.astext())
    elif isinstance(node, _INVISIBLE):
        return
    elif isinstance(node, nodes.substitution_reference):
        parts.append(_substitution_text(node))
    elif isinstance(node, nodes.problematic):
        # What is left of markup docutils could not make sense of (an unmatched "*"): the
        # characters the author typed, which is also what a rendered page would show.
        parts.append(node.astext())
    else:
        for child in node.children:
            _collect_inline(child, parts)


def _substitution_text(reference: nodes.substitution_reference) -> str:
    """``|name|`` defined in the same file as text gives that text; icons and undefined names
    (Sphinx's ``rst_prolog`` lives in conf.py, which a loader never sees) give nothing."""
    document = reference.document
    if document is None:
        return ""
    name = reference.get("refname", "")
    definition = document.substitution_defs.get(name)
    if definition is None:
        normalized = document.substitution_names.get(nodes.fully_normalize_name(name))
        definition = document.substitution_defs.get(normalized) if normalized else None
    if definition is None:
        return ""
    parts: list[str] = []
    for child in definition.children:
        _collect_inline(child, parts)
    return "".join(parts)
