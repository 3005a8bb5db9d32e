"""Personal access tokens for the JSON API: create, check, revoke. Flushes, never commits."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from ..extensions import db
from ..models import AccessToken, User, utcnow

TOKEN_PREFIX = "brd_"  # noqa: S105 - a public marker, not a secret


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, name: str) -> tuple[AccessToken, str]:
    """Create a token for user; return the row and the token itself (shown only this once)."""
    name = (name or "").strip()[:100] or "API"
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = AccessToken(user_id=user.id, name=name, token_hash=_hash(token), prefix=token[:12])
    db.session.add(row)
    db.session.flush()
    return row, token


def user_for_token(token: str) -> User | None:
    """The enabled user a bearer token belongs to, or None (unknown, revoked, disabled)."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    row = db.session.scalar(select(AccessToken).where(AccessToken.token_hash == _hash(token)))
    if row is None or row.revoked_at is not None or not row.user.is_enabled:
        return None
    today = utcnow().date()
    if row.last_used_on != today:
        row.last_used_on = today  # a day, not a time: enough to spot unused tokens
        db.session.commit()
    return row.user


def tokens_of(user: User) -> list[AccessToken]:
    return list(
        db.session.scalars(
            select(AccessToken).where(AccessToken.user_id == user.id).order_by(AccessToken.created_at.desc())
        )
    )


def find_token(reference: str) -> AccessToken | None:
    """Find a token by its id, by the token itself, or by its shown prefix (if unambiguous)."""
    reference = (reference or "").strip()
    if reference.isdigit():
        return db.session.get(AccessToken, int(reference))
    if reference.startswith(TOKEN_PREFIX) and len(reference) > 12:
        return db.session.scalar(select(AccessToken).where(AccessToken.token_hash == _hash(reference)))
    matches = list(db.session.scalars(select(AccessToken).where(AccessToken.prefix == reference)))
    return matches[0] if len(matches) == 1 else None


def revoke(row: AccessToken) -> None:
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        db.session.flush()


def revoke_all(user: User) -> int:
    """Revoke every live token of user (a password reset: the account may have been taken over);
    return how many were live."""
    live = [row for row in tokens_of(user) if row.revoked_at is None]
    for row in live:
        row.revoked_at = utcnow()
    db.session.flush()
    return len(live)
