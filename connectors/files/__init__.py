"""The ``files`` connector: a folder of documents."""

from connectors.files.connector import FilesConnector, FilesCursor, FilesSourceConfig

__all__ = ["FilesConnector", "FilesCursor", "FilesSourceConfig"]
