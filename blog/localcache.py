"""The cache of one process, used when no REDIS_URL is set.

Flask-Caching's SimpleCache pickles every value it keeps and, once full, sorts all its
entries on every `set`: with random article pages coming and going, that sorting costs as
much as rendering a page. This one keeps values as they are (pages are strings, the
masthead is frozen) and drops the least recently used entry when full.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from typing import Any

from flask import Flask
from flask_caching.backends.base import BaseCache


class LocalCache(BaseCache):
    """A thread-safe, least-recently-used cache with per-entry lifetimes."""

    def __init__(self, threshold: int = 500, default_timeout: int = 300) -> None:
        super().__init__(default_timeout=default_timeout)
        self._threshold = threshold
        self._entries: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def factory(
        cls, app: Flask, config: dict[str, Any], args: list[Any], kwargs: dict[str, Any]
    ) -> LocalCache:
        return cls(config["CACHE_THRESHOLD"], kwargs["default_timeout"])

    def _expires(self, timeout: int | None) -> float:
        seconds = self.default_timeout if timeout is None else timeout
        # As in cachelib: 0 means for ever.
        return math.inf if seconds == 0 else time.monotonic() + seconds

    def get(self, key: str) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def set(self, key: str, value: Any, timeout: int | None = None) -> bool:
        with self._lock:
            self._entries[key] = (self._expires(timeout), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._threshold:
                self._entries.popitem(last=False)
        return True

    def add(self, key: str, value: Any, timeout: int | None = None) -> bool:
        if self.has(key):
            return False
        return self.set(key, value, timeout)

    def delete(self, key: str) -> bool:
        with self._lock:
            return self._entries.pop(key, None) is not None

    def has(self, key: str) -> bool:
        return self.get(key) is not None

    def clear(self) -> bool:
        with self._lock:
            self._entries.clear()
        return True
