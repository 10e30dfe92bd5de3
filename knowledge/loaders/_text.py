"""Helpers every loader shares: the error type, bytes-to-text decoding, cleanup, fallback titles."""

from __future__ import annotations

import codecs
import re
import unicodedata
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from knowledge.documents import SourceDocument


class LoaderError(Exception):
    """A document cannot be turned into text; the message says why in words a user can act on."""


# Only the start is inspected: enough to recognise images, archives and executables renamed
# to a text extension, cheap for large files.
_SNIFF_BYTES = 8192
# Real text has almost no C0 control characters besides whitespace; binary formats are full of them.
_MAX_CONTROL_SHARE = 0.10
_TEXT_CONTROLS = frozenset(b"\t\n\r\f\v\x1b")
# charset-normalizer is slow on big inputs; a prefix is plenty to guess a legacy encoding.
_DETECTION_BYTES = 64 * 1024

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_OTHER_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_TRAILING_SPACE = re.compile(r"[ \t\u00a0]+$", re.MULTILINE)
_BLANK_RUNS = re.compile(r"\n{3,}")
_INNER_SPACE = re.compile(r"[ \t\u00a0]+")


def decode_text(data: bytes, declared_charset: str | None = None) -> tuple[str, list[str]]:
    """Bytes to ``str`` plus warnings: UTF-8 first, then the declared or a guessed encoding."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            # UTF-16/32 text is full of NUL bytes, so it must be recognised before the binary check.
            return data.decode(encoding, errors="replace"), []
    if looks_binary(data):
        raise LoaderError("binary content, not text")
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    encoding = _usable_codec(declared_charset) or _guess_encoding(data)
    text = data.decode(encoding, errors="replace")
    return text, [f"not valid UTF-8; decoded as {encoding}"]


def looks_binary(data: bytes) -> bool:
    head = data[:_SNIFF_BYTES]
    if not head:
        return False
    if b"\x00" in head:
        return True
    controls = sum(1 for byte in head if byte < 0x20 and byte not in _TEXT_CONTROLS)
    return controls / len(head) > _MAX_CONTROL_SHARE


def _usable_codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        codec = codecs.lookup(name.strip().strip("\"'"))
    except LookupError:
        return None
    if not getattr(codec, "_is_text_encoding", True):
        return None  # "charset=base64" and the like name byte transforms, not text encodings
    # A page that declares UTF-8 but is not valid UTF-8 needs a guess, not the same failure again.
    return None if codec.name in ("utf-8", "utf-8-sig") else codec.name


def _guess_encoding(data: bytes) -> str:
    from charset_normalizer import from_bytes  # imported here: only legacy files pay its cost

    matches = list(from_bytes(data[:_DETECTION_BYTES]))
    if not matches:
        return "cp1252"
    cleanest = min(match.percent_chaos for match in matches)
    for match in matches:
        # Short Western text decodes equally cleanly as cp1250, cp1252 and friends; Windows-1252
        # is by far the most common of them, so it wins a tie.
        if match.percent_chaos == cleanest and "cp1252" in match.could_be_from_charset:
            return "cp1252"
    best = matches[0].encoding
    # Undecodable as UTF-8 yet "detected" as UTF-8: Windows-1252 is the usual real answer.
    return "cp1252" if best in ("utf_8", "ascii") else best


def clean_text(text: str) -> str:
    """Normalise newlines and Unicode (NFC), drop invisible characters and surplus blank lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    text = _OTHER_CONTROLS.sub("", text)
    text = _TRAILING_SPACE.sub("", text)
    return _BLANK_RUNS.sub("\n\n", text).strip("\n")


def clean_line(text: str) -> str:
    """One-line text such as a heading or table cell: whitespace collapsed to single spaces."""
    return _INNER_SPACE.sub(" ", clean_text(text).replace("\n", " ")).strip()


def table_row_line(cells: list[str]) -> str:
    """A table row as one line; merged cells repeat their text, so neighbours that repeat are dropped."""
    kept: list[str] = []
    for cell in cells:
        cell = clean_line(cell)
        if cell and (not kept or kept[-1] != cell):
            kept.append(cell)
    return " | ".join(kept)


def fallback_title(doc: SourceDocument) -> str:
    """The connector's title, else one made from the file name.

    ``via-csv-import.rst`` -> "Via csv import"; ``users/index.rst`` -> "Users".
    """
    if doc.title and doc.title.strip():
        return clean_line(doc.title)
    return title_from_uri(doc.uri)


def title_from_uri(uri: str) -> str:
    parts = urlsplit(uri)
    path = unquote(parts.path if parts.scheme else uri.split("?", 1)[0].split("#", 1)[0])
    segments = [s for s in PurePosixPath(path.replace("\\", "/")).parts if s not in ("/", "")]
    names = [PurePosixPath(s).stem if i == len(segments) - 1 else s for i, s in enumerate(segments)]
    # "users/index.rst" is about users: an index or readme is named after its folder.
    while len(names) > 1 and names[-1].lower() in ("index", "readme", "default"):
        names.pop()
    if not names:
        return parts.netloc or "Untitled"
    words = re.sub(r"[-_.+]+", " ", names[-1]).strip()
    return (words[:1].upper() + words[1:]) if words else "Untitled"
