"""Who may do what: Flask-Login wiring and access decorators that read like policy."""

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_required

from ..extensions import db
from ..models import Role, User


def load_user(user_id: str) -> User | None:
    """Return the user of a login cookie, or None when its session version is stale."""
    raw_id, _, raw_version = user_id.partition(".")
    if not raw_id.isdigit() or not raw_version.isdigit():
        return None
    user = db.session.get(User, int(raw_id))
    if user is None or user.session_version != int(raw_version) or not user.is_enabled:
        return None
    return user


def load_user_from_request(request) -> User | None:
    """API clients authenticate with `Authorization: Bearer <personal access token>`."""
    from .tokens import user_for_token

    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return user_for_token(token.strip())


def init_login_manager(manager: LoginManager) -> None:
    """Configure the login manager: loader, login page, messages."""
    manager.user_loader(load_user)
    manager.request_loader(load_user_from_request)
    manager.login_view = "auth.login"
    manager.login_message = _l("Please sign in to open this page.")
    manager.login_message_category = "info"
    manager.session_protection = "strong"


def role_required(*roles: Role) -> Callable:
    """Allow the view only to signed-in users with one of roles; others get 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


admin_required = role_required(Role.ADMIN)
curator_required = role_required(Role.ADMIN, Role.COORDINATOR)
