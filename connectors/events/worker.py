"""The events worker process: ``python -m connectors.events.worker``, started by the API.

It reads one JSON line with its ``WorkerConfig`` from stdin, then processes the inbox each
time a line arrives (and every second anyway, for events stored by another API process),
until stdin closes, which happens when its parent stops it or dies.
"""

from __future__ import annotations

import gc
import json
import logging
import sys
import threading

from connectors.events.background import WorkerConfig

POLL_SECONDS = 1.0
logger = logging.getLogger("connectors.events.worker")


def listen(wake: threading.Event, gone: threading.Event) -> None:
    """Set ``wake`` for every wake-up from the parent; ``gone`` when the pipe closes."""
    while sys.stdin.buffer.read1(4096):
        wake.set()
    gone.set()
    wake.set()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s events-worker %(levelname)s %(message)s")
    line = sys.stdin.buffer.readline()
    if not line.strip():
        return  # the parent went away before it said anything
    config = WorkerConfig(**json.loads(line))

    from connectors.events.ingestor import EventIngestor
    from knowledge.db import Database
    from knowledge.profiles import ProfileStore
    from knowledge.profiles.identity import IdentityResolver
    from knowledge.sync_state import SyncState

    db = Database(config.database_url)
    store = ProfileStore(db, identity=IdentityResolver(db, config))
    ingestor = EventIngestor(db, SyncState(db), store, config.source, batch_records=config.batch_records,
                             max_events_per_run=config.max_events_per_run)
    # This process only turns events into rows: what is built so far lives as long as it
    # does, and what a run allocates is freed by reference counting. Keeping the startup
    # objects out of collections and collecting less often saves a fifth of its CPU.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    wake, gone = threading.Event(), threading.Event()
    threading.Thread(target=listen, args=(wake, gone), daemon=True, name="parent-pipe").start()
    try:
        while not gone.is_set():
            if not wake.wait(POLL_SECONDS) and ingestor.waiting() == 0:
                continue
            wake.clear()
            if gone.is_set():
                break
            try:
                ingestor.process_all()
            except Exception:  # noqa: BLE001 - recorded on the sync run; the events stay in the inbox
                logger.exception("event processing failed; retrying in a second")
                gone.wait(POLL_SECONDS)
    finally:
        db.dispose()


if __name__ == "__main__":
    main()
