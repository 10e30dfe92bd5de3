"""The demo company: a reproducible fictional German B2B vendor (Velmora Systems GmbH),
generated from a seed and loaded through the real connectors (csv, files, events).

``generate_demo(out, seed)`` writes the CRM export, the website's Segment events, the product
docs in German and English and the ground truth (``truth/``) into a folder;
``load_demo(container, out)`` loads that folder into a workspace's stores.
"""

from __future__ import annotations

from assistant.demo.generator import DEFAULT_ACCOUNTS, DEFAULT_SEED, GeneratedDemo, build_demo, counts, generate_demo, window_for
from assistant.demo.loader import (
    CRM_SOURCE,
    DOCS_SOURCE,
    EVENTS_SOURCE,
    INTERNAL_DOCS_SOURCE,
    DemoLoadReport,
    demo_sources,
    load_demo,
)
from assistant.demo.world import PERSONAS, STAGES, World
from assistant.demo.writers import WriteReport, read_manifest

__all__ = [
    "CRM_SOURCE",
    "DEFAULT_ACCOUNTS",
    "DEFAULT_SEED",
    "DOCS_SOURCE",
    "EVENTS_SOURCE",
    "INTERNAL_DOCS_SOURCE",
    "PERSONAS",
    "STAGES",
    "DemoLoadReport",
    "GeneratedDemo",
    "World",
    "WriteReport",
    "build_demo",
    "counts",
    "demo_sources",
    "generate_demo",
    "load_demo",
    "read_manifest",
    "window_for",
]
