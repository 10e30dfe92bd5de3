"""`journey import`: CSV/JSON exports into the profile store through the csv connector."""

from __future__ import annotations
