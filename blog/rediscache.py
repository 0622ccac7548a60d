"""The cache shared through Redis, where an outage costs cache misses, never a page.

Every page view reads the cache, so a Redis that is down or unreachable must not turn the
site into error pages: a failed read is a miss and a failed write is skipped, and pages are
made from the database as if nothing were cached. A warning is logged now and then, not on
every request.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask_caching.backends.rediscache import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# A Redis that does not answer within this long counts as down for that call.
SOCKET_TIMEOUT_SECONDS = 0.5
WARN_EVERY_SECONDS = 30.0


class ForgivingRedisCache(RedisCache):
    """Flask-Caching's RedisCache, with failed calls logged and answered as misses."""

    _last_warning = -WARN_EVERY_SECONDS

    def get(self, key: str) -> Any:
        try:
            return super().get(key)
        except RedisError as error:
            self._warn("read", error)
            return None

    def set(self, key: str, value: Any, timeout: int | None = None) -> Any:
        try:
            return super().set(key, value, timeout)
        except RedisError as error:
            self._warn("write", error)
            return False

    def _warn(self, what: str, error: RedisError) -> None:
        now = time.monotonic()
        if now - self._last_warning >= WARN_EVERY_SECONDS:
            self._last_warning = now
            log.warning("Redis cache %s failed, serving uncached pages: %s", what, error)
