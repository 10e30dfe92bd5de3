"""HTML pages to sections: main content only, without navigation, headers, footers or banners.

trafilatura finds the main content of real-world pages best; its Markdown output keeps the
headings, which the Markdown loader turns into sections. Short pages where it finds nothing, and
installations where it cannot be imported, go through a BeautifulSoup walk that drops the usual
boilerplate elements and splits on ``<h1>``-``<h6>``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from types import ModuleType

from bs4 import BeautifulSoup, NavigableString, Tag

from knowledge.documents import ParsedDocument, SourceDocument

from ._sections import SectionBuilder
from ._text import clean_line, decode_text, fallback_title, table_row_line
from .markdown import add_markdown

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")

# Not "form": ASP.NET-style pages wrap their whole body in one.
_BOILERPLATE_TAGS = ["script", "style", "noscript", "template", "nav", "aside", "iframe", "svg",
                     "canvas", "button", "select", "dialog", "object", "embed"]  # fmt: skip
# Class and id matching never removes these, nor anything that contains them: a
# <body class="has-sidebar"> is not a sidebar.
_CONTENT_ROOTS = ["html", "body", "main", "article"]
_BOILERPLATE_ROLES = re.compile(r"^(navigation|banner|contentinfo|complementary|search|dialog|alert)$")
_BOILERPLATE_NAMES = re.compile(
    r"(^|[-_\s])(cookies?|consent|gdpr|sidebar|breadcrumbs?|navbar|menu|skip-?link|share|social|"
    r"newsletter|popup|modal)([-_\s]|$)",
    re.IGNORECASE,
)
# Stands in for <br> while whitespace is collapsed: a private-use character no page contains.
_LINE_BREAK = "\ue000"
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_BLOCK_TAGS = frozenset(
    {"address", "article", "blockquote", "body", "caption", "center", "dd", "details", "div", "dl",
     "dt", "fieldset", "figcaption", "figure", "footer", "form", "header", "hgroup", "hr", "li",
     "main", "ol", "p", "pre", "section", "summary", "table", "ul", *_HEADINGS}
)  # fmt: skip
_BLOCK_TAG_NAMES = sorted(_BLOCK_TAGS)  # bs4's find() wants a list


def load_html(doc: SourceDocument, charset: str | None = None) -> ParsedDocument:
    hint = charset or _meta_charset(doc.content)
    text, warnings = decode_text(doc.content, hint)
    text = _XML_DECLARATION.sub("", text, count=1)
    soup = BeautifulSoup(text, "lxml")
    page_title = _page_title(soup)
    builder = SectionBuilder()
    main_markdown = _main_content_markdown(text, doc.uri)
    if main_markdown:
        add_markdown(builder, main_markdown)
    else:
        _add_soup_content(builder, soup)
    title = builder.first_top_heading or page_title or fallback_title(doc)
    return builder.build(title, warnings)


def _meta_charset(content: bytes) -> str | None:
    match = _META_CHARSET.search(content[:4096])
    return match.group(1).decode("ascii", "ignore") if match else None


def _page_title(soup: BeautifulSoup) -> str | None:
    for tag in (soup.title, soup.find("h1")):
        if tag is not None and clean_line(tag.get_text(" ")):
            return clean_line(tag.get_text(" "))
    return None


@lru_cache(maxsize=1)
def _trafilatura() -> ModuleType | None:
    try:
        import trafilatura
    except ImportError:
        # trafilatura 2.x needs the separate ``lxml_html_clean`` package; without it the
        # BeautifulSoup walk does the whole job.
        return None
    return trafilatura


def _main_content_markdown(html_text: str, uri: str) -> str | None:
    trafilatura = _trafilatura()
    if trafilatura is None:
        return None
    try:
        return trafilatura.extract(
            html_text,
            url=uri if uri.startswith(("http://", "https://")) else None,
            output_format="markdown",
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            favor_recall=True,
        )
    except Exception:  # an extractor failure on one page must not lose the page: fall back
        return None


# --- BeautifulSoup fallback -------------------------------------------------------------------


def _add_soup_content(builder: SectionBuilder, soup: BeautifulSoup) -> None:
    _drop_boilerplate(soup)
    for line_break in soup.find_all("br"):
        line_break.replace_with(_LINE_BREAK)
    root = soup.find("main") or soup.find(attrs={"role": "main"}) or soup.find("article")
    _HtmlWalker(builder).walk(root or soup.body or soup)


def _drop_boilerplate(soup: BeautifulSoup) -> None:
    for tag in soup.find_all(_BOILERPLATE_TAGS):
        tag.decompose()
    for tag in soup.find_all(["header", "footer"]):
        # A page's own header and footer are boilerplate; an article's header holds its title.
        if tag.find_parent(["article", "main"]) is None:
            tag.decompose()
    protected = {id(tag) for tag in soup.find_all(_CONTENT_ROOTS)}
    for root in soup.find_all(["main", "article"]):
        protected.update(id(parent) for parent in root.parents)
    doomed = [tag for tag in soup.find_all(True) if id(tag) not in protected and _looks_like_boilerplate(tag)]
    for tag in doomed:
        if not tag.decomposed:
            tag.decompose()


def _looks_like_boilerplate(tag: Tag) -> bool:
    names = " ".join([*tag.get("class", []), str(tag.get("id", ""))])
    return bool(_BOILERPLATE_ROLES.match(str(tag.get("role", ""))) or _BOILERPLATE_NAMES.search(names))


class _HtmlWalker:
    """Headings open sections; each block element without nested blocks becomes one text block."""

    def __init__(self, builder: SectionBuilder) -> None:
        self.builder = builder

    def walk(self, element: Tag) -> None:
        # Text directly inside a container (``<div>text <b>bold</b></div>``) forms a paragraph.
        inline_run: list[str] = []
        for child in element.children:
            # A block, or an inline or unknown element wrapping blocks (<form>, <my-widget>).
            is_block = isinstance(child, Tag) and (
                child.name in _BLOCK_TAGS or child.find(_BLOCK_TAG_NAMES) is not None
            )
            if is_block:
                self._flush(inline_run)
                self._block(child)
            elif isinstance(child, Tag):
                inline_run.append(child.get_text())
            elif isinstance(child, NavigableString) and type(child) is NavigableString:
                inline_run.append(str(child))  # plain text, not a comment or CDATA
        self._flush(inline_run)

    def _flush(self, inline_run: list[str]) -> None:
        self.builder.add(_collapse("".join(inline_run)))
        inline_run.clear()

    def _block(self, tag: Tag) -> None:
        if tag.name in _HEADINGS:
            self.builder.heading(_HEADINGS[tag.name], _collapse(tag.get_text(" ")).replace("\n", " "))
        elif tag.name == "pre":
            self.builder.add(tag.get_text().replace(_LINE_BREAK, "\n"))
        elif tag.name in ("ul", "ol"):
            self.builder.add("\n".join(_list_lines(tag)))
        elif tag.name == "table":
            self.builder.add("\n".join(_table_lines(tag)))
        elif tag.find(_BLOCK_TAG_NAMES) is None:
            self.builder.add(_collapse(tag.get_text()))
        else:
            self.walk(tag)


def _list_lines(list_tag: Tag) -> list[str]:
    lines = []
    for item in list_tag.find_all("li", recursive=False):
        nested = item.find_all(["ul", "ol"], recursive=False)
        for sub_list in nested:
            sub_list.extract()
        lines.append(_collapse(item.get_text()))
        for sub_list in nested:
            lines.extend(_list_lines(sub_list))
    return [line for line in lines if line]


def _table_lines(table: Tag) -> list[str]:
    lines = []
    for row in table.find_all("tr"):
        cells = [_collapse(cell.get_text(" ")).replace("\n", " ") for cell in row.find_all(["td", "th"])]
        lines.append(table_row_line(cells))
    return [line for line in lines if line]


def _collapse(text: str) -> str:
    """HTML whitespace rules: runs of spaces and source newlines are one space; ``<br>`` is a newline."""
    lines = (" ".join(line.split()) for line in text.split(_LINE_BREAK))
    return "\n".join(line for line in lines if line)
