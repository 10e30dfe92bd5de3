"""The mapping language: which export files become which profile records, validated.

A mapping is YAML (see ``connectors/csv/README.md`` for the reference). ``load_mapping``
parses it, validates its structure with pydantic and its meaning against the profile
store's schema (entities, columns, required columns, named value maps), and names the file
and line of every mistake: ``mapping.yaml line 12: deal has no column 'ammount'``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path as FilePath
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator
from sqlalchemy import inspect as sa_inspect

from knowledge.profiles.models import ENTITY_MODELS
from knowledge.yaml_lines import LineIndex, Path, YamlSourceError, line_of, load_yaml_with_lines

ValueType = Literal["str", "int", "decimal", "date", "datetime", "bool"]
FileFormat = Literal["csv", "json", "jsonl"]
PRESETS_DIR = FilePath(__file__).resolve().parent / "presets"
_STORE_OWNED = frozenset({"id", "source", "source_id", "synced_at", "record_hash", "attributes", "person_id", "master_id"})
TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")


class MappingError(ValueError):
    """A mapping that cannot be used; the message names the file and line."""


def _map_value(value: Any) -> str | None:
    """Value-map entries are text (they stand for column values); ``true`` stays ``true``."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldSpec(_Strict):
    """Where one value comes from and how it is read. Shorthand: ``"col"`` is ``{column: col}``;
    a string with ``{...}`` is ``{template: ...}``."""

    column: str | None = None
    template: str | None = None
    value: str | int | float | bool | None = None
    type: ValueType | None = None
    format: list[str] = Field(default_factory=list)
    map: str | dict[str, str | None] | None = None
    other: str | None = None
    default: str | int | float | bool | None = None
    ref: str | None = None
    required: bool = False
    decimal_separator: Literal[".", ","] = "."
    thousands_separator: Literal[",", ".", " ", "'", "_"] | None = None
    multiply_by: Decimal | None = None
    _line: int = PrivateAttr(default=0)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"template": data} if TEMPLATE_FIELD.search(data) else {"column": data}
        return data

    @field_validator("format", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("map", mode="before")
    @classmethod
    def _text_map(cls, value: Any) -> Any:
        return {str(k): _map_value(v) for k, v in value.items()} if isinstance(value, dict) else value

    @field_validator("other", mode="before")
    @classmethod
    def _text_other(cls, value: Any) -> Any:
        return _map_value(value)

    @model_validator(mode="after")
    def _one_origin(self) -> FieldSpec:
        given = [name for name in ("column", "template", "value") if name in self.model_fields_set]
        if len(given) != 1:
            raise ValueError("give exactly one of column, template or value")
        if "other" in self.model_fields_set and self.map is None:
            raise ValueError("other: needs a map:")
        return self

    @property
    def line(self) -> int:
        return self._line

    @property
    def has_other(self) -> bool:
        return "other" in self.model_fields_set

    def columns(self) -> list[str]:
        """The source columns (or JSON paths) this value reads."""
        if self.column is not None:
            return [self.column]
        if self.template is not None:
            return TEMPLATE_FIELD.findall(self.template)
        return []


class RecordSpec(_Strict):
    """One record made from every row of a file."""

    entity: str
    id: FieldSpec
    fields: dict[str, FieldSpec] = Field(default_factory=dict)
    attributes: dict[str, FieldSpec] = Field(default_factory=dict)
    skip_if_empty: list[str] = Field(default_factory=list)
    duplicates: Literal["reject", "first"] = "reject"
    warn_if_empty: dict[str, str] = Field(default_factory=dict)

    def values(self) -> dict[str, FieldSpec]:
        return {**self.fields, **self.attributes}


class FileSpec(_Strict):
    """One export file (or a glob of files with the same layout) and the records it feeds."""

    path: str
    format: FileFormat | None = None
    encoding: str = "utf-8-sig"
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    quotechar: str = Field(default='"', min_length=1, max_length=1)
    escapechar: str | None = Field(default=None, min_length=1, max_length=1)
    header: list[str] | None = None
    records_path: str | None = None
    null_values: list[str] = Field(default_factory=lambda: [""])
    max_record_lines: int = Field(default=100, ge=1)
    optional: bool = False
    records: list[RecordSpec] = Field(min_length=1)

    @property
    def file_format(self) -> FileFormat:
        if self.format is not None:
            return self.format
        suffix = FilePath(self.path).suffix.lower()
        return "jsonl" if suffix in (".jsonl", ".ndjson") else "json" if suffix == ".json" else "csv"

    def entities(self) -> list[str]:
        return list(dict.fromkeys(record.entity for record in self.records))


class ImportMapping(_Strict):
    name: str | None = None
    description: str | None = None
    timezone: str = "UTC"
    maps: dict[str, dict[str, str | None]] = Field(default_factory=dict)
    files: list[FileSpec] = Field(min_length=1)

    @field_validator("maps", mode="before")
    @classmethod
    def _text_maps(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {name: {str(k): _map_value(v) for k, v in entries.items()} if isinstance(entries, dict) else entries
                    for name, entries in value.items()}
        return value

    def entities(self) -> list[str]:
        return list(dict.fromkeys(entity for file in self.files for entity in file.entities()))


@dataclass(frozen=True)
class MappingFile:
    """A validated mapping with where it came from (for messages) and its content hash."""

    spec: ImportMapping
    origin: str
    digest: str
    lines: LineIndex

    def error(self, path: Path, message: str) -> MappingError:
        line = line_of(self.lines, path)
        return MappingError(f"{self.origin}{f' line {line}' if line else ''}: {message}")

    def value_map(self, spec: FieldSpec) -> dict[str, str | None] | None:
        return self.spec.maps[spec.map] if isinstance(spec.map, str) else spec.map


class EntityColumns:
    """The writable columns of an entity's model: python type, required or not."""

    def __init__(self, entity: str) -> None:
        self.types: dict[str, type[Any] | None] = {}
        self.required: set[str] = set()
        for column in sa_inspect(ENTITY_MODELS[entity]).columns:
            if column.key in _STORE_OWNED:
                continue
            impl = getattr(column.type, "impl_instance", column.type)
            try:
                self.types[column.key] = impl.python_type
            except NotImplementedError:
                self.types[column.key] = None
            if not column.nullable and column.default is None:
                self.required.add(column.key)


def _pydantic_message(mapping_origin: str, lines: LineIndex, error: ValidationError) -> MappingError:
    messages = []
    for item in error.errors()[:3]:
        path = tuple(part for part in item["loc"] if isinstance(part, (str, int)))
        line = line_of(lines, path)
        where = ".".join(str(part) for part in path) or "top level"
        messages.append(f"{mapping_origin}{f' line {line}' if line else ''}: {where}: {item['msg']}")
    more = len(error.errors()) - len(messages)
    return MappingError("; ".join(messages) + (f" (and {more} more)" if more > 0 else ""))


def parse_mapping(text: str, origin: str) -> MappingFile:
    """Validate a mapping's text; ``origin`` is the name messages use (``mapping.yaml``)."""
    try:
        data, lines = load_yaml_with_lines(text, origin)
    except YamlSourceError as exc:
        raise MappingError(str(exc)) from None
    if not isinstance(data, dict):
        raise MappingError(f"{origin}: a mapping is a YAML object with a files: list (see connectors/csv/README.md)")
    try:
        spec = ImportMapping.model_validate(data)
    except ValidationError as exc:
        raise _pydantic_message(origin, lines, exc) from None
    mapping = MappingFile(spec, origin, hashlib.sha256(text.encode("utf-8")).hexdigest(), lines)
    _check_meaning(mapping)
    return mapping


def load_mapping(path: FilePath) -> MappingFile:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MappingError(f"{path}: no such mapping file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"{path}: cannot read the mapping file ({exc})") from None
    return parse_mapping(text, path.name)


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def load_preset(name: str) -> MappingFile:
    if name not in preset_names():
        raise MappingError(f"unknown preset {name!r}; known: {', '.join(preset_names())}")
    return load_mapping(PRESETS_DIR / f"{name}.yaml")


def _check_meaning(mapping: MappingFile) -> None:
    spec = mapping.spec
    try:
        ZoneInfo(spec.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise mapping.error(("timezone",), f"unknown time zone {spec.timezone!r} (e.g. UTC, Europe/Berlin)") from None
    for f_index, file in enumerate(spec.files):
        where: Path = ("files", f_index)
        if file.records_path is not None and file.file_format != "json":
            raise mapping.error((*where, "records_path"), "records_path: is only for JSON files")
        for r_index, record in enumerate(file.records):
            _check_record(mapping, record, (*where, "records", r_index))


def _check_record(mapping: MappingFile, record: RecordSpec, where: Path) -> None:
    if record.entity not in ENTITY_MODELS:
        raise mapping.error((*where, "entity"), f"unknown entity {record.entity!r}; known: {', '.join(sorted(ENTITY_MODELS))}")
    columns = EntityColumns(record.entity)
    for name in record.fields:
        if name not in columns.types:
            hint = " (set by the store)" if name in _STORE_OWNED else "; values that are no column go under attributes:"
            raise mapping.error((*where, "fields", name), f"{record.entity} has no column {name!r}{hint}")
    for name in record.attributes:
        if name in columns.types or name in _STORE_OWNED:
            raise mapping.error((*where, "attributes", name), f"{name!r} is a column of {record.entity}; put it under fields:")
    missing = sorted(columns.required - set(record.fields))
    if missing:
        raise mapping.error((*where, "fields"), f"{record.entity} needs a value for {', '.join(missing)} under fields:")
    for name, message in record.warn_if_empty.items():
        try:
            message.format(count=0)
        except (KeyError, IndexError, ValueError):
            raise mapping.error((*where, "warn_if_empty", name), "a warning may only use {count}") from None
    for key in ("skip_if_empty", "warn_if_empty"):
        for name in getattr(record, key):
            if name not in record.fields and name not in record.attributes:
                raise mapping.error((*where, key), f"{key}: {name!r} is not one of this record's fields")
    _place_field(mapping, record.id, (*where, "id"))
    for section in ("fields", "attributes"):
        for name, field in getattr(record, section).items():
            _place_field(mapping, field, (*where, section, name))


def _place_field(mapping: MappingFile, field: FieldSpec, where: Path) -> None:
    """Check a value's references and remember its line for later messages."""
    field._line = line_of(mapping.lines, (*where, "column")) or line_of(mapping.lines, where) or 0
    if isinstance(field.map, str) and field.map not in mapping.spec.maps:
        known = ", ".join(sorted(mapping.spec.maps)) or "none defined under maps:"
        raise mapping.error((*where, "map"), f"no value map called {field.map!r} (known: {known})")
    if field.ref is not None and field.ref not in ENTITY_MODELS:
        raise mapping.error((*where, "ref"), f"unknown entity {field.ref!r} to refer to")
    if field.multiply_by is not None and field.type not in ("int", "decimal", None):
        raise mapping.error((*where, "multiply_by"), f"multiply_by: is for numbers, not for type {field.type}")
    if field.format and field.type not in ("date", "datetime", None):
        raise mapping.error((*where, "format"), f"format: is for dates and times, not for type {field.type}")
    if field.template is not None and not field.columns():
        raise mapping.error(where, f"template {field.template!r} names no column (write {{column}})")
