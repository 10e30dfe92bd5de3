"""A folder as a source: include/exclude globs, a visibility, change detection by size+mtime.

Document uris are paths relative to the folder (``manage/users/index.rst``), so the same
folder moved elsewhere keeps its index.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from connectors.base import Connector, Cursor, KnownDocument, LoadResult, SyncItem
from connectors.globs import matches
from knowledge.documents import ItemFailure, SourceDocument, Unchanged, Visibility
from knowledge.loaders import SUPPORTED_EXTENSIONS, media_type_for

DEFAULT_EXCLUDES = ("**/.*", "**/.*/**", "**/node_modules/**", "**/__pycache__/**")


class FilesSourceConfig(BaseModel):
    root: Path = Field(description="The folder to index.")
    include: list[str] = Field(default_factory=lambda: ["**/*"], description="Globs of files to index.")
    exclude: list[str] = Field(default_factory=lambda: list(DEFAULT_EXCLUDES), description="Globs to skip.")
    visibility: Visibility = Visibility.PUBLIC
    max_bytes: int = Field(default=20 * 1024 * 1024, description="Larger files are reported, not read.")


class FilesCursor(Cursor):
    last_sync_at: datetime | None = None
    files_seen: int = 0
    skipped_unsupported: int = 0


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


class FilesConnector(Connector[FilesCursor]):
    kind = "files"
    cursor_model = FilesCursor

    def __init__(self, config: FilesSourceConfig) -> None:
        self.config = config

    def _walk(self) -> Iterator[Path]:
        for directory, dirnames, filenames in os.walk(self.config.root):
            dirnames.sort()
            for filename in sorted(filenames):
                yield Path(directory) / filename

    def load(
        self, cursor: FilesCursor | None, known: Mapping[str, KnownDocument]
    ) -> Generator[SyncItem, None, LoadResult[FilesCursor]]:
        root = self.config.root
        started = datetime.now(UTC)
        if not root.is_dir():
            yield ItemFailure(str(root), "folder not found" if not root.exists() else "not a folder")
            return LoadResult(cursor or FilesCursor(), complete=False)
        seen = skipped = 0
        for path in self._walk():
            relative = path.relative_to(root).as_posix()
            if not matches(relative, self.config.include) or matches(relative, self.config.exclude):
                continue
            if path.suffix.lower() not in SUPPORTED_EXTENSIONS:
                skipped += 1
                continue
            seen += 1
            yield self._item(path, relative, known.get(relative))
        return LoadResult(FilesCursor(last_sync_at=started, files_seen=seen, skipped_unsupported=skipped), complete=True)

    def _item(self, path: Path, relative: str, previous: KnownDocument | None) -> SyncItem:
        try:
            stat = path.stat()
        except OSError as exc:
            return ItemFailure(relative, f"unreadable: {exc.strerror or exc}")
        if stat.st_size > self.config.max_bytes:
            return ItemFailure(relative, f"file too large ({human_size(stat.st_size)} > {human_size(self.config.max_bytes)} limit)")
        fingerprint = f"{stat.st_size}:{stat.st_mtime_ns}"
        if previous is not None and previous.fingerprint == fingerprint:
            return Unchanged(relative)
        try:
            content = path.read_bytes()
        except OSError as exc:
            return ItemFailure(relative, f"unreadable: {exc.strerror or exc}")
        return SourceDocument(
            uri=relative,
            content=content,
            media_type=media_type_for(relative),
            updated_at=datetime.fromtimestamp(stat.st_mtime, UTC),
            visibility=self.config.visibility,
            fingerprint=fingerprint,
            metadata={"path": str(path)},
        )
