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

import time

from limits.storage import MemoryStorage

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
