"""Summary downloads: PDF, HTML print view, Markdown, CSV and Excel (.xlsx)."""

from __future__ import annotations

import re
from datetime import UTC

from flask import Blueprint, Response, abort, current_app, render_template
from flask_babel import force_locale
from flask_login import current_user, login_required

from ..extensions import db
from ..models import DeliberationSession, SessionStatus
from ..render import render_markdown
from .build import build_summary
from .exports import to_csv, to_markdown
from .labels import labels, long_date, zone

bp = Blueprint("summary", __name__)


def can_read_summary(user, session: DeliberationSession) -> bool:
    """The facilitator who ran it, administrators and integrity coordinators."""
    return user.id == session.owner_id or user.can_curate


def get_readable_session(session_id: int) -> DeliberationSession:
    session = db.session.get(DeliberationSession, session_id) or abort(404)
    if not can_read_summary(current_user, session):
        abort(403)
    return session


def _filename(session: DeliberationSession, extension: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", session.title.lower()).strip("-")[:60] or "sessie"
    moment = (session.started_at or session.created_at).replace(tzinfo=UTC)  # stored as naive UTC
    when = moment.astimezone(zone(current_app.config.get("TIMEZONE"))).date().isoformat()  # the summary's day
    return f"beraad-{when}-{slug}.{extension}"


def _download(body: bytes | str, mimetype: str, filename: str) -> Response:
    response = Response(body, content_type=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/sessions/<int:session_id>/summary")
@login_required
def view(session_id: int):
    session = get_readable_session(session_id)
    summary = build_summary(session)
    with force_locale(summary.language):
        return render_template(
            "summary/print.html",
            session=session,
            summary=summary,
            words=labels(summary.language),
            long_date=long_date,
            dilemma_html=[render_markdown(d.text) for d in summary.dilemmas],
        )


@bp.route("/sessions/<int:session_id>/summary.pdf")
@login_required
def pdf(session_id: int):
    from .pdf import render_pdf

    session = get_readable_session(session_id)
    return _download(render_pdf(build_summary(session)), "application/pdf", _filename(session, "pdf"))


@bp.route("/sessions/<int:session_id>/summary.md")
@login_required
def markdown(session_id: int):
    session = get_readable_session(session_id)
    return _download(
        to_markdown(build_summary(session)), "text/markdown; charset=utf-8", _filename(session, "md")
    )


@bp.route("/sessions/<int:session_id>/summary.csv")
@login_required
def csv(session_id: int):
    session = get_readable_session(session_id)
    return _download(to_csv(build_summary(session)), "text/csv; charset=utf-8", _filename(session, "csv"))


@bp.route("/sessions/<int:session_id>/summary.xlsx")
@login_required
def xlsx(session_id: int):
    from .xlsx import MIMETYPE, to_xlsx  # openpyxl is loaded only when a workbook is asked for

    session = get_readable_session(session_id)
    return _download(to_xlsx(build_summary(session)), MIMETYPE, _filename(session, "xlsx"))


@bp.route("/measures")
@login_required
def measures():
    """The periodic measures side by side: averages per domain and per question, k respected."""
    from ..sessions.service import sessions_for
    from . import measures as measure

    closed_measures = sessions_for(
        current_user,
        DeliberationSession.method_key == measure.MEASURE_METHOD,
        DeliberationSession.status == SessionStatus.CLOSED.value,
    )
    rows = measure.measures(closed_measures)
    questions = []  # every question that appears in any measure, in the order first seen
    for row in rows:
        for item in row.questions:
            if all(item.key != known.key for known in questions):
                questions.append(item)
    return render_template(
        "summary/measures.html",
        measures=rows,
        questions=questions,
        domains=measure.DOMAINS,
        method_key=measure.MEASURE_METHOD,
    )
