"""``journey committee ACCOUNT``: an account's buying committee. Filled in by the committee work."""

from __future__ import annotations
