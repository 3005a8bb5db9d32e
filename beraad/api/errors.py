"""Every API error as JSON: {"error": {"code": ..., "message": ...}} with the right status."""

from __future__ import annotations

import math
import time

from flask import Response, current_app, jsonify
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from ..extensions import db, limiter

# A stable, machine-readable code per status; views raise ApiError with a more specific one.
STATUS_CODES = {
    400: "malformed",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
}


class ApiError(HTTPException):
    """An error a view raises on purpose: status, code and a message for the client's developer."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None, headers=None):
        super().__init__(description=message)
        self.code = status
        self.error_code = code
        self.field = field
        self.extra_headers = dict(headers or {})


def error_body(status: int, code: str, message: str, field: str | None = None) -> Response:
    error = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    response = jsonify(error=error)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _retry_after_seconds() -> int:
    """Seconds until the breached limit resets (at least 1)."""
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, math.ceil(current.reset_at - time.time()))


def http_error(error: HTTPException) -> Response:
    """Turn any HTTP error raised inside the API (or by its hooks) into the JSON error body."""
    db.session.rollback()
    status = error.code or 500
    if isinstance(error, ApiError):
        response = error_body(status, error.error_code, error.description, error.field)
        response.headers.update(error.extra_headers)
        return response
    code = "csrf_failed" if isinstance(error, CSRFError) else STATUS_CODES.get(status, "error")
    message = error.description or ""
    if status == 429:
        message = f"Rate limit exceeded ({message}); retry later."
    response = error_body(status, code, message)
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value  # e.g. Allow on a 405
    if status == 429 and "Retry-After" not in response.headers:
        response.headers["Retry-After"] = str(_retry_after_seconds())
    return response


def server_error(error: Exception) -> Response:
    """Any other exception: log the traceback here, give the client only a JSON 500."""
    if isinstance(error, HTTPException):
        return http_error(error)
    if isinstance(error, OperationalError):  # the database did not answer: try again shortly
        from ..main.views import database_unavailable

        return database_unavailable(error, as_json=True)
    db.session.rollback()
    current_app.logger.exception("Unhandled error in the JSON API")
    return error_body(500, "server_error", "Something went wrong on the server; it has been logged.")
