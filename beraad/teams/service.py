"""Teams and their series of sessions. Plain functions: they flush, the caller commits.

Role rules: a facilitator sees and manages the teams they own; coordinators see every team (to
keep the practice alive across the organisation); administrators see and manage every team.
"""

from __future__ import annotations

import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from ..bank.vocabulary import LEVEL_LABELS_EN as LEVELS
from ..extensions import db
from ..models import DeliberationSession, Team, User

MAX_NAME = 120


class TeamError(ValueError):
    """A team that cannot be created or changed as asked; the message (translated when shown) is
    for the user, `field` names what was refused ("name" or "level")."""

    def __init__(self, message, field: str):
        super().__init__(message)
        self.field = field


def _checked(name: str, level: str) -> tuple[str, str]:
    name = " ".join((name or "").split())
    if not name:
        raise TeamError(_l("Give the team a name."), "name")
    if len(name) > MAX_NAME:
        raise TeamError(_l("A team name has at most %(max)d characters.", max=MAX_NAME), "name")
    level = (level or "").strip()
    if level and level not in LEVELS:
        raise TeamError(_l("Unknown level %(level)s.", level=repr(level)), "level")
    return name, level


def create_team(owner: User, name: str, level: str = "") -> Team:
    name, level = _checked(name, level)
    team = Team(name=name, level=level, owner_id=owner.id, calendar_token=secrets.token_urlsafe(32))
    db.session.add(team)
    db.session.flush()
    return team


def update_team(team: Team, name: str, level: str = "") -> None:
    team.name, team.level = _checked(name, level)
    db.session.flush()


def delete_team(team: Team) -> int:
    """Delete the team; its sessions stay, outside any team (their summaries, figures and action
    points are the organisation's record). The calendar address stops working. Returns the number of
    sessions that were in it."""
    count = db.session.execute(
        update(DeliberationSession).where(DeliberationSession.team_id == team.id).values(team_id=None)
    ).rowcount
    db.session.delete(team)
    db.session.flush()
    return count


def can_see_team(user: User, team: Team) -> bool:
    return user.is_authenticated and (team.owner_id == user.id or user.can_curate)


def can_manage_team(user: User, team: Team) -> bool:
    return user.is_authenticated and (team.owner_id == user.id or user.is_admin)


def teams_for(user: User) -> list[Team]:
    """The teams a user may see, by name."""
    statement = select(Team).order_by(func.lower(Team.name), Team.id)
    if not user.can_curate:
        statement = statement.where(Team.owner_id == user.id)
    return list(db.session.scalars(statement))


def _moment():
    """When a session took place: its start, or (never started) when it was made."""
    return func.coalesce(DeliberationSession.started_at, DeliberationSession.created_at)


def series(team: Team) -> list[DeliberationSession]:
    """The team's sessions, oldest first."""
    statement = (
        select(DeliberationSession)
        .where(DeliberationSession.team_id == team.id)
        .order_by(_moment(), DeliberationSession.id)
    )
    return list(db.session.scalars(statement))


def series_by_team(teams: list[Team]) -> dict[int, list[DeliberationSession]]:
    """The series of several teams in one query (the teams list), oldest first per team."""
    found: dict[int, list[DeliberationSession]] = {team.id: [] for team in teams}
    if found:
        statement = (
            select(DeliberationSession)
            .where(DeliberationSession.team_id.in_(found))
            .order_by(_moment(), DeliberationSession.id)
        )
        for session in db.session.scalars(statement):
            found[session.team_id].append(session)
    return found


def previous_session(team: Team, before: DeliberationSession | None = None) -> DeliberationSession | None:
    """The session a session of the team looks back on: the team's latest session that took place
    (it started), before `before` started (any, while `before` has not started yet). A session
    planned ahead but not held yet is never anyone's previous session."""
    statement = select(DeliberationSession).where(
        DeliberationSession.team_id == team.id, DeliberationSession.started_at.is_not(None)
    )
    if before is not None:
        statement = statement.where(DeliberationSession.id != before.id)
        if before.started_at is not None:
            statement = statement.where(DeliberationSession.started_at <= before.started_at)
    latest_first = (DeliberationSession.started_at.desc(), DeliberationSession.id.desc())
    return db.session.scalar(statement.order_by(*latest_first).limit(1))
