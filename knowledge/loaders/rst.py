"""reStructuredText (including Sphinx sources) to sections with docutils.

Sphinx documents use roles and directives plain docutils does not know (``:doc:``, ``:ref:``,
``.. toctree::``, ``.. tabs::``). Instead of letting docutils turn them into error nodes that
carry the raw markup, a lenient parser keeps the visible text of unknown roles, parses the body
of unknown directives as ordinary content, and drops the few that only carry navigation or
pictures. Nothing is read from disk (``include`` is disabled) and nothing is ever printed.
"""

from __future__ import annotations

import copy
import io
import re
import types
from functools import lru_cache

from docutils import frontend, nodes, utils
from docutils.parsers import rst
from docutils.parsers.rst import Directive, directives, roles, states

from knowledge.documents import ParsedDocument, SourceDocument

from ._rst_doctree import add_doctree
from ._sections import SectionBuilder
from ._text import decode_text, fallback_title, title_from_uri


def load_rst(doc: SourceDocument, charset: str | None = None) -> ParsedDocument:
    text, warnings = decode_text(doc.content, charset)
    document = utils.new_document(doc.uri, copy.copy(_base_settings()))
    # A fresh stream per document: nothing is reported at level 5, and nothing may reach stderr.
    document.settings.warning_stream = io.StringIO()
    document.reporter.stream = document.settings.warning_stream
    _new_lenient_parser().parse(text, document)
    builder = SectionBuilder()
    add_doctree(builder, document)
    return builder.build(builder.first_top_heading or fallback_title(doc), warnings)


@lru_cache(maxsize=1)
def _base_settings():
    # Parsing directly (not through publish_doctree) skips building an option parser and running
    # transforms for every file: about a quarter less time on the Zammad corpus. The settings
    # are the ones publish_doctree would get as overrides.
    settings = frontend.get_default_settings(rst.Parser)
    settings.report_level = 5
    settings.halt_level = 5
    settings.file_insertion_enabled = False
    settings.raw_enabled = False
    settings.syntax_highlight = "none"
    settings.pep_references = False
    settings.rfc_references = False
    settings.character_level_inline_markup = False
    # docutils refuses a whole document over one line longer than 10,000 characters (a guard
    # against pathological input); generated tables and pasted logs exceed that legitimately.
    settings.line_length_limit = 200_000
    return settings


def _new_lenient_parser() -> rst.Parser:
    """A parser per document: an Inliner accumulates patterns on every run, so none is reused."""
    inliner = states.Inliner()
    # Patched on the instance, not subclassed: Inliner builds its regexes from
    # ``vars(self.__class__)``, which a subclass would leave empty.
    inliner.interpreted = types.MethodType(_lenient_interpreted, inliner)
    parser = rst.Parser(inliner=inliner)
    parser.state_classes = _lenient_state_classes()
    return parser


# --- roles ------------------------------------------------------------------------------------

_TITLED_TARGET = re.compile(r"^(.*?)\s*<([^<>]*)>\s*$", re.DOTALL)
# Roles whose bare content is a target name rather than words a reader should see.
_TARGET_ROLES = frozenset({"doc", "ref", "any", "numref", "download"})
# Roles whose content is shown exactly as written, even when it looks like a path.
_VERBATIM_ROLES = frozenset(
    {"kbd", "file", "command", "program", "samp", "envvar", "option", "term", "abbr", "dfn",
     "mailheader", "mimetype", "makevar", "regexp", "code", "math"}
)  # fmt: skip


def sphinx_role_text(role: str, text: str) -> str:
    """What a Sphinx build shows for an unknown role: the explicit title, else a readable target."""
    match = _TITLED_TARGET.match(text)
    if match and match.group(1):
        return match.group(1)
    target = match.group(2) if match else text
    name = role.lower().split(":")[-1]
    if name == "menuselection":
        return target.replace("-->", ">")
    if name == "guilabel":
        return target.replace("&&", "\0").replace("&", "").replace("\0", "&")
    bare_path = target.startswith("/") and not re.search(r"\s", target)
    if name in _TARGET_ROLES or (bare_path and name not in _VERBATIM_ROLES):
        # Sphinx would show the target page's title, which only the whole project knows;
        # "/manage/organizations/index" -> "Organizations" is the closest a single file gets.
        return title_from_uri(target.strip().rstrip("/"))
    # Python-domain roles: "~pkg.mod.func" shows as "func", "!name" as "name".
    if target.startswith("~"):
        return target[1:].rsplit(".", 1)[-1]
    return target.lstrip("!")


def _lenient_interpreted(inliner: states.Inliner, rawsource, text, role, lineno):
    """``Inliner.interpreted`` that shows an unknown role's text instead of an error node."""
    role_fn, messages = roles.role(role, inliner.language, lineno, inliner.reporter)
    if role_fn:
        made, more_messages = role_fn(role, rawsource, text, lineno, inliner)
        return made, messages + more_messages
    shown = sphinx_role_text(role, utils.unescape(text))
    return [nodes.inline(rawsource, shown)], []


# --- directives -------------------------------------------------------------------------------

# Navigation, pictures and API autodoc: nothing a reader of plain text would miss.
_DROPPED_DIRECTIVES = frozenset(
    {
        "toctree", "literalinclude",
        "index", "highlight", "default-role", "currentmodule", "module", "automodule",
        "autoclass", "autofunction", "automethod", "autoattribute", "autodata", "autoexception",
        "autosummary", "tabularcolumns", "youtube", "vimeo", "video", "iframe", "sectionauthor",
        "codeauthor", "moduleauthor", "only-toc", "toc",
    }
)  # fmt: skip
# Diagram sources count as code: their labels are often the only text a snippet file has.
_CODE_DIRECTIVES = frozenset(
    {"code", "code-block", "sourcecode", "mermaid", "graphviz", "digraph", "graph", "plantuml", "uml"}
)
# Unknown directives keep their argument as a first paragraph (a tab's label, a card's title)
# unless it is a condition or a name; version notes read the way Sphinx renders them.
_ARGUMENT_PREFIX = {
    "versionadded": "Added in version ",
    "versionchanged": "Changed in version ",
    "deprecated": "Deprecated since version ",
}
_ARGUMENT_HIDDEN = frozenset({"only", "ifconfig", "program", "option", "envvar", "tabs"})


class _AnyOptions(dict):
    """An option spec that accepts options it does not know instead of failing the directive."""

    def __missing__(self, key):
        return directives.unchanged

    def __bool__(self) -> bool:
        # docutils only parses options when the spec is truthy; an empty spec must still accept them.
        return True


class _DroppedDirective(Directive):
    """Accepts any argument, options and body, and produces nothing."""

    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True
    option_spec = _AnyOptions()

    def run(self):
        return []


class _LiteralDirective(_DroppedDirective):
    """``code-block`` with any Sphinx options (``:caption:``, ``:emphasize-lines:``): the code as text."""

    def run(self):
        code = "\n".join(self.content)
        return [nodes.literal_block(code, code)] if code.strip() else []


class _PassThroughDirective(_DroppedDirective):
    """An unknown directive (``tab``, ``seealso``, ``versionadded``): its argument and body as content."""

    def run(self):
        box = nodes.container()
        name = self.name.lower()
        if self.arguments and name not in _ARGUMENT_HIDDEN:
            label = _ARGUMENT_PREFIX.get(name, "") + self.arguments[0]
            box += nodes.paragraph(label, label)
        self.state.nested_parse(self.content, self.content_offset, box)
        return [box]


@lru_cache(maxsize=None)
def _accepting_any_option(directive_class: type) -> type:
    spec = _AnyOptions(directive_class.option_spec or {})
    return type(directive_class.__name__, (directive_class,), {"option_spec": spec})


def _lenient_directive(type_name: str, state: states.RSTState) -> type:
    name = type_name.lower()
    if name in _DROPPED_DIRECTIVES:
        return _DroppedDirective
    if name in _CODE_DIRECTIVES:
        return _LiteralDirective
    known, _messages = directives.directive(type_name, state.memo.language, state.document)
    if known is None:
        return _PassThroughDirective
    return _accepting_any_option(known)


class _LenientState:
    """Mixed into every parser state: unknown directives are handled, and nested parses
    (section bodies, list items, directive content) run on these same lenient states."""

    # docutils reuses nested state machines through a class-level cache; ours get their own so
    # a machine built from lenient states never serves plain docutils parsing, or the reverse.
    nested_sm_cache: list = []

    def __init__(self, state_machine, debug=False) -> None:
        super().__init__(state_machine, debug)
        self.nested_sm_kwargs = {"state_classes": _lenient_state_classes(), "initial_state": "Body"}

    def directive(self, match, **option_presets):
        type_name = match.group(1)
        directive_class = _lenient_directive(type_name, self)
        return self.run_directive(directive_class, match, type_name, option_presets)


def _lenient_explicit_constructs() -> types.SimpleNamespace:
    # Body lists the functions for ".. " constructs in a class attribute, so overriding the
    # ``directive`` method alone is not enough: the list must point at the override too.
    constructs = [
        (_LenientState.directive if method is states.Body.directive else method, pattern)
        for method, pattern in states.Body.explicit.constructs
    ]
    return types.SimpleNamespace(patterns=states.Body.explicit.patterns, constructs=constructs)


@lru_cache(maxsize=1)
def _lenient_state_classes() -> tuple[type, ...]:
    explicit = _lenient_explicit_constructs()
    # The state machine finds states by class name, so each replacement keeps docutils' name.
    return tuple(
        type(cls.__name__, (_LenientState, cls), {"explicit": explicit}) for cls in states.state_classes
    )
