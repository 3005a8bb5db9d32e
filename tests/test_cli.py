"""The beraad command line, through click's runner, on both databases."""

from __future__ import annotations

import os
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
from sqlalchemy import select

from beraad.auth import service as accounts
from beraad.extensions import db
from beraad.models import Dilemma, User

from .conftest import PASSWORD


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
