"""The beraad command line, through click's runner, on both databases."""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

from beraad.auth import service as accounts
from beraad.extensions import db
from beraad.models import DeliberationSession, Dilemma, Participant, Poll, SessionStep, User

from .conftest import PASSWORD

REPO_BANK = Path(__file__).resolve().parent.parent / "dilemma_bank"


def test_init_upgrades_imports_and_creates_admin_from_environment(app, runner, monkeypatch):
    monkeypatch.setenv("BERAAD_ADMIN_USER", "Beheerder")
    monkeypatch.setenv("BERAAD_ADMIN_PASSWORD", PASSWORD)
    result = runner.invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert "3 created" in result.output
    assert "Administrator 'beheerder' created" in result.output
    with app.app_context():
        admin = accounts.get_user_by_username("beheerder")
        assert admin.role == "admin" and admin.password_hash.startswith("scrypt:")
    # Running it again is harmless: nothing new, no second admin.
    again = runner.invoke(args=["init"])
    assert again.exit_code == 0
    assert "Dilemmas from" in again.output and "0 created, 0 updated, 3 unchanged" in again.output
    assert "0 created, 0 updated, 2 unchanged" in again.output  # the two test methods
    assert "Administrator" not in again.output


def test_init_without_admin_variables_and_no_terminal_explains_what_to_do(app, runner, monkeypatch):
    monkeypatch.delenv("BERAAD_ADMIN_USER", raising=False)
    monkeypatch.delenv("BERAAD_ADMIN_PASSWORD", raising=False)
    result = runner.invoke(args=["init"])
    assert result.exit_code == 0
    assert "BERAAD_ADMIN_USER" in result.output
    with app.app_context():
        assert db.session.scalars(select(User)).all() == []


def test_init_with_a_weak_admin_password_fails_clearly(app, runner, monkeypatch):
    monkeypatch.setenv("BERAAD_ADMIN_USER", "admin")
    monkeypatch.setenv("BERAAD_ADMIN_PASSWORD", "kort")
    result = runner.invoke(args=["init"])
    assert result.exit_code != 0
    assert "10" in result.output
    with app.app_context():
        assert accounts.get_user_by_username("admin") is None


def test_create_user_with_role(app, runner):
    result = runner.invoke(
        args=["create-user", "Anna", "--role", "coordinator", "--display-name", "Anna de Vries"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = accounts.get_user_by_username("anna")
        assert (user.role, user.display_name) == ("coordinator", "Anna de Vries")


def test_create_user_refuses_duplicates_and_bad_names(runner):
    assert runner.invoke(args=["create-user", "bob", "--password", PASSWORD]).exit_code == 0
    duplicate = runner.invoke(args=["create-user", "BOB", "--password", PASSWORD])
    assert duplicate.exit_code != 0 and "bob" in duplicate.output
    bad = runner.invoke(args=["create-user", "b o b", "--password", PASSWORD])
    assert bad.exit_code != 0


def test_import_of_a_missing_path_fails(runner, tmp_path):
    result = runner.invoke(args=["import", str(tmp_path / "nowhere")])
    assert result.exit_code != 0


def test_import_a_single_file(app, runner, write_dilemma):
    path = write_dilemma("los-bestand")
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(Dilemma.slug)) == "los-bestand"


def test_console_script_lists_every_command():
    from click.testing import CliRunner

    from beraad.cli import main

    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("init", "serve", "import", "export", "create-user"):
        assert command in result.output


def without_base_url(monkeypatch) -> None:
    """No BERAAD_BASE_URL now, and none after the test: `beraad serve` on 0.0.0.0 sets it in this
    process's environment (for the app it starts), and a plain delenv of an unset variable would
    not undo that."""
    monkeypatch.setenv("BERAAD_BASE_URL", "")
    monkeypatch.delenv("BERAAD_BASE_URL")
    monkeypatch.chdir(tempfile.mkdtemp())  # serve notes its address in ./instance (for beraad demo)
    monkeypatch.delenv("BERAAD_INSTANCE_PATH", raising=False)


def test_serve_passes_host_port_and_workers_to_gunicorn(monkeypatch):
    from click.testing import CliRunner

    from beraad import server
    from beraad.cli import main

    seen = {}
    monkeypatch.setattr(server, "run_gunicorn", lambda **kwargs: seen.update(kwargs))
    without_base_url(monkeypatch)
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--port", "8123", "--workers", "3"])
    assert result.exit_code == 0, result.output
    assert seen == {"host": "0.0.0.0", "port": 8123, "workers": 3, "threads": 8}
    assert "each count the rate limits on their own" in result.output  # several processes, no Redis


def test_serve_runs_one_process_with_threads_by_default_so_rate_limits_hold_server_wide(monkeypatch):
    from click.testing import CliRunner

    from beraad import server
    from beraad.cli import main

    seen = {}
    monkeypatch.setattr(server, "run_gunicorn", lambda **kwargs: seen.update(kwargs))
    monkeypatch.delenv("BERAAD_RATELIMIT_STORAGE_URI", raising=False)
    without_base_url(monkeypatch)
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 0 and "rate limits" not in result.output
    assert seen == {"host": "127.0.0.1", "port": 8000, "workers": 1, "threads": 8}


def test_serve_announces_the_address_phones_open_and_puts_it_in_the_qr_code(monkeypatch):
    from click.testing import CliRunner

    from beraad import network, server
    from beraad.cli import main

    monkeypatch.setattr(server, "run_gunicorn", lambda **kwargs: None)
    monkeypatch.setattr(network, "network_address", lambda: "192.168.1.20")
    without_base_url(monkeypatch)
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--port", "8000"])
    assert "beraad is served for phones at http://192.168.1.20:8000" in result.output
    assert "Warning" not in result.output
    assert os.environ["BERAAD_BASE_URL"] == "http://192.168.1.20:8000"  # the app's links use it
    # `beraad demo` in another terminal prints links with this address.
    assert Path("instance/served-at.txt").read_text() == "http://192.168.1.20:8000\n"

    monkeypatch.delenv("BERAAD_BASE_URL")
    result = CliRunner().invoke(main, ["serve"])  # 127.0.0.1: this computer only
    assert "Warning: Serving on 127.0.0.1 only: phones cannot reach it" in result.output
    assert "BERAAD_BASE_URL" not in os.environ

    monkeypatch.setenv("BERAAD_BASE_URL", "https://beraad.example.nl/")  # behind a proxy
    result = CliRunner().invoke(main, ["serve"])
    assert "phones at https://beraad.example.nl " in result.output and "Warning" not in result.output

    monkeypatch.setenv("BERAAD_BASE_URL", "beraad.example.nl")  # no scheme: refused before serving
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 1 and "configuration: BERAAD_BASE_URL must look like https://" in result.output


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_three_servers_running_init_at_the_same_moment_all_succeed(backend, postgres_server, tmp_path):
    """Servers started together each run `beraad init` on one empty database: one initialises, the
    others wait for it and find nothing left to do; exactly one administrator is created."""
    import subprocess
    import sys

    import psycopg

    if backend == "postgresql":
        name = f"init_{secrets.token_hex(4)}"
        with psycopg.connect(f"host={postgres_server.socket_dir} user=postgres dbname=postgres",
                             autocommit=True) as admin:  # fmt: skip
            admin.execute(f"CREATE DATABASE {name}")
        url = f"postgresql+psycopg://postgres@/{name}?host={postgres_server.socket_dir}"
    else:
        url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "same-on-every-server",
           "BERAAD_INSTANCE_PATH": str(tmp_path / "instance"), "BERAAD_ADMIN_USER": "beheer",
           "BERAAD_ADMIN_PASSWORD": "een-lang-wachtwoord-12"}  # fmt: skip
    servers = [
        subprocess.Popen(
            [sys.executable, "-m", "beraad", "init"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        for _ in range(3)
    ]
    outputs = [server.communicate(timeout=180)[0] for server in servers]
    assert [server.returncode for server in servers] == [0, 0, 0], "\n---\n".join(outputs)
    assert sum("Administrator 'beheer' created" in output for output in outputs) == 1
    assert sum("49 created" in output for output in outputs) == 1  # the bank, imported once


# --- beraad set-password ---------------------------------------------------------------------------

NEW_PASSWORD = "a brand new passphrase"


def signs_in(app, username: str, password: str, address: str = "203.0.113.9") -> bool:
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = address
    return browser.post("/login", data={"username": username, "password": password}).status_code == 302


def is_signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def stored(app, username: str) -> tuple[str, int, bool]:
    with app.app_context():
        user = accounts.get_user_by_username(username)
        return user.password_hash, user.session_version, user.must_change_password


def test_set_password_for_an_unknown_user_fails(runner, monkeypatch):
    monkeypatch.setenv("BERAAD_NEW_PASSWORD", NEW_PASSWORD)
    result = runner.invoke(args=["set-password", "nobody"])
    assert result.exit_code == 1
    assert "no user 'nobody'" in result.output


def test_set_password_refuses_a_weak_password(app, runner, create_user, monkeypatch):
    create_user("anna")
    before = stored(app, "anna")
    monkeypatch.delenv("BERAAD_NEW_PASSWORD", raising=False)
    prompted = runner.invoke(args=["set-password", "anna"], input="kort\nkort\n")
    monkeypatch.setenv("BERAAD_NEW_PASSWORD", "kort")
    from_environment = runner.invoke(args=["set-password", "anna"])
    for result in (prompted, from_environment):
        assert result.exit_code == 1
        assert "10" in result.output  # the minimum length, in the app's default language
    assert stored(app, "anna") == before
    assert signs_in(app, "anna", PASSWORD)


def test_set_password_asks_twice_ends_old_sessions_and_lifts_the_wait(app, runner, client, auth, monkeypatch):
    auth.login("anna", role="facilitator")
    assert is_signed_in(client)
    for number in range(5):
        signs_in(app, "anna", f"gok {number}", address=f"198.51.100.{number}")
    assert not signs_in(app, "anna", PASSWORD)  # the account waits
    monkeypatch.delenv("BERAAD_NEW_PASSWORD", raising=False)

    result = runner.invoke(args=["set-password", "Anna"], input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")

    assert result.exit_code == 0, result.output
    assert "Repeat" in result.output and NEW_PASSWORD not in result.output  # asked twice, no echo
    assert "'anna'" in result.output
    assert stored(app, "anna")[1] == 2  # session version bumped
    assert not is_signed_in(client)  # the old cookie no longer works
    assert signs_in(app, "anna", NEW_PASSWORD)  # new password, and no wait
    assert not signs_in(app, "anna", PASSWORD)


def test_set_password_from_the_environment_asks_nothing_and_clears_a_forced_change(
    app, runner, create_user, monkeypatch
):
    create_user("anna")
    with app.app_context():
        accounts.get_user_by_username("anna").must_change_password = True
        db.session.commit()
    monkeypatch.setenv("BERAAD_NEW_PASSWORD", NEW_PASSWORD)

    result = runner.invoke(args=["set-password", "anna"])

    assert result.exit_code == 0, result.output
    assert "New password" not in result.output and "Repeat" not in result.output  # no prompt
    assert stored(app, "anna")[2] is False
    assert signs_in(app, "anna", NEW_PASSWORD)


def test_production_mode_refuses_to_guess_its_secret_key_or_database(monkeypatch):
    from click.testing import CliRunner

    from beraad import server
    from beraad.cli import main

    started = []
    monkeypatch.setattr(server, "run_gunicorn", lambda **kwargs: started.append(kwargs))
    without_base_url(monkeypatch)
    monkeypatch.setenv("BERAAD_PRODUCTION", "1")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 1 and started == []
    assert "SECRET_KEY and DATABASE_URL must be set too" in result.output
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 1 and "DATABASE_URL must be set too" in result.output
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://beraad@/beraad")
    monkeypatch.setenv("BERAAD_BASE_URL", "https://beraad.example.nl")
    assert CliRunner().invoke(main, ["serve"]).exit_code == 0 and len(started) == 1


class ServedInstance:
    """An initialised instance folder and a free port, for real `beraad serve` processes."""

    def __init__(self, tmp_path: Path):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.folder = tmp_path
        self.env = {
            **os.environ,
            "BERAAD_INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": "x" * 40,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "PYTHONUNBUFFERED": "1",
        }
        init = [sys.executable, "-m", "beraad", "init"]
        subprocess.run(
            init, env=self.env, check=True, capture_output=True, stdin=subprocess.DEVNULL, cwd=tmp_path
        )
        self.logs: list[Path] = []

    def start(self, *options: str) -> subprocess.Popen:
        command = [sys.executable, "-m", "beraad", "serve", "--port", str(self.port), *options]
        self.logs.append(self.folder / f"server-{len(self.logs)}.log")
        with self.logs[-1].open("w") as log:
            return subprocess.Popen(
                command,
                env=self.env,
                cwd=self.folder,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def answers_within(self, seconds: float) -> float | None:
        begin = time.monotonic()
        while time.monotonic() - begin < seconds:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return time.monotonic() - begin
            except OSError:
                time.sleep(0.1)
        return None


def stop_group(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def test_a_server_killed_hard_is_replaced_at_once_on_the_same_port(tmp_path):
    """kill -9 leaves workers holding the port for seconds; the next server binds and answers anyway.
    Two servers on one host do not share a control socket file."""
    served = ServedInstance(tmp_path)
    first = served.start("--workers", "2")
    try:
        assert served.answers_within(30) is not None, served.logs[0].read_text()
        assert not list(tmp_path.glob("*.ctl")) and not list(tmp_path.glob("**/gunicorn.ctl"))
        killed = time.monotonic()
        first.send_signal(signal.SIGKILL)  # the master only: its workers are orphaned
        first.wait()
        second = served.start("--workers", "2")
        try:
            # The orphaned workers may still answer for a moment: wait for the new server itself.
            while "Booting worker" not in served.logs[1].read_text() and time.monotonic() - killed < 30:
                assert second.poll() is None, served.logs[1].read_text()  # it could bind the port
                time.sleep(0.05)
            assert served.answers_within(30) is not None, served.logs[1].read_text()
            print(f"\nkill -9 to a restarted server answering: {time.monotonic() - killed:.2f} s")
            assert "Listening at" in served.logs[1].read_text() and second.poll() is None
        finally:
            stop_group(second, signal.SIGTERM)
            second.wait(timeout=30)
    finally:
        stop_group(first)  # any orphaned worker of the first server


def test_a_stopping_server_answers_the_requests_already_waiting_for_it(tmp_path):
    """SIGTERM (a deploy, systemd stop): requests the kernel already queued for the server, not yet
    taken by a worker, are answered before it stops, not reset. The worker is paused while they
    arrive, so that all of them wait in the listen backlog when the stop begins."""
    served = ServedInstance(tmp_path)
    server = served.start("--workers", "1", "--threads", "4")
    waiting: list[socket.socket] = []
    try:
        assert served.answers_within(30) is not None, served.logs[0].read_text()
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        assert len(children) == 1, children
        worker = int(children[0])
        os.kill(worker, signal.SIGSTOP)
        try:
            for _ in range(12):
                connection = socket.create_connection(("127.0.0.1", served.port), timeout=20)
                connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: beraad\r\nConnection: close\r\n\r\n")
                waiting.append(connection)
            server.send_signal(signal.SIGTERM)  # the master closes its listener, then stops the worker
            time.sleep(0.5)
        finally:
            os.kill(worker, signal.SIGCONT)
        replies = []
        for connection in waiting:  # each read on its own, as twelve phones would
            reply = b""
            try:
                while b"\r\n" not in reply and (chunk := connection.recv(4096)):
                    reply += chunk
            except ConnectionResetError:
                reply += b" (reset)"
            connection.close()
            replies.append(reply.split(b"\r\n", 1)[0].decode(errors="replace"))
        assert replies == ["HTTP/1.1 200 OK"] * 12, replies
        assert server.wait(timeout=30) == 0
    finally:
        for connection in waiting:
            connection.close()
        stop_group(server)


# --- beraad --help: the operator's commands, in sections, in English -------------------------------

SECTIONS = {
    "Setting up": ["init", "import", "export", "methods"],
    "Running": ["serve", "demo"],
    "Accounts": ["create-user", "set-password", "token"],
    "Data": ["purge"],
}


def beraad_help(*args: str) -> str:
    from click.testing import CliRunner

    from beraad.cli import main

    result = CliRunner().invoke(main, [*args, "--help"], prog_name="beraad")
    assert result.exit_code == 0, result.output
    return result.output


def test_help_shows_beraad_commands_in_sections_and_no_flask_options():
    output = beraad_help()
    for flask_only in ("--env-file", "--app", "--debug", "FLASK", "limiter", "Flask-Limiter", " db "):
        assert flask_only not in output
    lines = output.splitlines()
    headings = [line for line in lines if line and not line.startswith(" ")]
    assert [heading.split(":")[0] for heading in headings] == ["Usage", "Options", *SECTIONS]
    assert all(len(heading.split(":", 1)[1]) > 10 for heading in headings[2:])  # what each section is for
    names = [name for section in SECTIONS.values() for name in section]
    rows = lines[lines.index(headings[2]) :]
    # One line per command, in section order: a name and its description, unabridged and aligned.
    assert [line.split()[0] for line in rows if line.startswith(" ")] == names
    assert not any(line.endswith("...") for line in rows)
    assert len({len(line) - len(line.split(None, 1)[1]) for line in rows if line.startswith(" ")}) == 1


def test_every_command_has_english_help_without_flask_options():
    commands = [name for names in SECTIONS.values() for name in names]
    commands += ["methods check", "token create", "token revoke"]
    for command in commands:
        output = beraad_help(*command.split())
        assert output.startswith(f"Usage: beraad {command} ")
        assert "--env-file" not in output and "--debug" not in output


def test_hidden_commands_still_run():
    """Flask-Migrate's `db` (documented: `beraad db upgrade`) and Flask-Limiter's `limiter` are not
    listed, but a script that calls them keeps working."""
    assert "upgrade" in beraad_help("db")
    assert "clear" in beraad_help("limiter")


def test_python_m_beraad_calls_itself_beraad(tmp_path):
    env = {**os.environ, "SECRET_KEY": "x" * 40, "BERAAD_INSTANCE_PATH": str(tmp_path / "instance"),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "beraad", "--help"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: beraad [OPTIONS] COMMAND")
    assert "Setting up" in result.stdout and "--env-file" not in result.stdout and result.stderr == ""


def test_account_errors_are_shown_in_english_whatever_the_app_language(app, runner, create_user, monkeypatch):
    assert app.config["BABEL_DEFAULT_LOCALE"] == "nl"
    weak = runner.invoke(args=["create-user", "anna", "--password", "kort"])
    assert weak.exit_code == 1 and "The password must be at least 10 characters." in weak.output
    create_user("bob")
    duplicate = runner.invoke(args=["create-user", "bob", "--password", PASSWORD])
    assert duplicate.exit_code == 1 and "A user named bob already exists." in duplicate.output
    monkeypatch.setenv("BERAAD_NEW_PASSWORD", "kort")
    weak = runner.invoke(args=["set-password", "bob"])
    assert "Password not changed: The password must be at least 10 characters." in weak.output
    monkeypatch.setenv("BERAAD_ADMIN_USER", "beheer")
    monkeypatch.setenv("BERAAD_ADMIN_PASSWORD", "kort")
    weak = runner.invoke(args=["init"])
    assert "Administrator not created: The password must be at least 10 characters." in weak.output
    for result in (duplicate, weak):
        assert "wachtwoord" not in result.output.lower() and "gebruiker" not in result.output.lower()


# --- beraad demo -----------------------------------------------------------------------------------

DEMO_TITLE = "Demo: het rapport"
LINK = re.compile(r"^(Facilitator|Projector|Join):\s+(\S+)", re.M)


@pytest.fixture
def demo_ready(app):
    """The published dilemma the demo runs on."""
    from beraad.bank import service as bank
    from beraad.bank.loader import read_dilemma_file

    with app.app_context():
        bank.import_dilemmas([read_dilemma_file(REPO_BANK / "rapport-afzwakken.md")])
        db.session.commit()


def run_demo(runner, *options: str) -> tuple[str, dict[str, str]]:
    result = runner.invoke(args=["demo", *options])
    assert result.exit_code == 0, result.output
    return result.output, dict(LINK.findall(result.output))


def demo_sessions(app) -> list[DeliberationSession]:
    with app.app_context():
        return db.session.scalars(
            select(DeliberationSession).order_by(DeliberationSession.id)
        ).all()  # fmt: skip


def test_demo_twice_reuses_the_open_demo_session(app, runner, demo_ready):
    first, links = run_demo(runner)
    assert "Demo session created." in first and "password unchanged" not in first
    again, same = run_demo(runner)
    assert "Demo session reused." in again and "password unchanged" in again
    assert "created" not in again
    assert same == links
    assert len(demo_sessions(app)) == 1


def test_demo_reset_deletes_the_old_demo_session_with_everything_in_it(app, runner, demo_ready):
    from beraad.sessions import service as sessions
    from beraad.vote import service as vote

    def count(model) -> int:
        return db.session.scalar(select(func.count()).select_from(model))

    _, old_links = run_demo(runner)
    with app.app_context():
        old = db.session.scalars(select(DeliberationSession)).one()
        vote.join(old, "a-phone-token")
        sessions.start_session(old)
        db.session.commit()
        old_polls = set(db.session.scalars(select(Poll.id)))
        steps = count(SessionStep)
        assert old_polls and count(Participant) == 1

    output, links = run_demo(runner, "--reset")

    assert "Demo session reset: 1 old demo session deleted." in output
    assert links["Join"] != old_links["Join"] and links["Projector"] != old_links["Projector"]
    [fresh] = demo_sessions(app)
    assert fresh.title == DEMO_TITLE and fresh.status == "lobby"  # the old one was running
    with app.app_context():  # only the fresh session's rows are left (SQLite may reuse the old id)
        assert count(Participant) == 0 and count(SessionStep) == steps
        assert not old_polls & set(db.session.scalars(select(Poll.id)))
        assert count(Poll) == len(old_polls)


def test_demo_leaves_a_closed_demo_session_and_other_sessions_alone(app, runner, demo_ready):
    from beraad.methods import service as methods
    from beraad.models import Dilemma
    from beraad.sessions import service as sessions

    run_demo(runner)
    with app.app_context():
        closed = db.session.scalars(select(DeliberationSession)).one()
        sessions.start_session(closed)
        sessions.close_session(closed)
        demo = accounts.get_user_by_username("demo")
        other = accounts.create_user("anna", PASSWORD, "facilitator")
        method = methods.get_method("dilemmamethode")
        dilemma = db.session.scalars(select(Dilemma)).one()
        sessions.create_session(demo, method, [dilemma], "The demo user's own session")
        sessions.create_session(other, method, [dilemma], DEMO_TITLE)  # same title, another owner
        db.session.commit()

    output, _ = run_demo(runner)  # the closed one cannot be used: a new one
    assert "Demo session created." in output and len(demo_sessions(app)) == 4
    output, _ = run_demo(runner, "--reset")
    assert "Demo session reset: 2 old demo sessions deleted." in output
    remaining = sorted((s.title, s.status) for s in demo_sessions(app))
    assert remaining == sorted([(DEMO_TITLE, "lobby"), ("The demo user's own session", "lobby"),
                                (DEMO_TITLE, "lobby")])  # fmt: skip
    with app.app_context():
        owners = {s.title: s.owner.username for s in db.session.scalars(select(DeliberationSession))}
    assert owners["The demo user's own session"] == "demo"


def test_demo_reset_without_a_demo_session_creates_one(app, runner, demo_ready):
    output, links = run_demo(runner, "--reset", "--base-url", "https://beraad.example.nl/")
    assert "Demo session created." in output
    assert links["Join"].startswith("https://beraad.example.nl/j/")
    assert len(demo_sessions(app)) == 1


def test_demo_without_its_dilemma_fails_and_creates_nothing(app, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 1 and "run `beraad init` first" in result.output
    with app.app_context():
        assert accounts.get_user_by_username("demo") is None  # no account with a password never shown
    assert demo_sessions(app) == []
