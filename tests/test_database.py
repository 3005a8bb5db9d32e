"""Engine settings per backend: SQLite pragmas, and a connection ping only where it helps."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from beraad import create_app, database
from beraad.extensions import db

from .conftest import base_config, drop_pooled_connections


def test_no_ping_on_every_checkout_and_parameters_stay_out_of_logs():
    for url in ("postgresql+psycopg://beraad@/beraad", "sqlite:////srv/beraad/beraad.sqlite3"):
        assert database.engine_options(url) == {"pool_pre_ping": False, "hide_parameters": True}


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_connection_the_database_dropped_while_idle_is_replaced_before_use(app):
    """A restart or failover while the pool sits idle: the next request gets a live connection."""
    with app.app_context():
        assert db.session.execute(text("SELECT 1")).scalar() == 1
        db.session.remove()  # back into the pool
        drop_pooled_connections(app)
        time.sleep(database.IDLE_PING_SECONDS + 0.2)
        assert db.session.execute(text("SELECT 2")).scalar() == 2


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
