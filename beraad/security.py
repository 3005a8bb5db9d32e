"""HTTP security headers and the session cookie policy, set in one place."""

import logging
from urllib.parse import urlsplit

from flask import Flask, Request, Response, request, url_for
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import BadRequest
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from .inputs import StorableJSONProvider, StorableMultiDict

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)


class SessionInterface(SecureCookieSessionInterface):
    """Signed cookie sessions whose cookie is Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def security_headers(is_secure: bool) -> list[tuple[str, str]]:
    """The security headers every response carries (HSTS only over HTTPS)."""
    return [*SECURITY_HEADERS, HSTS] if is_secure else list(SECURITY_HEADERS)


# Pages and downloads behind a sign-in show notes, drafts or tokens: no browser or proxy keeps them.
NO_STORE_PREFIXES = ("/sessions", "/account", "/admin", "/api/", "/bank", "/methods")


def set_security_headers(response: Response) -> Response:
    """Add the security headers to a Flask response."""
    for name, value in security_headers(request.is_secure):
        response.headers.setdefault(name, value)
    if request.path.startswith(NO_STORE_PREFIXES) and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    return response


class ParticipantRequestFilter(logging.Filter):
    """Drop access-log lines of participant routes: they would hold an address and a time."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return " /j/" not in message and '"GET /join' not in message


def quiet_participant_access_logs() -> None:
    """Keep the development server's request log free of participants (gunicorn logs none)."""
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, ParticipantRequestFilter) for f in logger.filters):
        logger.addFilter(ParticipantRequestFilter())


class SafeJsonRequest(Request):
    """The edge: JSON nested thousands deep makes the parser recurse too far, a 400, not a 500;
    query strings and form fields come out storable (beraad/inputs.py)."""

    parameter_storage_class = StorableMultiDict

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True):
        try:
            return super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            if silent:
                return None
            raise BadRequest("The JSON body is nested too deeply.") from None


class DatabaseIntegerConverter(IntegerConverter):
    """<int:…> in every route: larger than a database integer (2**31 - 1) is simply not found."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's parameter name
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Install the cookie policy and the header hook on app."""
    app.request_class = SafeJsonRequest
    app.json = StorableJSONProvider(app)
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        # Behind a reverse proxy: take the client address and scheme from its headers.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.session_interface = SessionInterface()
    quiet_participant_access_logs()
    app.after_request(set_security_headers)


def safe_next_url(target: str | None) -> str:
    """Return target if it is a path on this site (no open redirect), else the home page."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("main.index")
