"""The participant's phone: join with a code, follow the session, answer, contribute.

No account, no name. Only the random token in a cookie identifies a phone, and the
database sees only keyed hashes of it (see service.py). Once the phone joined, the cookie also
holds the proof of it, so no later request needs to look the phone up.
"""

from __future__ import annotations

import hashlib
from functools import wraps

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from werkzeug.exceptions import TooManyRequests

from ..extensions import csrf, db
from ..i18n import LANGUAGE_COOKIE
from ..main.views import wants_json
from ..models import DeliberationSession
from ..sessions import service as sessions
from ..sessions.state import phone_stage
from . import contributions, evaluation, live, ratelimits, service
from .messages import vote_error_message

bp = Blueprint("vote", __name__)


def cookie_name(join_code: str) -> str:
    # Over HTTPS the __Host- prefix pins the cookie to this host, Secure, Path=/.
    return f"__Host-bp-{join_code}" if request.is_secure else f"bp-{join_code}"


def membership_for_code(join_code: str) -> service.Membership | None:
    return service.Membership.from_cookie(request.cookies.get(cookie_name(join_code)))


def _check_token_limit(limit, member: service.Membership | None) -> None:
    """Participant posts count per participant token, never per address (NAT). Without a
    token the request is refused anyway; it counts per address so that one cookieless sender
    cannot use up a bucket shared with others. The limiter's storage (Redis in production)
    gets a hash of the token, never the token: with the token and the session secret one could
    compute every voter key of that phone."""
    if member:
        key = "token:" + hashlib.sha256(member.token.encode()).hexdigest()[:32]
    else:
        key = f"address:{request.remote_addr}"
    ratelimits.check_token_limit(limit, key, request.endpoint)


def csrf_unless_json(view):
    """Check the CSRF token of form posts; JSON posts (API clients) need none.

    A cross-site page can only send what an HTML form can (urlencoded, multipart, text/plain)
    without a CORS preflight, and beraad enables no CORS, so no other site can make a browser
    send `Content-Type: application/json` here. Only that exact type skips the check; anything
    else, the phone's own forms included, still needs the token. (The participant cookie is
    SameSite=Lax as well, so a cross-site post would not carry it anyway.)
    """

    @wraps(view)
    def checked(*args, **kwargs):
        config = current_app.config
        if (
            request.mimetype != "application/json"
            and config["WTF_CSRF_ENABLED"]
            and config.get("WTF_CSRF_CHECK_DEFAULT", True)
        ):
            csrf.protect()
        return view(*args, **kwargs)

    return csrf.exempt(checked)  # CSRFProtect's own check would refuse the JSON posts


def _phone_language(session: DeliberationSession) -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    return chosen if chosen in current_app.config["LANGUAGES"] else session.language


def gate(join_code: str) -> tuple[DeliberationSession, service.Membership | None]:
    """The one door of every route that looks up a join code: the session and the phone's
    membership. A code that does not exist counts as a guess against the address and is answered
    the same way on every route (404: JSON for scripts and phones' fetches, the 'cannot find this
    code' page for browsers). An address over its guesses is refused (429), on every route alike,
    except for a phone that joined this session: a guesser on its network never locks it out."""
    session = sessions.get_by_join_code(join_code)
    member = membership_for_code(session.join_code if session else join_code)
    if session is not None and member is not None and member.joined(session.secret):
        return session, member
    address = request.remote_addr
    if ratelimits.over_guess_limit(address):
        abort(_too_many_guesses(address))
    if session is None:
        ratelimits.count_failed_guess(address)
        abort(_unknown_code(join_code))
    return session, member


def _unknown_code(join_code: str):
    if wants_json():
        return make_response(jsonify(error={"code": "not_found", "message": "unknown code"}), 404)
    return make_response(render_template("vote/unknown.html", code=join_code[:16]), 404)


def _too_many_guesses(address: str | None):
    retry_after = ratelimits.guess_retry_after(address)
    if wants_json():
        body = {"code": "rate_limited", "message": "Too many unknown codes from this network; retry later."}
        response = make_response(jsonify(error=body), 429)
    else:
        error = TooManyRequests()
        response = make_response(render_template("main/error.html", error=error), 429)
    response.headers["Retry-After"] = str(retry_after)
    return response


def _render(session: DeliberationSession, template: str, status: int = 200, **context):
    with force_locale(_phone_language(session)):
        body = render_template(template, session=session, **context)
    return make_response(body, status)


def _set_token_cookie(response, session: DeliberationSession, member: service.Membership) -> None:
    response.set_cookie(
        cookie_name(session.join_code),
        member.cookie(),
        max_age=24 * 3600,
        path="/" if request.is_secure else f"/j/{session.join_code}",
        secure=request.is_secure,
        httponly=True,
        samesite="Lax",
    )


def _refused(session: DeliberationSession, error: service.VoteError):
    """Answer a refused participant request: JSON for clients, a plain page for phones."""
    db.session.rollback()
    with force_locale(_phone_language(session)):
        message = vote_error_message(error.message)
    if request.is_json:
        response = make_response(jsonify(error={"code": error.message, "message": message}), error.code)
    else:
        response = _render(session, "vote/problem.html", error.code, message=message)
    if error.retry_after:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _phone_context(session: DeliberationSession, member: service.Membership | None) -> dict:
    """What the phone shows now: the current step, the open poll, the evaluation when open.

    One request reads the phone's own answers of one vote only: the open poll's, or else the
    evaluation's. Reading both would show a statement log that they belong to one person.
    """
    stage = phone_stage(session)
    is_open = stage["poll_is_open"]
    joined = member is not None and member.joined(session.secret)
    evaluating = joined and session.evaluation_open and not is_open
    return {
        "stage": stage,
        "joined": joined,
        "answer": service.my_answer(session, stage["poll_id"], member) if (joined and is_open) else None,
        "poll_is_open": is_open,
        "evaluation_items": evaluation.items(session) if session.evaluation_open else (),
        "evaluation_answers": evaluation.my_answers(session, member) if evaluating else {},
    }


def _phone_page(session: DeliberationSession, member: service.Membership | None, status: int = 200, **extra):
    """The participant's whole page."""
    return _render(session, "vote/phone.html", status, **{**_phone_context(session, member), **extra})


@bp.route("/join")
def find():
    """The code box on the start page (GET, so it works without JavaScript)."""
    code = sessions.normalise_join_code(request.args.get("code", ""))
    if not code:
        return redirect(url_for("main.index"))
    return redirect(url_for("vote.join", join_code=code))


@bp.route("/j/<join_code>")
def join(join_code: str):
    session, member = gate(join_code)
    if session.join_code != join_code:
        return redirect(url_for("vote.join", join_code=session.join_code))
    if session.is_closed:
        return _render(session, "vote/closed.html", 410)
    fresh = member is None
    member = member or service.Membership(service.new_token())
    response = _phone_page(session, member)
    if fresh:
        _set_token_cookie(response, session, member)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/j/<join_code>/stage")
def stage(join_code: str):
    """The live part of the phone page, for phone.js to swap in place when the room moves on."""
    session, member = gate(join_code)
    if session.is_closed:
        return _render(session, "vote/_closed_stage.html", 410)
    if member is None or not member.joined(session.secret):
        abort(403)
    response = _render(session, "vote/_stage.html", **_phone_context(session, member))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/j/<join_code>/join", methods=["POST"])
@csrf_unless_json
def register(join_code: str):
    session, member = gate(join_code)
    try:
        service.begin_write()
        member = service.join(session, member.token if member else service.new_token())
        db.session.commit()
    except service.VoteError:
        db.session.rollback()
        return _render(session, "vote/closed.html", 410)
    if request.is_json:
        response = jsonify(joined=True)
    else:
        response = redirect(url_for("vote.join", join_code=session.join_code))
    _set_token_cookie(response, session, member)
    return response


@bp.route("/j/<join_code>/state")
def state(join_code: str):
    """What the phone shows now; 304 when nothing changed.

    Most 304s never get here: live.StateNotModified answers them before Flask with one read
    of the version. This view answers the rest (first visits, changes, a HEAD request).
    """
    session, _ = gate(join_code)
    etag = live.etag_for(current_app.config["SECRET_KEY"], session.join_code, session.version)
    headers = live.state_headers(etag)
    if request.if_none_match.contains(etag):
        return "", 304, headers
    context = phone_stage(session)
    with force_locale(_phone_language(session)):
        payload = {
            "version": session.version,
            "status": session.status,
            "step": {"position": context["position"], "count": context["count"], "title": context["title"]},
            "poll": _public_poll(context["poll_view"]),
        }
    return jsonify(payload), 200, headers


def _public_poll(view: dict | None) -> dict | None:
    if view is None:
        return None
    return {key: view[key] for key in ("id", "type", "status", "question", "options", "scale", "max_length")}


def _answer_body() -> dict:
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise service.VoteError(400, "malformed")
        return body
    form = request.form
    ranking = form.getlist("ranking")
    return {
        "choice": form.get("choice"),
        "value": form.get("value"),
        "ranking": ranking if len(ranking) > 1 else (ranking[0] if ranking else None),
        "text": form.get("text"),
    }


@bp.route("/j/<join_code>/polls/<poll_id>", methods=["POST"])
@csrf_unless_json
def answer(join_code: str, poll_id: str):
    # The busiest write of a session (everyone answers within seconds): two Core statements on
    # a connection of its own, no ORM objects. The session's ORM object is loaded only for a
    # phone without JavaScript (its page) and for a refusal (404 for an unknown code).
    code = sessions.normalise_join_code(join_code)
    member, body = None, {}
    try:
        member = membership_for_code(code)
        _check_token_limit(ratelimits.ANSWER_LIMIT, member)
        if member is None:
            raise service.VoteError(403, "not_joined")
        body = _answer_body()
        outcome = service.store_answer(code, poll_id, member, body)
    except service.VoteError as error:
        session, _ = gate(code)
        if request.is_json or error.code != 422 or member is None:
            return _refused(session, error)
        # A phone without JavaScript: the same page again, with what was chosen and why it failed.
        db.session.rollback()
        with force_locale(_phone_language(session)):
            message = vote_error_message(error.message)
        draft = {**body, "ranking": body.get("ranking") if isinstance(body.get("ranking"), list) else []}
        return _phone_page(session, member, status=422, answer_draft=draft, answer_error=message)
    if request.is_json:
        return jsonify(status=outcome), 201 if outcome == "created" else 200
    # The page shows the saved answer in the form itself (role="status"), in view at #poll.
    return redirect(url_for("vote.join", join_code=code) + "#poll")


@bp.route("/j/<join_code>/contributions", methods=["POST"])
@csrf_unless_json
def contribute(join_code: str):
    """An anonymous contribution; a text that seems to name someone asks for a second look."""
    session, member = gate(join_code)
    payload = request.get_json(silent=True) if request.is_json else request.form
    if not isinstance(payload, dict) and not hasattr(payload, "get"):
        payload = {}
    text = payload.get("text") or ""
    confirmed = str(payload.get("confirm", "")).lower() in ("1", "true", "yes")
    try:
        _check_token_limit(ratelimits.CONTRIBUTION_LIMIT, member)
        if not isinstance(text, str):
            raise service.VoteError(422, "malformed")
        if session.is_closed:
            raise service.VoteError(410, "closed")
        if member is None or not member.joined(session.secret):
            raise service.VoteError(403, "not_joined")
        reasons = contributions.personal_data_reasons(contributions.normalise(text))
        if reasons and not confirmed:
            raise service.VoteError(422, "personal_data")
        service.begin_write()
        contributions.submit(session, text)
        db.session.commit()
    except service.VoteError as error:
        if request.is_json or error.message not in ("personal_data", "too_long", "empty"):
            return _refused(session, error)
        # Show the phone page again with the text kept, so nothing typed is lost.
        db.session.rollback()
        with force_locale(_phone_language(session)):
            message = vote_error_message(error.message)
        return _phone_page(
            session, member, status=422, contribution_text=text[:2000],
            contribution_warning=message, needs_confirm=error.message == "personal_data",
        )  # fmt: skip
    if request.is_json:
        return jsonify(status="received"), 201
    with force_locale(_phone_language(session)):
        thanks = _("Thank you. The facilitator decides when contributions appear on the screen.")
        flash(thanks, "contribution")  # shown inside the contribution form, where the phone is looking
    return redirect(url_for("vote.join", join_code=session.join_code) + "#contribute")


@bp.route("/j/<join_code>/evaluation", methods=["POST"])
@csrf_unless_json
def evaluate(join_code: str):
    """The end-of-session evaluation: every item optional, changeable until the session closes."""
    session, member = gate(join_code)
    payload = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    try:
        _check_token_limit(ratelimits.EVALUATION_LIMIT, member)
        if not isinstance(payload, dict):
            raise service.VoteError(400, "malformed")
        if session.is_closed:
            raise service.VoteError(410, "closed")
        if member is None:
            raise service.VoteError(403, "not_joined")
        service.begin_write()
        evaluation.submit(session, member, payload)
        db.session.commit()
    except service.VoteError as error:
        return _refused(session, error)
    if request.is_json:
        return jsonify(status="received"), 201
    with force_locale(_phone_language(session)):
        flash(_("Thank you for your evaluation."), "success")
    return redirect(url_for("vote.join", join_code=session.join_code) + "#evaluation")
