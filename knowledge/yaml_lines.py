"""YAML that remembers where each value was written, so configuration errors can name the line.

Used by the CSV import mappings and the journey playbook. The loader follows YAML 1.2's core
schema for plain scalars (``true``/``false``, ``null``, numbers) instead of PyYAML's YAML 1.1
defaults: ``yes``, ``no``, ``on``, ``1:20`` and ``2018-02-01`` are strings, because in these
files they are usually values of a CSV column or words of a cue list (``Y: true`` in a value map
must not turn its key into a boolean, a cue ``no`` must stay a word). Mapping keys are always
the text as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

import yaml

Path = tuple[str | int, ...]
LineIndex = dict[Path, int]
T = TypeVar("T")

_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _CoreSchemaLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema resolution of plain scalars."""


_CoreSchemaLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL, _INT, _FLOAT, _TIMESTAMP)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_CoreSchemaLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_CoreSchemaLoader.add_implicit_resolver(_INT, re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
_CoreSchemaLoader.add_implicit_resolver(
    _FLOAT, re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$"), list("-+.0123456789")
)


class YamlSourceError(ValueError):
    """The text is not YAML, or not YAML a configuration can be (duplicate keys, complex keys)."""


def _build(loader: _CoreSchemaLoader, node: yaml.Node, path: Path, lines: LineIndex, origin: str) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # YAML merge keys (<<: *defaults)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlSourceError(f"{origin} line {line}: a key must be plain text")
            key = key_node.value
            if key in result:
                raise YamlSourceError(f"{origin} line {line}: {key!r} is given twice")
            lines[(*path, key)] = line
            result[key] = _build(loader, value_node, (*path, key), lines, origin)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, (*path, index), lines, origin) for index, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def load_yaml_with_lines(text: str, origin: str) -> tuple[Any, LineIndex]:
    """Parse ``text``; return the data and the 1-based line of every key and item by path."""
    loader = _CoreSchemaLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines: LineIndex = {}
        return _build(loader, node, (), lines, origin), lines
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise YamlSourceError(f"{origin}{where}: not valid YAML ({exc.problem or exc.context})") from None
    except yaml.YAMLError as exc:
        raise YamlSourceError(f"{origin}: not valid YAML ({exc})") from None
    finally:
        loader.dispose()


def nearest_written(index: Mapping[Path, T], path: Path) -> T | None:
    """What ``index`` holds for ``path``, or for its nearest written ancestor (a value the
    file left out is reported where its parent was written)."""
    for end in range(len(path), -1, -1):
        found = index.get(tuple(path[:end]))
        if found is not None:
            return found
    return None


def line_of(lines: LineIndex, path: Path) -> int | None:
    """The line of ``path``, or of its nearest written ancestor."""
    return nearest_written(lines, path)
