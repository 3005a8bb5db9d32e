"""Facilitator screen, session creation and the projector view."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..bank import service as bank
from ..extensions import db, limiter
from ..methods import service as methods
from ..models import DeliberationSession, Dilemma, DilemmaStatus
from ..network import is_loopback
from ..qr import qr_svg
from ..render import render_markdown
from ..summary import retention
from ..summary.build import has_case_presenter
from ..teams import followup
from ..teams import service as teams_service
from ..urls import external_url
from ..vote import contributions, evaluation
from . import service
from .forms import ActionPointForm, AlternativeForm, NewSessionForm, NotesForm, ScreenTextForm
from .plan import planned_minutes
from .state import projector_state, stage_context

bp = Blueprint("sessions", __name__)


def get_session_or_404(session_id: int) -> DeliberationSession:
    return db.session.get(DeliberationSession, session_id) or abort(404)


def get_controlled_session(session_id: int) -> DeliberationSession:
    """The session, if the signed-in user may run it (owner or admin); else 403."""
    session = get_session_or_404(session_id)
    if not service.can_control(current_user, session):
        abort(403)
    return session


def join_url(session: DeliberationSession) -> str:
    return external_url("vote.join", join_code=session.join_code)


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _done(session: DeliberationSession, anchor: str = ""):
    """Answer a control action: JSON for scripts, a redirect back for plain forms."""
    db.session.commit()
    if _wants_json():
        return jsonify(ok=True, version=session.version)
    return redirect(url_for("sessions.run", session_id=session.id) + (f"#{anchor}" if anchor else ""))


def _failed(session: DeliberationSession, error: service.SessionError):
    db.session.rollback()
    if _wants_json():
        return jsonify(error={"code": "conflict", "message": str(error)}), 409
    flash(str(error), "error")
    return redirect(url_for("sessions.run", session_id=session.id))


@bp.route("/sessions/")
@login_required
def index():
    archived = request.args.get("archived") == "1"
    sessions = service.sessions_for(current_user, service.archived_filter(archived))
    return render_template("sessions/index.html", sessions=sessions, archived=archived)


def _to_list(archived: bool = False):
    return redirect(url_for("sessions.index", archived=1) if archived else url_for("sessions.index"))


@bp.route("/sessions/<int:session_id>/archive", methods=["POST"])
@login_required
def archive(session_id: int):
    session = get_controlled_session(session_id)
    try:
        service.archive_session(session)
    except service.SessionError:
        db.session.rollback()
        flash(_("A running session cannot be archived: close it first."), "error")
        return _to_list()
    db.session.commit()
    flash(_("The session “%(title)s” is archived.", title=session.title), "success")
    return _to_list()


@bp.route("/sessions/<int:session_id>/unarchive", methods=["POST"])
@login_required
def unarchive(session_id: int):
    session = get_controlled_session(session_id)
    service.unarchive_session(session)
    db.session.commit()
    flash(_("The session “%(title)s” is back in the list.", title=session.title), "success")
    return _to_list(archived=True)


@bp.route("/sessions/<int:session_id>/delete", methods=["POST"])
@login_required
def delete(session_id: int):
    """Delete for good, after the box "I understand that this cannot be undone" was ticked."""
    session = get_controlled_session(session_id)
    archived = session.archived_at is not None
    if not request.form.get("confirm"):
        flash(_("Tick the box to confirm that the deletion cannot be undone."), "error")
        return _to_list(archived)
    title = session.title
    try:
        service.delete_session(session)  # commits, then empties SQLite's WAL
    except service.SessionError:
        db.session.rollback()
        flash(_("A running session cannot be deleted: close it first."), "error")
        return _to_list(archived)
    flash(_("The session “%(title)s” is deleted, with all its answers.", title=title), "success")
    return _to_list(archived)


@bp.route("/sessions/new", methods=["GET", "POST"])
@login_required
def new():
    available_methods = methods.list_methods()
    published = list(
        db.session.scalars(
            select(Dilemma).where(Dilemma.status == DilemmaStatus.PUBLISHED).order_by(Dilemma.title)
        )
    )
    form = NewSessionForm()
    form.method.choices = [(m.key, f"{m.name.get(_language())} · {m.minutes} min") for m in available_methods]
    dilemma_choices = [("", _("— none —"))] + [(d.slug, d.title) for d in published]
    for entry in form.dilemmas:
        entry.choices = dilemma_choices
    form.language.choices = [("nl", "Nederlands"), ("en", "English")]
    own_teams = [
        team
        for team in teams_service.teams_for(current_user)
        if teams_service.can_manage_team(current_user, team)
    ]
    form.team.choices = [("", _("— no team —"))] + [(str(team.id), team.name) for team in own_teams]
    if request.method == "GET":
        form.team.data = request.args.get("team", "")
        form.k.data = current_app.config["BERAAD_K"]
        form.language.data = _language()
        form.method.data = request.args.get("method") or "dilemmamethode"
        form.dilemmas[0].data = request.args.get("dilemma", "")
        form.facilitator_name.data = current_user.display_name
    if form.validate_on_submit():
        method = methods.get_method(form.method.data)
        slugs = [entry.data for entry in form.dilemmas if entry.data]
        chosen = [bank.get_by_slug(slug) for slug in slugs]
        team = next((t for t in own_teams if str(t.id) == form.team.data), None)
        if method is None:
            flash(_("Choose a method."), "error")
        elif form.team.data and team is None:
            flash(_("Choose one of your own teams."), "error")
        elif method.dilemmas[1] == 0 and chosen:
            flash(_("This method uses no dilemma: leave the dilemma fields empty."), "error")
        elif method.dilemmas[1] > 0 and (
            not chosen or any(d is None or d.status != DilemmaStatus.PUBLISHED for d in chosen)
        ):
            flash(_("Choose at least one published dilemma."), "error")
        else:
            try:
                session = service.create_session(
                    current_user, method, chosen, form.title.data or "", form.language.data,
                    form.k.data, form.facilitator_name.data or "", team=team,
                )  # fmt: skip
                session.scheduled_for = form.scheduled_for.data
            except service.SessionError as error:
                db.session.rollback()
                flash(_("The session was not created: %(problem)s", problem=str(error)), "error")
            else:
                db.session.commit()
                return redirect(url_for("sessions.run", session_id=session.id))
    durations = {
        m.key: [(count, planned_minutes(m, count)) for count in range(m.dilemmas[0], m.dilemmas[1] + 1)]
        for m in available_methods
    }
    return render_template("sessions/new.html", form=form, methods=available_methods, durations=durations)


def _language() -> str:
    from flask_babel import get_locale

    return str(get_locale())


@bp.route("/sessions/<int:session_id>")
@login_required
def run(session_id: int):
    session = get_controlled_session(session_id)
    step = service.current_step(session)
    method = service.method_of(session)
    context = stage_context(session)
    url = join_url(session)
    return render_template(
        "sessions/run.html",
        session=session,
        method=method,
        step=step,
        stage=context,
        join_url=url,
        phones_cannot_reach=is_loopback(url),
        notes_form=NotesForm(notes=step.notes),
        action_form=ActionPointForm(),
        alternative_form=AlternativeForm(),
        screen_form=ScreenTextForm(text=step.screen_text),
        timer=service.timer_state(step),
        totals=service.totals(session),
        facilitator_html=render_markdown(context["step"].facilitator.get(session.language)),
        dilemma_html=[render_markdown(d["body"]) for d in session.dilemmas_snapshot],
        contributions=contributions.for_moderation(session),
        followup_statuses=[(status.value, followup.STATUS_LABELS[status]) for status in followup.STATUSES],
        asks_consent=has_case_presenter(session),
    )


@bp.route("/sessions/<int:session_id>/start", methods=["POST"])
@login_required
def start(session_id: int):
    session = get_controlled_session(session_id)
    try:
        service.start_session(session)
    except service.SessionError as error:
        return _failed(session, error)
    return _done(session)


@bp.route("/sessions/<int:session_id>/close", methods=["POST"])
@login_required
def close(session_id: int):
    session = get_controlled_session(session_id)
    try:
        service.close_session(session)
    except service.SessionError as error:
        return _failed(session, error)
    flash(_("The session is closed."), "success")
    response = _done(session)  # commits
    retention.empty_wal_after_close()
    return response


@bp.route("/sessions/<int:session_id>/step", methods=["POST"])
@login_required
def go(session_id: int):
    session = get_controlled_session(session_id)
    try:
        if "position" in request.form:
            closed = service.go_to_step(session, request.form.get("position", type=int, default=-1))
        else:
            closed = service.move(session, 1 if request.form.get("direction") == "next" else -1)
    except service.SessionError as error:
        return _failed(session, error)
    for poll in closed:
        flash(_("The vote “%(question)s” was still open: it is now closed.",
                question=poll.spec["question"][session.language]), "info")  # fmt: skip
    return _done(session)


@bp.route("/sessions/<int:session_id>/timer", methods=["POST"])
@login_required
def timer(session_id: int):
    session = get_controlled_session(session_id)
    try:
        service.control_timer(
            session, request.form.get("action", ""), request.form.get("minutes", type=int, default=0)
        )
    except service.SessionError as error:
        return _failed(session, error)
    return _done(session, "timer")


@bp.route("/sessions/<int:session_id>/steps/<int:position>/notes", methods=["POST"])
@login_required
def notes(session_id: int, position: int):
    session = get_controlled_session(session_id)
    form = NotesForm()
    if not form.validate():
        message = _("The notes are too long to save.")
        if _wants_json():
            return jsonify(error={"code": "invalid", "message": message}), 422
        flash(message, "error")
        return redirect(url_for("sessions.run", session_id=session.id))
    try:
        service.save_notes(session, position, form.notes.data or "")
    except service.SessionError as error:
        return _failed(session, error)
    db.session.commit()
    if _wants_json():
        return jsonify(ok=True)
    flash(_("Notes saved."), "success")
    return redirect(url_for("sessions.run", session_id=session.id) + "#notes")


@bp.route("/sessions/<int:session_id>/actions", methods=["POST"])
@login_required
def add_action(session_id: int):
    session = get_controlled_session(session_id)
    form = ActionPointForm()
    if not form.validate():
        flash(_("An action point needs a description; the date must be a valid date."), "error")
        return redirect(url_for("sessions.run", session_id=session.id) + "#actions")
    try:
        service.add_action_point(session, form.what.data, form.who.data, form.due.data)
    except service.SessionError as error:
        return _failed(session, error)
    return _done(session, "actions")


@bp.route("/sessions/<int:session_id>/followup/<int:point_id>", methods=["POST"])
@login_required
def record_followup(session_id: int, point_id: int):
    """At the Terugblik: what became of one of the previous session's action points."""
    session = get_controlled_session(session_id)
    point = next((p for p in followup.points_to_review(session) if p.id == point_id), None) or abort(404)
    status = request.form.get("status", "")
    if status not in followup.STATUSES:
        return _failed(session, service.SessionError(_("Choose what became of this action point.")))
    note = request.form.get("note", "")
    if len(note.strip()) > followup.MAX_NOTE_CHARS:
        message = _("A note is limited to %(n)d characters.", n=followup.MAX_NOTE_CHARS)
        return _failed(session, service.SessionError(message))
    try:
        followup.record_follow_up(session, point, status, note)
    except service.SessionError as error:
        return _failed(session, error)
    return _done(session, "followup")


@bp.route("/sessions/<int:session_id>/actions/<int:point_id>/delete", methods=["POST"])
@login_required
def delete_action(session_id: int, point_id: int):
    session = get_controlled_session(session_id)
    try:
        service.delete_action_point(session, point_id)
    except service.SessionError as error:
        return _failed(session, error)
    return _done(session, "actions")


@bp.route(
    "/sessions/<int:session_id>/polls/<poll_id>/<any(open, close, reveal, hide):action>", methods=["POST"]
)
@login_required
def poll_action(session_id: int, poll_id: str, action: str):
    session = get_controlled_session(session_id)
    poll = service.get_poll(session, poll_id) or abort(404)
    try:
        if action == "open":
            service.open_poll(session, poll)
        elif action == "close":
            service.close_poll(session, poll)
        else:
            service.set_revealed(session, poll, action == "reveal")
    except service.SessionError as error:
        return _failed(session, error)
    return _done(session, "poll")


@bp.route("/sessions/<int:session_id>/alternatives", methods=["POST"])
@login_required
def add_alternative(session_id: int):
    session = get_controlled_session(session_id)
    form = AlternativeForm()
    if not form.validate():  # the same form adds the room's own options (from_room)
        flash(_("Describe the new option in at most 300 characters."), "error")
        return redirect(url_for("sessions.run", session_id=session.id) + "#poll")
    try:
        step = service.current_step(session)
        key = service.add_alternative(session, step.dilemma_index, form.text.data, step.position)
    except service.DuplicateOptionError:
        message = _(
            "“%(text)s” is already one of the options; nothing was added.", text=form.text.data.strip()
        )
        return _failed(session, service.SessionError(message))
    except service.SessionError as error:
        return _failed(session, error)
    flash(_("Option %(key)s added.", key=key), "success")
    return _done(session, "poll")


@bp.route(
    "/sessions/<int:session_id>/contributions/<contribution_id>/<any(released, rejected, pending):status>",
    methods=["POST"],
)
@login_required
def moderate(session_id: int, contribution_id: str, status: str):
    session = get_controlled_session(session_id)
    try:
        contributions.moderate(session, contribution_id, status)
    except service.SessionError as error:
        return _failed(session, error)
    return _done(session, "contributions")


@bp.route("/sessions/<int:session_id>/contributions/<any(show, hide):action>", methods=["POST"])
@login_required
def show_contributions(session_id: int, action: str):
    session = get_controlled_session(session_id)
    try:
        service.set_show_contributions(session, action == "show")
    except service.SessionError as error:
        return _failed(session, error)
    return _done(session, "contributions")


@bp.route("/sessions/<int:session_id>/contributions/<any(pin, unpin):action>", methods=["POST"])
@login_required
def pin_contributions(session_id: int, action: str):
    session = get_controlled_session(session_id)
    try:
        service.set_pin_contributions(session, action == "pin")
    except service.SessionError as error:
        return _failed(session, error)
    return _done(session, "contributions")


@bp.route("/sessions/<int:session_id>/join-code/<any(large, small):size>", methods=["POST"])
@login_required
def join_code_size(session_id: int, size: str):
    session = get_controlled_session(session_id)
    try:
        service.set_show_join(session, size == "large")
    except service.SessionError as error:
        return _failed(session, error)
    return _done(session)


@bp.route("/sessions/<int:session_id>/steps/<int:position>/screen", methods=["POST"])
@login_required
def screen_text(session_id: int, position: int):
    session = get_controlled_session(session_id)
    form = ScreenTextForm()
    if not form.validate():
        message = _("Text on screen is limited to %(n)d characters.", n=service.MAX_SCREEN_TEXT_CHARS)
        return _failed(session, service.SessionError(message))
    try:
        service.set_screen_text(session, position, form.text.data or "", form.action.data == "show")
    except service.SessionError as error:
        return _failed(session, error)
    return _done(session, "screen")


@bp.route("/sessions/<int:session_id>/consent", methods=["POST"])
@login_required
def consent(session_id: int):
    session = get_controlled_session(session_id)
    try:
        service.set_case_consent(session, request.form.get("consent", ""), request.form.get("redacted", ""))
    except service.SessionError as error:
        return _failed(session, error)
    flash(_("The case presenter's choice is recorded."), "success")
    return _done(session, "consent")


@bp.route("/sessions/<int:session_id>/evaluation/<any(open, close):action>", methods=["POST"])
@login_required
def evaluation_toggle(session_id: int, action: str):
    session = get_controlled_session(session_id)
    try:
        evaluation.set_open(session, action == "open")
    except service.SessionError as error:
        return _failed(session, error)
    return _done(session, "evaluation")


@bp.route("/sessions/<int:session_id>/state")
@login_required
def facilitator_state(session_id: int):
    session = get_controlled_session(session_id)
    # Only here, not on the projector: the facilitator's page refreshes its moderation list on it.
    return jsonify({**projector_state(session), "contributions": contributions.received(session)})


# --- projector: unguessable URL, read-only, no sign-in --------------------------------------------


def get_projected_session_or_404(token: str) -> DeliberationSession:
    return service.get_by_projector_token(token) or abort(404)


@bp.route("/p/<token>")
def projector(token: str):
    session = get_projected_session_or_404(token)
    url = join_url(session)
    # The projector speaks the session's language, whatever the browser it runs in.
    with force_locale(session.language):
        return render_template(
            "sessions/projector.html",
            session=session,
            stage=stage_context(session),
            join_url=url,
            qr=qr_svg(url, title=_("QR code to join the session")),
        )


@bp.route("/p/<token>/stage")
def projector_stage(token: str):
    session = get_projected_session_or_404(token)
    with force_locale(session.language):
        return render_template("sessions/_stage.html", session=session, stage=stage_context(session))


@bp.route("/p/<token>/state")
@limiter.exempt  # polled every second; it only reads a few counters
def projector_state_json(token: str):
    signature = service.live_signature(token)
    if signature is None:
        abort(404)
    etag = f'"{signature}"'
    if request.if_none_match.contains(signature):
        return "", 304, {"ETag": etag, "Cache-Control": "no-cache"}
    session = get_projected_session_or_404(token)
    response = jsonify(projector_state(session))
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "no-cache"
    return response
