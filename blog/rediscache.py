"""The cache shared through Redis, where an outage costs cache misses, never a page.

Every page view reads the cache, so a Redis that is down or unreachable must not turn the
site into error pages: a failed read is a miss and a failed write is skipped, and pages are
made from the database as if nothing were cached. After a failure Redis is left alone for a
few seconds, and a warning is logged now and then, not on every request.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask_caching.backends.rediscache import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# A Redis that does not answer within this long counts as down for that call, and is left
# alone for a few seconds after: a page makes several cache calls, and each would wait.
SOCKET_TIMEOUT_SECONDS = 0.5
REST_SECONDS = 5.0
WARN_EVERY_SECONDS = 30.0


class ForgivingRedisCache(RedisCache):
    """Flask-Caching's RedisCache, with failed calls logged and answered as misses."""

    _last_warning = -WARN_EVERY_SECONDS
    _down_until = 0.0

    def get(self, key: str) -> Any:
        if self._resting():
            return None
        try:
            return super().get(key)
        except RedisError as error:
            self._failed("read", error)
            return None

    def set(self, key: str, value: Any, timeout: int | None = None) -> Any:
        if self._resting():
            return False
        try:
            return super().set(key, value, timeout)
        except RedisError as error:
            self._failed("write", error)
            return False

    def _resting(self) -> bool:
        return time.monotonic() < self._down_until

    def _failed(self, what: str, error: RedisError) -> None:
        now = time.monotonic()
        self._down_until = now + REST_SECONDS
        if now - self._last_warning >= WARN_EVERY_SECONDS:
            self._last_warning = now
            log.warning("Redis cache %s failed, serving uncached pages: %s", what, error)
