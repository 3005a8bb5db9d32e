"""Data retention: after the retention period raw answers go, the summary's aggregates stay."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, text

from ..extensions import db
from ..models import (
    Answer,
    Contribution,
    DeliberationSession,
    EvaluationAnswer,
    Participant,
    Poll,
    SessionStatus,
)
from .build import build_summary


def expired_sessions(now: datetime, days: int) -> list[DeliberationSession]:
    cutoff = now - timedelta(days=days)
    return list(
        db.session.scalars(
            select(DeliberationSession).where(
                DeliberationSession.status == SessionStatus.CLOSED.value,
                DeliberationSession.closed_at <= cutoff,
                DeliberationSession.purged_at.is_(None),
            )
        )
    )


def purge_session(session: DeliberationSession, now: datetime) -> None:
    """Archive the summary's aggregates, then delete every raw answer of the session."""
    session.archived_summary = build_summary(session).to_dict()
    poll_ids = select(Poll.id).where(Poll.session_id == session.id)
    db.session.execute(delete(Answer).where(Answer.poll_id.in_(poll_ids)))
    db.session.execute(delete(Contribution).where(Contribution.session_id == session.id))
    db.session.execute(delete(EvaluationAnswer).where(EvaluationAnswer.session_id == session.id))
    db.session.execute(delete(Participant).where(Participant.session_id == session.id))
    session.purged_at = now
    db.session.flush()


def purge(now: datetime, days: int) -> list[int]:
    """Purge every session closed longer than days ago; return their ids. Flushes only."""
    sessions = expired_sessions(now, days)
    for session in sessions:
        purge_session(session, now)
    return [session.id for session in sessions]


def reclaim_space() -> None:
    """Make deletion physical: SQLite overwrote rows (secure_delete); empty the WAL too.
    PostgreSQL: VACUUM, outside a transaction."""
    engine = db.engine
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    elif engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in ("answer", "contribution", "evaluation_answer", "participant"):
                connection.execute(text(f"VACUUM {table}"))
