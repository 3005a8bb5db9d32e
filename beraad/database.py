"""Database engine settings that differ per backend."""

from sqlalchemy import event
from sqlalchemy.engine import Engine


def engine_options(uri: str) -> dict:
    """SQLAlchemy engine options for a database URL.

    A server database may drop idle connections (restart, failover), so each checkout is
    pinged first; an SQLite file cannot, and the ping would be one more statement per request.
    Bound parameters never appear in error messages or logs: they hold answers and voter keys.
    """
    return {"pool_pre_ping": not uri.startswith("sqlite"), "hide_parameters": True}


def configure_sqlite(engine: Engine) -> None:
    """Set the pragmas beraad relies on for every SQLite connection.

    WAL lets readers work while one writer writes; busy_timeout waits for the
    lock instead of failing; secure_delete overwrites deleted rows on disk.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _set_pragmas(dbapi_connection, _record):  # noqa: ANN001
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
