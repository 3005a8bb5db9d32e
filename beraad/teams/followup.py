"""The Terugblik: a team's new session starts by looking back on what its previous session agreed.

When a session is created in a team whose previous session has action points, a "Terugblik" step is
put before the method's first step (`with_terugblik`); as it starts, that is decided again
(`settle_terugblik`), since the session the team held last may have come after it was planned.
At that step the facilitator marks each of those points: done, in progress, dropped or carried
over (a copy then lives on in the new session).

Plain functions: they flush, the caller commits.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from ..extensions import db
from ..methods.loader import Method, Step, Text
from ..models import (
    ActionPoint,
    Contribution,
    DeliberationSession,
    FollowUp,
    Poll,
    SessionStatus,
    SessionStep,
    utcnow,
)
from ..sessions import service
from ..summary.labels import follow_up_label
from .service import previous_session

TERUGBLIK_KEY = "terugblik"
TERUGBLIK_MINUTES = 5
MAX_NOTE_CHARS = 500
# What can be recorded at the Terugblik ("open" is only what a point is before it is looked back on).
STATUSES = (FollowUp.DONE, FollowUp.IN_PROGRESS, FollowUp.DROPPED, FollowUp.CARRIED)
# For the facilitator's form, in the interface language (the projector and the summary word the
# statuses in the session's language: summary/labels.py).
STATUS_LABELS = {
    FollowUp.DONE: _l("Done"),
    FollowUp.IN_PROGRESS: _l("In progress"),
    FollowUp.DROPPED: _l("Dropped"),
    FollowUp.CARRIED: _l("Carried over"),
}

TERUGBLIK = Step(
    key=TERUGBLIK_KEY,
    title=Text(nl="Terugblik", en="Looking back"),
    minutes=TERUGBLIK_MINUTES,
    prompt=Text(
        nl="Wat spraken we de vorige keer af, en hoe staat het ermee? Per afspraak: is het gedaan, "
        "loopt het nog, laten we het vallen of schuift het door naar vandaag? Het gaat om wat we "
        "ervan leren, niet om wie het liet liggen.",
        en="What did we agree last time, and where do we stand? For each agreement: is it done, is "
        "it still in progress, do we drop it, or does it carry over to today? This is about what we "
        "learn from it, not about who let it slip.",
    ),
    facilitator=Text(
        nl="Loop de actiepunten van de vorige sessie één voor één langs en leg per punt vast wat "
        "ermee gebeurde: **gedaan**, **loopt nog**, **vervallen** of **schuift door** (dan komt het "
        "terug op de lijst van vandaag). Een korte toelichting helpt het team later.\n\n"
        "Houd het kort en zonder schuld: vraag wat hielp of wat in de weg zat, niet wie tekortschoot. "
        "Een punt dat niet lukte, zegt vaak iets over tijd, mandaat of de vraag zelf. Dat is "
        "waardevol om te benoemen. Spreek over rollen, niet over namen.",
        en="Go through the previous session's action points one by one and record what became of "
        "each: **done**, **in progress**, **dropped** or **carried over** (it then returns to "
        "today's list). A short note helps the team later.\n\n"
        "Keep it brief and free of blame: ask what helped or what got in the way, not who fell "
        "short. A point that did not work out often says something about time, mandate or the "
        "question itself, which is worth naming. Speak of roles, not names.",
    ),
    followup=True,
)


def with_terugblik(method: Method) -> Method:
    """The method with the Terugblik step before its first step (its key made unique if the method
    has a step of that name already, such as the Socratic dialogue's own closing review)."""
    keys = {step.key for step in method.steps}
    key, number = TERUGBLIK_KEY, 1
    while key in keys:
        number += 1
        key = f"{TERUGBLIK_KEY}-{number}"
    step = replace(TERUGBLIK, key=key)
    return replace(method, steps=(step, *method.steps), minutes=method.minutes + step.minutes)


def has_terugblik(session: DeliberationSession) -> bool:
    return any(step.followup for step in service.method_of(session).steps)


def _shift_positions(session: DeliberationSession, by: int) -> None:
    """Move every step and poll of the session `by` places (in two statements, so that the unique
    (session, position) of the steps holds after each one)."""
    for model in (SessionStep, Poll):
        where = model.session_id == session.id
        db.session.execute(update(model).where(where).values(position=-(model.position + by) - 1))
        db.session.execute(update(model).where(where).values(position=-model.position - 1))
    db.session.execute(
        update(Contribution)
        .where(Contribution.session_id == session.id, Contribution.released_position.is_not(None))
        .values(released_position=Contribution.released_position + by)
    )
    db.session.expire(session, ["steps", "polls"])


def settle_terugblik(session: DeliberationSession) -> bool:
    """Decide again, as the session starts, whether it opens with a Terugblik: sessions are often
    planned months ahead, and what decides it is the session the team held last, which may have
    taken place (and agreed action points, or none) after this one was made. The step is put in
    before the first step, or taken out while nothing was written at it. Returns whether the plan
    changed. Only for a session of a team that is still in the lobby."""
    if session.team is None or session.status != SessionStatus.LOBBY.value:
        return False
    previous = previous_session(session.team, before=session)
    wanted = previous is not None and bool(previous.action_points)
    if wanted == has_terugblik(session):
        return False
    method = service.method_of(session)
    if wanted:
        method = with_terugblik(method)
        _shift_positions(session, 1)
        step = method.steps[0]
        db.session.add(
            SessionStep(
                session_id=session.id, position=0, step_key=step.key, dilemma_index=None,
                planned_minutes=step.minutes,
            )
        )  # fmt: skip
    else:
        first = service.step_at(session, 0)
        if first.notes.strip() or first.screen_text.strip():
            return False  # something was written at it: keep it
        db.session.delete(first)
        db.session.flush()
        _shift_positions(session, -1)
        dropped = [step for step in method.steps if step.followup]
        kept = tuple(step for step in method.steps if not step.followup)
        method = replace(method, steps=kept, minutes=method.minutes - sum(step.minutes for step in dropped))
    session.method_snapshot = method.to_dict()
    db.session.flush()  # steps and polls were expired by the shift: they load afresh, in order
    return True


def points_to_review(session: DeliberationSession) -> list[ActionPoint]:
    """The action points of the team's previous session, when this session starts with a Terugblik."""
    if session.team is None or not has_terugblik(session):
        return []
    previous = previous_session(session.team, before=session)
    return list(previous.action_points) if previous is not None else []


def carried_copy(session: DeliberationSession, point: ActionPoint) -> ActionPoint | None:
    """The copy of point that carries it over into session, if there is one."""
    return next((p for p in session.action_points if p.carried_from_id == point.id), None)


def _unchanged(copy: ActionPoint, point: ActionPoint) -> bool:
    return (copy.what, copy.who, copy.due) == (
        point.what,
        point.who,
        point.due,
    ) and copy.follow_up == FollowUp.OPEN


def record_follow_up(
    session: DeliberationSession, point: ActionPoint, status: str, note: str = "", today: date | None = None
) -> ActionPoint | None:
    """Record what became of one of the points the session looks back on.

    status: done | in_progress | dropped | carried. Done sets the day it was done (kept when recorded
    again); carried puts one copy of the point (what, who, by when) into this session, and changing
    away from carried takes that copy out again as long as nobody changed it. Returns the copy for
    carried, else None. Only while the session is open.
    """
    service._require_open(session)
    if status not in STATUSES:
        raise service.SessionError(
            f"unknown follow-up status {status!r} (one of: {', '.join(s.value for s in STATUSES)})"
        )
    if all(candidate.id != point.id for candidate in points_to_review(session)):
        raise service.SessionError("this action point is not one this session looks back on")
    note = (note or "").replace("\x00", "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise service.SessionError(f"a note is limited to {MAX_NOTE_CHARS} characters")
    if status == FollowUp.DONE:
        if point.follow_up != FollowUp.DONE or point.done_on is None:
            point.done_on = today or date.today()
    else:
        point.done_on = None
    point.follow_up = FollowUp(status).value
    point.follow_up_note = note
    point.reviewed_at = utcnow()
    copy = carried_copy(session, point)
    if status == FollowUp.CARRIED:
        if copy is None:
            copy = ActionPoint(what=point.what, who=point.who, due=point.due, carried_from_id=point.id)
            session.action_points.append(copy)
    elif copy is not None and _unchanged(copy, point):
        session.action_points.remove(copy)
        copy = None
    service.bump_version(session)
    db.session.flush()
    return copy if status == FollowUp.CARRIED else None


def followup_view(session: DeliberationSession) -> list[dict]:
    """The points as the screens show them: what, who (a role), by when, status and its note."""
    return [
        {
            "id": point.id,
            "what": point.what,
            "who": point.who,
            "due": point.due,
            "status": point.follow_up,
            # In the session's language, as the summary words it (the projector speaks that language).
            "label": follow_up_label(point.follow_up, session.language),
            "note": point.follow_up_note,
        }
        for point in points_to_review(session)
    ]
