"""Turning text into keyword-index terms: tokenise, drop stop words, stem per language.

Documents are analysed in their own language. Queries are analysed with the German and the
English stemmer both, because a German visitor may ask about a page that only exists in
English (and product words like "Ticket" or "LDAP" are shared).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

_TOKEN = re.compile(r"\w+", re.UNICODE)
_STEMMER_NAMES = {
    "de": "german",
    "en": "english",
    "fr": "french",
    "es": "spanish",
    "it": "italian",
    "nl": "dutch",
    "pt": "portuguese",
}

STOP_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        """a about above after again against all am an and any are as at be because been before being
        below between both but by can could did do does doing down during each few for from further had
        has have having he her here hers herself him himself his how i if in into is it its itself just
        me more most my myself no nor not now of off on once only or other our ours ourselves out over
        own same she should so some such than that the their theirs them themselves then there these
        they this those through to too under until up very was we were what when where which while who
        whom why will with would you your yours yourself yourselves also may might must shall us i'm
        get got let lets please hi hello thanks thank want wants need needs""".split()
    ),
    "de": frozenset(
        """aber alle allem allen aller alles als also am an ander andere anderem anderen anderer anderes
        auch auf aus bei bin bis bist da damit dann der den des dem die das dass daß du dich dir dein
        deine deinem deinen deiner dies diese diesem diesen dieser dieses doch dort durch ein eine einem
        einen einer eines er es euer eure für gegen gewesen hab habe haben hat hatte hatten hier hin
        hinter ich ihm ihn ihnen ihr ihre ihrem ihren ihrer im in indem ins ist jede jedem jeden jeder
        jedes jene jetzt kann kannst können könnte machen man manche mein meine meinem meinen meiner
        mich mir mit muss musste nach nicht nichts noch nun nur ob oder ohne sehr sein seine seinem
        seinen seiner sich sie sind so solche soll sollte sondern sonst über um und uns unser unsere
        unter viel vom von vor während war waren warum was weil welche welchem welchen welcher welches
        wenn werde werden wie wieder will wir wird wirst wo wollen wollte würde würden zu zum zur zwar
        zwischen gibt geht hallo bitte danke gerne mal eigentlich""".split()
    ),
}


@lru_cache(maxsize=None)
def _stemmer(language: str) -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer(_STEMMER_NAMES.get(language, "english"))


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens, NFKC-normalised (so ``ß`` and ligatures compare sanely)."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())


def _content_tokens(text: str) -> list[str]:
    stop = STOP_WORDS["en"] | STOP_WORDS["de"]
    return [t for t in tokenize(text) if t not in stop and (len(t) > 1 or t.isdigit())]


def analyze_document(text: str, language: str) -> str:
    """Space-separated index terms of a chunk, stemmed in the chunk's language."""
    tokens = _content_tokens(text)
    return " ".join(_stemmer(language).stemWords(tokens))


def analyze_query(text: str, languages: tuple[str, ...] = ("de", "en")) -> list[str]:
    """Distinct query terms, stemmed with each of ``languages`` (order kept)."""
    tokens = _content_tokens(text)
    terms: dict[str, None] = {}
    for language in languages:
        for term in _stemmer(language).stemWords(tokens):
            terms.setdefault(term, None)
    return list(terms)
