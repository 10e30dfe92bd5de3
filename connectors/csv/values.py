"""Turns rows into profile records: value lookup, value maps, typed parsing, references.

A mapping is compiled once into plain closures (``CompiledField``, ``CompiledRecord``) so
that reading a row is a few dictionary lookups and conversions, not a walk over pydantic
models. A value that cannot be read raises ``FieldError`` with a reason a person can act
on; the connector turns it into a ``RecordFailure`` for that row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from connectors.csv.mapping import TEMPLATE_FIELD, EntityColumns, FieldSpec, MappingError, MappingFile, RecordSpec, ValueType
from knowledge.profiles.records import ProfileRecord, Ref

Row = Mapping[str, Any]
Getter = Callable[[Row], Any]
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "ja", "j", "wahr", "x"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "nein", "falsch", ""})
_TYPE_NAMES: dict[type[Any], ValueType] = {
    str: "str", int: "int", Decimal: "decimal", date: "date", datetime: "datetime", bool: "bool",
}
_MISSING = object()


class FieldError(ValueError):
    """A value of a row that cannot be read; the row is rejected with this reason."""


def path_getter(column: str, nested: bool) -> Getter:
    """Read a column; for JSON rows a dotted name walks into nested objects (and list indexes)."""
    if not nested or "." not in column:
        return lambda row: row.get(column)
    parts = column.split(".")

    def get(row: Row) -> Any:
        if column in row:
            return row[column]
        value: Any = row
        for part in parts:
            if isinstance(value, dict):
                value = value.get(part)
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                return None
        return value

    return get


def has_path(row: Row, column: str) -> bool:
    """Whether a JSON row names ``column`` at all (even as null)."""
    if column in row:
        return True
    value: Any = row
    for part in column.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return False
    return True


# -- parsing one value ------------------------------------------------------------------------


def _number_text(value: Any, spec: FieldSpec) -> str:
    text = str(value).strip().replace(" ", "").replace("\u00a0", "")
    if spec.thousands_separator:
        text = text.replace(spec.thousands_separator, "")
    if spec.decimal_separator == ",":
        text = text.replace(",", ".")
    return text


def _decimal(value: Any, spec: FieldSpec) -> Decimal:
    if isinstance(value, bool):
        raise FieldError("a yes/no value is no number")
    try:
        number = Decimal(_number_text(value, spec)) if not isinstance(value, (int, Decimal)) else Decimal(value)
    except InvalidOperation:
        raise FieldError(f"cannot read {value!r} as a number") from None
    if not number.is_finite():
        raise FieldError(f"cannot read {value!r} as a number")
    return number


def _int(value: Any, spec: FieldSpec) -> int:
    number = _decimal(value, spec)
    if number != number.to_integral_value():
        raise FieldError(f"{value!r} is not a whole number")
    return int(number)


def _bool(value: Any, spec: FieldSpec) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise FieldError(f"cannot read {value!r} as yes/no")


EPOCH_FORMATS = {"epoch": 1, "epoch_ms": 1000}
"""Pseudo-formats for Unix timestamps in seconds or milliseconds (HubSpot writes the latter)."""


def _parse_datetime(value: Any, formats: list[str], kind: str) -> datetime:
    if isinstance(value, datetime):
        return value
    text = str(value).strip()
    if not formats:
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
        except ValueError:
            raise FieldError(f"cannot read {value!r} as a {kind} (expected ISO 8601 such as 2024-03-31; "
                             "set format: in the mapping)") from None
    for pattern in formats:
        try:
            if pattern in EPOCH_FORMATS:
                return datetime.fromtimestamp(float(text) / EPOCH_FORMATS[pattern], UTC)
            return datetime.strptime(text, pattern)
        except (ValueError, OverflowError, OSError):
            continue
    raise FieldError(f"cannot read {value!r} as a {kind} (expected {' or '.join(formats)})")


def _parser(kind: ValueType, spec: FieldSpec, zone: tzinfo) -> Callable[[Any], Any]:
    if kind == "str":
        return lambda value: value if isinstance(value, str) else str(value)
    factor = spec.multiply_by
    if kind == "int":
        return lambda value: _int(value, spec) if factor is None else _int(_decimal(value, spec) * factor, spec)
    if kind == "decimal":
        return lambda value: _decimal(value, spec) if factor is None else _decimal(value, spec) * factor
    if kind == "bool":
        return lambda value: _bool(value, spec)
    if kind == "date":
        return lambda value: _parse_datetime(value, spec.format, "date").date()

    def parse_datetime(value: Any) -> datetime:
        moment = _parse_datetime(value, spec.format, "date and time")
        return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment

    return parse_datetime


# -- compiled fields and records ----------------------------------------------------------------


@dataclass(frozen=True)
class CompiledField:
    name: str
    read: Callable[[Row], Any]


class _FieldCompiler:
    """Builds the function that reads one field from a row."""

    def __init__(self, mapping: MappingFile, null_values: list[str], nested: bool) -> None:
        self.mapping = mapping
        self.nulls = frozenset(null_values)
        self.nested = nested
        self.zone = ZoneInfo(mapping.spec.timezone)

    def fail(self, spec: FieldSpec, message: str) -> MappingError:
        return MappingError(f"{self.mapping.origin} line {spec.line}: {message}")

    def raw(self, spec: FieldSpec, strict_template: bool) -> Getter:
        nulls = self.nulls
        if "value" in spec.model_fields_set:
            constant = spec.value
            return lambda row: constant
        if spec.column is not None:
            get = path_getter(spec.column, self.nested)

            def column(row: Row) -> Any:
                value = get(row)
                if isinstance(value, str):
                    value = value.strip()
                    return None if value in nulls else value
                return value

            return column
        template = spec.template or ""
        getters = [(name, path_getter(name, self.nested)) for name in TEMPLATE_FIELD.findall(template)]

        def fill(row: Row) -> str | None:
            parts = {}
            for name, get in getters:
                value = get(row)
                text = "" if value is None else str(value).strip()
                parts[name] = "" if text in nulls else text
            if strict_template and not all(parts.values()) or not any(parts.values()):
                return None
            return TEMPLATE_FIELD.sub(lambda match: parts[match.group(1)], template).strip()

        return fill

    def compile(self, name: str, spec: FieldSpec, target: type[Any] | None, strict_template: bool = False) -> CompiledField:
        kind: ValueType = spec.type or ("str" if spec.ref else _TYPE_NAMES.get(target, "str") if target else "str")
        if spec.format and kind not in ("date", "datetime"):
            raise self.fail(spec, f"{name}: format: is for dates and times, but the value is read as {kind} (set type:)")
        if spec.multiply_by is not None and kind not in ("int", "decimal"):
            raise self.fail(spec, f"{name}: multiply_by: is for numbers, but the value is read as {kind} (set type:)")
        raw = self.raw(spec, strict_template)
        parse = _parser(kind, spec, self.zone)
        value_map = self.mapping.value_map(spec)
        other = spec.other if spec.has_other else _MISSING
        default, ref, required = spec.default, spec.ref, spec.required
        source = spec.column or spec.template or "a constant"

        def read(row: Row) -> Any:
            value = raw(row)
            if value is not None and value_map is not None:
                key = value if isinstance(value, str) else str(value)
                value = value_map[key] if key in value_map else (value if other is _MISSING else other)
            if value is None:
                value = default
                if value is None:
                    if required:
                        raise FieldError(f"missing required field {name} (from {source})")
                    return None
            try:
                parsed = parse(value)
            except FieldError as exc:
                raise FieldError(f"{name} (from {source}): {exc}") from None
            return Ref(ref, str(parsed)) if ref is not None else parsed

        return CompiledField(name, read)


@dataclass(frozen=True)
class CompiledRecord:
    """Makes one record of an entity from a row (or nothing, if skip_if_empty says so)."""

    spec: RecordSpec
    id_field: CompiledField
    fields: tuple[CompiledField, ...]

    @property
    def entity(self) -> str:
        return self.spec.entity

    def build(self, row: Row) -> ProfileRecord | None:
        source_id = self.id_field.read(row)
        values = {field.name: field.read(row) for field in self.fields}
        if any(values.get(name) is None for name in self.spec.skip_if_empty):
            return None
        if source_id is None or source_id == "":
            columns = ", ".join(self.spec.id.columns()) or "the id"
            raise FieldError(f"missing id of the {self.entity} (from {columns})")
        return ProfileRecord(self.entity, str(source_id), values)


def compile_records(
    mapping: MappingFile, records: list[RecordSpec], null_values: list[str], nested: bool
) -> list[CompiledRecord]:
    """Compile a file's record specs; ``nested`` lets dotted column names walk into JSON objects."""
    compiler = _FieldCompiler(mapping, null_values, nested)
    compiled = []
    for record in records:
        columns = EntityColumns(record.entity)
        required = columns.required
        fields = []
        for name, spec in record.values().items():
            # A field named in skip_if_empty decides whether the record exists, so it is never required.
            if name in required and name not in record.skip_if_empty and not spec.required and spec.default is None:
                spec = spec.model_copy(update={"required": True})
                spec._line = record.fields[name].line
            fields.append(compiler.compile(name, spec, columns.types.get(name)))
        id_field = compiler.compile("id", record.id, str, strict_template=True)
        compiled.append(CompiledRecord(record, id_field, tuple(fields)))
    return compiled
