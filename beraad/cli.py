"""The `beraad` command line: set up, serve, import and export, manage users."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_babel import force_locale
from flask_migrate import upgrade
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db


def _fail(message: str) -> None:
    raise click.ClickException(message)


def _in_the_app(command):
    """Flask's with_appcontext, with the app's own messages (an AccountError …) in English: the
    command line speaks English to operators, whatever language (BERAAD_LANGUAGE) the app speaks."""

    @functools.wraps(command)
    def in_english(*args, **kwargs):
        with force_locale("en"):
            return command(*args, **kwargs)

    return with_appcontext(in_english)


def _import_bank(path: Path) -> None:
    from .bank import quality, service
    from .bank.loader import BankError, load_bank

    try:
        dilemmas = load_bank(path, current_app.config["MAX_DILEMMA_BYTES"])
        problems = quality.bank_problems(dilemmas, service.stored_dilemmas())
        if problems:
            raise BankError(problems)
    except BankError as error:
        db.session.rollback()
        click.echo(f"Nothing imported: {len(error.errors)} problem(s) found.", err=True)
        for problem in error.errors:
            click.echo(f"  {problem}", err=True)
        raise click.exceptions.Exit(1) from None
    try:
        report = service.import_dilemmas(dilemmas)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        path_and_reason = _refused_by_the_database(dilemmas)
        click.echo(f"Nothing imported: the database refused {path_and_reason}", err=True)
        raise click.exceptions.Exit(1) from None
    click.echo(f"Dilemmas from {path}: {report.summary()}.")


def _refused_by_the_database(dilemmas) -> str:
    """Which file the database refused, and why (its first line; parameters are never shown):
    each file is tried alone in a savepoint, and everything is rolled back afterwards."""
    from .bank import service

    try:
        for data in dilemmas:
            try:
                with db.session.begin_nested():
                    service.import_dilemmas([data])
            except SQLAlchemyError as error:
                reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
                column = getattr(getattr(getattr(error, "orig", None), "diag", None), "column_name", None)
                field = f" (field {column})" if column else ""
                return f"{data.path}{field}: {reason}"
        return "the import as a whole (no single file fails alone)"
    finally:
        db.session.rollback()


def _load_methods_or_exit(folder: Path):
    from .methods.loader import MethodsError, load_methods

    try:
        return load_methods(folder)
    except MethodsError as error:
        click.echo(f"{len(error.errors)} problem(s) in the method files:", err=True)
        for problem in error.errors:
            click.echo(f"  {problem}", err=True)
        raise click.exceptions.Exit(1) from None


def _import_methods(folder: Path) -> None:
    from .methods import service

    report = service.import_methods(_load_methods_or_exit(folder))
    db.session.commit()
    counts = ", ".join(f"{len(keys)} {outcome}" for outcome, keys in report.items())
    click.echo(f"Methods from {folder}: {counts}.")


@click.command("init", short_help="Set up or upgrade the database, methods, bank, first admin.")
@_in_the_app
def init_command() -> None:
    """Create or upgrade the database, load methods and the bank, create the first admin."""
    from .database import init_lock

    with init_lock(db.engine):  # several servers starting at once: one initialises, the others wait
        upgrade()
        click.echo("Database is up to date.")
        _import_methods(Path(current_app.config["METHODS_DIR"]))
        _import_bank(Path(current_app.config["DILEMMA_BANK_DIR"]))
        db.session.commit()
        _first_admin()


def _first_admin() -> None:
    """Create the first administrator from the environment or a prompt, unless there is one."""
    from .auth import service as accounts

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


@click.command("import", short_help="Import dilemma files from a folder or one file.")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@_in_the_app
def import_command(path: Path) -> None:
    """Import dilemma files from PATH (a folder or one file): all or nothing."""
    _import_bank(path)


@click.command("export", short_help="Write every dilemma as a Markdown file into a folder.")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@_in_the_app
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


@click.command("create-user", short_help="Create an account: facilitator, coordinator or admin.")
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
@_in_the_app
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


@click.command("set-password", short_help="Set a user's password; ends their sign-ins.")
@click.argument("username")
@_in_the_app
def set_password_command(username: str) -> None:
    """Set a new password for USERNAME: asked twice, or read from BERAAD_NEW_PASSWORD when set.

    Every sign-in of the user ends, their API tokens are revoked, a required password change is
    dropped, and the account's sign-in wait is lifted."""
    from .auth import service as accounts
    from .auth import throttle

    user = accounts.get_user_by_username(username)
    if user is None:
        _fail(f"no user {accounts.normalise_username(username)!r}")
    password = os.environ.get("BERAAD_NEW_PASSWORD")
    if password is None:
        password = click.prompt(
            f"New password for {user.username} (10+ characters)", hide_input=True, confirmation_prompt=True
        )
    try:
        revoked = accounts.reset_password(user, password)
    except accounts.AccountError as error:
        db.session.rollback()
        _fail(f"Password not changed: {error}")
    db.session.commit()
    throttle.clear(user.username)
    click.echo(
        f"Password of {user.username!r} changed; every sign-in of this user has ended"
        + (f" and {revoked} API token(s) were revoked." if revoked else ".")
    )


@click.command("serve", short_help="Serve the app (gunicorn, or Flask's reloader with --dev).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="0.0.0.0: on this machine's network, for phones in the room.")  # fmt: skip
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="Processes.")
@click.option("--threads", default=8, show_default=True, type=int, help="Requests at once per process.")
@click.option("--dev", is_flag=True, help="Flask's development server with the reloader.")
def serve_command(host: str, port: int, workers: int, threads: int, dev: bool) -> None:
    """Serve the app with gunicorn (or the development server with --dev).

    One process with threads by default: the rate limits (kept in the process's memory unless
    BERAAD_RATELIMIT_STORAGE_URI names a shared store) then hold for the whole server."""
    from . import create_app
    from .config import ConfigurationError, base_url_from_environment
    from .network import WILDCARD_HOSTS, phone_url

    if os.environ.get("BERAAD_PRODUCTION", "0") not in ("", "0"):
        missing = [name for name in ("SECRET_KEY", "DATABASE_URL") if not os.environ.get(name)]
        if missing:
            _fail(
                f"BERAAD_PRODUCTION is set, so {' and '.join(missing)} must be set too: every server "
                "behind a load balancer needs the same SECRET_KEY (or forms posted to another server "
                "fail) and the shared DATABASE_URL (or it serves an empty local SQLite file)."
            )

    try:
        base_url = base_url_from_environment()
    except ConfigurationError as error:
        _fail(f"configuration: {error}")
    url, warning = phone_url(host, port, base_url or None)
    if not base_url and host in WILDCARD_HOSTS:
        # Whatever address the facilitator's browser uses, the QR code carries one phones reach.
        os.environ["BERAAD_BASE_URL"] = url
    click.echo(f"beraad is served for phones at {url}  (open it on the facilitator's laptop too)")
    _remember_served_at(url)
    if warning:
        click.echo(f"Warning: {warning}", err=True)
    if dev:
        create_app().run(host=host, port=port, debug=True, use_reloader=True)
        return
    from .server import run_gunicorn

    if workers > 1 and os.environ.get("BERAAD_RATELIMIT_STORAGE_URI", "memory://") == "memory://":
        click.echo(
            f"Warning: {workers} processes each count the rate limits on their own (a guesser gets "
            f"{workers} times the budget). Set BERAAD_RATELIMIT_STORAGE_URI=redis://… to share them.",
            err=True,
        )
    run_gunicorn(host=host, port=port, workers=workers, threads=threads)


@click.group("methods", short_help="Check the deliberation method files.")
def methods_group() -> None:
    """Deliberation method files."""


@methods_group.command("check")
@click.argument("folder", required=False, type=click.Path(path_type=Path))
@_in_the_app
def methods_check_command(folder: Path | None) -> None:
    """Validate the method files (default: the methods/ folder) without importing them."""
    from .sessions.plan import planned_minutes

    folder = folder or Path(current_app.config["METHODS_DIR"])
    methods = _load_methods_or_exit(folder)
    for method in methods:
        polls = sum(1 for step in method.steps if step.poll)
        low, high = method.dilemmas
        extent = f"{low}-{high} dilemmas, " if high > 1 else ""
        click.echo(
            f"ok  {method.key}: {len(method.steps)} steps, {extent}"
            f"{planned_minutes(method, low)} min, {polls} polls, {len(method.evaluation)} evaluation items"
        )
    click.echo(f"{len(methods)} method(s) valid.")


SERVED_AT = "served-at.txt"  # in the instance folder: where the last `beraad serve` was reachable


def _remember_served_at(url: str) -> None:
    """Note the address for `beraad demo` in another terminal (it cannot ask the server)."""
    from .config import instance_path, make_instance_folder

    folder = instance_path()
    try:
        make_instance_folder(folder)
        (folder / SERVED_AT).write_text(url + "\n", encoding="utf-8")
    except OSError:
        pass  # a read-only instance folder: demo falls back to its default


def _served_at() -> str | None:
    try:
        return (Path(current_app.instance_path) / SERVED_AT).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


DEMO_USER = "demo"
DEMO_TITLE = "Demo: het rapport"  # a session's title is content, in the session's language (Dutch)


@click.command("demo", short_help="Print the links of a ready demo session to try beraad.")
@click.option("--base-url", default=None,
              help="Where the app is served, for the printed links [default: BERAAD_BASE_URL, "
                   "else where the last `beraad serve` said phones reach it, "
                   "else http://127.0.0.1:8000].")  # fmt: skip
@click.option(
    "--reset", is_flag=True, help="Delete the demo user's demo sessions, with all in them; create a new one."
)
@click.option("--series", is_flag=True,
              help="Also a demo team with three past sessions, for the team history and the insights "
                   "(with --reset: the demo team is deleted, with its sessions, and made anew).")  # fmt: skip
@_in_the_app
def demo_command(base_url: str | None, reset: bool, series: bool) -> None:
    """Print the links of a ready demo session, and the demo facilitator to sign in as.

    The demo user's open demo session is used again; a new one is created when there is none (or
    only closed ones). With --reset the demo sessions are deleted and a fresh one is created.

    With --series also the demo team: three closed sessions of the last three months, one month
    apart, each looking back on the previous one's action points, voted on and evaluated by
    simulated participants. It is used again when it exists; with --reset it is deleted, with its
    sessions, and made anew."""
    import secrets

    from sqlalchemy import select

    from .auth import service as accounts
    from .models import DeliberationSession, SessionStatus
    from .sessions import service as sessions

    if series:
        _series_content()  # may fail: before anything is created or deleted
    user = accounts.get_user_by_username(DEMO_USER)
    demo_sessions = []  # the newest first
    if user is not None:
        demo_sessions = db.session.scalars(
            select(DeliberationSession)
            .where(DeliberationSession.owner_id == user.id, DeliberationSession.title == DEMO_TITLE)
            .order_by(DeliberationSession.id.desc())
        ).all()
    session = None if reset else next((old for old in demo_sessions if not old.is_closed), None)
    password = None
    if session is not None:
        message = "Demo session reused."
    else:
        method, dilemma = _demo_content()  # may fail: before anything is created or deleted
        if user is None:
            password = secrets.token_urlsafe(12)
            user = accounts.create_user(DEMO_USER, password, "facilitator", "Demo-gespreksleider")
        deleted = demo_sessions if reset else []
        for old in deleted:
            if old.status == SessionStatus.RUNNING:
                sessions.close_session(old)  # a running session is not deleted unclosed
            sessions.delete_session(old)
        session = sessions.create_session(user, method, [dilemma], DEMO_TITLE, "nl", 3)
        message = "Demo session created."
        if deleted:
            plural = "s" if len(deleted) > 1 else ""
            message = f"Demo session reset: {len(deleted)} old demo session{plural} deleted."
    db.session.commit()
    outcome = None
    if series:
        from .summary.labels import zone
        from .teams import demo

        outcome = demo.ensure_series(
            user, k=current_app.config["BERAAD_K"], zone=zone(current_app.config.get("TIMEZONE")), reset=reset
        )
        db.session.commit()
    base = base_url or current_app.config.get("BERAAD_BASE_URL") or _served_at() or "http://127.0.0.1:8000"
    base = base.rstrip("/")
    click.echo(message)
    click.echo(f"Facilitator: {base}/sessions/{session.id}  (sign in as {DEMO_USER!r}"
               + (f", password {password})" if password else ", password unchanged)"))  # fmt: skip
    click.echo(f"Projector:   {base}/p/{session.projector_token}")
    click.echo(f"Join:        {base}/j/{session.join_code}")
    if outcome is not None:
        _echo_series(outcome, base)


def _echo_series(outcome, base: str) -> None:
    """What `beraad demo --series` made (or found): the team, its sessions and where to see them."""
    count = len(outcome.sessions)
    sessions_ = f"{count} session{'s' if count != 1 else ''}"
    if outcome.state == "reused":
        click.echo(f"Demo team reused: {outcome.team.name!r}, {sessions_}.")
    elif outcome.state == "reset":
        plural = "s" if outcome.deleted != 1 else ""
        click.echo(f"Demo team reset: {outcome.deleted} old session{plural} deleted; "
                   f"{outcome.team.name!r} created with {sessions_}.")  # fmt: skip
    else:
        click.echo(f"Demo team created: {outcome.team.name!r} with {sessions_}.")
    for session in outcome.sessions:
        day = session.scheduled_for or session.created_at.date()
        click.echo(f"  {day.isoformat()}  {session.title} ({session.status})")
    click.echo(f"Team:        {base}/teams/{outcome.team.id}")
    click.echo(f"Insights:    {base}/insights  (sign in as a coordinator or administrator)")


def _demo_content():
    """The method and the published dilemma of the demo session."""
    from .bank import service as bank
    from .methods import service as methods

    if methods.get_method("dilemmamethode") is None:
        _import_methods(Path(current_app.config["METHODS_DIR"]))
    dilemma = bank.get_by_slug("rapport-afzwakken")
    if dilemma is None or dilemma.status != "published":
        _fail("the demo needs the published dilemma 'rapport-afzwakken': run `beraad init` first")
    return methods.get_method("dilemmamethode"), dilemma


def _series_content() -> None:
    """Make sure the methods and published dilemmas of the demo series are there."""
    from .teams import demo

    if demo.missing_methods():
        _import_methods(Path(current_app.config["METHODS_DIR"]))
    missing = demo.missing_methods() + demo.missing_dilemmas()
    if missing:
        names = ", ".join(repr(name) for name in missing)
        _fail(f"the demo series needs the methods and published dilemmas {names}: run `beraad init` first")


@click.command("purge", short_help="Delete raw answers once the retention period is over.")
@click.option("--days", type=int, default=None, help="Override BERAAD_RETENTION_DAYS.")
@_in_the_app
def purge_command(days: int | None) -> None:
    """Delete raw answers of sessions closed longer than the retention period; keep summaries.

    Then make the deletion physical (the database's files, its WAL, PostgreSQL's statistics);
    exits 1 saying what could not be done. Run it again to finish: purged sessions are not redone.
    """
    from .models import utcnow
    from .summary import retention

    days = current_app.config["BERAAD_RETENTION_DAYS"] if days is None else days
    try:
        purged = retention.purge(utcnow(), days)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    reclaimed = retention.reclaim_space(current_app.config["PURGE_CHECKPOINT_SECONDS"])
    for warning in reclaimed.warnings:
        click.echo(f"Warning: {warning}", err=True)
    click.echo(f"Purged raw answers of {len(purged)} session(s) closed more than {days} days ago.")
    if reclaimed.problems:
        click.echo("Error: the deleted rows are gone from the tables, not yet from the disk:", err=True)
        for problem in reclaimed.problems:
            click.echo(f"  - {problem}", err=True)
        raise click.exceptions.Exit(1)


@click.group("token", short_help="Create or revoke personal tokens for the JSON API.")
def token_group() -> None:
    """Personal access tokens for the JSON API."""


@token_group.command("create")
@click.argument("username")
@click.option("--name", default="CLI", show_default=True, help="What the token is for.")
@_in_the_app
def token_create_command(username: str, name: str) -> None:
    """Create a token for USERNAME; the token is printed once, as the last line."""
    from .auth import tokens
    from .auth.service import get_user_by_username

    user = get_user_by_username(username)
    if user is None or not user.is_enabled:
        _fail(f"no enabled user {username!r}")
    row, token = tokens.create_token(user, name)
    db.session.commit()
    click.echo(f"Token {row.id} ({row.prefix}…) for {user.username}. Store it now; it is not shown again:")
    click.echo(token)


@token_group.command("revoke")
@click.argument("reference")
@_in_the_app
def token_revoke_command(reference: str) -> None:
    """Revoke a token, given its id, its prefix or the token itself."""
    from .auth import tokens

    row = tokens.find_token(reference)
    if row is None:
        _fail("no such token")
    tokens.revoke(row)
    db.session.commit()
    click.echo(f"Token {row.id} ({row.prefix}…) revoked.")


# What `beraad --help` lists, in this order: (section, what it is for, its commands).
SECTIONS = [
    ("Setting up", "the database, the dilemma bank and the method files",
     [init_command, import_command, export_command, methods_group]),
    ("Running", "the server, and a demo session to try it", [serve_command, demo_command]),
    ("Accounts", "who signs in, and tokens for scripts",
     [create_user_command, set_password_command, token_group]),
    ("Data", "how long answers are kept", [purge_command]),
]  # fmt: skip
COMMANDS = [command for _, _, commands in SECTIONS for command in commands]


def register_commands(app: Flask) -> None:
    """Add beraad's commands to the app's command line."""
    for command in COMMANDS:
        app.cli.add_command(command)


def _create_app() -> Flask:
    from . import create_app
    from .config import ConfigurationError

    try:
        return create_app()
    except ConfigurationError as error:  # a setting in the environment is wrong: say which
        raise click.ClickException(f"configuration: {error}") from None


class BeraadGroup(FlaskGroup):
    """FlaskGroup for operators: the app comes from create_app, without Flask's generic options
    (--app, --env-file, --debug); the help lists beraad's commands in sections. Commands other
    packages add (Flask-Migrate's `db`, Flask-Limiter's `limiter`) still run but are not listed."""

    def __init__(self, **extra) -> None:
        super().__init__(add_default_commands=False, add_version_option=False, load_dotenv=False, **extra)
        self.params = [param for param in self.params if param.name not in ("env_file", "app", "debug")]

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return click.Group.parse_args(self, ctx, args)  # FlaskGroup's would read --app and --env-file

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [command.name for command in COMMANDS]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        width = max(len(command.name) for command in COMMANDS)  # one column across the sections
        for title, purpose, commands in SECTIONS:
            formatter.write_paragraph()
            formatter.write_text(f"{title}: {purpose}")
            with formatter.indentation():
                formatter.write_dl(
                    [(command.name.ljust(width), command.get_short_help_str(80)) for command in commands]
                )


main = BeraadGroup(
    name="beraad",
    create_app=_create_app,
    help="beraad: moral case deliberation for public-sector teams.\n\n"
    "Settings come from the environment (SECRET_KEY, DATABASE_URL, BERAAD_*; see the README). "
    "Run `beraad COMMAND --help` for a command's options.",
)
