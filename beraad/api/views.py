"""The JSON API blueprint: parse JSON → call the same logic as the web UI → serialise.

Permission rules mirror the HTML views: dilemma bank (bank/views.py), running a session
(sessions/views.py: owner or admin), summaries and results (summary/views.py: owner, coordinators,
admins). Errors are JSON (errors.py), including 404/405 for URLs under /api/ that match no route.
Teams, their series, the Terugblik's follow-up and the insights are in teams.py, on this blueprint.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import yaml
from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask_babel import force_locale
from flask_login import current_user
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from ..bank import search
from ..bank import service as bank
from ..bank.loader import LEVELS, SLUG_PATTERN, STATUSES, DilemmaFileError, dump_dilemma, parse_dilemma
from ..extensions import db, limiter
from ..methods import service as methods
from ..methods.loader import KEY_PATTERN
from ..models import (
    Contribution,
    ContributionStatus,
    DeliberationSession,
    Dilemma,
    DilemmaStatus,
    Poll,
    Team,
)
from ..render import render_markdown
from ..sessions import service as sessions
from ..sessions.forms import MAX_DILEMMAS
from ..sessions.state import projector_state
from ..summary import retention
from ..summary import views as summary_views
from ..summary.build import build_summary
from ..summary.exports import to_csv, to_markdown
from ..teams import service as teams
from ..vote import contributions, evaluation
from . import auth, serialise, spec
from .body import json_body, query_integer, query_list
from .errors import ApiError, http_error, server_error

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.register_error_handler(HTTPException, http_error)
bp.register_error_handler(Exception, server_error)
# One budget per token (API_RATE_LIMIT, "300 per minute" by default), shared by every API route
# (one scope), so spreading calls over the routes does not multiply it.
limiter.shared_limit(auth.rate_limit, scope="api", key_func=auth.rate_limit_key)(bp)

PUBLIC_ENDPOINTS = {"api.openapi", "api.docs"}
MAX_ID = 2**31 - 1  # larger ids cannot exist, and some databases refuse to compare with them
CONTRIBUTION_ID = re.compile(r"[0-9a-f]{32}")
FILTER_VALUE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_PER_PAGE = 100


@bp.before_app_request
def json_routing_errors():
    """URLs under /api/ that match no route (404) or not this method (405) get JSON, not a page."""
    error = request.routing_exception
    if error is None or isinstance(error, RequestRedirect) or not request.path.startswith("/api/"):
        return None
    return http_error(error)


@bp.before_request
def authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS or request.method == "OPTIONS":
        return
    auth.require_caller()


# --- helpers -------------------------------------------------------------------------------------


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"No {what} with this id.")


def require_curator() -> None:
    if not current_user.can_curate:
        raise ApiError(403, "forbidden", "Only coordinators and administrators can change dilemmas.")


def visible_statuses() -> list[str] | None:
    """Facilitators see published dilemmas only; curators see every status (as in the bank)."""
    return None if current_user.can_curate else [DilemmaStatus.PUBLISHED.value]


def get_dilemma_or_404(slug: str) -> Dilemma:
    dilemma = bank.get_by_slug(slug) if SLUG_PATTERN.fullmatch(slug) and len(slug) <= 100 else None
    statuses = visible_statuses()
    if dilemma is None or (statuses is not None and dilemma.status not in statuses):
        raise ApiError(404, "not_found", "No dilemma with this id.")
    return dilemma


def get_session_or_404(session_id: int) -> DeliberationSession:
    session = db.session.get(DeliberationSession, session_id) if session_id <= MAX_ID else None
    if session is None:
        raise not_found("session")
    return session


def get_controlled_session(session_id: int) -> DeliberationSession:
    """The session, if the caller may run it (owner or admin); else 403."""
    session = get_session_or_404(session_id)
    if not sessions.can_control(current_user, session):
        raise ApiError(
            403, "forbidden", "Only the facilitator who owns this session, or an admin, can run it."
        )
    return session


def get_readable_session(session_id: int) -> DeliberationSession:
    """The session, if the caller may read its results and summary; else 403."""
    session = get_session_or_404(session_id)
    if not summary_views.can_read_summary(current_user, session):
        raise ApiError(
            403, "forbidden", "Only the session's facilitator, coordinators and admins can read this."
        )
    return session


def get_poll_or_404(session: DeliberationSession, poll_id: str) -> Poll:
    poll = sessions.get_poll(session, poll_id)
    if poll is None:
        raise not_found("poll")
    return poll


def change(action: Callable[[], object], *, invalid: bool = False):
    """Run a state change and commit; a refused one is 409 (wrong state) or 422 (invalid input).

    A team's name or level that the teams service refuses is always 422, with the field it names."""
    try:
        result = action()
    except sessions.SessionClosedError as error:
        raise ApiError(409, "session_closed", str(error)) from None
    except sessions.SessionError as error:
        if invalid:
            raise ApiError(422, "invalid", str(error)) from None
        raise ApiError(409, "wrong_state", str(error)) from None
    except teams.TeamError as error:
        with force_locale("en"):  # the service's message is translated for the web UI
            raise ApiError(422, "invalid", str(error), field=error.field) from None
    db.session.commit()
    return result


def session_response(session: DeliberationSession, status: int = 200) -> tuple[Response, int]:
    return jsonify({**serialise.session_detail(session, current_user), **archived(session)}), status


def archived(session: DeliberationSession) -> dict:
    """Whether the session is off the default list (in Session and SessionSummary)."""
    return {"archived": session.archived_at is not None}


# --- meta ----------------------------------------------------------------------------------------


@bp.route("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description, from the one file beraad/api/openapi.yaml."""
    return Response(json.dumps(spec.load(), ensure_ascii=False), mimetype="application/json")


@bp.route("/docs")
def docs():
    document = spec.load()
    return render_template(
        "api/docs.html",
        info=document["info"],
        groups=spec.operations_by_tag(document),
        schemas=spec.schema_summaries(document),
        markdown=render_markdown,  # descriptions are CommonMark in OpenAPI; sanitised like all Markdown
    )


@bp.route("/me")
def me():
    return jsonify(serialise.user(current_user))


# --- dilemma bank --------------------------------------------------------------------------------

DILEMMA_FIELDS = (
    "title", "body", "language", "themes", "levels", "roles", "options", "sources", "protagonist", "short",
)  # fmt: skip


def _dilemma_data(fields: dict, slug, status: str):
    """Validate a dilemma with the file loader, as the editor does (bank/forms.py to_data)."""
    body = fields.get("body")
    if not isinstance(body, str):
        raise ApiError(422, "invalid", "'body' must be text (the case, in Markdown)", field="body")
    meta = {"id": slug, "status": status, **{key: fields.get(key) for key in DILEMMA_FIELDS if key != "body"}}
    meta = {key: value for key, value in meta.items() if value is not None}
    max_bytes = current_app.config["MAX_DILEMMA_BYTES"]
    text = f"---\n{yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)}---\n{body}\n"
    if len(text.encode("utf-8")) > max_bytes:
        raise ApiError(413, "too_large", f"A dilemma is at most {max_bytes} bytes.")
    try:
        data = parse_dilemma(text, "api", max_bytes)
        # Round-trip through the file format so the stored data equals what an export writes.
        return parse_dilemma(dump_dilemma(data), "api", max_bytes)
    except DilemmaFileError as error:
        with force_locale("en"):  # the API speaks English to developers, whatever the browser asks
            raise ApiError(422, "invalid", str(error.message)) from None


@bp.route("/dilemmas")
def list_dilemmas():
    statuses = visible_statuses()
    chosen = query_list("status", re.compile("|".join(STATUSES)))
    if statuses is None and chosen:
        statuses = chosen
    page = search.search_dilemmas(
        request.args.get("q", "")[:200],
        statuses=statuses,
        themes=query_list("theme", FILTER_VALUE),
        levels=query_list("level", re.compile("|".join(LEVELS))),
        roles=query_list("role", FILTER_VALUE),
        page=query_integer("page", 1, 1, 100_000),
        per_page=query_integer("per_page", current_app.config["BANK_PAGE_SIZE"], 1, MAX_PER_PAGE),
    )
    return jsonify(serialise.search_page(page))


@bp.route("/dilemmas", methods=["POST"])
def create_dilemma():
    require_curator()
    body = json_body(("id", *DILEMMA_FIELDS))
    slug = body.text("id", required=True, max_length=100)
    data = _dilemma_data(body.data, slug, DilemmaStatus.DRAFT.value)
    if bank.get_by_slug(data.id) is not None:
        raise ApiError(409, "duplicate", f"A dilemma with id {data.id!r} already exists.", field="id")
    dilemma = bank.create_dilemma(data, current_user)
    db.session.commit()
    return jsonify(serialise.dilemma(dilemma, bank.allowed_transitions(dilemma))), 201


@bp.route("/dilemmas/<slug>")
def get_dilemma(slug: str):
    dilemma = get_dilemma_or_404(slug)
    transitions = bank.allowed_transitions(dilemma) if current_user.can_curate else ()
    return jsonify(serialise.dilemma(dilemma, transitions))


@bp.route("/dilemmas/<slug>", methods=["PATCH"])
def update_dilemma(slug: str):
    require_curator()
    dilemma = get_dilemma_or_404(slug)
    body = json_body((*DILEMMA_FIELDS, "note"))
    note = body.text("note", max_length=300, default="")
    fields = {**bank.dilemma_data(dilemma).to_dict(), **{k: v for k, v in body.data.items() if k != "note"}}
    data = _dilemma_data(fields, dilemma.slug, dilemma.status)
    try:
        bank.update_dilemma(dilemma, data, current_user, note)
    except bank.QualityError as error:  # a published case stays ready to publish
        raise ApiError(422, "invalid", str(error)) from None
    db.session.commit()
    return jsonify(serialise.dilemma(dilemma, bank.allowed_transitions(dilemma)))


@bp.route("/dilemmas/<slug>/transitions", methods=["POST"])
def transition_dilemma(slug: str):
    require_curator()
    dilemma = get_dilemma_or_404(slug)
    body = json_body(("status", "note"))
    status = body.choice("status", STATUSES, required=True)
    note = body.text("note", max_length=300, default="")
    try:
        bank.transition(dilemma, status, current_user, note, current_app.config["BERAAD_FOUR_EYES"])
    except bank.WorkflowError as error:
        raise ApiError(409, "wrong_state", str(error)) from None
    db.session.commit()
    return jsonify(serialise.dilemma(dilemma, bank.allowed_transitions(dilemma)))


# --- methods -------------------------------------------------------------------------------------


@bp.route("/methods")
def list_methods():
    return jsonify([serialise.method_summary(method) for method in methods.list_methods()])


@bp.route("/methods/<key>")
def get_method(key: str):
    method = methods.get_method(key) if KEY_PATTERN.fullmatch(key) and len(key) <= 60 else None
    if method is None:
        raise ApiError(404, "not_found", "No method with this key.")
    return jsonify(serialise.method(method))


# --- sessions: create, read ----------------------------------------------------------------------


@bp.route("/sessions")
def list_sessions():
    """Sessions not archived; with ?archived=true only the archived ones."""
    raw = request.args.get("archived", "false")
    if raw not in ("true", "false"):
        raise ApiError(422, "invalid", "'archived' must be true or false", field="archived")
    listed = sessions.sessions_for(current_user, sessions.archived_filter(raw == "true"))
    return jsonify([{**serialise.session_summary(s, current_user), **archived(s)} for s in listed])


def usable_team(body) -> Team | None:
    """The body's team_id as a team the caller may plan sessions for (as the new-session form:
    a team they manage, their own; administrators any), None when left out or null; else 422."""
    if body.raw("team_id") is None:
        return None
    team_id = body.integer("team_id", minimum=1, maximum=MAX_ID)
    team = db.session.get(Team, team_id)
    if team is None or not teams.can_manage_team(current_user, team):
        message = "'team_id' must be the id of one of your own teams (administrators: any team)"
        raise ApiError(422, "invalid", message, field="team_id")
    return team


@bp.route("/sessions", methods=["POST"])
def create_session():
    body = json_body(
        ("method", "dilemmas", "title", "language", "k", "facilitator_name", "team_id", "scheduled_for")
    )
    method_key = body.text("method", required=True, max_length=60)
    slugs = body.texts("dilemmas", max_items=MAX_DILEMMAS, max_length=100) or []
    title = body.text("title", max_length=200, default="")
    language = body.choice("language", ("nl", "en"), default=current_app.config["BABEL_DEFAULT_LOCALE"])
    k = body.integer("k", minimum=2, maximum=50, default=current_app.config["BERAAD_K"])
    facilitator_name = body.text("facilitator_name", max_length=120, default=current_user.display_name)
    scheduled_for = body.date("scheduled_for")
    method = methods.get_method(method_key) if KEY_PATTERN.fullmatch(method_key) else None
    if method is None:
        raise ApiError(422, "invalid", f"Unknown method {method_key!r}.", field="method")
    team = usable_team(body)
    chosen = [bank.get_by_slug(slug) if SLUG_PATTERN.fullmatch(slug) else None for slug in slugs]
    if method.dilemmas[1] == 0:
        if chosen:
            message = "This method uses no dilemma: leave 'dilemmas' out."
            raise ApiError(422, "invalid", message, field="dilemmas")
    elif not chosen or any(d is None or d.status != DilemmaStatus.PUBLISHED for d in chosen):
        raise ApiError(422, "invalid", "Choose one or more published dilemmas (by id).", field="dilemmas")

    def create() -> DeliberationSession:
        made = sessions.create_session(
            current_user, method, chosen, title, language, k, facilitator_name, team=team
        )
        made.scheduled_for = scheduled_for  # as the new-session form: the day it is planned for
        return made

    session = change(create, invalid=True)
    return session_response(session, 201)


@bp.route("/sessions/<int:session_id>")
def get_session(session_id: int):
    return session_response(get_controlled_session(session_id))


@bp.route("/sessions/<int:session_id>", methods=["DELETE"])
def delete_session(session_id: int):
    """Delete a session that is not running with all its raw data (owner or admin)."""
    session = get_controlled_session(session_id)
    change(lambda: sessions.delete_session(session))  # commits, then empties SQLite's WAL
    return "", 204


@bp.route("/sessions/<int:session_id>/archive", methods=["POST"])
def archive_session(session_id: int):
    session = get_controlled_session(session_id)
    change(lambda: sessions.archive_session(session))
    return session_response(session)


@bp.route("/sessions/<int:session_id>/unarchive", methods=["POST"])
def unarchive_session(session_id: int):
    session = get_controlled_session(session_id)
    change(lambda: sessions.unarchive_session(session))
    return session_response(session)


@bp.route("/sessions/<int:session_id>/state")
def session_state(session_id: int):
    return jsonify(projector_state(get_controlled_session(session_id)))


@bp.route("/sessions/<int:session_id>/results")
def session_results(session_id: int):
    return jsonify(serialise.session_results(get_readable_session(session_id)))


# --- sessions: run -------------------------------------------------------------------------------


@bp.route("/sessions/<int:session_id>", methods=["PATCH"])
def update_session(session_id: int):
    """Projector and evaluation switches and the case presenter's consent."""
    session = get_controlled_session(session_id)
    body = json_body(("show_contributions", "evaluation_open", "case_consent", "case_redacted"))
    show = body.boolean("show_contributions")
    evaluation_open = body.boolean("evaluation_open")
    consent = body.choice("case_consent", sessions.CASE_CONSENT_CHOICES)
    redacted = body.text("case_redacted", max_length=sessions.MAX_REDACTED_CHARS, default="")
    if consent is None and "case_redacted" in body:
        raise ApiError(422, "invalid", "'case_redacted' goes with 'case_consent'.", field="case_redacted")

    def apply() -> None:
        if show is not None:
            sessions.set_show_contributions(session, show)
        if evaluation_open is not None:
            evaluation.set_open(session, evaluation_open)
        if consent is not None:
            sessions.set_case_consent(session, consent, redacted)

    # All or nothing; only the consent can be refused as invalid (a redacted text is needed).
    change(apply, invalid=True)
    return session_response(session)


@bp.route("/sessions/<int:session_id>/start", methods=["POST"])
def start_session(session_id: int):
    session = get_controlled_session(session_id)
    change(lambda: sessions.start_session(session))
    return session_response(session)


@bp.route("/sessions/<int:session_id>/close", methods=["POST"])
def close_session(session_id: int):
    session = get_controlled_session(session_id)
    change(lambda: sessions.close_session(session))
    retention.empty_wal_after_close()
    return session_response(session)


@bp.route("/sessions/<int:session_id>/step", methods=["POST"])
def go_to_step(session_id: int):
    session = get_controlled_session(session_id)
    body = json_body(("position", "direction"))
    position = body.integer("position", minimum=0, maximum=len(session.steps) - 1)
    direction = body.choice("direction", ("next", "previous"))
    if (position is None) == (direction is None):
        raise ApiError(422, "invalid", "Give either 'position' or 'direction'.")
    if position is not None:
        change(lambda: sessions.go_to_step(session, position))
    else:
        change(lambda: sessions.move(session, 1 if direction == "next" else -1))
    return session_response(session)


@bp.route("/sessions/<int:session_id>/timer", methods=["POST"])
def control_timer(session_id: int):
    session = get_controlled_session(session_id)
    body = json_body(("action", "minutes"))
    action = body.choice("action", ("start", "pause", "add"), required=True)
    minutes = body.integer("minutes", minimum=1, maximum=60, required=action == "add", default=0)
    change(lambda: sessions.control_timer(session, action, minutes))
    return session_response(session)


@bp.route("/sessions/<int:session_id>/steps/<int:position>/notes", methods=["PUT"])
def save_notes(session_id: int, position: int):
    session = get_controlled_session(session_id)
    if position >= len(session.steps):
        raise ApiError(404, "not_found", "No step at this position.")
    body = json_body(("notes",))
    notes = body.raw("notes")
    if not isinstance(notes, str):
        raise ApiError(422, "invalid", "'notes' must be text", field="notes")
    if len(notes) > sessions.MAX_NOTES_CHARS:
        raise ApiError(413, "too_large", f"Notes are at most {sessions.MAX_NOTES_CHARS} characters.")
    change(lambda: sessions.save_notes(session, position, notes))
    return jsonify(serialise.step(session, session.steps[position]))


@bp.route("/sessions/<int:session_id>/polls/<poll_id>/open", methods=["POST"])
def open_poll(session_id: int, poll_id: str):
    session = get_controlled_session(session_id)
    poll = get_poll_or_404(session, poll_id)
    change(lambda: sessions.open_poll(session, poll))
    return jsonify(serialise.poll(session, poll))


@bp.route("/sessions/<int:session_id>/polls/<poll_id>/close", methods=["POST"])
def close_poll(session_id: int, poll_id: str):
    session = get_controlled_session(session_id)
    poll = get_poll_or_404(session, poll_id)
    change(lambda: sessions.close_poll(session, poll))
    return jsonify(serialise.poll(session, poll))


@bp.route("/sessions/<int:session_id>/polls/<poll_id>/reveal", methods=["POST"])
def reveal_poll(session_id: int, poll_id: str):
    session = get_controlled_session(session_id)
    poll = get_poll_or_404(session, poll_id)
    change(lambda: sessions.set_revealed(session, poll, True))
    return jsonify(serialise.poll(session, poll))


@bp.route("/sessions/<int:session_id>/polls/<poll_id>/hide", methods=["POST"])
def hide_poll(session_id: int, poll_id: str):
    session = get_controlled_session(session_id)
    poll = get_poll_or_404(session, poll_id)
    change(lambda: sessions.set_revealed(session, poll, False))
    return jsonify(serialise.poll(session, poll))


@bp.route("/sessions/<int:session_id>/alternatives", methods=["POST"])
def add_alternative(session_id: int):
    """Add an option to the current step's own vote (from_room), else to the dilemma's coming votes."""
    session = get_controlled_session(session_id)
    body = json_body(("text",))
    text = body.text("text", required=True, min_length=1, max_length=300)
    step = sessions.current_step(session)
    key = change(lambda: sessions.add_alternative(session, step.dilemma_index, text, step.position))
    return jsonify(key=key), 201


@bp.route("/sessions/<int:session_id>/contributions")
def list_contributions(session_id: int):
    session = get_controlled_session(session_id)
    return jsonify([serialise.contribution(item) for item in contributions.for_moderation(session)])


@bp.route("/sessions/<int:session_id>/contributions/<contribution_id>", methods=["PATCH"])
def moderate_contribution(session_id: int, contribution_id: str):
    """Release a contribution to the projector, reject it, or put it back in the queue."""
    session = get_controlled_session(session_id)
    item = (
        db.session.get(Contribution, contribution_id) if CONTRIBUTION_ID.fullmatch(contribution_id) else None
    )
    if item is None or item.session_id != session.id:
        raise not_found("contribution")
    body = json_body(("status",))
    status = body.choice("status", tuple(str(s) for s in ContributionStatus), required=True)
    change(lambda: contributions.moderate(session, contribution_id, status))
    return jsonify(serialise.contribution(item))


@bp.route("/sessions/<int:session_id>/actions", methods=["POST"])
def add_action_point(session_id: int):
    session = get_controlled_session(session_id)
    body = json_body(("what", "who", "due"))
    what = body.text("what", required=True, min_length=1, max_length=500)
    who = body.text("who", max_length=120, default="")
    due = body.date("due")
    point = change(lambda: sessions.add_action_point(session, what, who, due))
    return jsonify(serialise.action_point(point)), 201


@bp.route("/sessions/<int:session_id>/actions/<int:action_id>", methods=["DELETE"])
def delete_action_point(session_id: int, action_id: int):
    session = get_controlled_session(session_id)
    if not any(point.id == action_id for point in session.action_points):
        raise not_found("action point")
    change(lambda: sessions.delete_action_point(session, action_id))
    return "", 204


# --- summary -------------------------------------------------------------------------------------


@bp.route("/sessions/<int:session_id>/summary")
def summary(session_id: int):
    return jsonify(build_summary(get_readable_session(session_id)).to_dict())


@bp.route("/sessions/<int:session_id>/summary.pdf")
def summary_pdf(session_id: int):
    from ..summary.pdf import render_pdf

    session = get_readable_session(session_id)
    return _download(render_pdf(build_summary(session)), "application/pdf", session, "pdf")


@bp.route("/sessions/<int:session_id>/summary.md")
def summary_markdown(session_id: int):
    session = get_readable_session(session_id)
    return _download(to_markdown(build_summary(session)), "text/markdown; charset=utf-8", session, "md")


@bp.route("/sessions/<int:session_id>/summary.csv")
def summary_csv(session_id: int):
    session = get_readable_session(session_id)
    return _download(to_csv(build_summary(session)), "text/csv; charset=utf-8", session, "csv")


@bp.route("/sessions/<int:session_id>/summary.xlsx")
def summary_xlsx(session_id: int):
    from ..summary.xlsx import MIMETYPE, to_xlsx

    session = get_readable_session(session_id)
    return _download(to_xlsx(build_summary(session)), MIMETYPE, session, "xlsx")


def _download(body: bytes | str, mimetype: str, session: DeliberationSession, extension: str) -> Response:
    # The same file name and headers as the web UI's downloads.
    return summary_views._download(body, mimetype, summary_views._filename(session, extension))


# The team, series, follow-up and insights routes live in their own module, on this blueprint.
from . import teams as _team_routes  # noqa: E402,F401
