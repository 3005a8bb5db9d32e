"""The yardstick for bench/votes.py: a bare Flask endpoint that does one upsert.

POST /polls/<poll_id>/<voter> with JSON {"choice": "A"} validates the choice and runs one
INSERT … ON CONFLICT DO UPDATE (autocommit), on the backend beraad is measured on:
- SQLite: a file in WAL mode with busy_timeout, the same pragmas beraad uses;
- PostgreSQL (--database-url postgresql://…): psycopg 3, one connection per thread, in a table
  `bench_baseline_vote` beside beraad's own tables in the same database and server.
It is served by beraad's own gunicorn runner (beraad/server.py), so bind, worker count, worker
class and timeouts are the same as `beraad serve`.

Run: python bench/baseline_app.py (--db PATH | --database-url URL) [--host 127.0.0.1] [--port 5001]
                                  [--workers 1] [--threads 8]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import threading
from pathlib import Path

from flask import Flask, jsonify, request

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from beraad import server  # noqa: E402

CHOICES = ("A", "B", "C", "D")
SCHEMA = """CREATE TABLE IF NOT EXISTS vote (
    poll_id TEXT NOT NULL,
    voter TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (poll_id, voter)
)"""
UPSERT = (
    "INSERT INTO vote (poll_id, voter, value) VALUES (?, ?, ?) "
    "ON CONFLICT (poll_id, voter) DO UPDATE SET value = excluded.value"
)


PG_TABLE = "bench_baseline_vote"
PG_SCHEMA = f"""CREATE TABLE IF NOT EXISTS {PG_TABLE} (
    poll_id TEXT NOT NULL,
    voter TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (poll_id, voter)
)"""
PG_UPSERT = (
    f"INSERT INTO {PG_TABLE} (poll_id, voter, value) VALUES (%s, %s, %s) "
    "ON CONFLICT (poll_id, voter) DO UPDATE SET value = excluded.value"
)


def libpq_url(database_url: str) -> str:
    """SQLAlchemy's `postgresql+psycopg://` spelled as libpq wants it."""
    return "postgresql://" + database_url.split("://", 1)[1]


def connect(path: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, timeout=10, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA busy_timeout=10000")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def create_schema(path: str) -> None:
    connection = connect(path)
    connection.execute(SCHEMA)
    connection.close()


class Postgres:
    """The same upsert on PostgreSQL: one autocommit connection per thread, as a pool would give."""

    def __init__(self, database_url: str):
        import psycopg

        self.psycopg = psycopg
        self.url = libpq_url(database_url)
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(PG_SCHEMA)

    def connect(self):
        connection = self.psycopg.connect(self.url, autocommit=True)
        return _PostgresUpsert(connection)


class _PostgresUpsert:
    def __init__(self, connection):
        self.connection = connection

    def execute(self, _sql: str, params: tuple) -> None:
        self.connection.execute(PG_UPSERT, params, prepare=True)


def create_app(path: str, database_url: str | None = None) -> Flask:
    app = Flask(__name__)
    local = threading.local()  # one connection per worker (and per thread, if threaded)
    postgres = Postgres(database_url) if database_url else None

    def connection():
        if getattr(local, "connection", None) is None:
            local.connection = postgres.connect() if postgres else connect(path)
        return local.connection

    @app.post("/polls/<poll_id>/<voter>")
    def vote(poll_id: str, voter: str):
        body = request.get_json(silent=True)
        choice = body.get("choice") if isinstance(body, dict) else None
        if choice not in CHOICES:
            return jsonify(error="unknown_option"), 422
        connection().execute(UPSERT, (poll_id, voter, json.dumps({"choice": choice})))
        return jsonify(status="stored"), 201

    @app.get("/health")
    def health():
        return jsonify(ok=True)

    return app


def serve(
    path: str | None, host: str, port: int, workers: int, threads: int, database_url: str | None
) -> None:
    """Serve with beraad's runner, swapping only the app it loads."""

    class Baseline(server._Gunicorn):
        def load(self):
            return create_app(path, database_url)

    server._Gunicorn = Baseline  # run_gunicorn looks the class up when called
    server.run_gunicorn(host=host, port=port, workers=workers, threads=threads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--db", help="SQLite file (created if missing)")
    where.add_argument("--database-url", help="PostgreSQL URL (the table is created if missing)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    if args.db:
        create_schema(args.db)
    serve(args.db, args.host, args.port, args.workers, args.threads, args.database_url)


if __name__ == "__main__":
    main()
