"""The in-process rate-limit storage (`memory://`), without a thread per burst of hits.

limits' MemoryStorage starts a 10 ms `threading.Timer` whenever a hit finds none running, and
that timer walks every key to drop the expired ones. While a room answers at once, that is a
new thread every 10 ms per process and a walk over every participant's key: 0.1–0.3 ms of CPU
per hit in other threads with 100–3,000 keys, as much as a third of what an answer costs
(measured beside bench/votes.py). Expired keys are dropped anyway when they are read, so this
storage walks the keys at most once a minute, inline, instead. Production deployments with
several processes use Redis (BERAAD_RATELIMIT_STORAGE_URI), which has neither cost.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from limits import RateLimitItem
from limits.storage import MemoryStorage

from .config import ConfigurationError
from .extensions import limiter

SWEEP_SECONDS = 60.0
SCHEME = "beraad-memory"


class SweepingMemoryStorage(MemoryStorage):
    """MemoryStorage whose expiry sweep runs inline and at most every SWEEP_SECONDS."""

    STORAGE_SCHEME = [SCHEME]  # limits registers the class under this URI scheme

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()  # the one MemoryStorage starts at once
        self.last_sweep = time.monotonic()

    # MemoryStorage calls this (a private, name-mangled method) after every change; the
    # tests check that no thread is started per hit, so a limits release that renames it
    # is noticed (the dependency is pinned to a major version in pyproject.toml).
    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802
        now = time.monotonic()
        if now - self.last_sweep >= SWEEP_SECONDS:
            self.last_sweep = now
            self._MemoryStorage__expire_events()


def storage_uri(configured: str) -> str:
    """`memory://` (the default) is served by SweepingMemoryStorage; other URIs as given."""
    return f"{SCHEME}://" if configured == "memory://" else configured


# A shared store (Redis) that does not answer within this many seconds counts as down.
REDIS_TIMEOUT_SECONDS = 0.5
log = logging.getLogger("beraad.ratelimit")
_T = TypeVar("_T")
_last_warning = [0.0]


def storage_options(uri: str) -> dict:
    """Connection timeouts for Redis: a hung store must not hang the room's requests."""
    if uri.startswith(("redis://", "rediss://", "redis+unix://", "redis+sentinel://", "redis+cluster://")):
        return {"socket_timeout": REDIS_TIMEOUT_SECONDS, "socket_connect_timeout": REDIS_TIMEOUT_SECONDS}
    return {}


def require_client(uri: str) -> None:
    """A redis:// store needs the Redis client: say how to install it instead of a traceback."""
    if not uri.startswith("redis"):
        return
    try:
        import redis  # noqa: F401
    except ImportError:
        raise ConfigurationError(
            f"BERAAD_RATELIMIT_STORAGE_URI is {uri.split('://', 1)[0]}://…, which needs the Redis "
            "client: pip install 'beraad[redis]'"
        ) from None


def fail_open(default: _T, action: Callable[[], _T]) -> _T:
    """Run one rate-limit action; when the store is down, allow the request and log a warning.

    The policy: a vote, a contribution or a sign-in is never lost to an unreachable rate-limit
    store. While it is down the limits do not hold (said once every 30 s in the log, and by
    /readyz); they hold again as soon as it answers.
    """
    try:
        return action()
    except Exception as error:  # noqa: BLE001  (any store or client error: connection, timeout, …)
        now = time.monotonic()
        if now - _last_warning[0] >= 30:
            _last_warning[0] = now
            log.warning("rate-limit store unreachable (%s): requests are let through unlimited",
                        type(error).__name__)  # fmt: skip
        return default


# The counts the views keep themselves (beraad/vote/ratelimits.py, beraad/auth/throttle.py), on
# the limiter's own strategy and store, each failing open as above.


def allows(item: RateLimitItem, key: str, scope: str) -> bool:
    """Is there room for one more, without counting it?"""
    return not limiter.enabled or fail_open(True, lambda: limiter.limiter.test(item, key, scope))


def hit(item: RateLimitItem, key: str, scope: str) -> bool:
    """Count one; False when that went over the limit."""
    return not limiter.enabled or fail_open(True, lambda: limiter.limiter.hit(item, key, scope))


def clear(item: RateLimitItem, key: str, scope: str) -> None:
    fail_open(None, lambda: limiter.limiter.clear(item, key, scope))


def retry_after(item: RateLimitItem, key: str, scope: str) -> int:
    """Seconds until the window of this limit has room again (60 when the store cannot say)."""
    stats = fail_open(None, lambda: limiter.limiter.get_window_stats(item, key, scope))
    return max(1, int(stats.reset_time - time.time()) + 1) if stats else 60
