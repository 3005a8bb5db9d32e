"""Database engine settings that differ per backend."""

import fcntl
import os
import stat
import time
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, exc, text
from sqlalchemy.engine import Engine

BUSY_TIMEOUT_MS = 10_000


IDLE_PING_SECONDS = 2.0


def engine_options(uri: str) -> dict:
    """SQLAlchemy engine options for a database URL.

    Bound parameters never appear in error messages or logs: they hold answers and voter keys.
    A server database may drop connections (restart, failover): see ping_idle_connections,
    which replaces SQLAlchemy's pool_pre_ping (a round trip on every checkout).
    """
    return {"pool_pre_ping": False, "hide_parameters": True}


def ping_idle_connections(engine: Engine, idle_seconds: float = IDLE_PING_SECONDS) -> None:
    """A server database: ping a pooled connection before use only when it sat idle for more
    than idle_seconds; a dead one is replaced (the pool tries a new connection).

    During a vote the connections go round within milliseconds, and a ping on each checkout
    was a fifth of the answer's time. A connection that dies while in use (or between two
    requests in a busy moment) fails its statement; SQLAlchemy then drops every connection of
    the pool made before that moment, and the answer path tries once more on a new one
    (vote.service.store_answer). An SQLite file cannot drop a connection.
    """
    if engine.dialect.name == "sqlite":
        return

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record):  # noqa: ANN001
        record.info["checked_in"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy):  # noqa: ANN001
        if time.monotonic() - record.info.get("checked_in", float("inf")) <= idle_seconds:
            return
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
            if not dbapi_connection.autocommit:
                dbapi_connection.rollback()  # the ping opened a transaction: end it
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError(str(error)) from error


def sqlite_file(engine: Engine) -> Path | None:
    """The SQLite database file of engine; None for a server database or SQLite in memory."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return None
    return Path(engine.url.database)


def make_owner_only(database: Path) -> None:
    """Let only the owner read the database file and its -wal and -shm files (mode 0600).

    SQLite creates the -wal and -shm files with the mode of the database file, so a file made
    owner-only before its first write keeps them owner-only too.
    """
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        try:
            if stat.S_IMODE(path.stat().st_mode) & 0o077:
                os.chmod(path, 0o600)
        except (FileNotFoundError, PermissionError):  # not there yet, or another user's file
            continue


def configure_sqlite(engine: Engine) -> None:
    """Set the pragmas beraad relies on for every SQLite connection.

    WAL lets readers work while one writer writes; busy_timeout waits for the
    lock instead of failing; secure_delete overwrites deleted rows on disk.
    The file is made owner-only before anything is written to it.
    """
    if engine.dialect.name != "sqlite":
        return
    database = sqlite_file(engine)

    @event.listens_for(engine, "connect")
    def _set_pragmas(dbapi_connection, _record):  # noqa: ANN001
        if database is not None:
            make_owner_only(database)  # connecting has created the file, still empty if new
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def truncate_wal(engine: Engine, seconds: float) -> bool:
    """SQLite: copy the write-ahead log into the database file and truncate the log to zero bytes.

    The WAL holds the old versions of every page changed since it was last emptied, deleted rows
    included. The checkpoint cannot finish while another connection reads the database (a backup,
    a monitoring query holding a read transaction): it is tried again until `seconds` have passed.
    Returns whether the WAL is empty now.
    """
    deadline = time.monotonic() + seconds
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA busy_timeout=100")  # each try waits briefly for readers
        try:
            while True:
                row = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
                busy, log, checkpointed = row
                if not busy and log == checkpointed:  # 0, 0 once truncated; -1, -1 without a WAL
                    return True
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.1)
        finally:
            connection.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


INIT_LOCK_KEY = 0x62657261  # "bera": one advisory lock for `beraad init` on this database


@contextmanager
def init_lock(engine: Engine):
    """Hold an exclusive lock while `beraad init` upgrades and imports, so that servers started at
    the same moment initialise one after the other (the later ones find nothing left to do).

    PostgreSQL: a session advisory lock on its own connection. SQLite: a lock file next to the
    database file (an in-memory database has nobody to wait for).
    """
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": INIT_LOCK_KEY})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": INIT_LOCK_KEY})
                connection.commit()
        return
    database = sqlite_file(engine)
    if database is None:
        yield
        return
    with open(database.with_name(database.name + ".init-lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
