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

from limits import parse_many

from .. import ratelimit_storage as counts

ACCOUNT_LIMITS = tuple(parse_many("5 per minute;20 per hour;50 per day"))
SCOPE = "sign-in-account"


def _key(username: str) -> str:
    return hashlib.sha256((username or "").strip().casefold().encode()).hexdigest()[:32]


def wait_seconds(username: str) -> int:
    """How long this account must wait before another attempt (0: it may try now)."""
    key = _key(username)
    waits = [
        counts.retry_after(item, key, SCOPE) for item in ACCOUNT_LIMITS if not counts.allows(item, key, SCOPE)
    ]
    return max(waits, default=0)


def count_failure(username: str) -> None:
    key = _key(username)
    for item in ACCOUNT_LIMITS:
        counts.hit(item, key, SCOPE)


def clear(username: str) -> None:
    """An administrator lets the account try again at once."""
    key = _key(username)
    for item in ACCOUNT_LIMITS:
        counts.clear(item, key, SCOPE)
