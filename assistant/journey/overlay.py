"""A company playbook laid over the shipped default, keeping where every value came from.

A company file that starts with ``extends: default`` only writes what differs: mappings merge
key by key (``null`` deletes a key, e.g. a cue), lists of objects with an ``id`` merge item by
item (an item with ``remove: true`` drops that id, a new id is appended), any other value
replaces the default's. Every value keeps the file and line it was written on, so a mistake in
the merged playbook is reported in the file the company can fix.
"""

from __future__ import annotations

from typing import Any

from knowledge.yaml_lines import LineIndex, Path, nearest_written

Location = tuple[str, int]
"""(file name, 1-based line)"""
LocationIndex = dict[Path, Location]


class _Tree:
    """Locations as a tree that follows the data, so merged subtrees keep their own."""

    __slots__ = ("children", "location")

    def __init__(self, location: Location | None = None) -> None:
        self.location = location
        self.children: dict[str | int, _Tree] = {}

    def child(self, key: str | int) -> _Tree:
        return self.children.get(key) or _Tree(self.location)


def _tree(lines: LineIndex, origin: str) -> _Tree:
    root = _Tree((origin, lines.get((), 1)))
    for path in sorted(lines, key=len):
        node = root
        for key in path:
            node = node.children.setdefault(key, _Tree(node.location))
        node.location = (origin, lines[path])
    return root


def _flatten(node: _Tree, path: Path, out: LocationIndex) -> None:
    if node.location is not None:
        out[path] = node.location
    for key, child in node.children.items():
        _flatten(child, (*path, key), out)


def _is_id_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) and "id" in item for item in value)


def _merge_lists(base: list[Any], base_loc: _Tree, top: list[Any], top_loc: _Tree) -> tuple[list[Any], _Tree]:
    merged: list[tuple[Any, _Tree]] = [(item, base_loc.child(i)) for i, item in enumerate(base)]
    position = {item["id"]: i for i, item in enumerate(base)}
    dropped: set[int] = set()
    for i, item in enumerate(top):
        where = top_loc.child(i)
        if item["id"] in position:
            at = position[item["id"]]
            if item.get("remove") is True:
                dropped.add(at)
                continue
            merged[at] = _merge(merged[at][0], merged[at][1], item, where)
        elif item.get("remove") is not True:
            position[item["id"]] = len(merged)
            merged.append((item, where))
    tree = _Tree(top_loc.location)
    values = []
    for index, (value, where) in enumerate(item for i, item in enumerate(merged) if i not in dropped):
        values.append(value)
        tree.children[index] = where
    return values, tree


def _merge(base: Any, base_loc: _Tree, top: Any, top_loc: _Tree) -> tuple[Any, _Tree]:
    if isinstance(base, dict) and isinstance(top, dict):
        values = dict(base)
        tree = _Tree(base_loc.location)
        tree.children = dict(base_loc.children)
        for key, value in top.items():
            if value is None:
                values.pop(key, None)
                tree.children.pop(key, None)
            elif key in base:
                values[key], tree.children[key] = _merge(base[key], base_loc.child(key), value, top_loc.child(key))
            else:
                values[key], tree.children[key] = value, top_loc.child(key)
        return values, tree
    if _is_id_list(base) and _is_id_list(top):
        return _merge_lists(base, base_loc, top, top_loc)
    return top, top_loc


def locations(lines: LineIndex, origin: str) -> LocationIndex:
    """The location index of one file."""
    out: LocationIndex = {}
    _flatten(_tree(lines, origin), (), out)
    return out


def overlay(
    base: dict[str, Any], base_lines: LineIndex, base_origin: str,
    top: dict[str, Any], top_lines: LineIndex, top_origin: str,
) -> tuple[dict[str, Any], LocationIndex]:
    """``top`` merged over ``base``, with the location of every value in the result."""
    values, tree = _merge(base, _tree(base_lines, base_origin), top, _tree(top_lines, top_origin))
    out: LocationIndex = {}
    _flatten(tree, (), out)
    return values, out


def location_of(index: LocationIndex, path: Path) -> Location | None:
    """The location of ``path``, or of its nearest written ancestor."""
    return nearest_written(index, path)
