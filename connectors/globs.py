"""Include/exclude glob matching shared by the connectors."""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase


def matches(path: str, patterns: Iterable[str]) -> bool:
    """Glob match where ``*`` also crosses ``/`` and a leading ``**/`` may match nothing
    (``**/*.md`` matches ``a.md`` as well as ``docs/a.md``)."""
    for pattern in patterns:
        if fnmatchcase(path, pattern):
            return True
        if pattern.startswith("**/") and fnmatchcase(path, pattern[3:]):
            return True
    return False
