"""Running a session: create, start, move through steps, time, notes, polls, close.

Plain functions on explicit arguments; they flush, never commit (delete_session excepted: see there).
Every change that phones or the projector show bumps the session's version so they notice it. Notes
are the exception: only the facilitator sees them, and bumping on every autosave would make every
phone refetch.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Connection, bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..methods.loader import Method, PollSpec
from ..models import (
    ActionPoint,
    Answer,
    Contribution,
    DeliberationSession,
    Dilemma,
    DilemmaStatus,
    EvaluationAnswer,
    Participant,
    Poll,
    PollStatus,
    SessionStatus,
    SessionStep,
    Team,
    User,
    utcnow,
)
from ..vote.scatter import scatter
from .plan import expand_steps

# No look-alikes (0/O, 1/I/L): codes are read off a projector and typed on phones.
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
JOIN_CODE_LENGTH = 8
MAX_NOTES_CHARS = 200_000
MAX_OPTIONS = 8
OPTION_LETTERS = "ABCDEFGH"
MAX_EXTRA_MINUTES = 120

log = logging.getLogger(__name__)


class SessionError(ValueError):
    """An action the session's state does not allow; the message is for the facilitator."""


class SessionClosedError(SessionError):
    """The session is closed and read-only."""


class DuplicateOptionError(SessionError):
    """An alternative that is already one of the vote's options."""


@dataclass(frozen=True)
class TimerState:
    elapsed_seconds: int
    planned_seconds: int
    running: bool

    @property
    def overrun_seconds(self) -> int:
        return max(0, self.elapsed_seconds - self.planned_seconds)


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def normalise_join_code(code: str) -> str:
    """Accept codes typed with spaces, dashes or lowercase letters."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())[:16]


def get_by_join_code(code: str) -> DeliberationSession | None:
    code = normalise_join_code(code)
    if len(code) < 6:
        return None
    return db.session.scalar(select(DeliberationSession).where(DeliberationSession.join_code == code))


def get_by_projector_token(token: str) -> DeliberationSession | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(DeliberationSession).where(DeliberationSession.projector_token == token))


def dilemma_snapshot(dilemma: Dilemma) -> dict:
    return {
        "slug": dilemma.slug,
        "title": dilemma.title,
        "body": dilemma.body,
        "short": dilemma.short or "",
        "language": dilemma.language,
        "options": list(dilemma.options or []),
    }


def method_of(session: DeliberationSession) -> Method:
    return Method.from_dict(session.method_snapshot)


def _options_from_dilemma(session: DeliberationSession, dilemma_index: int | None) -> list[dict]:
    if dilemma_index is None:
        return []
    dilemma = session.dilemmas_snapshot[dilemma_index]
    return [{"key": o["key"], "text": {"nl": o["text"], "en": o["text"]}} for o in dilemma["options"]]


def _poll_spec_dict(spec: PollSpec) -> dict:
    return asdict(spec)


def create_session(
    owner: User,
    method: Method,
    dilemmas: list[Dilemma],
    title: str,
    language: str = "nl",
    k: int = 3,
    facilitator_name: str = "",
    team: Team | None = None,
) -> DeliberationSession:
    """Create a session in the lobby, with snapshots of the method and the dilemmas.

    In a team (its series of sessions) whose previous session agreed action points, the session
    starts with a Terugblik on them: a step before the method's first (see teams/followup.py).
    """
    low, high = method.dilemmas
    if not low <= len(dilemmas) <= high:
        raise SessionError(f"this method needs {low}–{high} dilemma(s)")
    if any(d.status != DilemmaStatus.PUBLISHED for d in dilemmas):
        raise SessionError("only published dilemmas can be used")
    if len({d.slug for d in dilemmas}) != len(dilemmas):
        raise SessionError("a dilemma is chosen twice")
    if k < 2:
        raise SessionError("the anonymity threshold k is at least 2")
    if language not in ("nl", "en"):
        raise SessionError("unknown language")
    session = DeliberationSession(
        owner_id=owner.id,
        title=title.strip()[:200] or (dilemmas[0].title if dilemmas else method.name.get(language)),
        language=language,
        k=k,
        join_code=_unused_join_code(),
        projector_token=secrets.token_urlsafe(24),
        method_key=method.key,
        method_snapshot=method.to_dict(),
        dilemmas_snapshot=[dilemma_snapshot(d) for d in dilemmas],
        dilemma_slugs=[d.slug for d in dilemmas],
        facilitator_name=facilitator_name.strip()[:120],
        secret=secrets.token_hex(32),
        team_id=team.id if team is not None else None,
    )
    db.session.add(session)
    if team is not None:
        from ..teams.followup import with_terugblik
        from ..teams.service import previous_session

        db.session.flush()
        previous = previous_session(team, before=session)
        if previous is not None and previous.action_points:
            method = with_terugblik(method)
            session.method_snapshot = method.to_dict()
    poll_ids: dict[tuple[str, int | None], str] = {}
    for planned in expand_steps(method, len(dilemmas)):
        step = planned.step
        session.steps.append(
            SessionStep(
                position=planned.position,
                step_key=step.key,
                # The Terugblik is about the previous session, not about today's dilemma.
                dilemma_index=None if step.followup else planned.dilemma_index,
                planned_minutes=step.minutes,
            )
        )
        if step.poll is None:
            continue
        spec = step.poll
        poll = Poll(
            id=secrets.token_urlsafe(12),
            position=planned.position,
            key=spec.key,
            dilemma_index=planned.dilemma_index,
            type=spec.type,
            spec=_poll_spec_dict(spec),
            options=[{"key": o.key, "text": {"nl": o.text.nl, "en": o.text.en}} for o in spec.options],
            compare_with_id=poll_ids.get((spec.compare_with, planned.dilemma_index)),
        )
        poll_ids[(spec.key, planned.dilemma_index)] = poll.id
        session.polls.append(poll)
    db.session.flush()
    return session


def _unused_join_code() -> str:
    while True:
        code = new_join_code()
        if get_by_join_code(code) is None:
            return code


def bump_version(session: DeliberationSession) -> None:
    """Count a change atomically (no read-modify-write between app processes)."""
    db.session.execute(
        update(DeliberationSession)
        .where(DeliberationSession.id == session.id)
        .values(version=DeliberationSession.version + 1)
    )
    db.session.expire(session, ["version"])


def _require_open(session: DeliberationSession) -> None:
    if session.is_closed:
        raise SessionClosedError("this session is closed and can no longer be changed")


def current_step(session: DeliberationSession) -> SessionStep:
    return session.steps[session.current_position]


def step_at(session: DeliberationSession, position: int) -> SessionStep:
    if not 0 <= position < len(session.steps):
        raise SessionError("no such step")
    return session.steps[position]


def start_session(session: DeliberationSession, now: datetime | None = None) -> None:
    """Move from the lobby to running and start the first step's timer."""
    _require_open(session)
    if session.status != SessionStatus.LOBBY:
        raise SessionError("the session has already started")
    now = now or utcnow()
    if session.team_id is not None:
        from ..teams.followup import settle_terugblik

        settle_terugblik(session)  # the team's last session may have come after this one was made
    session.status = SessionStatus.RUNNING.value
    session.started_at = now
    session.archived_at = None  # an archived session that is started is current again
    _start_timer(current_step(session), now)
    bump_version(session)
    db.session.flush()


def close_session(session: DeliberationSession, now: datetime | None = None) -> None:
    """Close the session: timers stop, open polls close, everything becomes read-only."""
    _require_open(session)
    now = now or utcnow()
    for step in session.steps:
        _pause_timer(step, now)
    for poll in session.polls:
        if poll.status == PollStatus.OPEN:
            close_poll(session, poll)
    session.status = SessionStatus.CLOSED.value
    session.closed_at = now
    session.secret = None  # nobody's token can be linked to anything from now on
    session.evaluation_open = False
    from ..models import Contribution, EvaluationAnswer, Participant
    from ..vote.evaluation import tally, wipe_voter_keys
    from ..vote.scatter import scatter

    wipe_voter_keys(session)
    tally(session)  # the evaluation as sums, for the insights (only at k or more)
    scatter(EvaluationAnswer, EvaluationAnswer.session_id == session.id)
    scatter(Contribution, Contribution.session_id == session.id)
    scatter(Participant, Participant.session_id == session.id)
    bump_version(session)
    db.session.flush()


def _require_not_running(session: DeliberationSession, action: str) -> None:
    if session.status == SessionStatus.RUNNING:
        raise SessionError(f"a running session cannot be {action}: close it first")


def archive_session(session: DeliberationSession, now: datetime | None = None) -> None:
    """Take a session that is not running off the default sessions list; nothing in it changes.

    Archiving again keeps the first moment. Not the retention purge: raw answers stay until then.
    """
    _require_not_running(session, "archived")
    if session.archived_at is None:
        session.archived_at = now or utcnow()
    db.session.flush()


def unarchive_session(session: DeliberationSession) -> None:
    """Put an archived session back on the default sessions list."""
    session.archived_at = None
    db.session.flush()


def archived_filter(archived: bool) -> ColumnElement[bool]:
    """For sessions_for: only archived sessions, or only those not archived."""
    column = DeliberationSession.archived_at
    return column.is_not(None) if archived else column.is_(None)


def delete_session(session: DeliberationSession) -> None:
    """Delete a session that is not running, with everything in it, at once: answers, participants,
    contributions, evaluation answers, steps, polls and action points.

    Unlike the functions above it commits: on SQLite the write-ahead log can be emptied of the
    deleted rows only once the deletion is committed, and it is emptied right after (best effort).
    """
    _require_not_running(session, "deleted")
    poll_ids = select(Poll.id).where(Poll.session_id == session.id)
    db.session.execute(delete(Answer).where(Answer.poll_id.in_(poll_ids)))
    db.session.execute(delete(Contribution).where(Contribution.session_id == session.id))
    db.session.execute(delete(EvaluationAnswer).where(EvaluationAnswer.session_id == session.id))
    db.session.execute(delete(Participant).where(Participant.session_id == session.id))
    db.session.delete(session)  # its steps, polls and action points go with it (cascade)
    db.session.commit()
    from ..summary.retention import empty_wal

    empty_wal("the deleted session's rows")


def go_to_step(session: DeliberationSession, position: int, now: datetime | None = None) -> list[Poll]:
    """Make position the current step; the timer moves along while the session runs.

    A vote left open on the step being left is closed (phones would otherwise keep a form for a
    question the room has moved past); the closed polls are returned so the view can say so.
    Contributions on the projector belong to their step: leaving it takes them off unless pinned.
    """
    _require_open(session)
    target = step_at(session, position)
    if position == session.current_position:
        return []
    now = now or utcnow()
    previous = current_step(session)
    closed = [
        poll
        for poll in session.polls
        if poll.position == previous.position and poll.status == PollStatus.OPEN
    ]
    for poll in closed:
        close_poll(session, poll)
    running = previous.timer_started_at is not None
    _pause_timer(previous, now)
    session.current_position = position
    if not session.pin_contributions:
        session.show_contributions = False
    if session.status == SessionStatus.RUNNING and (running or target.elapsed_seconds == 0):
        _start_timer(target, now)
    bump_version(session)
    db.session.flush()
    return closed


def move(session: DeliberationSession, direction: int, now: datetime | None = None) -> list[Poll]:
    """Go to the next (+1) or previous (-1) step; stay put at either end."""
    position = min(max(session.current_position + direction, 0), len(session.steps) - 1)
    return go_to_step(session, position, now)


def _start_timer(step: SessionStep, now: datetime) -> None:
    if step.timer_started_at is None:
        step.timer_started_at = now


def _pause_timer(step: SessionStep, now: datetime) -> None:
    if step.timer_started_at is not None:
        step.elapsed_seconds += max(0, int((now - step.timer_started_at).total_seconds()))
        step.timer_started_at = None


def control_timer(
    session: DeliberationSession, action: str, minutes: int = 0, now: datetime | None = None
) -> None:
    """Start or pause the current step's timer, or add minutes to its plan."""
    _require_open(session)
    if session.status != SessionStatus.RUNNING:
        raise SessionError("start the session first")
    now = now or utcnow()
    step = current_step(session)
    if action == "start":
        _start_timer(step, now)
    elif action == "pause":
        _pause_timer(step, now)
    elif action == "add":
        if not 1 <= minutes <= 60 or step.extra_minutes + minutes > MAX_EXTRA_MINUTES:
            raise SessionError("add between 1 and 60 minutes")
        step.extra_minutes += minutes
    else:
        raise SessionError("unknown timer action")
    bump_version(session)
    db.session.flush()


def timer_state(step: SessionStep, now: datetime | None = None) -> TimerState:
    now = now or utcnow()
    elapsed = step.elapsed_seconds
    if step.timer_started_at is not None:
        elapsed += max(0, int((now - step.timer_started_at).total_seconds()))
    return TimerState(
        elapsed, (step.planned_minutes + step.extra_minutes) * 60, step.timer_started_at is not None
    )


def totals(session: DeliberationSession, now: datetime | None = None) -> TimerState:
    """Time spent on all steps so far against the whole plan."""
    states = [timer_state(step, now) for step in session.steps]
    return TimerState(
        sum(s.elapsed_seconds for s in states),
        sum(step.planned_minutes * 60 for step in session.steps),
        any(s.running for s in states),
    )


def save_notes(session: DeliberationSession, position: int, notes: str) -> None:
    """Replace a step's notes (saved as the facilitator types)."""
    _require_open(session)
    if len(notes) > MAX_NOTES_CHARS:
        raise SessionError(f"notes are limited to {MAX_NOTES_CHARS} characters")
    step = step_at(session, position)
    step.notes = notes.replace("\x00", "")
    db.session.flush()


def add_action_point(session: DeliberationSession, what: str, who: str, due: date | None) -> ActionPoint:
    _require_open(session)
    what, who = (what or "").strip(), (who or "").strip()
    if not what:
        raise SessionError("describe what will be done")
    point = ActionPoint(what=what[:500], who=who[:120], due=due)
    session.action_points.append(point)
    bump_version(session)
    db.session.flush()
    return point


def delete_action_point(session: DeliberationSession, point_id: int) -> None:
    _require_open(session)
    point = next((p for p in session.action_points if p.id == point_id), None)
    if point is None:
        raise SessionError("no such action point")
    session.action_points.remove(point)
    bump_version(session)
    db.session.flush()


def get_poll(session: DeliberationSession, poll_id: str) -> Poll | None:
    return next((poll for poll in session.polls if poll.id == poll_id), None)


def poll_options(session: DeliberationSession, poll: Poll) -> list[dict]:
    """The options participants choose from: the poll's own, or the dilemma's plus alternatives."""
    if poll.spec.get("from_dilemma") and poll.status == PollStatus.PENDING:
        return _options_from_dilemma(session, poll.dilemma_index) + list(poll.options)
    return list(poll.options)


def open_poll(session: DeliberationSession, poll: Poll) -> None:
    """Open a poll (closing any other open one); dilemma options are fixed from now on."""
    _require_open(session)
    if session.status != SessionStatus.RUNNING:
        raise SessionError("start the session first")
    if poll.status == PollStatus.CLOSED:
        raise SessionError("this poll is closed")
    if poll.status == PollStatus.OPEN:
        return
    options = poll_options(session, poll)
    if poll.spec.get("from_room") and len(options) < 2:
        raise SessionError("type at least two options for this vote before opening it")
    for other in session.polls:
        if other.status == PollStatus.OPEN:
            close_poll(session, other)
    try:
        with db.session.begin_nested():  # one open vote per session: the database has the last word
            poll.options = options
            poll.status = PollStatus.OPEN.value
            db.session.flush()
    except IntegrityError:
        db.session.expire(poll)
        raise SessionError("another vote of this session was opened at the same moment; reload") from None
    bump_version(session)
    db.session.flush()


def close_poll(session: DeliberationSession, poll: Poll) -> None:
    """Close a poll and wipe its voter keys: the answers stay, unlinkable to anyone."""
    from ..models import Answer

    _require_open(session)
    if poll.status != PollStatus.OPEN:
        raise SessionError("this poll is not open")
    poll.status = PollStatus.CLOSED.value
    db.session.flush()
    db.session.execute(update(Answer).where(Answer.poll_id == poll.id).values(voter_key=None))
    scatter(Answer, Answer.poll_id == poll.id)  # stored in no particular order from now on
    bump_version(session)
    db.session.flush()


def add_alternative(
    session: DeliberationSession, dilemma_index: int | None, text: str, position: int | None = None
) -> str:
    """Add an option to the choice polls that take it, and return its key.

    At a step whose own poll takes the room's options (`options: from_room`, such as the
    candidate questions of a Socratic dialogue), the option goes to that poll only. Otherwise it
    is an alternative beyond the dilemma's own, added to every choice poll on that dilemma that
    has not opened.
    """
    _require_open(session)
    text = (text or "").strip()
    if not text:
        raise SessionError("describe the alternative")
    if len(text) > 300:
        raise SessionError("an alternative is at most 300 characters")
    pending = [poll for poll in session.polls if poll.status == PollStatus.PENDING]
    targets = [poll for poll in pending if poll.spec.get("from_room") and poll.position == position]
    if not targets:
        targets = [
            poll for poll in pending if poll.spec.get("from_dilemma") and poll.dilemma_index == dilemma_index
        ]
    if not targets:
        raise SessionError("there is no later choice poll to add an alternative to")
    existing = poll_options(session, targets[0])
    if any(_same_text(text, option["text"][language]) for option in existing for language in ("nl", "en")):
        raise DuplicateOptionError("this option is already in the vote")
    used = {o["key"] for o in existing}
    if len(used) >= MAX_OPTIONS:
        raise SessionError(f"a poll has at most {MAX_OPTIONS} options")
    key = next(letter for letter in OPTION_LETTERS if letter not in used)
    for poll in targets:
        poll.options = [*poll.options, {"key": key, "text": {"nl": text, "en": text}}]
    bump_version(session)
    db.session.flush()
    return key


def _same_text(first: str, second: str) -> bool:
    """Equal apart from case, spacing and a final full stop: the same option twice."""

    def norm(text: str) -> str:
        return " ".join((text or "").casefold().split()).rstrip(".!? ")

    return norm(first) == norm(second)


def sessions_for(user: User, *criteria) -> list[DeliberationSession]:
    """Sessions the user may see (their own; coordinators and admins see all), newest first,
    narrowed by any `criteria` (SQLAlchemy expressions)."""
    statement = select(DeliberationSession).where(*criteria).order_by(DeliberationSession.created_at.desc())
    if not user.can_curate:
        statement = statement.where(DeliberationSession.owner_id == user.id)
    return list(db.session.scalars(statement))


def can_control(user: User, session: DeliberationSession) -> bool:
    """Only the owner and administrators run a session."""
    return user.is_authenticated and (user.id == session.owner_id or user.is_admin)


def set_revealed(session: DeliberationSession, poll: Poll, revealed: bool) -> None:
    """Show or hide a poll's results on the projector (the facilitator decides when)."""
    _require_open(session)
    if poll.status == PollStatus.PENDING:
        raise SessionError("this poll has not been opened yet")
    poll.revealed = revealed
    bump_version(session)
    db.session.flush()


def participant_count(session: DeliberationSession) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Participant).where(Participant.session_id == session.id)
    )


_VERSION_BY_JOIN_CODE = select(DeliberationSession.version).where(
    DeliberationSession.join_code == bindparam("code")
)


def version_by_join_code(code: str, connection: Connection | None = None) -> int | None:
    """Only the session's version (on `connection`, or else the ORM session's)."""
    code = normalise_join_code(code)
    if len(code) < 6:
        return None
    return (connection or db.session).scalar(_VERSION_BY_JOIN_CODE, {"code": code})


def live_signature(token: str) -> str | None:
    """One read for the projector's ETag: version, participants and answers to the open poll."""
    if not token or len(token) > 64:
        return None
    session = DeliberationSession.__table__
    participants = (
        select(func.count())
        .select_from(Participant)
        .where(Participant.session_id == session.c.id)
        .scalar_subquery()
    )
    answers = (
        select(func.count())
        .select_from(Answer)
        .join(Poll, Poll.id == Answer.poll_id)
        .where(Poll.session_id == session.c.id, Poll.status == PollStatus.OPEN.value)
        .scalar_subquery()
    )
    row = db.session.execute(
        select(session.c.version, participants, answers).where(session.c.projector_token == token)
    ).first()
    return None if row is None else f"v{row[0]}-{row[1]}-{row[2]}"


def set_show_contributions(session: DeliberationSession, show: bool) -> None:
    """Show or hide the contributions released at this step on the projector."""
    _require_open(session)
    session.show_contributions = show
    bump_version(session)
    db.session.flush()


def set_pin_contributions(session: DeliberationSession, pinned: bool) -> None:
    """Pin: every released contribution stays on the projector across steps until unpinned."""
    _require_open(session)
    session.pin_contributions = pinned
    if pinned:
        session.show_contributions = True
    bump_version(session)
    db.session.flush()


def set_show_join(session: DeliberationSession, show: bool) -> None:
    """Show the join QR code large on the projector again (or back to the small corner code)."""
    _require_open(session)
    session.show_join = show
    bump_version(session)
    db.session.flush()


MAX_SCREEN_TEXT_CHARS = 600


def set_screen_text(session: DeliberationSession, position: int, text: str, shown: bool) -> None:
    """Keep a question or statement with a step and put it on (or take it off) the screen."""
    _require_open(session)
    step = step_at(session, position)
    text = "\n".join(line.rstrip() for line in (text or "").replace("\x00", "").strip().splitlines())
    if len(text) > MAX_SCREEN_TEXT_CHARS:
        raise SessionError(f"text on screen is limited to {MAX_SCREEN_TEXT_CHARS} characters")
    if shown and not text:
        raise SessionError("type the text to put on the screen")
    step.screen_text = text
    step.screen_shown = shown
    bump_version(session)
    db.session.flush()


CASE_CONSENT_CHOICES = ("full", "redacted", "question")
MAX_REDACTED_CHARS = 20_000


def set_case_consent(session: DeliberationSession, consent: str, redacted: str = "") -> None:
    """Record what the case presenter allows on paper; every summary and export follows it."""
    _require_open(session)
    if consent not in CASE_CONSENT_CHOICES:
        raise SessionError("unknown choice")
    redacted = (redacted or "").strip()
    if consent == "redacted" and not redacted:
        raise SessionError("write the redacted text of the case")
    if len(redacted) > MAX_REDACTED_CHARS:
        raise SessionError(f"the redacted text is limited to {MAX_REDACTED_CHARS} characters")
    session.case_consent = consent
    session.case_redacted = redacted if consent == "redacted" else session.case_redacted
    bump_version(session)  # the projector and the phones show the case as consented
    db.session.flush()
