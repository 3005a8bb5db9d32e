"""Home page, privacy page, language switch, error pages."""

from flask import Blueprint, current_app, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from ..config import REPO_ROOT
from ..i18n import LANGUAGE_COOKIE
from ..render import render_markdown
from ..security import safe_next_url

bp = Blueprint("main", __name__)
ANONYMITY_DOC = REPO_ROOT / "docs" / "anonymity.md"


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("sessions.index"))
    return render_template("main/index.html")


@bp.route("/privacy")
def privacy():
    """The threat model (docs/anonymity.md): what holds against whom. Linked from the phone."""
    text = ANONYMITY_DOC.read_text(encoding="utf-8")
    _title, _, body = text.partition("\n")  # the page has its own heading
    return render_template("main/privacy.html", body=render_markdown(body))


@bp.route("/language", methods=["POST"])
def set_language():
    language = request.form.get("language", "")
    response = redirect(safe_next_url(request.form.get("next")))
    if language in current_app.config["LANGUAGES"]:
        response.set_cookie(
            LANGUAGE_COOKIE,
            language,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )
    return response


@bp.app_errorhandler(HTTPException)
def error_page(error: HTTPException):
    """Show HTTP errors as a friendly page in the site's layout."""
    if error.code is None or error.code < 400:
        return error
    response = make_response(render_template("main/error.html", error=error), error.code)
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value  # e.g. Allow on a 405
    return response
