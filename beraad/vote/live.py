"""Answer "has anything changed?" before Flask: the state poll's 304 as a WSGI layer.

Every phone (and a projector following a join code) asks `GET /j/<code>/state` every second
or two, sending the ETag it holds. When nothing changed, the answer is a bodiless 304. Built
by Flask (routing, contexts, session cookie, limiter, hooks), that 304 cost about ten times
the one indexed read it needs, and a room of phones asks hundreds of times a second.

This layer answers exactly that case — a GET whose If-None-Match still matches the session's
version — with one Core query and the same headers Flask would send. The ETag is keyed (an HMAC
of the code and the version under the app's secret key), so only a client that was sent the state
before can hold it: a 304 tells nobody that a code exists, and it is never refused, not even to
an address over its join-code guesses (a guesser on the room's network must not stop the
phones). Everything else (the first visit, a changed state, an unknown code, HEAD) goes to the
Flask view unchanged, so the view stays the one place that defines the endpoint. Nothing is
written and nothing is logged here; the state lives in the database, so any number of processes
can serve a session.

Each process remembers a session's version for STATE_CACHE_SECONDS (a quarter of a second by
default): a room of phones polling every second or two then costs a few reads a second
instead of hundreds, which matters most when the database is a server (PostgreSQL) on the
same machine. A change reaches a phone at most that much later; a changed version is never
answered 304 by the Flask view, and nothing but the version is kept.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time

from flask import Flask
from sqlalchemy.exc import OperationalError
from werkzeug.http import parse_etags

from ..extensions import db
from ..security import security_headers
from ..sessions.service import normalise_join_code, version_by_join_code

STATE_PATH = re.compile(r"/j/([^/]{1,40})/state")


def etag_for(key: str, join_code: str, version: int) -> str:
    """The state endpoint's ETag for a session version (the Flask view uses it too): unguessable
    without the app's secret key, so holding it proves the state was sent to this client."""
    digest = hmac.new(key.encode(), f"{join_code}:{version}".encode(), hashlib.sha256).hexdigest()
    return f"v{version}-{digest[:16]}"


def state_headers(etag: str) -> list[tuple[str, str]]:
    return [("ETag", f'"{etag}"'), ("Cache-Control", "no-cache")]


class StateNotModified:
    """WSGI middleware: 304 for unchanged state polls, everything else to the wrapped app."""

    MAX_REMEMBERED = 1000  # sessions; expired ones are forgotten when there are more
    clock = staticmethod(time.monotonic)

    def __init__(self, app: Flask, wsgi_app):
        self.wsgi_app = wsgi_app
        self.cache_seconds = float(app.config["STATE_CACHE_SECONDS"])
        self.key = app.config["SECRET_KEY"]
        self.versions: dict[str, tuple[float, int]] = {}  # join code -> (read at, version)
        with app.app_context():
            self.engine = db.engine

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") == "GET" and "HTTP_IF_NONE_MATCH" in environ:
            match = STATE_PATH.fullmatch(environ.get("PATH_INFO", ""))
            code = normalise_join_code(match.group(1)) if match else ""
            version = self._version(code) if code else None
            etag = etag_for(self.key, code, version) if version is not None else None
            if etag is not None and parse_etags(environ["HTTP_IF_NONE_MATCH"]).contains(etag):
                is_secure = environ.get("wsgi.url_scheme") == "https"
                start_response("304 NOT MODIFIED", state_headers(etag) + security_headers(is_secure))
                return []
        return self.wsgi_app(environ, start_response)

    def _version(self, code: str) -> int | None:
        if len(code) < 6:
            return None
        now = self.clock()
        remembered = self.versions.get(code)
        if remembered is not None and now - remembered[0] < self.cache_seconds:
            return remembered[1]
        try:
            with self.engine.connect() as connection:
                version = version_by_join_code(code, connection)
        except OperationalError:
            return None  # the database did not answer: the Flask view says so (503, Retry-After)
        if version is not None and self.cache_seconds > 0:
            if len(self.versions) >= self.MAX_REMEMBERED:
                self.versions = {c: v for c, v in self.versions.items() if now - v[0] < self.cache_seconds}
            self.versions[code] = (now, version)
        return version


def install(app: Flask) -> None:
    """Wrap the app's WSGI callable (call before ProxyFix wraps it, so REMOTE_ADDR is the client's)."""
    app.wsgi_app = StateNotModified(app, app.wsgi_app)
