"""Engine settings per backend: SQLite pragmas, and a connection ping only where it helps."""

from __future__ import annotations

from sqlalchemy import text

from beraad import create_app, database
from beraad.extensions import db

from .conftest import base_config


def test_a_server_database_is_pinged_before_use_and_an_sqlite_file_is_not():
    assert database.engine_options("postgresql+psycopg://beraad@/beraad") == {
        "pool_pre_ping": True,
        "hide_parameters": True,
    }
    assert database.engine_options("sqlite:////srv/beraad/beraad.sqlite3") == {
        "pool_pre_ping": False,
        "hide_parameters": True,
    }


def test_the_engine_uses_the_options_of_its_backend(app, backend):
    with app.app_context():
        assert db.engine.pool._pre_ping is (backend == "postgresql")


def sqlite_app(tmp_path, **config):
    return create_app({**base_config(f"sqlite:///{tmp_path / 'x.sqlite3'}", tmp_path), **config})


def test_sqlite_connections_wait_for_the_lock_and_keep_wal(tmp_path):
    """(PostgreSQL has no pragmas; its row locks are tested in test_vote.)"""
    app = sqlite_app(tmp_path)
    with app.app_context():
        names = ("journal_mode", "busy_timeout", "foreign_keys", "secure_delete", "synchronous")
        pragma = {name: db.session.execute(text(f"PRAGMA {name}")).scalar() for name in names}
    assert pragma == {
        "journal_mode": "wal",
        "busy_timeout": 10000,
        "foreign_keys": 1,
        "secure_delete": 1,
        "synchronous": 1,  # NORMAL: WAL stays consistent; a power cut may lose the last commits
    }
    with app.app_context():
        db.engine.dispose()


def test_an_explicit_engine_option_wins(tmp_path):
    app = sqlite_app(tmp_path, SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True})
    with app.app_context():
        assert db.engine.pool._pre_ping is True
        db.engine.dispose()
