"""The `beraad` command line: set up, serve, import and export, manage users."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade

from .extensions import db


def _fail(message: str) -> None:
    raise click.ClickException(message)


def _import_bank(path: Path) -> None:
    from .bank import service
    from .bank.loader import BankError, load_bank

    try:
        dilemmas = load_bank(path, current_app.config["MAX_DILEMMA_BYTES"])
    except BankError as error:
        db.session.rollback()
        click.echo(f"Nothing imported: {len(error.errors)} problem(s) found.", err=True)
        for problem in error.errors:
            click.echo(f"  {problem}", err=True)
        raise click.exceptions.Exit(1) from None
    try:
        report = service.import_dilemmas(dilemmas)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    click.echo(f"Dilemmas from {path}: {report.summary()}.")


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the database, load the bank, create the first admin."""
    from .auth import service as accounts

    upgrade()
    click.echo("Database is up to date.")
    _import_bank(Path(current_app.config["DILEMMA_BANK_DIR"]))
    if accounts.count_enabled_admins() > 0:
        return
    username = os.environ.get("BERAAD_ADMIN_USER")
    password = os.environ.get("BERAAD_ADMIN_PASSWORD")
    if not (username and password):
        if not sys.stdin.isatty():
            click.echo(
                "No administrator yet. Set BERAAD_ADMIN_USER and BERAAD_ADMIN_PASSWORD and run "
                "`beraad init` again, or run `beraad create-user NAME --role admin`."
            )
            return
        username = username or click.prompt("Administrator username", default="admin")
        password = password or click.prompt(
            "Administrator password (10+ characters)", hide_input=True, confirmation_prompt=True
        )
    try:
        accounts.create_user(username, password, "admin")
    except accounts.AccountError as error:
        db.session.rollback()
        _fail(f"Administrator not created: {error}")
    db.session.commit()
    click.echo(f"Administrator {accounts.normalise_username(username)!r} created.")


@click.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@with_appcontext
def import_command(path: Path) -> None:
    """Import dilemma files from PATH (a folder or one file): all or nothing."""
    _import_bank(path)


@click.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def export_command(directory: Path) -> None:
    """Write every dilemma in the database as a file into DIRECTORY."""
    from .bank import service
    from .bank.loader import dump_dilemma

    directory.mkdir(parents=True, exist_ok=True)
    dilemmas = service.all_dilemmas()
    for dilemma in dilemmas:
        text = dump_dilemma(service.dilemma_data(dilemma))
        (directory / f"{dilemma.slug}.md").write_text(text, encoding="utf-8")
    click.echo(f"Exported {len(dilemmas)} dilemma(s) to {directory}.")


@click.command("create-user")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice(["facilitator", "coordinator", "admin"]),
    default="facilitator",
    show_default=True,
)
@click.option("--display-name", default="", help="Name shown in the interface.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    envvar="BERAAD_NEW_USER_PASSWORD",
    help="Prompted when not given.",
)
@with_appcontext
def create_user_command(username: str, role: str, display_name: str, password: str) -> None:
    """Create an account with a role."""
    from .auth import service as accounts

    try:
        user = accounts.create_user(username, password, role, display_name)
    except accounts.AccountError as error:
        db.session.rollback()
        _fail(str(error))
    db.session.commit()
    click.echo(f"User {user.username!r} created with role {user.role}.")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--dev", is_flag=True, help="Flask's development server with the reloader.")
def serve_command(host: str, port: int, workers: int, dev: bool) -> None:
    """Serve the app with gunicorn (or the development server with --dev)."""
    from . import create_app

    if dev:
        create_app().run(host=host, port=port, debug=True, use_reloader=True)
        return
    from .server import run_gunicorn

    run_gunicorn(host=host, port=port, workers=workers)


COMMANDS = [
    init_command,
    import_command,
    export_command,
    create_user_command,
    serve_command,
]


def register_commands(app: Flask) -> None:
    """Add beraad's commands to the app's command line."""
    for command in COMMANDS:
        app.cli.add_command(command)


def _create_app() -> Flask:
    from . import create_app

    return create_app()


main = FlaskGroup(
    name="beraad",
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    help="beraad: moral case deliberation for public-sector teams.",
)
