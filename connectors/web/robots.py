"""robots.txt rules for one site, as protego reads them."""

from __future__ import annotations

from protego import Protego


class RobotsRules:
    """What the site's robots.txt allows our user agent; no robots.txt allows all."""

    def __init__(self, robots_txt: str | None, user_agent: str) -> None:
        self._parser = Protego.parse(robots_txt) if robots_txt else None
        self._user_agent = user_agent

    @classmethod
    def allow_all(cls, user_agent: str) -> RobotsRules:
        return cls(None, user_agent)

    def allows(self, url: str) -> bool:
        return self._parser is None or self._parser.can_fetch(url, self._user_agent)

    @property
    def crawl_delay(self) -> float | None:
        if self._parser is None:
            return None
        delay = self._parser.crawl_delay(self._user_agent)
        return float(delay) if delay is not None else None

    @property
    def sitemaps(self) -> list[str]:
        return list(self._parser.sitemaps) if self._parser is not None else []
