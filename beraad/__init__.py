"""beraad: a toolkit for moral case deliberation in public-sector teams."""

from pathlib import Path

from flask import Flask

from . import config

__all__ = ["create_app"]


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure the beraad application."""
    test_config = test_config or None
    folder = (
        Path(test_config.get("INSTANCE_PATH") or config.instance_path())
        if test_config
        else (config.instance_path())
    )
    app = Flask(
        __name__,
        instance_path=str(folder),
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    from .security import DatabaseIntegerConverter

    app.url_map.converters["int"] = DatabaseIntegerConverter  # before any route is added
    app.config.from_mapping(config.DEFAULTS)
    if test_config is None:
        app.config.from_mapping(config.from_environment(folder))
    else:
        app.config.from_mapping(test_config)

    _init_extensions(app)
    _register_blueprints(app)
    _register_cli(app)
    return app


def _init_extensions(app: Flask) -> None:
    from . import database, i18n, ratelimit_storage, security
    from .auth import access
    from .extensions import babel, csrf, db, limiter, login_manager, migrate
    from .vote import live

    app.config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS", database.engine_options(app.config["SQLALCHEMY_DATABASE_URI"])
    )
    db.init_app(app)
    with app.app_context():
        database.configure_sqlite(db.engine)
        database.ping_idle_connections(db.engine)
    migrate.init_app(app, db, directory=str(config.REPO_ROOT / "migrations"))
    csrf.init_app(app)
    configured = app.config.get("RATELIMIT_STORAGE_URI", "memory://")
    ratelimit_storage.require_client(configured)
    app.config["RATELIMIT_STORAGE_URI"] = ratelimit_storage.storage_uri(configured)
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", ratelimit_storage.storage_options(configured))
    limiter.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    login_manager.init_app(app)
    access.init_login_manager(login_manager)
    live.install(app)  # before security.init_app may wrap ProxyFix around it: it needs the client's address
    security.init_app(app)
    i18n.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from .api.views import bp as api_bp
    from .auth.views import bp as auth_bp
    from .bank.views import bp as bank_bp
    from .extensions import csrf
    from .insights.views import bp as insights_bp
    from .main.views import bp as main_bp
    from .methods.views import bp as methods_bp
    from .sessions.views import bp as sessions_bp
    from .summary.views import bp as summary_bp
    from .teams.views import bp as teams_bp
    from .vote.views import bp as vote_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(bank_bp)
    app.register_blueprint(methods_bp)
    app.register_blueprint(sessions_bp)
    app.register_blueprint(vote_bp)
    app.register_blueprint(summary_bp)
    app.register_blueprint(insights_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(teams_bp, url_prefix="/teams")
    # Bearer-token calls carry no cookie, so they cannot be forged cross-site; the API checks
    # CSRF itself for calls that do ride on the login cookie (api/auth.py).
    csrf.exempt(api_bp)


def _register_cli(app: Flask) -> None:
    from .cli import register_commands

    register_commands(app)
