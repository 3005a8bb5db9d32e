"""Accounts: creating users, checking passwords, changing roles. Flushes, never commits."""

from __future__ import annotations

import re
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import Role, User
from . import tokens

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
MIN_PASSWORD_LENGTH = 10
# One-time passwords: lowercase letters and digits without look-alikes (no i, l, o, 0, 1), in
# four groups of four, "k7pm-x3qa-9fhe-wn2t": 19 characters, about 79 bits, easy to read out.
ONE_TIME_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
ONE_TIME_GROUPS = 4
# Hash of a random password: checked when the user is unknown, so both paths cost the same.
_DUMMY_HASH = generate_password_hash("not-a-real-password-8c1d0e")


class AccountError(ValueError):
    """A request about an account that cannot be carried out; the message is for the user."""


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


def validate_password(password: str) -> None:
    """Raise AccountError when password is too weak to accept."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(_l("The password must be at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))


def hash_password(password: str) -> str:
    """Hash password with scrypt (werkzeug's default, salted)."""
    return generate_password_hash(password, method="scrypt")


def get_user_by_username(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == normalise_username(username)))


def create_user(
    username: str, password: str, role: Role | str = Role.FACILITATOR, display_name: str = ""
) -> User:
    """Create an enabled account; raise AccountError on a bad name, password, role or duplicate."""
    username = normalise_username(username)
    if not USERNAME_PATTERN.match(username):
        raise AccountError(
            _l("A username has 2 to 80 characters: lowercase letters, digits, dot, dash, underscore.")
        )
    role = Role(role) if role in {r.value for r in Role} else None
    if role is None:
        raise AccountError(_l("Unknown role."))
    validate_password(password)
    if get_user_by_username(username) is not None:
        raise AccountError(_l("A user named %(name)s already exists.", name=username))
    user = User(
        username=username,
        display_name=(display_name or "").strip(),
        password_hash=hash_password(password),
        role=role.value,
    )
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(username: str, password: str) -> User | None:
    """Return the enabled user with these credentials, or None."""
    user = get_user_by_username(username)
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.is_enabled:
        return None
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Change the password after checking the current one; old login cookies stop working."""
    if not check_password_hash(user.password_hash, current or ""):
        raise AccountError(_l("The current password is not correct."))
    set_password(user, new)


def set_password(user: User, new: str) -> None:
    """Set a password the user chose (or an administrator set); old login cookies stop working."""
    validate_password(new)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    invalidate_sessions(user)


def generate_one_time_password() -> str:
    return "-".join(
        "".join(secrets.choice(ONE_TIME_ALPHABET) for _ in range(4)) for _ in range(ONE_TIME_GROUPS)
    )


def set_one_time_password(user: User, acting: User) -> str:
    """Give user a random password they must change at their next sign-in; return it (shown once).

    Every login cookie of user stops working, and so does every API token (see reset_password).
    Administrators change their own password on their account page, never this way."""
    if user.id == acting.id:
        raise AccountError(_l("Change your own password on your account page."))
    password = generate_one_time_password()
    reset_password(user, password)
    user.must_change_password = True
    db.session.flush()
    return password


def reset_password(user: User, new: str) -> int:
    """A password set for the user by someone else (an administrator, an operator): usually
    because it was forgotten or may be known to someone else. Besides ending every sign-in, it
    revokes every API token, which the one who knew the password could have made. Returns how
    many tokens were revoked."""
    set_password(user, new)
    return tokens.revoke_all(user)


def invalidate_sessions(user: User) -> None:
    """Make every existing login cookie of user invalid."""
    user.session_version += 1
    db.session.flush()


def count_enabled_admins() -> int:
    return db.session.scalar(
        select(func.count()).select_from(User).where(User.role == Role.ADMIN.value, User.is_enabled.is_(True))
    )


def update_user(user: User, role: str, enabled: bool, acting: User) -> None:
    """Change a user's role and enabled flag; never leave the app without an enabled admin."""
    if role not in {r.value for r in Role}:
        raise AccountError(_l("Unknown role."))
    losing_admin = user.role == Role.ADMIN and (role != Role.ADMIN or not enabled)
    if losing_admin and user.is_enabled and count_enabled_admins() <= 1:
        raise AccountError(_l("The last enabled administrator cannot be demoted or disabled."))
    if user.id == acting.id and not enabled:
        raise AccountError(_l("You cannot disable your own account."))
    if user.is_enabled and not enabled:
        invalidate_sessions(user)
    user.role = role
    user.is_enabled = enabled
    db.session.flush()


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.username)))
