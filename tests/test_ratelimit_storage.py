"""The in-process rate-limit storage: same limits as limits' MemoryStorage, no thread per hit."""

from __future__ import annotations

import threading

from limits import parse, storage, strategies

from beraad import ratelimit_storage
from beraad.extensions import limiter


def test_memory_uri_is_served_by_the_sweeping_storage(app):
    assert app.config["RATELIMIT_STORAGE_URI"] == "beraad-memory://"
    assert isinstance(limiter.limiter.storage, ratelimit_storage.SweepingMemoryStorage)
    assert ratelimit_storage.storage_uri("redis://cache:6379/0") == "redis://cache:6379/0"


def test_a_burst_of_hits_starts_no_thread_and_still_limits(monkeypatch):
    store = storage.storage_from_string("beraad-memory://")  # (its constructor's one timer is cancelled)
    limit = strategies.FixedWindowRateLimiter(store)
    started = []
    real_start = threading.Thread.start
    monkeypatch.setattr(
        threading.Thread, "start", lambda thread: started.append(thread) or real_start(thread)
    )
    item = parse("20 per minute")
    outcomes = [limit.hit(item, "token:abc", "vote.answer") for _ in range(25)]
    assert outcomes == [True] * 20 + [False] * 5
    assert limit.hit(item, "token:other", "vote.answer")  # per key
    assert started == []


def test_expired_keys_are_swept_inline_at_most_once_a_minute(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(ratelimit_storage.time, "monotonic", lambda: now[0])
    store = ratelimit_storage.SweepingMemoryStorage()
    store.incr("old", expiry=-1)  # already expired
    assert "old" in store.storage
    now[0] += ratelimit_storage.SWEEP_SECONDS - 1
    store.incr("fresh", expiry=60)
    assert "old" in store.storage  # not yet: the sweep is due once a minute
    now[0] += 2
    store.incr("fresh", expiry=60)
    assert "old" not in store.storage and store.get("fresh") == 2
