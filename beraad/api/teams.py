"""The JSON API for teams, their series of sessions, the Terugblik's follow-up and the insights.

Registered on the API blueprint (views.py). The rules are the web UI's: a facilitator sees and
manages their own teams; coordinators see every team; administrators see and manage every team
(teams/service.py). A team the caller may not see is 404, as if it did not exist (team names are
the organisation's own); a team they see but may not change is 403. The follow-up is the session's
(owner or admin, as sessions/views.py record_followup); the insights are for coordinators and
administrators (insights/views.py).
"""

from __future__ import annotations

from datetime import datetime

from flask import jsonify
from flask_login import current_user

from ..bank.vocabulary import LEVEL_LABELS_EN
from ..extensions import db
from ..i18n import organisation_zone
from ..insights.service import insights as build_insights
from ..models import ActionPoint, Team
from ..teams import followup, history
from ..teams import service as teams
from . import serialise
from .body import Body, json_body, query_integer
from .errors import ApiError
from .views import MAX_ID, MAX_PER_PAGE, archived, bp, change, get_controlled_session, not_found

TEAM_PAGE_SIZE = 20
LEVELS = tuple(LEVEL_LABELS_EN)  # the bank's levels; "" is no level
MAX_INSIGHT_MONTHS = 36


def get_visible_team(team_id: int) -> Team:
    """The team, if the caller may see it; 404 otherwise (also when it does not exist)."""
    team = db.session.get(Team, team_id) if team_id <= MAX_ID else None
    if team is None or not teams.can_see_team(current_user, team):
        raise not_found("team")
    return team


def get_managed_team(team_id: int) -> Team:
    team = get_visible_team(team_id)
    if not teams.can_manage_team(current_user, team):
        raise ApiError(403, "forbidden", "Only the team's owner, or an admin, can change it.")
    return team


def _level(body: Body, default: str) -> str:
    """The level as text; whether it is one the teams service knows, the service says (field "level")."""
    level = body.raw("level", default)
    if not isinstance(level, str):
        raise body.invalid("level", f"must be one of: {', '.join(LEVELS)}; or empty for none")
    return level


def _today():
    return datetime.now(organisation_zone()).date()


def team_response(team: Team, status: int = 200):
    overview = history.overview(teams.series(team), _today(), organisation_zone())
    return jsonify(serialise.team(team, current_user, overview)), status


# --- teams ---------------------------------------------------------------------------------------


@bp.route("/teams")
def list_teams():
    """The teams the caller may see, by name, one page at a time."""
    page = query_integer("page", 1, 1, 100_000)
    per_page = query_integer("per_page", TEAM_PAGE_SIZE, 1, MAX_PER_PAGE)
    visible = teams.teams_for(current_user)
    shown = visible[(page - 1) * per_page : page * per_page]
    series = teams.series_by_team(shown)  # one query for the page, not one per team
    today, zone = _today(), organisation_zone()
    return jsonify(
        {
            "items": [
                serialise.team(team, current_user, history.overview(series[team.id], today, zone))
                for team in shown
            ],
            "total": len(visible),
            "page": page,
            "per_page": per_page,
            "pages": max(1, -(-len(visible) // per_page)),
        }
    )


@bp.route("/teams", methods=["POST"])
def create_team():
    body = json_body(("name", "level"))
    name = body.text("name", required=True, max_length=teams.MAX_NAME)
    level = _level(body, "")  # checked here, so what the service can still refuse is the name
    team = change(lambda: teams.create_team(current_user, name, level))
    return team_response(team, 201)


@bp.route("/teams/<int:team_id>")
def get_team(team_id: int):
    return team_response(get_visible_team(team_id))


@bp.route("/teams/<int:team_id>", methods=["PATCH"])
def update_team(team_id: int):
    """Rename a team or change its level; fields left out keep their value."""
    team = get_managed_team(team_id)
    body = json_body(("name", "level"))
    name = body.text("name", max_length=teams.MAX_NAME, default=team.name)
    level = _level(body, team.level or "")
    change(lambda: teams.update_team(team, name, level))
    return team_response(team)


@bp.route("/teams/<int:team_id>", methods=["DELETE"])
def delete_team(team_id: int):
    """Delete a team; its sessions stay, outside any team. Owner or admin, as changing it."""
    team = get_managed_team(team_id)
    change(lambda: teams.delete_team(team))
    return "", 204


@bp.route("/teams/<int:team_id>/sessions")
def team_sessions(team_id: int):
    """The team's series, oldest first, with the history the team's page shows."""
    team = get_visible_team(team_id)
    series = teams.series(team)
    zone = organisation_zone()
    found = history.build(team, series, "en", zone)  # the API speaks English (questions, method names)
    return jsonify(
        {
            "team": serialise.team(team, current_user, history.overview(series, _today(), zone)),
            "sessions": [
                {**serialise.session_summary(session, current_user), **archived(session)}
                for session in series
            ],
            **serialise.team_series(found),
        }
    )


# --- the Terugblik: what became of the previous session's action points --------------------------


def get_point_to_review(session, action_id: int) -> ActionPoint:
    point = next((p for p in followup.points_to_review(session) if p.id == action_id), None)
    if point is None:
        raise not_found("action point to look back on")
    return point


@bp.route("/sessions/<int:session_id>/follow-up")
def list_follow_up(session_id: int):
    session = get_controlled_session(session_id)
    return jsonify([serialise.follow_up_point(session, p) for p in followup.points_to_review(session)])


@bp.route("/sessions/<int:session_id>/follow-up/<int:action_id>", methods=["PATCH"])
def record_follow_up(session_id: int, action_id: int):
    """Record what became of one of the points the session looks back on (as the facilitator screen)."""
    session = get_controlled_session(session_id)
    point = get_point_to_review(session, action_id)
    body = json_body(("follow_up", "note"))
    status = body.choice("follow_up", tuple(s.value for s in followup.STATUSES), required=True)
    note = body.text("note", max_length=followup.MAX_NOTE_CHARS, default=point.follow_up_note or "")
    change(lambda: followup.record_follow_up(session, point, status, note), invalid=True)
    return jsonify(serialise.follow_up_point(session, point))


# --- insights ------------------------------------------------------------------------------------


@bp.route("/insights")
def get_insights():
    """The coordinator's figures (insights/service.py: every figure follows the k rule), in English."""
    if not current_user.can_curate:
        raise ApiError(403, "forbidden", "Only coordinators and administrators can read the insights.")
    months = query_integer("months", 12, 1, MAX_INSIGHT_MONTHS)
    figures = build_insights(current_user, months=months, language="en", zone=organisation_zone())
    return jsonify(figures.to_dict())
