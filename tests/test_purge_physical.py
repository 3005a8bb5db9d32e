"""Attacks on deleted raw answers: after `beraad purge` they must be gone from the files on disk.

The attacker reads the database's files, not its tables: SQLite's file and its write-ahead log;
PostgreSQL's table files, pg_statistic (the samples ANALYZE keeps of every column) and pg_wal.
Twelve phones type texts that reach no summary (k is above the number of phones, contributions
stay unreleased), so after the purge nothing on disk may hold them.
"""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select, text

from beraad import create_app
from beraad.auth import tokens
from beraad.extensions import db
from beraad.methods import service as methods_service
from beraad.methods.loader import parse_method
from beraad.models import Answer, Contribution, DeliberationSession, EvaluationAnswer, Participant, User

from .conftest import base_config
from .test_vote import OWNER, PEILING, Meeting, content, facilitator, meetings  # noqa: F401

PHONES = 12
RAW_TABLES = ("answer", "contribution", "evaluation_answer", "participant")
PREVIOUS_REVISION = "0006"  # the one before migrations/versions/0007_no_statistics_on_raw.py
LATER_COLUMNS_ADD = (  # the columns of migrations/versions/0008_…, 0010_…, 0011_… to 0014_…
    "ALTER TABLE dilemma ADD COLUMN protagonist VARCHAR(60) NOT NULL DEFAULT '', "
    "ADD COLUMN short TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE user_account ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT false",
    "ALTER TABLE deliberation_session ADD COLUMN archived_at TIMESTAMP WITHOUT TIME ZONE",
    # 0012_…
    "CREATE TABLE team (id SERIAL PRIMARY KEY, name VARCHAR(120) NOT NULL, owner_id INTEGER NOT NULL, "
    "level VARCHAR(40) NOT NULL DEFAULT '', calendar_token VARCHAR(64) NOT NULL UNIQUE, "
    "created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL)",
    "ALTER TABLE deliberation_session ADD COLUMN team_id INTEGER, ADD COLUMN scheduled_for DATE",
    "ALTER TABLE action_point ADD COLUMN follow_up VARCHAR(12) NOT NULL DEFAULT 'open', "
    "ADD COLUMN follow_up_note TEXT NOT NULL DEFAULT '', ADD COLUMN done_on DATE, "
    "ADD COLUMN reviewed_at TIMESTAMP WITHOUT TIME ZONE, ADD COLUMN carried_from_id INTEGER",
    # 0013_…
    "CREATE TABLE evaluation_tally (session_id INTEGER NOT NULL, item_key VARCHAR(60) NOT NULL, "
    "answers INTEGER NOT NULL, count INTEGER NOT NULL, total FLOAT NOT NULL, squares FLOAT NOT NULL, "
    "low FLOAT, high FLOAT, PRIMARY KEY (session_id, item_key))",
    # 0014_…
    "ALTER TABLE deliberation_session ADD COLUMN dilemma_slugs JSON NOT NULL DEFAULT '[]'",
)
LATER_COLUMNS_DROP = (
    "ALTER TABLE deliberation_session DROP COLUMN dilemma_slugs",
    "DROP TABLE evaluation_tally",
    "ALTER TABLE dilemma DROP COLUMN protagonist, DROP COLUMN short",
    "ALTER TABLE user_account DROP COLUMN must_change_password",
    "ALTER TABLE deliberation_session DROP COLUMN archived_at",
    "ALTER TABLE action_point DROP COLUMN follow_up, DROP COLUMN follow_up_note, DROP COLUMN done_on, "
    "DROP COLUMN reviewed_at, DROP COLUMN carried_from_id",
    "ALTER TABLE deliberation_session DROP COLUMN team_id, DROP COLUMN scheduled_for",
    "DROP TABLE team",
)
# The test survey (a text poll) with an evaluation that asks for free text.
SURVEY = (
    PEILING.replace("key: peiling", "key: peiling-evaluatie", 1)
    + """\
evaluation:
  - key: verbeterpunt
    type: text
    question: {nl: "Wat kan er beter?", en: "What could be better?"}
    max_length: 500
"""
)


@dataclass
class Played:
    meeting: Meeting
    markers: list[str]  # every text only a participant typed
    secret: str  # the session's secret, deleted when it closes
    keys: list[str]  # participant keys, and the voter keys wiped when the poll or the session closed


def play(meetings, facilitator) -> Played:  # noqa: F811
    """Twelve phones answer a text poll, send a contribution and fill in the evaluation."""
    with facilitator.application.app_context():
        methods_service.import_methods([parse_method(SURVEY, "peiling-evaluatie.yaml", "peiling-evaluatie")])
        db.session.commit()
    meeting = meetings("peiling-evaluatie", k=PHONES + 1)  # k above the phones: no text in the summary
    tag = secrets.token_hex(4)
    answers = [f"antwoord{tag}n{n:02d}" for n in range(PHONES)]
    sent = [f"bijdrage{tag}n{n:02d}" for n in range(PHONES)]
    evaluations = [f"evaluatie{tag}n{n:02d}" for n in range(PHONES)]
    meeting.open("kernwaarde")
    phones = [meeting.phone() for _ in range(PHONES)]
    for phone, answer, contribution in zip(phones, answers, sent, strict=True):
        phone.join()
        assert phone.answer(meeting.polls["kernwaarde"], json={"text": answer}).status_code == 201
        assert phone.contribute(contribution, confirm=True, as_json=True).status_code == 201
    with meeting.app.app_context():
        keys = stored_keys(meeting.id)
    meeting.close("kernwaarde")
    assert facilitator.post(f"/sessions/{meeting.id}/evaluation/open").status_code == 302
    for phone, evaluation in zip(phones, evaluations, strict=True):
        response = phone.request("POST", f"{phone.base}/evaluation", json={"verbeterpunt": evaluation})
        assert response.status_code == 201, response.get_data(as_text=True)
    with meeting.app.app_context():
        keys += stored_keys(meeting.id)
        secret = db.session.get(DeliberationSession, meeting.id).secret
        assert raw_rows(meeting.id) == dict.fromkeys(RAW_TABLES, PHONES)
    return Played(meeting, answers + sent + evaluations, secret, sorted(set(keys)))


def stored_keys(session_id: int) -> list[str]:
    with db.engine.connect() as connection:
        return [
            key
            for (key,) in connection.execute(
                text(
                    "SELECT participant_key FROM participant WHERE session_id = :s"
                    " UNION SELECT voter_key FROM answer WHERE poll_id IN"
                    " (SELECT id FROM poll WHERE session_id = :s) AND voter_key IS NOT NULL"
                    " UNION SELECT voter_key FROM evaluation_answer"
                    " WHERE session_id = :s AND voter_key IS NOT NULL"
                ),
                {"s": session_id},
            )
        ]


def keep_running(meetings, facilitator) -> Meeting:  # noqa: F811
    """A session running at the time of the purge, with rows in every table after the purged ones,
    as in production: emptying a file's tail is not enough."""
    running = meetings("peiling-evaluatie")
    running.open("kernwaarde")
    assert facilitator.post(f"/sessions/{running.id}/evaluation/open").status_code == 302
    for n in range(3):
        phone = running.phone()
        phone.join()
        assert phone.answer(running.polls["kernwaarde"], json={"text": f"lopend {n}"}).status_code == 201
        assert phone.contribute(f"lopende bijdrage {n}", as_json=True).status_code == 201
        response = phone.request("POST", f"{phone.base}/evaluation", json={"verbeterpunt": f"lopend {n}"})
        assert response.status_code == 201
    return running


def raw_rows(session_id: int) -> dict[str, int]:
    from beraad.models import Poll

    def count(model, *where) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(*where))

    return {
        "answer": count(Answer, Answer.poll_id.in_(select(Poll.id).where(Poll.session_id == session_id))),
        "contribution": count(Contribution, Contribution.session_id == session_id),
        "evaluation_answer": count(EvaluationAnswer, EvaluationAnswer.session_id == session_id),
        "participant": count(Participant, Participant.session_id == session_id),
    }


def close_session(played: Played, facilitator, route: str = "view") -> None:  # noqa: F811
    meeting = played.meeting
    if route == "view":
        response = facilitator.post(f"/sessions/{meeting.id}/close")
        assert response.status_code == 302, response.status_code
    else:
        with meeting.app.app_context():
            _, token = tokens.create_token(db.session.scalar(select(User).where(User.username == OWNER)), "t")
            db.session.commit()
        response = facilitator.post(
            f"/api/v1/sessions/{meeting.id}/close", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.get_data(as_text=True)
    with meeting.app.app_context():
        assert db.session.get(DeliberationSession, meeting.id).secret is None


def found_in(data: bytes, needles: list[str]) -> list[str]:
    return [needle for needle in needles if needle.encode() in data]


def read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:  # the checkpointer removed a WAL segment while we looked
        return b""


# --- SQLite -------------------------------------------------------------------------------------


def sqlite_files(app) -> tuple[Path, Path]:
    path = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    return path, Path(f"{path}-wal")


@pytest.fixture
def reader(app):
    """Another connection holding a read transaction, as a backup or a monitoring query does."""
    database, _ = sqlite_files(app)
    connection = sqlite3.connect(database, isolation_level=None)
    yield connection
    connection.close()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_sqlite_after_purge_the_file_and_its_wal_hold_no_raw_text(app, runner, meetings, facilitator):  # noqa: F811
    played = play(meetings, facilitator)
    close_session(played, facilitator)
    running = keep_running(meetings, facilitator)
    database, wal = sqlite_files(app)
    assert found_in(read(database) + read(wal), played.markers)  # the attacker's search works

    result = runner.invoke(args=["purge", "--days", "0"])
    assert result.exit_code == 0, result.output
    everything = [*played.markers, played.secret, *played.keys]
    assert found_in(read(database), everything) == []
    assert found_in(read(wal), everything) == []
    assert not wal.exists() or wal.stat().st_size == 0
    with app.app_context():
        assert raw_rows(running.id) == dict.fromkeys(RAW_TABLES, 3)  # the running session's rows stay


@pytest.mark.parametrize("backend", ["sqlite"])
def test_sqlite_a_reader_makes_purge_fail_until_it_closes(app, runner, meetings, facilitator, reader):  # noqa: F811
    played = play(meetings, facilitator)
    close_session(played, facilitator)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM answer").fetchone()[0] >= PHONES  # holds its snapshot
    app.config["PURGE_CHECKPOINT_SECONDS"] = 0.5
    database, wal = sqlite_files(app)

    result = runner.invoke(args=["purge", "--days", "0"])
    assert result.exit_code != 0
    assert "another connection is reading the database" in result.output
    assert f"{database}-wal" in result.output and "run `beraad purge` again" in result.output
    with app.app_context():
        assert raw_rows(played.meeting.id) == dict.fromkeys(RAW_TABLES, 0)  # the rows are deleted
    assert found_in(read(database) + read(wal), played.markers)  # but not yet their bytes

    reader.execute("COMMIT")
    again = runner.invoke(args=["purge", "--days", "0"])
    assert again.exit_code == 0, again.output
    assert "of 0 session(s)" in again.output  # nothing new to purge, the checkpoint still ran
    assert found_in(read(database) + read(wal), played.markers) == []
    assert not wal.exists() or wal.stat().st_size == 0


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("route", ["view", "api"])
def test_sqlite_a_closed_sessions_secret_is_not_left_in_the_wal(app, meetings, facilitator, route):  # noqa: F811
    played = play(meetings, facilitator)
    database, wal = sqlite_files(app)
    assert played.secret in (read(database) + read(wal)).decode("latin-1")
    close_session(played, facilitator, route)
    assert played.secret not in read(wal).decode("latin-1")
    assert played.secret not in read(database).decode("latin-1")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_sqlite_closing_with_a_reader_open_still_closes_and_warns(app, meetings, facilitator, reader, caplog):  # noqa: F811
    played = play(meetings, facilitator)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM deliberation_session").fetchone()
    app.config["CLOSE_CHECKPOINT_SECONDS"] = 0.2
    with caplog.at_level(logging.WARNING):
        close_session(played, facilitator)  # the request does not fail
    assert "WAL" in caplog.text and "beraad purge" in caplog.text


def test_sqlite_files_and_the_instance_folder_are_for_the_owner_only(tmp_path, monkeypatch):
    folder = tmp_path / "instance"
    monkeypatch.setenv("BERAAD_INSTANCE_PATH", str(folder))
    for name in ("SECRET_KEY", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    old = os.umask(0o022)  # the usual umask: files 0644, folders 0755
    try:
        app = create_app()
        with app.app_context():
            upgrade()  # writes: the WAL and its index file exist while the connections are open
            database = Path(db.engine.url.database)
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir() if "sqlite" in p.name}
            db.engine.dispose()
    finally:
        os.umask(old)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert database.parent == folder
    assert modes and set(modes.values()) == {0o600}, modes  # the file, and its -wal and -shm if present
    assert f"{database.name}-wal" in modes or f"{database.name}-shm" in modes


def test_sqlite_a_file_created_readable_by_others_is_made_owner_only(tmp_path):
    path = tmp_path / "old.sqlite3"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    os.chmod(path, 0o644)
    app = create_app(base_config(f"sqlite:///{path}", tmp_path))
    with app.app_context():
        db.session.execute(text("INSERT INTO t VALUES (1)"))
        db.session.commit()
        db.engine.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# --- PostgreSQL ---------------------------------------------------------------------------------


class Superuser:
    """The attacker with the server's files and a superuser connection."""

    def __init__(self, server, database: str):
        self.server = server
        self.database = database

    def connect(self, database: str | None = None) -> psycopg.Connection:
        return psycopg.connect(
            f"host={self.server.socket_dir} user=postgres dbname={database or self.database}", autocommit=True
        )

    def execute(self, sql: str, database: str | None = None) -> list[tuple]:
        with self.connect(database) as connection:
            cursor = connection.execute(sql)
            return cursor.fetchall() if cursor.description else []

    def configure(self, **settings) -> None:
        """ALTER SYSTEM on the server; a value None resets the setting."""
        for name, value in settings.items():
            change = f"RESET {name}" if value is None else f"SET {name} = '{value}'"
            self.execute(f"ALTER SYSTEM {change}", "postgres")
        self.execute("SELECT pg_reload_conf()", "postgres")

    def statistics_with(self, needles: list[str]) -> list[str]:
        rows = self.execute("SELECT starelid::regclass::text || ': ' || s::text FROM pg_statistic s")
        return [row[0][:200] for row in rows if found_in(row[0].encode(), needles)]

    def relation_files(self, tables) -> dict[str, bytes]:
        """The files of the tables, their TOAST tables and their indexes."""
        names = ", ".join(f"'{table}'" for table in tables)
        rows = self.execute(
            "SELECT c.relname, pg_relation_filepath(c.oid) FROM pg_class c WHERE c.oid IN ("
            f" SELECT oid FROM pg_class WHERE relname IN ({names})"
            f" UNION SELECT reltoastrelid FROM pg_class WHERE relname IN ({names})"
            f" UNION SELECT indexrelid FROM pg_index WHERE indrelid IN"
            f" (SELECT oid FROM pg_class WHERE relname IN ({names})))"
        )
        files = {}
        for name, relative in rows:
            for path in self.server.data.glob(f"{relative}*"):  # segments .1, .2 and the _fsm, _vm forks
                files[f"{name}: {path.name}"] = read(path)
        return files

    def files_with(self, needles: list[str], folder: str = "") -> dict[str, list[str]]:
        found = {}
        for path in sorted((self.server.data / folder).rglob("*")):
            if path.is_file() and (hits := found_in(read(path), needles)):
                found[str(path.relative_to(self.server.data))] = hits
        return found


@pytest.fixture
def superuser(app, postgres_server):
    with app.app_context():
        return Superuser(postgres_server, db.engine.url.database)


@pytest.fixture
def wal_not_recycled(superuser):
    """The settings the README asks for, and full-page images as in production (the test server turns
    them off for speed): a page's first change after a checkpoint writes the whole page to the WAL."""
    superuser.configure(wal_recycle="off", full_page_writes="on")
    yield superuser
    superuser.configure(wal_recycle=None, full_page_writes=None)


def autovacuum_analyzes(superuser) -> None:
    """What autovacuum does by itself while a session runs: sample the tables, and checkpoint."""
    superuser.execute(f"ANALYZE {', '.join(RAW_TABLES)}, deliberation_session")
    superuser.execute("CHECKPOINT")


@pytest.mark.parametrize("backend", ["postgresql"])
def test_postgresql_no_server_file_holds_a_purged_text(runner, meetings, facilitator, wal_not_recycled):  # noqa: F811
    superuser = wal_not_recycled
    played = play(meetings, facilitator)
    autovacuum_analyzes(superuser)
    close_session(played, facilitator)
    running = keep_running(meetings, facilitator)
    assert superuser.files_with(played.markers, "pg_wal")  # the attacker's search works

    result = runner.invoke(args=["purge", "--days", "0"])
    assert result.exit_code == 0, result.output
    assert "wal_recycle" not in result.output  # nothing to warn about with these settings
    everything = [*played.markers, played.secret, *played.keys]
    files = superuser.relation_files([*RAW_TABLES, "deliberation_session"])
    assert {name: hits for name, data in files.items() if (hits := found_in(data, everything))} == {}
    assert superuser.statistics_with(everything) == []
    assert superuser.files_with(everything, "pg_wal") == {}
    assert superuser.files_with(everything) == {}  # nor any other file of the cluster
    with running.app.app_context():
        assert raw_rows(running.id) == dict.fromkeys(RAW_TABLES, 3)  # the running session's rows stay


@pytest.mark.parametrize("backend", ["postgresql"])
def test_postgresql_samples_of_raw_columns_are_never_taken(meetings, facilitator, superuser):  # noqa: F811
    played = play(meetings, facilitator)
    autovacuum_analyzes(superuser)
    assert superuser.statistics_with(played.markers) == []
    assert superuser.statistics_with([played.secret]) == []
    sampled = superuser.execute(
        "SELECT tablename, attname FROM pg_stats WHERE tablename = 'contribution' AND attname = 'sort_key'"
        " AND histogram_bounds IS NOT NULL"
    )
    assert sampled  # other columns still have statistics for the planner


@pytest.mark.parametrize("backend", ["postgresql"])
def test_postgresql_upgrade_drops_the_samples_taken_before(app, meetings, facilitator, superuser):  # noqa: F811
    from flask_migrate import downgrade

    with app.app_context():
        db.engine.dispose()
        downgrade(revision=PREVIOUS_REVISION)
        # Later revisions' columns, so today's models can play a session on the old schema.
        with db.engine.begin() as connection:
            for statement in LATER_COLUMNS_ADD:
                connection.execute(text(statement))
    try:
        played = play(meetings, facilitator)
        autovacuum_analyzes(superuser)
        assert superuser.statistics_with(played.markers)  # taken before the upgrade
    finally:
        with app.app_context():
            with db.engine.begin() as connection:
                for statement in LATER_COLUMNS_DROP:
                    connection.execute(text(statement))
            db.engine.dispose()
            upgrade()
            db.engine.dispose()
    assert superuser.statistics_with(played.markers) == []
    catalog = superuser.relation_files(["pg_statistic"])  # removed rows stay in the file until rewritten
    assert {name: hits for name, data in catalog.items() if (hits := found_in(data, played.markers))} == {}


def test_postgresql_purge_says_what_it_may_not_do_and_what_to_grant(postgres_server, tmp_path):
    role = f"beraad_{secrets.token_hex(3)}"
    admin = Superuser(postgres_server, "postgres")
    admin.execute(f"CREATE ROLE {role} LOGIN")
    admin.execute(f"CREATE DATABASE {role} OWNER {role}")
    url = f"postgresql+psycopg://{role}@/{role}?host={postgres_server.socket_dir}"
    app = create_app(base_config(url, tmp_path))
    runner = app.test_cli_runner()
    try:
        with app.app_context():
            upgrade()
        result = runner.invoke(args=["purge", "--days", "0"])
        assert result.exit_code != 0
        assert "Purged raw answers of 0 session(s)" in result.output
        assert f"connected to database {role}, run: GRANT EXECUTE ON FUNCTION pg_switch_wal() TO {role};" in (
            result.output
        )
        assert f"GRANT pg_checkpoint TO {role};" in result.output
        Superuser(postgres_server, role).execute(f"GRANT EXECUTE ON FUNCTION pg_switch_wal() TO {role}")
        admin.execute(f"GRANT pg_checkpoint TO {role}")
        granted = runner.invoke(args=["purge", "--days", "0"])
        assert granted.exit_code == 0, granted.output

        # A table the role does not own (nor the database) is not rewritten: VACUUM FULL only warns.
        admin.execute(f"ALTER DATABASE {role} OWNER TO postgres")
        in_database = Superuser(postgres_server, role)
        in_database.execute("ALTER TABLE contribution OWNER TO postgres")
        in_database.execute(f"GRANT ALL ON contribution TO {role}")
        result = runner.invoke(args=["purge", "--days", "0"])
        assert result.exit_code != 0
        assert "VACUUM FULL contribution not done: only its owner postgres may rewrite it" in result.output
    finally:
        with app.app_context():
            db.engine.dispose()
        admin.execute(f"DROP DATABASE {role}")
        admin.execute(f"DROP OWNED BY {role}")
        admin.execute(f"DROP ROLE {role}")


@pytest.mark.parametrize("backend", ["postgresql"])
def test_postgresql_purge_warns_when_the_server_keeps_old_wal(app, runner, superuser):
    superuser.configure(wal_recycle="on", wal_keep_size="64MB")
    try:
        result = runner.invoke(args=["purge", "--days", "0"])
    finally:
        superuser.configure(wal_recycle=None, wal_keep_size=None)
    assert result.exit_code == 0, result.output
    assert "wal_recycle" in result.output and "wal_keep_size" in result.output
