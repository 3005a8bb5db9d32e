"""Fixtures: the app on SQLite and on a throwaway PostgreSQL server, clients, factories."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import text

from beraad import create_app
from beraad.extensions import db

TESTS_DIR = Path(__file__).parent
DATA_DIR = TESTS_DIR / "data"
BACKENDS = ["sqlite", "postgresql"]
# Set in CI: a missing PostgreSQL is then a failure, never a skip.
REQUIRE_POSTGRES = os.environ.get("BERAAD_REQUIRE_POSTGRES") == "1"
PASSWORD = "correct horse battery"


def _postgres_bin() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    return Path(os.path.realpath(initdb)).parent if initdb else None


class PostgresServer:
    """A PostgreSQL cluster in a temporary folder, reachable on a Unix socket only."""

    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="beraad-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.socket_dir.mkdir()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            # initdb refuses to run as root: run the server binaries as the postgres user.
            shutil.chown(self.root, "postgres")
            shutil.chown(self.socket_dir, "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        self._run(
            str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres",
            "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        options = f"-k {self.socket_dir} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
        self._run(
            str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.root / "server.log"), "-w", "start",
        )  # fmt: skip

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(
            f"host={self.socket_dir} user=postgres dbname=postgres", autocommit=True
        ) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@/{name}?host={self.socket_dir}"

    def stop(self) -> None:
        try:
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server():
    bin_dir = _postgres_bin()
    if bin_dir is None:
        message = "PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's postgresql"
        if REQUIRE_POSTGRES:
            pytest.fail(message + " (BERAAD_REQUIRE_POSTGRES=1)")
        pytest.skip(message)
    server = PostgresServer(bin_dir)
    try:
        server.start()
    except subprocess.CalledProcessError as error:
        server.stop()
        message = f"PostgreSQL did not start: {error.stderr or error.stdout}"
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    yield server
    server.stop()


def drop_pooled_connections(app) -> None:
    """What a PostgreSQL restart or failover does to the app's pool: every connection to its
    database but the one asking is terminated by the server (asked on a connection outside the pool)."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    with app.app_context():
        outside = create_engine(db.engine.url, poolclass=NullPool)
    try:
        with outside.connect() as connection:
            killed = connection.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )).scalar()  # fmt: skip
    finally:
        outside.dispose()
    assert killed >= 1, "the app had no connection in its pool"


def rows_of_session(session_id: int, poll_ids: list[str]) -> dict[str, int]:
    """The number of rows each table holds of one session, in an app context (answers by the ids
    of its polls, taken before a deletion: afterwards no poll would lead to them)."""
    from sqlalchemy import func, select

    from beraad.models import (
        ActionPoint,
        Answer,
        Contribution,
        DeliberationSession,
        EvaluationAnswer,
        Participant,
        Poll,
        SessionStep,
    )

    def count(model, *where) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(*where))

    return {
        "deliberation_session": count(DeliberationSession, DeliberationSession.id == session_id),
        "session_step": count(SessionStep, SessionStep.session_id == session_id),
        "poll": count(Poll, Poll.session_id == session_id),
        "answer": count(Answer, Answer.poll_id.in_(poll_ids)),
        "participant": count(Participant, Participant.session_id == session_id),
        "contribution": count(Contribution, Contribution.session_id == session_id),
        "evaluation_answer": count(EvaluationAnswer, EvaluationAnswer.session_id == session_id),
        "action_point": count(ActionPoint, ActionPoint.session_id == session_id),
    }


def assert_fonts_embedded(pdf) -> None:
    """Every font of a PDF (a pypdf reader) is an embedded TrueType font of ours, with a ToUnicode
    map: never one of the standard fonts a viewer substitutes."""
    fonts = {}
    for page in pdf.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts[str(font["/BaseFont"])] = font
    assert fonts
    for name, font in fonts.items():
        assert "DejaVuSans" in name or "Vera" in name, name
        descriptor = font["/FontDescriptor"].get_object() if "/FontDescriptor" in font else None
        assert descriptor is not None and "/FontFile2" in descriptor, name
        assert "/ToUnicode" in font, name


# A database that is not there, one per backend: for tests of what the app does without it.
without_a_database = pytest.mark.parametrize(
    "url",
    [
        "sqlite:////nonexistent-folder/beraad.sqlite3",
        "postgresql+psycopg://beraad@/beraad?host=/nonexistent-socket",
    ],
    ids=["sqlite", "postgresql"],
)


def base_config(database_url: str, instance: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": str(instance),
        "WTF_CSRF_ENABLED": False,
        "METHODS_DIR": str(DATA_DIR / "methods"),
        # What `beraad init` imports: published cases that pass the publishing gate. The smaller
        # cases in data/bank are imported through the service by the unit tests.
        "DILEMMA_BANK_DIR": str(DATA_DIR / "bank-ready"),
        "BERAAD_K": 3,
        "BERAAD_RETENTION_DAYS": 30,
        "BABEL_DEFAULT_LOCALE": "nl",
        "RATELIMIT_STORAGE_URI": "memory://",
    }


def _migrated(database_url: str, instance: Path) -> str:
    from flask_migrate import upgrade

    app = create_app(base_config(database_url, instance))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory):
    """Migrated databases, created once per run and per backend on first use."""
    created: dict[str, str] = {}

    def get(backend: str, request) -> str:
        if backend not in created:
            instance = tmp_path_factory.mktemp(f"instance-{backend}")
            if backend == "sqlite":
                url = f"sqlite:///{instance / 'test.sqlite3'}"
            else:
                url = request.getfixturevalue("postgres_server").create_database("beraad_test")
            created[backend] = _migrated(url, instance)
        return created[backend]

    return get


def _empty_all_tables() -> None:
    tables = [table.name for table in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(text(f"DELETE FROM {table}"))
    db.session.commit()


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def app(backend, database_urls, request, tmp_path):
    url = database_urls(backend, request)
    app = create_app(base_config(url, tmp_path))
    with app.app_context():
        _empty_all_tables()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def create_user(app):
    """Return a function that creates a user: create_user("anna", role="coordinator")."""
    from beraad.auth import service

    def make(username: str, role: str = "facilitator", password: str = PASSWORD, **extra):
        with app.app_context():
            user = service.create_user(username, password, role, extra.get("display_name", ""))
            db.session.commit()
            return user.id

    return make


class AuthActions:
    def __init__(self, client, create_user):
        self._client = client
        self._create_user = create_user

    def login(self, username: str = "coordinator", role: str = "coordinator", password=PASSWORD):
        """Create the user if needed and sign in; return the response."""
        from beraad.auth.service import get_user_by_username

        with self._client.application.app_context():
            exists = get_user_by_username(username) is not None
        if not exists:
            self._create_user(username, role=role, password=password)
        return self._client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client, create_user):
    return AuthActions(client, create_user)


@pytest.fixture
def write_dilemma(tmp_path):
    """Return a function that writes a dilemma file into a fresh folder and returns its path."""
    folder = tmp_path / "bank"
    folder.mkdir()

    def write(slug: str, front: str | None = None, body: str | None = None, name: str | None = None):
        # A draft: a published file must pass the publishing gate (tests/data/bank-ready has such).
        front = front if front is not None else f"id: {slug}\ntitle: Titel van {slug}\nstatus: draft\n"
        body = body if body is not None else "Een collega vraagt je iets wat niet mag. " * 5
        path = folder / (name or f"{slug}.md")
        path.write_text(f"---\n{front}---\n{body}\n", encoding="utf-8")
        return path

    write.folder = folder
    return write
