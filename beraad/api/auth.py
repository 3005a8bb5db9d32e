"""Who is calling the API: a bearer token first, else the signed-in browser session.

A request that carries `Authorization: Bearer …` acts as that token's user and nobody else,
even when the browser also sends a login cookie; a bad token is a 401, never a fallback.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import current_app, g, request
from flask_limiter.util import get_remote_address
from flask_login import current_user

from ..auth.tokens import user_for_token
from ..extensions import csrf
from ..models import User
from .errors import ApiError

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class Caller:
    user: User | None
    by_token: bool  # authenticated by a bearer token (no cookie, so no CSRF risk)
    bad_token: bool  # an Authorization header was sent, but it names no valid token
    rate_key: str


def _resolve() -> Caller:
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        user = user_for_token(token) if scheme.lower() == "bearer" and token else None
        if user is None:
            return Caller(None, False, True, "api-address:" + get_remote_address())
        # Flask-Login reads the request's user from g: this request is the token's user only.
        g._login_user = user
        digest = hashlib.sha256(token.encode()).hexdigest()[:32]
        return Caller(user, True, False, "api-token:" + digest)
    if current_user.is_authenticated:
        return Caller(current_user._get_current_object(), False, False, f"api-user:{current_user.id}")
    return Caller(None, False, False, "api-address:" + get_remote_address())


def caller() -> Caller:
    """The caller of this request, resolved once (the rate limiter asks first)."""
    if "api_caller" not in g:
        g.api_caller = _resolve()
    return g.api_caller


def rate_limit_key() -> str:
    """Limit per token (per signed-in user for browser calls, per address for anonymous ones)."""
    return caller().rate_key


def rate_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


def require_caller() -> User:
    """Return the authenticated user; 401 (with a JSON body) otherwise, 403 while the user must
    choose a new password. Cookie calls need CSRF."""
    who = caller()
    if who.bad_token:
        raise ApiError(
            401, "invalid_token", "The bearer token is unknown, revoked or malformed.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )  # fmt: skip
    if who.user is None:
        raise ApiError(
            401, "unauthorized", "Authenticate with the header 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )  # fmt: skip
    if who.user.must_change_password:
        raise ApiError(
            403, "password_change_required",
            "An administrator set a one-time password for this account: sign in to the web "
            "interface and choose a new password first.",
        )  # fmt: skip
    if not who.by_token:
        _protect_cookie_request()
    return who.user


def _protect_cookie_request() -> None:
    """A browser session's cookie rides along on cross-site requests: keep CSRF on for those.

    The blueprint is exempt from CSRFProtect's own check, because bearer calls carry no cookie
    and so cannot be forged by another site; cookie calls are checked here instead.
    """
    config = current_app.config
    if request.method in SAFE_METHODS or not config["WTF_CSRF_ENABLED"]:
        return
    csrf.protect()
