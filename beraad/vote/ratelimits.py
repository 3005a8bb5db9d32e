"""Rate limits of the participant routes, in one place.

Two kinds, both kept in Flask-Limiter's storage (memory by default, Redis in production):

- Guessing join codes is limited per address, and only failed lookups count: a whole ministry
  behind one NAT address opens a valid code freely. One bucket is shared by every route that
  looks up a join code (views.gate). An address over it is refused everywhere, except for a phone
  that already joined that session: a guesser on the same network never locks the room out.
  The budget, GUESS_LIMIT, lets 1,000 people behind one address mistype a code by hand; what it
  still allows a guesser is worked out in the README.
- A participant's posts (answers, contributions, evaluation) are limited per participant token,
  never per address. They are counted here with the limiter's own strategy (`limiter.limiter`,
  from the `limits` library) rather than through the extension's decorator, whose per-request
  bookkeeping cost about as much as the rest of an answer (bench/votes.py). A request filter
  keeps the extension away from those views, so nothing is counted twice.
"""

from __future__ import annotations

from flask import request
from limits import RateLimitItem, parse

from .. import ratelimit_storage as counts
from ..extensions import limiter
from .service import VoteError

GUESS_LIMIT = "300 per minute"
GUESS_SCOPE = "join-code-guesses"
_GUESS_ITEM = parse(GUESS_LIMIT)

ANSWER_LIMIT = parse("20 per minute")
CONTRIBUTION_LIMIT = parse("10 per minute")
EVALUATION_LIMIT = parse("10 per minute")


# The views that count for themselves (check_token_limit, and the guesses in views.gate).
SELF_COUNTED_ENDPOINTS = frozenset(
    {
        "vote.answer",
        "vote.contribute",
        "vote.evaluate",
        "vote.join",
        "vote.stage",
        "vote.register",
        "vote.state",
    }
)


@limiter.request_filter
def _counted_in_the_view() -> bool:
    """Flask-Limiter skips these requests entirely (cheaper than `limiter.exempt`, which still
    resolves the route's limits on every request)."""
    return request.endpoint in SELF_COUNTED_ENDPOINTS


def over_guess_limit(address: str | None) -> bool:
    """Has this address used up its join-code guesses?"""
    return not counts.allows(_GUESS_ITEM, address or "127.0.0.1", GUESS_SCOPE)


def count_failed_guess(address: str | None) -> None:
    """A join code that does not exist was asked for from this address."""
    counts.hit(_GUESS_ITEM, address or "127.0.0.1", GUESS_SCOPE)


def guess_retry_after(address: str | None) -> int:
    return counts.retry_after(_GUESS_ITEM, address or "127.0.0.1", GUESS_SCOPE)


def check_token_limit(limit: RateLimitItem, key: str, scope: str) -> None:
    """Count one request against a participant's limit; raise VoteError(429) when over it."""
    if not counts.hit(limit, key, scope):
        raise VoteError(429, "rate_limited", retry_after=counts.retry_after(limit, key, scope))
