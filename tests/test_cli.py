"""The beraad command line, through click's runner, on both databases."""

from __future__ import annotations

import os

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


def test_serve_passes_host_port_and_workers_to_gunicorn(monkeypatch):
    from click.testing import CliRunner

    from beraad import server
    from beraad.cli import main

    seen = {}
    monkeypatch.setattr(server, "run_gunicorn", lambda **kwargs: seen.update(kwargs))
    monkeypatch.delenv("BERAAD_BASE_URL", raising=False)  # serve sets it; undone after the test
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
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 0 and "rate limits" not in result.output
    assert seen == {"host": "127.0.0.1", "port": 8000, "workers": 1, "threads": 8}


def test_serve_announces_the_address_phones_open_and_puts_it_in_the_qr_code(monkeypatch):
    from click.testing import CliRunner

    from beraad import network, server
    from beraad.cli import main

    monkeypatch.setattr(server, "run_gunicorn", lambda **kwargs: None)
    monkeypatch.setattr(network, "network_address", lambda: "192.168.1.20")
    monkeypatch.delenv("BERAAD_BASE_URL", raising=False)
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--port", "8000"])
    assert "beraad is served for phones at http://192.168.1.20:8000" in result.output
    assert "Warning" not in result.output
    assert os.environ["BERAAD_BASE_URL"] == "http://192.168.1.20:8000"  # the app's links use it

    monkeypatch.delenv("BERAAD_BASE_URL")
    result = CliRunner().invoke(main, ["serve"])  # 127.0.0.1: this computer only
    assert "Warning: Serving on 127.0.0.1 only: phones cannot reach it" in result.output
    assert "BERAAD_BASE_URL" not in os.environ

    monkeypatch.setenv("BERAAD_BASE_URL", "https://beraad.example.nl")  # behind a proxy
    result = CliRunner().invoke(main, ["serve"])
    assert "phones at https://beraad.example.nl" in result.output and "Warning" not in result.output
