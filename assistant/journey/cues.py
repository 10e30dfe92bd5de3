"""Weighted cues found in text: the transparent core of stage and persona detection.

Each cue is a pattern from the playbook with a label (a stage or persona id) and a weight.
A word matches as written, inflected (``review``/``reviews``, ``Angebot``/``Angebote``), as the
head of a German compound (``kosten`` in ``Lizenzkosten``) or, if long enough, misspelt by one
letter (``integartion``). A negation right before a cue in the same clause (``kein Angebot``,
``don't need pricing``) cancels it, except in a question (``Gibt es keinen Rabatt?`` still asks
about a discount). Every match says how it matched, so the evidence can show it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import accumulate

from rapidfuzz import process
from rapidfuzz.distance import OSA, Levenshtein

from assistant.journey.playbook import LanguageCues, Playbook, normalized_key
from assistant.journey.text import CuePattern, Token, TokenPattern, normalize, parse_pattern

INFLECTIONS = ("ern", "ing", "en", "er", "es", "em", "ed", "e", "n", "s", "d")
NEGATION_WINDOW = 3
COMPOUND_HEAD_MIN = 5
MATCH_CACHE_SIZE = 20000
"""German compound heads shorter than this (``rat``, ``preis`` is 5) are too ambiguous."""


@dataclass(frozen=True, slots=True)
class Cue:
    label: str
    pattern: CuePattern
    weight: float
    language: str = "en"
    negatable: bool = True
    positive: bool = False
    group: str = "cues"
    """Where in the playbook the cue lives (``cues``, ``titles``, ``history.text``...)."""

    @property
    def text(self) -> str:
        return self.pattern.text


@dataclass(frozen=True, slots=True)
class Match:
    cue: Cue
    start: int
    end: int
    matched: str
    how: str
    """exact, inflected, prefix, suffix, infix, compound, fuzzy or regex"""
    negated: bool = False

    @property
    def weight(self) -> float:
        return 0.0 if self.negated else self.cue.weight


def _fuzzy_limit(token: str) -> int:
    """Edits tolerated in a misspelt word: none below 5 letters, a swap of two letters up to
    6, one edit up to 11, two beyond (short words have too many real neighbours)."""
    if len(token) < 5:
        return 0
    return 1 if len(token) <= 11 else 2


class CueMatcher:
    """Finds the cues of one lexicon (say, all stage cues) in tokenised text."""

    def __init__(self, cues: Iterable[Cue], negators: Iterable[str] = (), fuzzy_exclude: Iterable[str] = (),
                 frames_from: float | None = None) -> None:
        """``frames_from``: a regex cue at least this strong mutes the other labels' word cues inside its hit."""
        self._frames_from = frames_from
        self._exact: dict[str, list[Cue]] = defaultdict(list)
        self._prefix: dict[str, list[Cue]] = defaultdict(list)
        self._suffix: dict[str, list[tuple[Cue, str]]] = defaultdict(list)
        self._infix: list[Cue] = []
        self._regex: list[Cue] = []
        for cue in cues:
            self._index(cue)
        self._prefix_lengths = sorted({len(k) for k in self._prefix})
        self._suffix_lengths = sorted({len(k) for k in self._suffix})
        self._vocabulary = sorted(word for word in self._exact if len(word) >= 5)
        self._negators = frozenset(normalize(word) for word in negators)
        self._no_fuzzy = frozenset(normalize(word) for word in fuzzy_exclude) | frozenset(self._exact)
        self._fuzzy_cache: dict[str, str | None] = {}
        self._match_cache: dict[tuple[Token, ...], list[Match]] = {}

    def _index(self, cue: Cue) -> None:
        if cue.pattern.regex is not None:
            self._regex.append(cue)
            return
        first = cue.pattern.tokens[0]
        if first.prefix and first.suffix:
            self._infix.append(cue)
        elif first.prefix:
            self._prefix[first.core].append(cue)
        elif first.suffix:
            self._suffix[first.core].append((cue, "suffix"))
        else:
            self._exact[first.core].append(cue)
            if cue.language == "de" and len(first.core) >= COMPOUND_HEAD_MIN:
                self._suffix[first.core].append((cue, "compound"))

    def _fuzzy(self, token: str) -> str | None:
        if token in self._fuzzy_cache:
            return self._fuzzy_cache[token]
        found = None
        limit = _fuzzy_limit(token)
        if limit and token not in self._no_fuzzy and not token.isdigit():
            best = process.extractOne(token, self._vocabulary, scorer=OSA.distance, score_cutoff=limit)
            if best is not None:
                word = best[0]
                # Up to 6 letters only a swap of two neighbours counts (Levenshtein sees it as 2).
                swap = len(word) == len(token) and Levenshtein.distance(word, token) == 2
                if len(token) > 6 or swap:
                    found = word
        if len(self._fuzzy_cache) > 20000:
            self._fuzzy_cache.clear()
        self._fuzzy_cache[token] = found
        return found

    def _first_candidates(self, token: str) -> list[tuple[Cue, str]]:
        found: list[tuple[Cue, str]] = [(cue, "exact") for cue in self._exact.get(token, ())]
        stems = [token[: -len(s)] for s in INFLECTIONS if token.endswith(s) and len(token) - len(s) >= 3]
        for stem in stems:
            found.extend((cue, "inflected") for cue in self._exact.get(stem, ()))
        for length in self._prefix_lengths:
            if length > len(token):
                break
            found.extend((cue, "prefix") for cue in self._prefix.get(token[:length], ()))
        for form in (token, *stems):
            for length in self._suffix_lengths:
                if length > len(form):
                    break
                for cue, how in self._suffix.get(form[-length:], ()):
                    if how == "suffix" or len(form) >= length + 3:
                        found.append((cue, how))
        found.extend((cue, "infix") for cue in self._infix if cue.pattern.tokens[0].core in token)
        if not found:
            near = self._fuzzy(token)
            if near is not None:
                found.extend((cue, "fuzzy") for cue in self._exact[near])
        return found

    def _fits(self, pattern: TokenPattern, token: str) -> bool:
        if pattern.prefix and pattern.suffix:
            return pattern.core in token
        if pattern.prefix:
            return token.startswith(pattern.core)
        if pattern.suffix:
            return token.endswith(pattern.core)
        if token == pattern.core:
            return True
        if any(token.endswith(s) and token[: -len(s)] == pattern.core for s in INFLECTIONS):
            return True
        return len(token) > 6 and self._fuzzy(token) == pattern.core

    def _rest(self, tokens: list[Token], pattern: CuePattern, start: int) -> int | None:
        """End of a phrase whose first word is at ``start``; one filler word may sit between words."""
        position = start + 1
        for part in pattern.tokens[1:]:
            for gap in (0, 1):
                at = position + gap
                if at < len(tokens) and tokens[at].clause == tokens[start].clause and self._fits(part, tokens[at].text):
                    position = at + 1
                    break
            else:
                return None
        return position

    def _negated(self, tokens: list[Token], start: int) -> bool:
        head = tokens[start]
        if head.question:
            return False
        for index in range(max(0, start - NEGATION_WINDOW), start):
            if tokens[index].clause == head.clause and tokens[index].text in self._negators:
                return True
        return False

    def match(self, tokens: list[Token]) -> list[Match]:
        """Every cue found once, longest phrase first where cues of one label overlap. Results
        are remembered: histories repeat the same touchpoint texts over and over."""
        key = tuple(tokens)
        found = self._match_cache.get(key)
        if found is None:
            found = self._match(tokens)
            if len(self._match_cache) > MATCH_CACHE_SIZE:
                self._match_cache.clear()
            self._match_cache[key] = found
        return found

    def _match(self, tokens: list[Token]) -> list[Match]:
        raw: list[Match] = []
        for start, token in enumerate(tokens):
            for cue, how in self._first_candidates(token.text):
                end = self._rest(tokens, cue.pattern, start) if len(cue.pattern.tokens) > 1 else start + 1
                if end is None:
                    continue
                negated = cue.negatable and self._negated(tokens, start)
                raw.append(Match(cue, start, end, " ".join(t.text for t in tokens[start:end]), how, negated))
        if self._regex:
            raw += self._regex_matches(tokens)
        return _resolve_overlaps(raw, self._frames_from)

    def _regex_matches(self, tokens: list[Token]) -> list[Match]:
        """Regular expressions run over the tokens joined by spaces; a hit covers the tokens it
        touches, so a longer regex hit overrides a shorter cue of the same label."""
        joined = " ".join(t.text for t in tokens)
        starts = list(accumulate((len(t.text) + 1 for t in tokens), initial=0))
        found = []
        for cue in self._regex:
            hit = cue.pattern.regex.search(joined) if cue.pattern.regex else None
            if hit and hit.end() > hit.start():
                first = bisect_right(starts, hit.start()) - 1
                last = bisect_right(starts, hit.end() - 1) - 1
                negated = cue.negatable and first < len(tokens) and self._negated(tokens, first)
                found.append(Match(cue, first, last + 1, hit.group(0), "regex", negated))
        return found


def _resolve_overlaps(raw: list[Match], frames_from: float | None = None) -> list[Match]:
    raw.sort(key=lambda m: (-(m.end - m.start), m.how == "fuzzy", -abs(m.cue.weight)))
    taken: dict[str, set[int]] = defaultdict(set)
    seen: set[tuple[str, str]] = set()
    kept = []
    for match in raw:
        key = (match.cue.label, match.cue.text)
        span = set(range(match.start, match.end))
        if key in seen or span & taken[match.cue.label]:
            continue
        seen.add(key)
        if not (match.how == "regex" and match.cue.weight > 0):
            # A phrase refines the words in it; a positive regex is a frame around them and adds to them.
            taken[match.cue.label] |= span
        kept.append(match)
    if frames_from is None:
        return kept
    # A strong frame is what its clause says: the words inside it are its parts, not cues of other
    # labels ("bei eurem Referenzprogramm mitmachen" is an offer to advocate, not references being read).
    frames = [m for m in kept if m.how == "regex" and m.cue.weight >= frames_from and not m.negated]
    return [m for m in kept if m.how == "regex" or m.cue.weight <= 0 or not any(
        f.cue.label != m.cue.label and f.start <= m.start and m.end <= f.end for f in frames)]


def cues_from(label: str, cues: LanguageCues, group: str, factor: float = 1.0) -> list[Cue]:
    """The playbook's cue map of one stage or persona, compiled."""
    return [
        Cue(label, parse_pattern(pattern), spec.weight * factor, language, spec.negatable, spec.positive, group)
        for language, pattern, spec in cues.items()
    ]


def weight_table(pairs: Iterable[tuple[str, dict[str, float]]]) -> dict[str, list[tuple[str, float]]]:
    """``{normalized name: [(label, weight)]}`` from each label's ``{name: weight}`` map."""
    table: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for label, weights in pairs:
        for name, weight in weights.items():
            table[normalized_key(name)].append((label, weight))
    return dict(table)


def known_words(book: Playbook) -> set[str]:
    """Every one-word cue of the playbook: real words, never read as a typo of another cue."""
    maps: list[LanguageCues] = [book.sarcasm]
    for stage in book.stages:
        maps += [stage.cues, stage.history.text]
    for persona in book.personas:
        maps += [persona.cues, persona.titles, persona.departments, persona.content.text]
    words = set()
    for cues in maps:
        for _, pattern, _ in cues.items():
            parsed = parse_pattern(pattern)
            if len(parsed.tokens) == 1 and parsed.tokens[0].exact:
                words.add(parsed.tokens[0].core)
    return words
