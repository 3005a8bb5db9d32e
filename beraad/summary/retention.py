"""Data retention: after the retention period raw answers go, the summary's aggregates stay.

Deleting the rows is not enough: the database keeps old bytes in its files. `reclaim_space` makes
the deletion physical and says what it could not do. What stays where is in docs/anonymity.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from .. import database
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


# PostgreSQL: rewritten after a purge. VACUUM only marks dead rows free: their bytes stay in the
# table's file until overwritten. deliberation_session: a closed session's deleted secret stays in
# the row version it was deleted from.
REWRITTEN_TABLES = ("answer", "contribution", "evaluation_answer", "participant", "deliberation_session")
# PostgreSQL: columns never sampled into pg_statistic (migration 0007); a sample outlives the row.
UNSAMPLED_COLUMNS = (
    "answer.value", "answer.voter_key", "contribution.text", "contribution.text_hash",
    "evaluation_answer.value", "evaluation_answer.voter_key", "participant.participant_key",
    "deliberation_session.secret",
)  # fmt: skip
# How long VACUUM FULL waits for a table another connection holds; requests wait behind it meanwhile.
LOCK_TIMEOUT = "10s"
INSUFFICIENT_PRIVILEGE, LOCK_NOT_AVAILABLE = "42501", "55P03"

log = logging.getLogger(__name__)


@dataclass
class Reclaimed:
    """What reclaim_space could not do (purge fails) and what the server keeps by its settings."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def reclaim_space(checkpoint_seconds: float) -> Reclaimed:
    """Make the deletion physical; run after the purge is committed, also when nothing was purged."""
    engine = db.engine
    if engine.dialect.name == "sqlite":
        return _reclaim_sqlite(engine, checkpoint_seconds)
    if engine.dialect.name == "postgresql":
        return _reclaim_postgresql(engine)
    return Reclaimed()


def empty_wal_after_close() -> None:
    """SQLite, right after a session closed: its deleted secret leaves the WAL now, if it can."""
    empty_wal("the closed session's deleted secret")


def empty_wal(what: str) -> None:
    """SQLite, right after rows were deleted (a secret at close, a whole session): copy the WAL into
    the file, where secure_delete zeroed them, and truncate it, so `what` is gone from disk now.

    Best effort and brief (a reader makes it wait); never fails the request, `beraad purge` retries.
    """
    if db.engine.dialect.name != "sqlite":
        return
    try:
        emptied = database.truncate_wal(db.engine, current_app.config["CLOSE_CHECKPOINT_SECONDS"])
    except SQLAlchemyError:
        log.exception("Emptying the SQLite WAL failed (%s)", what)
        emptied = False
    if not emptied:
        log.warning(
            "The SQLite WAL still holds %s: another connection is reading the database; "
            "`beraad purge` empties the WAL",
            what,
        )


def _reclaim_sqlite(engine: Engine, seconds: float) -> Reclaimed:
    """secure_delete overwrote the rows with zeros; the WAL still holds the pages as they were."""
    if database.truncate_wal(engine, seconds):
        return Reclaimed()
    path = database.sqlite_file(engine)
    return Reclaimed(
        problems=[
            f"the write-ahead log could not be emptied in {seconds:g} s: another connection is reading "
            "the database (a backup or a monitoring query?); the deleted answers are still on disk, in "
            f"{path} or {path}-wal, until it is; close that connection and run `beraad purge` again"
        ]
    )


def _reclaim_postgresql(engine: Engine) -> Reclaimed:
    """Rewrite the tables, check pg_statistic, then switch the WAL and checkpoint so the server can
    remove the WAL segments that hold the deleted rows."""
    result = Reclaimed()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        user, database_name = connection.execute(text("SELECT current_user, current_database()")).one()
        role = engine.dialect.identifier_preparer.quote(user)
        connection.execute(text(f"SET lock_timeout = '{LOCK_TIMEOUT}'"))
        for table in REWRITTEN_TABLES:
            result.problems += _rewrite(connection, table, role)
        result.problems += _sampled(connection)
        result.problems += _privileged(
            connection, "SELECT pg_switch_wal()", "switching to a new WAL segment",
            "the current segment keeps the deleted answers until it is full",
            f"as a superuser, connected to database {database_name}, run: "
            f"GRANT EXECUTE ON FUNCTION pg_switch_wal() TO {role};",
        )  # fmt: skip
        new_enough = int(connection.scalar(text("SHOW server_version_num"))) >= 150000
        result.problems += _privileged(
            connection, "CHECKPOINT", "CHECKPOINT",
            "the WAL segments with the deleted answers stay until the next automatic checkpoint",
            f"as a superuser run: GRANT pg_checkpoint TO {role};" if new_enough
            else "before PostgreSQL 15 only a superuser may: run `beraad purge` as one",
        )  # fmt: skip
        result.warnings = _wal_kept(connection)
    return result


def _rewrite(connection: Connection, table: str, role: str) -> list[str]:
    """VACUUM FULL copies the live rows into a new file and empties the old one; verified by the file."""
    filenode = text("SELECT pg_relation_filenode(CAST(:table AS regclass))")
    before = connection.scalar(filenode, {"table": table})
    try:
        connection.execute(text(f"VACUUM (FULL, ANALYZE) {table}"))
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        return [
            f"VACUUM FULL {table} not done: another connection held the table for {LOCK_TIMEOUT}; "
            "its deleted rows are still in its file; run `beraad purge` again"
        ]
    if connection.scalar(filenode, {"table": table}) != before:
        return []
    # VACUUM skips a table the role does not own with only a warning.
    owner = connection.scalar(
        text("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = CAST(:table AS regclass)"),
        {"table": table},
    )
    return [
        f"VACUUM FULL {table} not done: only its owner {owner} may rewrite it, so its deleted rows are "
        f"still in its file; run `beraad purge` as {owner}, or let {owner} run: "
        f"ALTER TABLE {table} OWNER TO {role};"
    ]


def _sampled(connection: Connection) -> list[str]:
    """Columns of participants' data whose sampled values pg_statistic holds (it should hold none)."""
    sampled = connection.scalars(
        text(
            "SELECT tablename || '.' || attname FROM pg_stats"
            " WHERE schemaname = current_schema() AND tablename || '.' || attname = ANY(:columns)"
            " AND (most_common_vals IS NOT NULL OR histogram_bounds IS NOT NULL"
            " OR most_common_elems IS NOT NULL) ORDER BY 1"
        ),
        {"columns": list(UNSAMPLED_COLUMNS)},
    ).all()
    if not sampled:
        return []
    return [
        f"pg_statistic holds sampled values of {', '.join(sampled)}; run `beraad db upgrade` "
        "(migration 0007 stops the sampling and drops those samples)"
    ]


def _privileged(connection: Connection, statement: str, what: str, meaning: str, remedy: str) -> list[str]:
    """Run a statement only a superuser or a granted role may run; say what to grant if refused."""
    try:
        connection.execute(text(statement))
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) != INSUFFICIENT_PRIVILEGE:
            raise
        return [f"{what} not done ({error.orig.diag.message_primary}): {meaning}; {remedy}"]
    return []


def _wal_kept(connection: Connection) -> list[str]:
    """Server settings that keep old WAL, and so the deleted answers, beyond the purge."""
    settings = dict(
        connection.execute(
            text(
                "SELECT name, setting FROM pg_settings"
                " WHERE name IN ('wal_recycle', 'archive_mode', 'wal_keep_size')"
            )
        ).all()
    )
    slots = connection.scalars(text("SELECT slot_name FROM pg_replication_slots ORDER BY 1")).all()
    warnings = []
    if settings.get("wal_recycle") == "on":
        warnings.append(
            "wal_recycle is on: old WAL segments are renamed for reuse instead of deleted, and keep the "
            "deleted answers in pg_wal until they are overwritten; set wal_recycle = off"
        )
    if settings.get("archive_mode", "off") != "off":
        warnings.append(
            f"archive_mode is {settings['archive_mode']}: the WAL archive keeps the deleted answers as long "
            "as it keeps segments"
        )
    if settings.get("wal_keep_size", "0") != "0":
        warnings.append(
            f"wal_keep_size is {settings['wal_keep_size']} MB: that much old WAL, with the deleted answers, "
            "stays in pg_wal; set it to 0 unless a standby needs it"
        )
    if slots:
        warnings.append(
            f"replication slot(s) {', '.join(slots)} keep the WAL their standby or backup has not read yet "
            "(limit: max_slot_wal_keep_size)"
        )
    return warnings
