"""The ``csv`` connector: CRM and marketing exports (CSV, JSON, JSON Lines) into the profile store.

A declarative YAML mapping says which file feeds which entity, how a row's columns become
a record's fields, and how values are read (types, date formats, value maps, references,
constants, derived fields, several records per row). Presets ship in ``presets/``
(``maven-crm``, ``olist-funnel``); the language is described in ``README.md`` beside this
file. Bad rows become ``RecordFailure`` values with file, line and reason; the rest is
imported.
"""

from connectors.csv.connector import CsvConnector, CsvCursor, CsvSourceConfig, FileState
from connectors.csv.mapping import (
    ImportMapping,
    MappingError,
    MappingFile,
    load_mapping,
    load_preset,
    parse_mapping,
    preset_names,
)
from connectors.csv.readers import ExportFileError

__all__ = [
    "CsvConnector",
    "CsvCursor",
    "CsvSourceConfig",
    "ExportFileError",
    "FileState",
    "ImportMapping",
    "MappingError",
    "MappingFile",
    "load_mapping",
    "load_preset",
    "parse_mapping",
    "preset_names",
]
