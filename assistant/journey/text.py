"""Text as the cue matcher sees it: folded, tokenised, split into clauses.

German and English text and the playbook's cue patterns go through the same folding, so
``Größe``, ``groesse`` and ``GRÖSSE`` are one word and ``don't`` matches ``dont``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "’": "'", "‘": "'", "`": "'", "´": "'"})
_APOSTROPHE_IN_WORD = re.compile(r"(?<=[a-z])'(?=[a-z])")
_TOKEN = re.compile(r"[a-z0-9]+|[.!?;:,\n]|[\U0001F300-\U0001FAFF]")
_CLAUSE_END = frozenset(".!?;:,\n")


def normalize(text: str) -> str:
    """Lower case, umlauts folded (ä→ae, ß→ss), other accents dropped, apostrophes inside words removed."""
    folded = unicodedata.normalize("NFKC", text).lower().translate(_FOLD)
    stripped = "".join(c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c))
    return _APOSTROPHE_IN_WORD.sub("", stripped)


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    clause: int
    question: bool
    """The token's clause ends with a question mark."""


def tokenize(text: str) -> list[Token]:
    """Word tokens with their clause number; punctuation only separates clauses."""
    raw = _TOKEN.findall(normalize(text))
    words: list[tuple[str, int]] = []
    questions: set[int] = set()
    clause = 0
    for piece in raw:
        if piece in _CLAUSE_END:
            if piece == "?":
                questions.add(clause)
            if words and words[-1][1] == clause:
                clause += 1
            continue
        words.append((piece, clause))
    return [Token(word, number, number in questions) for word, number in words]


@dataclass(frozen=True, slots=True)
class TokenPattern:
    """One token of a cue: ``word`` (also inflected and, if long, misspelt), ``word*``
    (starts with), ``*word`` (ends with: a German compound's head), ``*word*`` (contains)."""

    core: str
    prefix: bool = False
    suffix: bool = False

    @property
    def exact(self) -> bool:
        return not self.prefix and not self.suffix


@dataclass(frozen=True, slots=True)
class CuePattern:
    tokens: tuple[TokenPattern, ...] = ()
    regex: re.Pattern[str] | None = None

    @property
    def text(self) -> str:
        if self.regex is not None:
            return f"re:{self.regex.pattern}"
        return " ".join(("*" if t.suffix else "") + t.core + ("*" if t.prefix else "") for t in self.tokens)


class PatternError(ValueError):
    """A cue pattern that can never match or does not compile."""


def parse_pattern(pattern: str) -> CuePattern:
    """``re:...`` is a regular expression over the normalised text; anything else is a
    sequence of words, each optionally starting or ending with ``*``."""
    if pattern.startswith("re:"):
        try:
            return CuePattern(regex=re.compile(pattern[3:]))
        except re.error as exc:
            raise PatternError(f"regular expression does not compile: {exc}") from None
    tokens = []
    for word in pattern.split():
        leading, trailing = word.startswith("*"), word.endswith("*") and len(word) > 1
        parts = [t.text for t in tokenize(word.strip("*"))]
        if not parts:
            raise PatternError(f"{word!r} has no letters or digits")
        for index, part in enumerate(parts):
            tokens.append(TokenPattern(part, prefix=trailing and index == len(parts) - 1, suffix=leading and index == 0))
    if not tokens:
        raise PatternError("empty pattern")
    for token in tokens:
        if not token.exact and len(token.core) < 3:
            raise PatternError(f"{token.core!r}: a wildcard needs at least 3 letters before or after it")
    return CuePattern(tokens=tuple(tokens))


def snippet(text: str, limit: int = 120) -> str:
    """A one-line excerpt for evidence."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class TokenCache:
    """Tokenises each distinct text once per classification (stage and persona share it)."""

    def __init__(self) -> None:
        self._seen: dict[str, list[Token]] = {}

    def __call__(self, text: str) -> list[Token]:
        found = self._seen.get(text)
        if found is None:
            found = self._seen[text] = tokenize(text)
        return found
