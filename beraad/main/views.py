"""Home page, privacy page, health and readiness checks, language switch, error pages."""

from flask import (
    Blueprint,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from .. import health
from ..config import REPO_ROOT
from ..extensions import db, limiter, login_manager
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


@bp.route("/healthz")
@limiter.exempt
def healthz():
    """The process is up (for a load balancer's liveness check); touches nothing else."""
    return jsonify(status="ok")


@bp.route("/readyz")
@limiter.exempt
def readyz():
    """Ready for traffic: the database answers, its schema is current, the rate-limit store answers."""
    checks = health.check_database(db.engine, REPO_ROOT / "migrations")
    checks["rate_limit_storage"] = health.check_limiter(limiter.storage)
    ready = all(ok for ok, _ in checks.values())
    body = {"status": "ready" if ready else "not ready", "checks": {k: d for k, (_, d) in checks.items()}}
    response = jsonify(body)
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response


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


RETRY_AFTER_SECONDS = 5


def wants_json() -> bool:
    """A script or a phone's fetch (JSON body, or asking for JSON) rather than a page."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return request.is_json or best == "application/json" or request.path.endswith("/state")


@bp.app_errorhandler(OperationalError)
def database_unavailable(error: OperationalError, as_json: bool = False):
    """The database did not answer (down, restarting, locked too long): a 503 that says when to
    try again, never a 500. Phones and the projector keep polling and catch up by themselves.
    The page is shown as to a visitor: who is signed in cannot be looked up now."""
    try:
        db.session.rollback()
    except OperationalError:
        pass
    current_app.logger.warning("Database unavailable: %s", type(error.orig).__name__)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    if as_json or wants_json():
        body = {
            "error": {"code": "unavailable", "message": "The database is briefly unavailable; retry later."}
        }
        return jsonify(body), 503, headers
    g._login_user = login_manager.anonymous_user()  # Flask-Login asks no loader then
    page = render_template("main/error.html", error=ServiceUnavailable(), retry_after=RETRY_AFTER_SECONDS)
    return page, 503, headers
