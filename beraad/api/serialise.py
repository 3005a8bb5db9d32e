"""The API's JSON shapes: plain dicts from models and logic results (described in openapi.yaml)."""

from __future__ import annotations

from datetime import date, datetime

from ..bank.search import SearchPage
from ..methods.loader import Method
from ..models import (
    ActionPoint,
    Contribution,
    DeliberationSession,
    Dilemma,
    Poll,
    PollStatus,
    SessionStep,
    Team,
    User,
)
from ..sessions import service as sessions
from ..sessions.state import poll_results, poll_view
from ..teams import followup, history
from ..teams import service as teams
from ..urls import external_url
from ..vote.service import Results, answer_count


def timestamp(value: datetime | None) -> str | None:
    """A naive UTC datetime as RFC 3339 text."""
    return None if value is None else value.replace(microsecond=0).isoformat() + "Z"


def day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def user(person: User) -> dict:
    return {
        "id": person.id,
        "username": person.username,
        "display_name": person.display_name,
        "role": person.role,
    }


def dilemma_summary(dilemma: Dilemma) -> dict:
    return {
        "slug": dilemma.slug,
        "title": dilemma.title,
        "language": dilemma.language,
        "status": dilemma.status,
        "themes": list(dilemma.themes or []),
        "levels": list(dilemma.levels or []),
        "roles": list(dilemma.roles or []),
        "options": [{"key": o["key"], "text": o["text"]} for o in dilemma.options or []],
        "updated_at": timestamp(dilemma.updated_at),
    }


def dilemma(item: Dilemma, transitions: tuple[str, ...]) -> dict:
    return {
        **dilemma_summary(item),
        "body": item.body,
        "short": item.short or "",
        "protagonist": item.protagonist or "",
        "sources": list(item.sources or []),
        "created_at": timestamp(item.created_at),
        "allowed_transitions": list(transitions),
    }


def search_page(page: SearchPage) -> dict:
    return {
        "items": [dilemma_summary(item) for item in page.items],
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
        "pages": page.pages,
    }


def method_summary(method: Method) -> dict:
    return {
        "key": method.key,
        "name": {"nl": method.name.nl, "en": method.name.en},
        "summary": {"nl": method.summary.nl, "en": method.summary.en},
        "minutes": method.minutes,
        "group_size": list(method.group_size),
        "dilemmas": list(method.dilemmas),
        "steps": len(method.steps),
    }


def method(definition: Method) -> dict:
    data = definition.to_dict()
    return {**data, "group_size": list(data["group_size"]), "dilemmas": list(data["dilemmas"])}


def session_summary(session: DeliberationSession, viewer: User) -> dict:
    return {
        "id": session.id,
        "title": session.title,
        "status": session.status,
        "language": session.language,
        "k": session.k,
        "method_key": session.method_key,
        "owner_id": session.owner_id,
        "can_control": sessions.can_control(viewer, session),
        "created_at": timestamp(session.created_at),
        "started_at": timestamp(session.started_at),
        "closed_at": timestamp(session.closed_at),
        "team": team_reference(session.team),
        "scheduled_for": day(session.scheduled_for),
    }


def step(session: DeliberationSession, item: SessionStep) -> dict:
    timer = sessions.timer_state(item)
    method = sessions.method_of(session)
    definition = next(s for s in method.steps if s.key == item.step_key)
    poll = next((p for p in session.polls if p.position == item.position), None)
    return {
        "position": item.position,
        "key": item.step_key,
        "title": definition.title.get(session.language),
        "dilemma_index": item.dilemma_index,
        "planned_minutes": item.planned_minutes,
        "extra_minutes": item.extra_minutes,
        "elapsed_seconds": timer.elapsed_seconds,
        "running": timer.running,
        "notes": item.notes,
        "poll_id": poll.id if poll is not None else None,
    }


def poll(session: DeliberationSession, item: Poll) -> dict:
    return {
        **poll_view(session, item),
        "key": item.key,
        "position": item.position,
        "dilemma_index": item.dilemma_index,
        "compare_with_id": item.compare_with_id,
        "answers": answer_count(item.id),
    }


def action_point(point: ActionPoint) -> dict:
    return {
        "id": point.id,
        "what": point.what,
        "who": point.who,
        "due": point.due.isoformat() if point.due else None,
    }


def session_detail(session: DeliberationSession, viewer: User) -> dict:
    return {
        **session_summary(session, viewer),
        "version": session.version,
        "join_code": session.join_code,
        "join_url": external_url("vote.join", join_code=session.join_code),
        "projector_url": external_url("sessions.projector", token=session.projector_token),
        "facilitator_name": session.facilitator_name,
        "current_position": session.current_position,
        "participants": sessions.participant_count(session),
        "show_contributions": session.show_contributions,
        "evaluation_open": session.evaluation_open,
        "case_consent": session.case_consent,
        "dilemmas": [
            {
                "slug": d["slug"],
                "title": d["title"],
                "language": d["language"],
                "body": d["body"],
                "options": [{"key": o["key"], "text": o["text"]} for o in d["options"]],
            }
            for d in session.dilemmas_snapshot
        ],
        "steps": [step(session, item) for item in session.steps],
        "polls": [poll(session, item) for item in session.polls],
        "action_points": [action_point(point) for point in session.action_points],
        "follow_up": [follow_up_point(session, point) for point in followup.points_to_review(session)],
    }


def results(res: Results | None) -> dict | None:
    """A poll's aggregate; below k only the count (rows and texts stay empty)."""
    if res is None:
        return None
    return {
        "count": res.count,
        "k": res.k,
        "shown": res.shown,
        "rows": [{"key": str(r[0]), "label": str(r[1]), "count": r[2], "percent": r[3]} for r in res.rows],
        "texts": list(res.texts),
        "mean": res.mean,
    }


def session_results(session: DeliberationSession) -> dict:
    """Every poll that has opened: closed ones with their results (k rule), open ones only counted."""
    polls = []
    for item in session.polls:
        if item.status == PollStatus.PENDING:
            continue
        closed = poll_results(session, item)
        polls.append(
            {
                "poll_id": item.id,
                "key": item.key,
                "position": item.position,
                "type": item.type,
                "status": item.status,
                "question": item.spec["question"][session.language],
                "answers": answer_count(item.id),
                "results": results(closed["results"]),
                "before": results(closed["before"]),
            }
        )
    return {
        "session_id": session.id,
        "status": session.status,
        "k": session.k,
        "participants": sessions.participant_count(session),
        "polls": polls,
    }


def contribution(item: Contribution) -> dict:
    return {
        "id": item.id,
        "text": item.text,
        "count": item.count,
        "status": item.status,
        "flagged": item.flagged,
    }


# --- teams ---------------------------------------------------------------------------------------


def team_reference(team: Team | None) -> dict | None:
    return None if team is None else {"id": team.id, "name": team.name}


def calendar_url(team: Team, viewer: User) -> str | None:
    """The secret address of the team's calendar feed: for its owner only, as on the team's page
    (an administrator may manage the team, but the subscription address stays the owner's)."""
    if team.owner_id != viewer.id:
        return None
    return external_url("teams.feed", team_id=team.id, token=team.calendar_token)


def team(item: Team, viewer: User, overview: history.Overview) -> dict:
    return {
        "id": item.id,
        "name": item.name,
        "level": item.level or "",
        "owner_id": item.owner_id,
        "created_at": timestamp(item.created_at),
        "sessions": overview.sessions,
        "last_held": day(overview.last),
        "next_planned": day(overview.next),
        "can_manage": teams.can_manage_team(viewer, item),
        "calendar_url": calendar_url(item, viewer),
    }


def follow_up_point(session: DeliberationSession, point: ActionPoint) -> dict:
    """One of the previous session's action points this session looks back on, and what became of it."""
    copy = followup.carried_copy(session, point)
    return {
        "id": point.id,
        "session_id": point.session_id,
        "what": point.what,
        "who": point.who,
        "due": day(point.due),
        "follow_up": point.follow_up,
        "note": point.follow_up_note or "",
        "done_on": day(point.done_on),
        "reviewed_at": timestamp(point.reviewed_at),
        "carried_to_id": copy.id if copy is not None else None,
    }


def team_action(entry: history.ActionEntry) -> dict:
    return {
        "id": entry.id,
        "session_id": entry.session_id,
        "session_title": entry.session_title,
        "day": day(entry.day),
        "what": entry.what,
        "who": entry.who,
        "due": day(entry.due),
        "follow_up": entry.follow_up,
        "note": entry.note,
        "done_on": day(entry.done_on),
    }


def trend(item: history.Trend) -> dict:
    """An evaluation question over the series: per closed session its mean, null below that session's k
    (as on the team's page, which shows no count either)."""
    return {
        "key": item.key,
        "question": item.question,
        "low": item.low,
        "high": item.high,
        "points": [
            {"session_id": p.session_id, "title": p.title, "day": day(p.day), "k": p.k, "mean": p.mean}
            for p in item.points
        ],
    }


def team_series(found: history.History) -> dict:
    """The parts of a team's history besides its sessions: action points, themes, evaluation trends."""
    return {
        "actions": [team_action(entry) for entry in found.actions],
        "themes": [{"theme": t.theme, "last": day(t.last), "times": t.times} for t in found.themes],
        "trends": [trend(item) for item in found.trends],
    }
