"""Reading export files row by row with the line each row starts on.

CSV is read one physical line at a time through the standard ``csv`` module (strict
quoting), so one broken row costs one row: a quote that is never closed is reported on the
line where it opened and reading goes on with the next line, instead of swallowing the
rest of the file into one field. JSON Lines reports lines, JSON arrays report item numbers.
"""

from __future__ import annotations

import codecs
import csv as stdlib_csv
import hashlib
import json
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from connectors.csv.mapping import FileSpec

_CHUNK = 1 << 20


class ExportFileError(ValueError):
    """A file that cannot be read at all (missing, wrong encoding, no header, not JSON)."""


@dataclass(frozen=True)
class Fingerprint:
    size: int
    mtime_ns: int
    sha256: str


@dataclass(frozen=True)
class RawRow:
    """One row of a file: its position (``line`` for CSV and JSONL, item number for JSON)
    and its values, or the reason it could not be split into values."""

    position: int
    values: dict[str, Any] | None
    error: str | None = None


def stat_of(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def fingerprint(path: Path, encoding: str, label: str) -> Fingerprint:
    """Size, mtime and sha256 of a file, checking on the way that it decodes as ``encoding``."""
    size, mtime_ns = stat_of(path)
    digest = hashlib.sha256()
    try:
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    except LookupError:
        raise ExportFileError(f"{label}: unknown encoding {encoding!r}") from None
    newlines = 0
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                line = newlines + chunk.count(b"\n", 0, exc.start) + 1
                raise ExportFileError(
                    f"{label} line {line}: not readable as {encoding} (byte {chunk[exc.start]:#04x}); "
                    "set encoding: for this file in the mapping (e.g. cp1252 or latin-1)"
                ) from None
            newlines += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise ExportFileError(f"{label}: ends inside a character; not readable as {encoding}") from None
    return Fingerprint(size, mtime_ns, digest.hexdigest())


def _open(path: Path, spec: FileSpec, label: str) -> TextIO:
    try:
        return path.open(encoding=spec.encoding, newline="")
    except FileNotFoundError:
        raise ExportFileError(f"{label}: no such file") from None
    except OSError as exc:
        raise ExportFileError(f"{label}: cannot open ({exc.strerror or exc})") from None


# -- CSV ---------------------------------------------------------------------------------------


class _CsvLines:
    """Splits a CSV text stream into records of fields, one broken row at a time."""

    def __init__(self, stream: TextIO, spec: FileSpec) -> None:
        self._lines = enumerate(stream, start=1)
        self._pending: deque[tuple[int, str]] = deque()
        self._spec = spec
        self._dialect = {"delimiter": spec.delimiter, "quotechar": spec.quotechar, "escapechar": spec.escapechar,
                         "doublequote": spec.escapechar is None, "strict": True}

    def _next_line(self) -> tuple[int, str] | None:
        if self._pending:
            return self._pending.popleft()
        return next(self._lines, None)

    def _parse(self, text: str) -> tuple[list[str] | None, str | None]:
        try:
            return next(stdlib_csv.reader([text], **self._dialect), []), None
        except stdlib_csv.Error as exc:
            return None, str(exc)

    def records(self, columns: int | None) -> Iterator[tuple[int, list[str] | None, str | None]]:
        """Yield (start line, fields, error); blank lines are skipped."""
        while (first := self._next_line()) is not None:
            start, text = first
            taken = [first]
            fields, problem = self._parse(text)
            while problem == "unexpected end of data" and len(taken) < self._spec.max_record_lines:
                following = self._next_line()
                if following is None:
                    break
                taken.append(following)
                text += following[1]
                fields, problem = self._parse(text)
            if fields == []:
                continue
            spans = len(taken) > 1
            if problem is not None or (spans and columns is not None and fields is not None and len(fields) != columns):
                self._pending.extendleft(reversed(taken[1:]))
                if problem == "unexpected end of data":
                    reason = "a quote opened on this line is never closed"
                else:
                    reason = "a quote opened on this line is not closed before the next row" if spans else str(problem)
                yield start, None, f"broken quoting: {reason}"
                continue
            yield start, fields, None


def read_header(path: Path, spec: FileSpec, label: str) -> list[str]:
    if spec.header is not None:
        return list(spec.header)
    with _open(path, spec, label) as stream:
        for _line, fields, error in _CsvLines(stream, spec).records(None):
            if error is not None or fields is None:
                raise ExportFileError(f"{label}: the header row cannot be read ({error})")
            return [name.strip().lstrip("\ufeff") for name in fields]
    raise ExportFileError(f"{label}: the file is empty (no header row)")


def csv_rows(path: Path, spec: FileSpec, label: str) -> Iterator[RawRow]:
    with _open(path, spec, label) as stream:
        lines = _CsvLines(stream, spec)
        records = lines.records(len(spec.header) if spec.header is not None else None)
        header = spec.header
        if header is None:
            first = next(records, None)
            if first is None:
                return
            if first[1] is None:
                raise ExportFileError(f"{label} line {first[0]}: the header row cannot be read ({first[2]})")
            header = [name.strip().lstrip("\ufeff") for name in first[1]]
            records = lines.records(len(header))
        width = len(header)
        for line, fields, error in records:
            if fields is None:
                yield RawRow(line, None, error)
            elif len(fields) != width:
                yield RawRow(line, None, f"expected {width} columns, found {len(fields)}")
            else:
                yield RawRow(line, dict(zip(header, fields)))


# -- JSON and JSON Lines -----------------------------------------------------------------------


def jsonl_rows(path: Path, spec: FileSpec, label: str) -> Iterator[RawRow]:
    with _open(path, spec, label) as stream:
        for line, text in enumerate(stream, start=1):
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                yield RawRow(line, None, f"not valid JSON ({exc.msg} at column {exc.colno})")
                continue
            if not isinstance(value, dict):
                yield RawRow(line, None, f"expected a JSON object, found {type(value).__name__}")
                continue
            yield RawRow(line, value)


def json_rows(path: Path, spec: FileSpec, label: str) -> Iterator[RawRow]:
    with _open(path, spec, label) as stream:
        try:
            document = json.load(stream)
        except json.JSONDecodeError as exc:
            raise ExportFileError(f"{label} line {exc.lineno}: not valid JSON ({exc.msg})") from None
    items: Any = document
    for part in (spec.records_path or "").split(".") if spec.records_path else []:
        items = items.get(part) if isinstance(items, dict) else None
    if not isinstance(items, list):
        where = f"at {spec.records_path!r}" if spec.records_path else "at the top level (set records_path:)"
        raise ExportFileError(f"{label}: expected a JSON array of records {where}")
    for number, item in enumerate(items, start=1):
        if isinstance(item, dict):
            yield RawRow(number, item)
        else:
            yield RawRow(number, None, f"expected a JSON object, found {type(item).__name__}")


def rows_of(path: Path, spec: FileSpec, label: str) -> Iterator[RawRow]:
    readers = {"csv": csv_rows, "jsonl": jsonl_rows, "json": json_rows}
    return readers[spec.file_format](path, spec, label)
