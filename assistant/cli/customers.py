"""Customer-data commands: accounts, account (and the CRM syncs in `sync`)."""

from __future__ import annotations
