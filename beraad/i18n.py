"""Language selection: an explicit choice (cookie) wins, then Accept-Language, then the default.
Also the organisation's time zone (BERAAD_TIMEZONE), in which the screens show days and months."""

from datetime import tzinfo

from flask import Flask, current_app, has_request_context, request
from flask_babel import format_date, format_datetime, format_decimal, get_locale

LANGUAGE_COOKIE = "beraad_lang"
LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English"}


def organisation_zone() -> tzinfo:
    """The organisation's time zone (BERAAD_TIMEZONE; UTC for a name this machine does not know)."""
    from .summary.labels import zone

    return zone(current_app.config.get("TIMEZONE"))


def select_locale() -> str:
    """Pick the interface language for the current request."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def decimal(value: float | None) -> str:
    """A figure with one decimal in the page's language ("3,4" in Dutch); "–" when there is none."""
    return "–" if value is None else format_decimal(value, format="0.0")


def init_app(app: Flask) -> None:
    """Expose the current language, the choices and the label helpers to every template."""
    from .charts import summary_chart
    from .labels import TEMPLATE_HELPERS

    app.jinja_env.globals.update(
        TEMPLATE_HELPERS,
        format_datetime=format_datetime,
        format_date=format_date,
        decimal=decimal,
        summary_chart=summary_chart,
    )

    @app.context_processor
    def _language_context() -> dict:
        return {
            "current_language": str(get_locale()),
            "language_names": LANGUAGE_NAMES,
        }
