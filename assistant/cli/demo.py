"""`journey demo`: generate and load the demo company through the real connectors."""

from __future__ import annotations
