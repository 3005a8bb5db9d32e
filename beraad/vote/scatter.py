"""Storage order that tells nothing: rows written one after another must not stay in that order.

SQLite keeps answers, evaluation answers and contributions in tables WITHOUT ROWID, so rows are
stored by their random id, never by arrival. PostgreSQL appends rows to its heap in arrival order
(a dump follows it), so once a vote or the evaluation closes its rows are written again, shuffled.
The old row versions stay in the table's file until `beraad purge` rewrites it (VACUUM FULL);
docs/anonymity.md says so as a limit.
"""

from __future__ import annotations

import secrets

from sqlalchemy import delete, insert, select

from ..extensions import db


def scatter(model, *criteria) -> int:
    """Rewrite the rows of `model` that match `criteria` in random order (PostgreSQL only)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return 0
    table = model.__table__
    db.session.flush()
    rows = [dict(row._mapping) for row in db.session.execute(select(table).where(*criteria))]
    if len(rows) < 2:
        return len(rows)
    secrets.SystemRandom().shuffle(rows)
    db.session.execute(delete(table).where(*criteria))
    db.session.execute(insert(table), rows)
    return len(rows)
