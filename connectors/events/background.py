"""Where inbox events are processed after a request: a thread, or a worker process.

Both coalesce wake-ups: triggers that arrive during a run cause one more run, so a burst
of requests is processed in a few large batches. The *worker process* is what the API uses:
processing (records, identity resolution) then runs on another core instead of competing
with request handling for the GIL. It is a plain child process (``python -m
connectors.events.worker``) that reads its config and then wake-ups from a pipe: when the
parent goes away, for whatever reason, the pipe closes and the worker ends. Either way a
run that dies loses nothing: the events wait in the inbox and the next run resumes from the
saved cursor.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Protocol

logger = logging.getLogger(__name__)


class Background(Protocol):
    def trigger(self) -> None: ...

    def stop(self, timeout: float = 10.0) -> None: ...


class BackgroundThread:
    """Runs ``drain`` in one daemon thread at a time; a failed run is logged (the runner
    records it with its error) and retried at the next trigger."""

    def __init__(self, drain: Callable[[], object]) -> None:
        self._drain = drain
        self._lock = threading.Lock()
        self._wanted = False
        self._thread: threading.Thread | None = None
        self._idle = threading.Event()
        self._idle.set()

    def trigger(self) -> None:
        with self._lock:
            self._wanted = True
            if self._thread is None:
                self._idle.clear()
                self._thread = threading.Thread(target=self._loop, name="events-processor", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            with self._lock:
                if not self._wanted:
                    self._thread = None
                    self._idle.set()
                    return
                self._wanted = False
            try:
                self._drain()
            except Exception:  # noqa: BLE001 - the events stay in the inbox
                logger.exception("event processing failed; the events stay in the inbox")
                with self._lock:
                    self._wanted = False

    def stop(self, timeout: float = 10.0) -> None:
        self._idle.wait(timeout)


@dataclass(frozen=True)
class WorkerConfig:
    """What a worker process needs to rebuild the pipeline (it also serves as the identity
    options: ``account_name_threshold``, ``free_mail_domains``)."""

    database_url: str
    source: str
    account_name_threshold: float
    free_mail_domains: list[str]
    batch_records: int = 5000
    max_events_per_run: int = 20_000


class BackgroundProcess:
    """One worker process, started on the first trigger and again if it died. The config
    (with the database URL, which may hold a password) goes through the pipe, not argv."""

    def __init__(self, config: WorkerConfig) -> None:
        self.config = config
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def trigger(self) -> None:
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._process = subprocess.Popen([sys.executable, "-m", "connectors.events.worker"], stdin=subprocess.PIPE)
                self._send(json.dumps(asdict(self.config)).encode() + b"\n")
            self._send(b"\n")

    def _send(self, data: bytes) -> None:
        assert self._process is not None and self._process.stdin is not None
        try:
            self._process.stdin.write(data)
            self._process.stdin.flush()
        except OSError:  # the worker died: the next trigger starts a new one
            logger.warning("the events worker is gone; it is restarted at the next request")
            self._process = None

    def stop(self, timeout: float = 10.0) -> None:
        """Close the pipe (the worker ends after its current run) and wait for it."""
        with self._lock:
            process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            try:
                process.stdin.close()
            except OSError:
                pass
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
