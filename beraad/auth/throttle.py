"""Sign-in attempts per account, next to the per-address limit of the login route.

A guesser spreading attempts over many addresses still meets this one. Only failed attempts
count; the limits grow (5 a minute, 20 an hour, 50 a day), so a guesser waits a minute, then an
hour, then a day. While an account waits, every attempt is refused before the password is looked
at: the right password waits too, so a refusal tells nothing about the password. Unknown and
existing usernames are treated alike (no oracle for which accounts exist). An administrator can
clear an account's wait. The counts live in the rate limiter's storage (the process's memory, or
Redis when configured), under a hash of the username.
"""

from __future__ import annotations

import hashlib
import time

from limits import parse_many

from ..extensions import limiter
from ..ratelimit_storage import fail_open

ACCOUNT_LIMITS = tuple(parse_many("5 per minute;20 per hour;50 per day"))
SCOPE = "sign-in-account"


def _key(username: str) -> str:
    return hashlib.sha256((username or "").strip().casefold().encode()).hexdigest()[:32]


def wait_seconds(username: str) -> int:
    """How long this account must wait before another attempt (0: it may try now)."""
    if not limiter.enabled:
        return 0
    key, waits = _key(username), [0]
    for item in ACCOUNT_LIMITS:
        if not fail_open(True, lambda item=item: limiter.limiter.test(item, key, SCOPE)):
            stats = fail_open(None, lambda item=item: limiter.limiter.get_window_stats(item, key, SCOPE))
            waits.append(max(1, int(stats.reset_time - time.time()) + 1) if stats else 60)
    return max(waits)


def count_failure(username: str) -> None:
    if limiter.enabled:
        key = _key(username)
        for item in ACCOUNT_LIMITS:
            fail_open(True, lambda item=item: limiter.limiter.hit(item, key, SCOPE))


def clear(username: str) -> None:
    """An administrator lets the account try again at once."""
    key = _key(username)
    for item in ACCOUNT_LIMITS:
        limiter.limiter.clear(item, key, SCOPE)
