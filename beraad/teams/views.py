"""Teams: the list, a team's history, choosing its next dilemma, and its calendar feed."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ..bank.vocabulary import LEVEL_LABELS_EN
from ..extensions import db
from ..i18n import organisation_zone
from ..models import FollowUp, Team
from ..urls import external_url
from . import calendar, history, service, suggest

bp = Blueprint("teams", __name__)

LEVELS = tuple(LEVEL_LABELS_EN)
FOLLOW_UP_LABELS = {
    FollowUp.OPEN.value: _l("Open"),
    FollowUp.DONE.value: _l("Done"),
    FollowUp.IN_PROGRESS.value: _l("In progress"),
    FollowUp.DROPPED.value: _l("Dropped"),
    FollowUp.CARRIED.value: _l("Carried over"),
}
SUGGESTIONS = 12


def _language() -> str:
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "nl"


def get_team_or_404(team_id: int) -> Team:
    return db.session.get(Team, team_id) or abort(404)


def get_visible_team(team_id: int) -> Team:
    team = get_team_or_404(team_id)
    if not service.can_see_team(current_user, team):
        abort(403)
    return team


def _form() -> dict:
    return {"name": request.form.get("name", ""), "level": request.form.get("level", "")}


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    form, status = {"name": "", "level": ""}, 200
    if request.method == "POST":
        form = _form()
        try:
            team = service.create_team(current_user, form["name"], form["level"])
        except service.TeamError as error:
            db.session.rollback()
            flash(str(error), "error")
            status = 400
        else:
            db.session.commit()
            flash(_("The team “%(name)s” is created.", name=team.name), "success")
            return redirect(url_for("teams.view", team_id=team.id))
    teams = service.teams_for(current_user)
    today = datetime.now(organisation_zone()).date()
    series = service.series_by_team(teams)  # one query, not one per team
    overviews = {team.id: history.overview(series[team.id], today, organisation_zone()) for team in teams}
    page = render_template("teams/index.html", teams=teams, overviews=overviews, form=form, levels=LEVELS)
    return page, status


@bp.route("/<int:team_id>", methods=["GET", "POST"])
@login_required
def view(team_id: int):
    team = get_visible_team(team_id)
    manage = service.can_manage_team(current_user, team)
    form, status = {"name": team.name, "level": team.level}, 200
    if request.method == "POST":
        if not manage:
            abort(403)
        form = _form()
        try:
            service.update_team(team, form["name"], form["level"])
        except service.TeamError as error:
            db.session.rollback()
            team = get_team_or_404(team_id)
            flash(str(error), "error")
            status = 400
        else:
            db.session.commit()
            flash(_("The team is saved."), "success")
            return redirect(url_for("teams.view", team_id=team.id))
    found = history.build(team, service.series(team), _language(), organisation_zone())
    feed_url = None
    if team.owner_id == current_user.id:
        feed_url = external_url("teams.feed", team_id=team.id, token=team.calendar_token)
    page = render_template(
        "teams/view.html",
        team=team,
        history=found,
        charts=[(trend, history.chart(trend)) for trend in found.trends],
        manage=manage,
        form=form,
        levels=LEVELS,
        feed_url=feed_url,
        follow_up_labels=FOLLOW_UP_LABELS,
    )
    return page, status


@bp.route("/<int:team_id>/delete", methods=["POST"])
@login_required
def delete(team_id: int):
    """Delete the team after the box was ticked; its sessions stay, outside any team."""
    team = get_visible_team(team_id)
    if not service.can_manage_team(current_user, team):
        abort(403)
    if not request.form.get("confirm"):
        flash(_("Tick the box to confirm that the team is deleted."), "error")
        return redirect(url_for("teams.view", team_id=team.id))
    name = team.name
    count = service.delete_team(team)
    db.session.commit()
    flash(
        ngettext(
            "The team “%(name)s” is deleted. Its session stays, outside any team.",
            "The team “%(name)s” is deleted. Its %(num)d sessions stay, outside any team.",
            count,
            name=name,
        ),
        "success",
    )
    return redirect(url_for("teams.index"))


@bp.route("/<int:team_id>/next")
@login_required
def next_dilemma(team_id: int):
    team = get_visible_team(team_id)
    sessions = service.series(team)
    found = history.build(team, sessions, _language(), organisation_zone())
    suggestions = suggest.rank(
        history.candidates(),
        history.discussed_slugs(sessions),
        found.last_discussed(),
        team.level,
        limit=SUGGESTIONS,
    )
    return render_template(
        "teams/next.html",
        team=team,
        suggestions=suggestions,
        manage=service.can_manage_team(current_user, team),
    )


@bp.route("/<int:team_id>/calendar.ics")
def feed(team_id: int):
    """The team's calendar, for calendar apps: no sign-in, the token in the address is the secret."""
    token = request.args.get("token", "")
    team = db.session.get(Team, team_id)
    if team is None or not token or not secrets.compare_digest(token.encode(), team.calendar_token.encode()):
        abort(404)
    body = calendar.feed(team, service.series(team))
    response = Response(body.encode("utf-8"), content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = f'inline; filename="team-{team.id}.ics"'
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
