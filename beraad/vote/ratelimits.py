"""Rate limits of the participant routes, in one place.

Two kinds, both kept in Flask-Limiter's storage (memory by default, Redis in production):

- Guessing join codes is limited per address, and only failed lookups count: a whole ministry
  behind one NAT address opens a valid code freely. One bucket is shared by every route that
  tells whether a code exists (the join page, the join button, the state poll).
- A participant's posts (answers, contributions, evaluation) are limited per participant token,
  never per address. They are counted here with the limiter's own strategy (`limiter.limiter`,
  from the `limits` library) rather than through the extension's decorator, whose per-request
  bookkeeping cost about as much as the rest of an answer (bench/votes.py). A request filter
  keeps the extension away from those views, so nothing is counted twice.
"""

from __future__ import annotations

import time

from flask import request
from limits import RateLimitItem, parse

from ..extensions import limiter
from .service import VoteError

GUESS_LIMIT = "30 per minute"
GUESS_SCOPE = "join-code-guesses"
_GUESS_ITEM = parse(GUESS_LIMIT)

ANSWER_LIMIT = parse("20 per minute")
CONTRIBUTION_LIMIT = parse("10 per minute")
EVALUATION_LIMIT = parse("10 per minute")


# The views that call check_token_limit themselves.
SELF_COUNTED_ENDPOINTS = frozenset({"vote.answer", "vote.contribute", "vote.evaluate"})


@limiter.request_filter
def _counted_in_the_view() -> bool:
    """Flask-Limiter skips these requests entirely (cheaper than `limiter.exempt`, which still
    resolves the route's limits on every request)."""
    return request.endpoint in SELF_COUNTED_ENDPOINTS


def _only_failed_lookups(response) -> bool:
    return response.status_code == 404


guessing_limit = limiter.shared_limit(GUESS_LIMIT, scope=GUESS_SCOPE, deduct_when=_only_failed_lookups)


def over_guess_limit(address: str | None) -> bool:
    """Has this address used up its join-code guesses? (The same bucket as guessing_limit:
    Flask-Limiter keys a shared limit by the key function's value and the scope.)"""
    if not limiter.enabled:
        return False
    return not limiter.limiter.test(_GUESS_ITEM, address or "127.0.0.1", GUESS_SCOPE)


def check_token_limit(limit: RateLimitItem, key: str, scope: str) -> None:
    """Count one request against a participant's limit; raise VoteError(429) when over it."""
    if not limiter.enabled:
        return
    if limiter.limiter.hit(limit, key, scope):
        return
    reset_at = limiter.limiter.get_window_stats(limit, key, scope).reset_time
    raise VoteError(429, "rate_limited", retry_after=max(1, int(reset_at - time.time()) + 1))
