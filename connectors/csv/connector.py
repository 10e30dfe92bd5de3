"""The ``csv`` connector: CRM and marketing exports (CSV, JSON, JSON Lines) through a mapping.

Incremental: the cursor keeps each file's size, mtime and sha256 and the mapping's hash.
A file whose bytes did not change is not read again. A changed file is read whole, and so
is every other file that feeds the same entities, so that a row that disappeared is known
to be gone and its record is deleted (``LoadResult.complete_entities``). Unchanged rows of a
re-read file cost nothing in the store (hash-diff), an edited row updates one record.

Resumable: the cursor is saved only after a run's writes; a run that dies is simply run
again, and the rows it had already written are unchanged by hash.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, Field, model_validator

from connectors.base import Connector, Cursor, KnownDocument, LoadResult, SyncItem
from connectors.csv.mapping import FileSpec, MappingError, MappingFile, load_mapping, load_preset
from connectors.csv.readers import ExportFileError, Fingerprint, fingerprint, read_header, rows_of, stat_of
from connectors.csv.values import CompiledRecord, FieldError, compile_records, has_path
from knowledge.profiles.records import ProfileRecord, RecordFailure

ENGINE_VERSION = "1"
"""Part of the cursor's mapping hash: bump it when the same mapping would read rows differently."""
JSON_PATH_PROBE_ROWS = 1000
_GLOB_CHARS = frozenset("*?[")


class CsvSourceConfig(BaseModel):
    root: Path = Field(description="The folder holding the export files.")
    preset: str | None = Field(default=None, description="A mapping shipped with the connector (maven-crm, olist-funnel).")
    mapping: Path | None = Field(default=None, description="A mapping YAML file (see connectors/csv/README.md).")

    @model_validator(mode="after")
    def _one_mapping(self) -> CsvSourceConfig:
        if (self.preset is None) == (self.mapping is None):
            raise ValueError("give either a preset or a mapping file")
        return self


class FileState(BaseModel):
    """What the cursor remembers of one file."""

    size: int
    mtime_ns: int
    sha256: str
    entities: list[str] = Field(default_factory=list)
    rows: int = 0
    rejected: int = 0
    empty: dict[str, int] = Field(default_factory=dict, description="records per 'entity.field' left empty")


class CsvCursor(Cursor):
    mapping_hash: str = ""
    files: dict[str, FileState] = Field(default_factory=dict)
    read: list[str] = Field(default_factory=list, description="files read by the run that wrote this cursor")
    warnings: list[str] = Field(default_factory=list, description="what that run found worth a look")


@dataclass
class _PlannedFile:
    spec_index: int
    spec: FileSpec
    relative: str
    path: Path
    state: FileState | None
    fingerprint: Fingerprint | None

    @property
    def entities(self) -> list[str]:
        return self.spec.entities()


@dataclass
class _Plan:
    files: list[_PlannedFile]
    to_read: set[str]
    dirty: set[str]
    incremental: bool


@dataclass
class _RunState:
    first_seen: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    blocked: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)


class CsvConnector(Connector[CsvCursor]):
    kind = "csv"
    cursor_model = CsvCursor
    delivers_documents = False

    def __init__(self, config: CsvSourceConfig) -> None:
        self.config = config
        if config.preset is not None:
            self.mapping: MappingFile = load_preset(config.preset)
        else:
            assert config.mapping is not None  # the config allows exactly one of them
            self.mapping = load_mapping(config.mapping)
        self._compiled = [
            compile_records(self.mapping, file.records, file.null_values, file.file_format != "csv")
            for file in self.mapping.spec.files
        ]

    @property
    def root(self) -> Path:
        return self.config.root.expanduser().resolve()

    def load(
        self, cursor: CsvCursor | None, known: Mapping[str, KnownDocument]
    ) -> Generator[SyncItem, None, LoadResult[CsvCursor]]:
        plan = self.plan(cursor)
        run = _RunState()
        states: dict[str, FileState] = {}
        for planned in plan.files:
            if planned.relative in plan.to_read:
                states[planned.relative] = yield from self._read_file(planned, run)
            elif planned.state is not None:
                states[planned.relative] = planned.state
        complete = {entity for entity in plan.dirty if not run.blocked[entity]}
        if plan.incremental:
            run.warnings.extend(
                f"{entity}: records missing from the files were kept, not deleted, "
                f"because {run.blocked[entity]} rows were rejected"
                for entity in sorted(plan.dirty - complete)
            )
        next_cursor = CsvCursor(
            mapping_hash=self._mapping_hash(), files=states, read=sorted(plan.to_read),
            warnings=self._empty_warnings(states) + run.warnings,
        )
        return LoadResult(
            next_cursor, complete=True, complete_entities=frozenset(complete), warnings=tuple(next_cursor.warnings)
        )

    # -- planning: which files to read -----------------------------------------------------

    def _mapping_hash(self) -> str:
        return hashlib.sha256(f"{ENGINE_VERSION}\n{self.root}\n{self.mapping.digest}".encode()).hexdigest()

    def plan(self, cursor: CsvCursor | None) -> _Plan:
        """Find the files, tell changed from unchanged, check headers; nothing is yielded yet,
        so a missing file, a wrong encoding or an unknown column stops the run before any write."""
        root = self.root
        if not root.is_dir():
            raise ExportFileError(f"{root}: no such folder" if not root.exists() else f"{root}: not a folder")
        prior = cursor.files if cursor is not None and cursor.mapping_hash == self._mapping_hash() else None
        planned: list[_PlannedFile] = []
        owners: dict[str, int] = {}
        for index, spec in enumerate(self.mapping.spec.files):
            for path in self._matches(index, spec):
                relative = path.relative_to(root).as_posix()
                if relative in owners:
                    raise self.mapping.error(("files", index, "path"), f"{relative} is already read by the file entry "
                                             f"at line {self._file_line(owners[relative])}")
                owners[relative] = index
                planned.append(self._examine(index, spec, path, relative, prior))
        if prior is None:  # first run or a new mapping: everything, and what an old mapping imported
            dirty = set(self.mapping.spec.entities())
            dirty |= {entity for state in (cursor.files.values() if cursor else ()) for entity in state.entities}
        else:
            dirty = {entity for p in planned if p.state is None for entity in p.entities}
            dirty |= {entity for relative, state in prior.items() if relative not in owners for entity in state.entities}
        to_read = self._closure(planned, dirty)
        for p in planned:
            if p.relative in to_read and p.spec.file_format == "csv":
                self._check_columns(p, read_header(p.path, p.spec, p.relative))
        return _Plan(planned, to_read, dirty, incremental=prior is not None)

    def _file_line(self, index: int) -> int:
        return self.mapping.lines.get(("files", index), 0)

    def _matches(self, index: int, spec: FileSpec) -> list[Path]:
        root = self.root
        if _GLOB_CHARS & set(spec.path):
            found = sorted(p for p in root.glob(spec.path) if p.is_file())
        else:
            candidate = (root / spec.path).resolve()
            found = [candidate] if candidate.is_file() else []
        for path in found:
            if not path.resolve().is_relative_to(root):
                raise self.mapping.error(("files", index, "path"), f"{spec.path} points outside {root}")
        if not found and not spec.optional:
            present = sorted(p.name for p in root.iterdir() if p.is_file())[:20]
            raise ExportFileError(
                f"{spec.path}: no such file in {root} (files there: {', '.join(present) or 'none'}); "
                f"named at {self.mapping.origin} line {self._file_line(index)}"
            )
        return found

    def _examine(self, index: int, spec: FileSpec, path: Path, relative: str, prior: dict[str, FileState] | None) -> _PlannedFile:
        old = prior.get(relative) if prior is not None else None
        size, mtime_ns = stat_of(path)
        if old is not None and (old.size, old.mtime_ns) == (size, mtime_ns):
            return _PlannedFile(index, spec, relative, path, old, None)
        print_ = fingerprint(path, spec.encoding, relative)
        if old is not None and old.sha256 == print_.sha256:
            touched = old.model_copy(update={"size": print_.size, "mtime_ns": print_.mtime_ns})
            return _PlannedFile(index, spec, relative, path, touched, print_)
        return _PlannedFile(index, spec, relative, path, None, print_)

    @staticmethod
    def _closure(planned: list[_PlannedFile], dirty: set[str]) -> set[str]:
        """Every file that feeds an entity to re-read, and the files feeding what those feed."""
        to_read: set[str] = set()
        entities = set(dirty)
        grew = True
        while grew:
            grew = False
            for p in planned:
                if p.relative not in to_read and entities.intersection(p.entities):
                    to_read.add(p.relative)
                    entities.update(p.entities)
                    grew = True
        dirty.update(entities)
        return to_read

    def _check_columns(self, planned: _PlannedFile, header: list[str]) -> None:
        present = set(header)
        for record in planned.spec.records:
            for spec in (record.id, *record.values().values()):
                for column in spec.columns():
                    if column not in present:
                        raise MappingError(
                            f"{self.mapping.origin} line {spec.line}: column {column!r} is not in {planned.relative} "
                            f"(columns: {', '.join(header)})"
                        )

    # -- reading -------------------------------------------------------------------------------

    def _read_file(self, planned: _PlannedFile, run: _RunState) -> Generator[SyncItem, None, FileState]:
        spec, label = planned.spec, planned.relative
        compiled = self._compiled[planned.spec_index]
        print_ = planned.fingerprint or (
            Fingerprint(planned.state.size, planned.state.mtime_ns, planned.state.sha256) if planned.state
            else fingerprint(planned.path, spec.encoding, label)
        )
        is_json = spec.file_format == "json"
        probe = self._json_paths(planned) if spec.file_format != "csv" else {}
        rows = rejected = 0
        empty: Counter[str] = Counter()
        for raw in rows_of(planned.path, spec, label):
            locator = f"{label}#{raw.position}" if is_json else f"{label}:{raw.position}"
            if raw.values is None:
                rejected += 1
                run.blocked.update(planned.entities)
                yield RecordFailure(compiled[0].entity, locator, raw.error or "unreadable row")
                continue
            rows += 1
            if probe and rows <= JSON_PATH_PROBE_ROWS:
                for column in [c for c in probe if has_path(raw.values, c)]:
                    del probe[column]
            try:
                built = [(c, c.build(raw.values)) for c in compiled]
            except FieldError as exc:
                rejected += 1
                run.blocked.update(planned.entities)
                yield RecordFailure(compiled[0].entity, locator, str(exc))
                continue
            duplicate = self._duplicate(built, run, label, "item" if is_json else "line")
            if duplicate is not None:
                rejected += 1  # the id is kept by its first row, so deletions stay safe
                yield RecordFailure(duplicate[0], locator, duplicate[1])
                continue
            for c, record in built:
                if record is None or record.key in run.first_seen:
                    continue  # skipped by skip_if_empty, or a `duplicates: first` record seen before
                run.first_seen[record.key] = (label, raw.position)
                for name in c.spec.warn_if_empty:
                    if record.values.get(name) is None:
                        empty[f"{c.entity}.{name}"] += 1
                yield record
        for column, line in probe.items():
            run.warnings.append(f"{label}: {column!r} ({self.mapping.origin} line {line}) is in none of the first "
                                f"{min(rows, JSON_PATH_PROBE_ROWS)} records")
        return FileState(size=print_.size, mtime_ns=print_.mtime_ns, sha256=print_.sha256, entities=planned.entities,
                         rows=rows, rejected=rejected, empty=dict(empty))

    @staticmethod
    def _duplicate(
        built: list[tuple[CompiledRecord, ProfileRecord | None]], run: _RunState, label: str, unit: str
    ) -> tuple[str, str] | None:
        """(entity, reason) if the row repeats the id of an earlier row (the first one is kept)."""
        for compiled, record in built:
            if record is None or compiled.spec.duplicates != "reject":
                continue
            first = run.first_seen.get(record.key)
            if first is not None:
                where = f"{unit} {first[1]}" if first[0] == label else f"{first[0]} {unit} {first[1]}"
                return compiled.entity, f"duplicate id {record.source_id} (first on {where})"
        return None

    @staticmethod
    def _json_paths(planned: _PlannedFile) -> dict[str, int]:
        paths: dict[str, int] = {}
        for record in planned.spec.records:
            for spec in (record.id, *record.values().values()):
                for column in spec.columns():
                    paths.setdefault(column, spec.line)
        return paths

    def _empty_warnings(self, states: dict[str, FileState]) -> list[str]:
        warnings = []
        for file in self.mapping.spec.files:
            for record in file.records:
                for name, message in record.warn_if_empty.items():
                    key = f"{record.entity}.{name}"
                    total = sum(state.empty.get(key, 0) for state in states.values())
                    if total:
                        warnings.append(message.format(count=total))
        return list(dict.fromkeys(warnings))
