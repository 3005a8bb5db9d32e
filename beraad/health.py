"""Readiness of this app server for a load balancer: the database, its schema and the limiter store.

Plain functions with explicit arguments (no request globals). Each check answers (ok, detail);
details name the part that fails, never a password or an address with credentials in it.
"""

from __future__ import annotations

from pathlib import Path

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError


def head_revision(migrations: Path) -> str | None:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations))
    return ScriptDirectory.from_config(config).get_current_head()


def check_database(engine: Engine, migrations: Path) -> dict[str, tuple[bool, str]]:
    """The database answers, and its schema is the code's (no upgrade pending, none newer)."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as error:
        reason = type(getattr(error, "orig", None) or error).__name__
        return {"database": (False, f"unreachable ({reason})"), "migrations": (False, "unknown")}
    head = head_revision(migrations)
    if current != head:
        return {
            "database": (True, "ok"),
            "migrations": (False, f"at {current}, the code needs {head}: run beraad init"),
        }
    return {"database": (True, "ok"), "migrations": (True, f"current ({head})")}


def check_limiter(storage) -> tuple[bool, str]:
    """The rate-limit store answers (memory always does; Redis may not)."""
    try:
        return (True, "ok") if storage is None or storage.check() else (False, "does not answer")
    except Exception as error:  # noqa: BLE001  (any client error means: not ready)
        return False, f"does not answer ({type(error).__name__})"
