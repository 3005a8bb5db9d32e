"""Sign in and out, change password, manage users (admins)."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.exceptions import TooManyRequests

from ..extensions import db, limiter
from ..models import User
from ..security import safe_next_url
from . import service, throttle, tokens
from .access import admin_required
from .forms import LoginForm, NewUserForm, PasswordForm, UserUpdateForm

bp = Blueprint("auth", __name__)

# While a user must choose a new password, these are the only endpoints they can reach.
OPEN_WHILE_CHANGING_PASSWORD = {"auth.account", "auth.logout", "main.set_language", "static"}


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.before_app_request
def require_new_password():
    """A user who signed in with a one-time password chooses their own before anything else.

    Phones (the vote blueprint) have no account; the API refuses such a user itself, as JSON."""
    if request.endpoint in OPEN_WHILE_CHANGING_PASSWORD or request.blueprint == "vote":
        return None
    if request.path.startswith("/api/"):
        return None
    if current_user.is_authenticated and current_user.must_change_password:
        return redirect(url_for("auth.account"))
    return None


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next_url(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        wait = throttle.wait_seconds(form.username.data)
        if wait:  # refused before the password is looked at: the right one waits too
            raise TooManyRequests(retry_after=wait)
        user = service.authenticate(form.username.data, form.password.data)
        if user is None:
            throttle.count_failure(form.username.data)
            flash(_("Unknown username or wrong password."), "error")
        else:
            # A fresh session at login: nothing from before sign-in carries over.
            session.clear()
            login_user(user)
            if user.must_change_password:
                return redirect(url_for("auth.account"))
            return redirect(safe_next_url(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    service.invalidate_sessions(current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            service.change_password(current_user, form.current.data, form.new.data)
        except service.AccountError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            session.clear()
            login_user(current_user)  # the cookie now carries the new session version
            flash(_("Your password is changed. Other devices are signed out."), "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form, tokens=tokens.tokens_of(current_user))


@bp.route("/account/tokens", methods=["POST"])
@login_required
def create_token():
    name = request.form.get("name", "")
    row, token = tokens.create_token(current_user, name)
    db.session.commit()
    flash(_("Token created. Copy it now: it is shown only this once."), "success")
    return render_template("auth/account.html", form=PasswordForm(formdata=None), new_token=token,
                           tokens=tokens.tokens_of(current_user))  # fmt: skip


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    row = next((t for t in tokens.tokens_of(current_user) if t.id == token_id), None) or abort(404)
    tokens.revoke(row)
    db.session.commit()
    flash(_("Token revoked. It no longer works."), "success")
    return redirect(url_for("auth.account") + "#tokens")


@bp.route("/admin/users", methods=["GET", "POST"])
@admin_required
def users():
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = service.create_user(
                form.username.data, form.password.data, form.role.data, form.display_name.data
            )
        except service.AccountError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Account %(name)s created.", name=user.username), "success")
            return redirect(url_for("auth.users"))
    return _users_page(form)


def _users_page(form: NewUserForm, one_time: tuple[User, str] | None = None) -> str:
    rows = [
        (user, UserUpdateForm(prefix=f"u{user.id}", role=user.role, enabled=user.is_enabled))
        for user in service.list_users()
    ]
    return render_template("auth/users.html", form=form, rows=rows, one_time=one_time)


@bp.route("/admin/users/<int:user_id>/one-time-password", methods=["POST"])
@admin_required
def set_one_time_password(user_id: int):
    """Give a user a random password that they must change at sign-in; it is shown only in this
    response (never flashed: that would put it in the admin's cookie)."""
    user = db.session.get(User, user_id) or abort(404)
    try:
        password = service.set_one_time_password(user, acting=current_user)
    except service.AccountError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("auth.users"))
    db.session.commit()
    throttle.clear(user.username)
    flash(
        _(
            "%(name)s is signed out everywhere, their API tokens are revoked, and they must choose a "
            "new password at sign-in.",
            name=user.username,
        ),
        "success",
    )
    return _users_page(NewUserForm(formdata=None), one_time=(user, password))


@bp.route("/admin/users/<int:user_id>/sign-in-wait", methods=["POST"])
@admin_required
def clear_sign_in_wait(user_id: int):
    """After too many failed sign-ins an account waits; an administrator can lift that."""
    user = db.session.get(User, user_id) or abort(404)
    throttle.clear(user.username)
    flash(_("%(name)s can sign in again at once.", name=user.username), "success")
    return redirect(url_for("auth.users"))


@bp.route("/admin/users/<int:user_id>", methods=["POST"])
@admin_required
def update_user(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = UserUpdateForm(prefix=f"u{user.id}")
    if not form.validate_on_submit():
        flash(_("The change could not be saved; please try again."), "error")
        return redirect(url_for("auth.users"))
    try:
        service.update_user(user, form.role.data, form.enabled.data, acting=current_user)
    except service.AccountError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Account %(name)s updated.", name=user.username), "success")
    return redirect(url_for("auth.users"))
