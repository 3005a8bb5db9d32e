"""SQLAlchemy models."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db


def utcnow() -> datetime:
    """Return the current time as a naive UTC datetime (portable across databases)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Role(enum.StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    FACILITATOR = "facilitator"


class DilemmaStatus(enum.StrEnum):
    DRAFT = "draft"
    REVIEW = "review"
    PUBLISHED = "published"
    RETIRED = "retired"


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.FACILITATOR.value)
    is_enabled: Mapped[bool] = mapped_column(default=True)
    # Part of the login cookie: bumping it logs out every existing cookie of this user.
    session_version: Mapped[int] = mapped_column(default=1)
    # Set with a one-time password from an administrator: the user must choose their own first.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def get_id(self) -> str:
        return f"{self.id}.{self.session_version}"

    @property
    def is_active(self) -> bool:  # used by Flask-Login
        return self.is_enabled

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def can_curate(self) -> bool:
        return self.role in (Role.ADMIN, Role.COORDINATOR)

    @property
    def label(self) -> str:
        return self.display_name or self.username


class Dilemma(db.Model):
    __tablename__ = "dilemma"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(5), default="nl")
    status: Mapped[str] = mapped_column(String(20), default=DilemmaStatus.DRAFT.value, index=True)
    body: Mapped[str] = mapped_column(Text, default="")
    themes: Mapped[list] = mapped_column(JSON, default=list)
    levels: Mapped[list] = mapped_column(JSON, default=list)
    roles: Mapped[list] = mapped_column(JSON, default=list)
    options: Mapped[list] = mapped_column(JSON, default=list)
    sources: Mapped[list] = mapped_column(JSON, default=list)
    protagonist: Mapped[str] = mapped_column(String(60), default="", server_default="")
    short: Mapped[str] = mapped_column(Text, default="", server_default="")  # game cards, projector
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    tags: Mapped[list[DilemmaTag]] = relationship(back_populates="dilemma", cascade="all, delete-orphan")
    revisions: Mapped[list[DilemmaRevision]] = relationship(
        back_populates="dilemma",
        cascade="all, delete-orphan",
        order_by="DilemmaRevision.number.desc()",
        lazy="dynamic",
    )


class DilemmaTag(db.Model):
    """One theme, level or role of a dilemma, kept as rows so filters use an index."""

    __tablename__ = "dilemma_tag"

    dilemma_id: Mapped[int] = mapped_column(ForeignKey("dilemma.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)  # theme | level | role
    value: Mapped[str] = mapped_column(String(60), primary_key=True)

    dilemma: Mapped[Dilemma] = relationship(back_populates="tags")

    __table_args__ = (Index("ix_dilemma_tag_kind_value", "kind", "value"),)


class DilemmaRevision(db.Model):
    """A full snapshot of a dilemma after each change: who, what, when."""

    __tablename__ = "dilemma_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    dilemma_id: Mapped[int] = mapped_column(ForeignKey("dilemma.id", ondelete="CASCADE"))
    number: Mapped[int]
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    change: Mapped[str] = mapped_column(String(20))  # import | create | edit | status
    note: Mapped[str] = mapped_column(String(300), default="")
    snapshot: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    dilemma: Mapped[Dilemma] = relationship(back_populates="revisions")
    author: Mapped[User | None] = relationship()

    __table_args__ = (UniqueConstraint("dilemma_id", "number"),)


class MethodDefinition(db.Model):
    """A deliberation method as imported from methods/ (sessions keep their own snapshot)."""

    __tablename__ = "method_definition"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    definition: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SessionStatus(enum.StrEnum):
    LOBBY = "lobby"
    RUNNING = "running"
    CLOSED = "closed"


class PollStatus(enum.StrEnum):
    PENDING = "pending"
    OPEN = "open"
    CLOSED = "closed"


class DeliberationSession(db.Model):
    """One meeting: a method run on one or more dilemmas, with snapshots of both."""

    __tablename__ = "deliberation_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(5), default="nl")
    k: Mapped[int] = mapped_column(default=3)
    status: Mapped[str] = mapped_column(String(10), default=SessionStatus.LOBBY.value)
    join_code: Mapped[str] = mapped_column(String(16), unique=True)
    projector_token: Mapped[str] = mapped_column(String(64), unique=True)
    method_key: Mapped[str] = mapped_column(String(60))
    # Large: loaded only when used, so the participants' hot paths do not parse them.
    method_snapshot: Mapped[dict] = mapped_column(JSON, deferred=True)
    dilemmas_snapshot: Mapped[list] = mapped_column(JSON, deferred=True)
    # The slugs of those dilemmas, in order: what the insights count themes by, without reading
    # every session's whole snapshot (cases and all).
    dilemma_slugs: Mapped[list] = mapped_column(JSON, default=list)
    current_position: Mapped[int] = mapped_column(default=0)
    show_contributions: Mapped[bool] = mapped_column(default=False)
    # Pinned contributions stay on the projector across steps; otherwise moving on clears them.
    pin_contributions: Mapped[bool] = mapped_column(default=False)
    # While running, the projector shows a small join code in a corner unless this asks for it large.
    show_join: Mapped[bool] = mapped_column(default=False)
    evaluation_open: Mapped[bool] = mapped_column(default=False)
    # What the case presenter agreed may go on paper: full | redacted | question.
    case_consent: Mapped[str] = mapped_column(String(10), default="full")
    case_redacted: Mapped[str] = mapped_column(Text, default="")
    # After the retention period: the aggregates the summary needs; raw answers are gone.
    archived_summary: Mapped[dict | None] = mapped_column(JSON, nullable=True, deferred=True)
    purged_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Off the default sessions list (its owner or an admin archived it); nothing in it changes.
    # Not the purge above: an archived session keeps its raw data until the retention period ends.
    archived_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Bumped on every change; phones and the projector poll it (ETag) to learn of changes.
    version: Mapped[int] = mapped_column(default=1)
    facilitator_name: Mapped[str] = mapped_column(String(120), default="")
    # Keys participants' tokens (HMAC); deleted when the session closes.
    secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # The team whose series this session belongs to, and the day it is planned for (calendar feed).
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("team.id", ondelete="SET NULL"), nullable=True, index=True
    )
    scheduled_for: Mapped[date | None] = mapped_column(nullable=True)

    owner: Mapped[User] = relationship()
    team: Mapped[Team | None] = relationship()
    steps: Mapped[list[SessionStep]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="SessionStep.position"
    )
    polls: Mapped[list[Poll]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="Poll.position"
    )
    action_points: Mapped[list[ActionPoint]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="ActionPoint.id"
    )
    tallies: Mapped[list[EvaluationTally]] = relationship(cascade="all, delete-orphan")

    @property
    def is_closed(self) -> bool:
        return self.status == SessionStatus.CLOSED


class SessionStep(db.Model):
    """A step of a session's plan, with its notes and its timer."""

    __tablename__ = "session_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("deliberation_session.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    step_key: Mapped[str] = mapped_column(String(60))
    dilemma_index: Mapped[int | None] = mapped_column(nullable=True)
    planned_minutes: Mapped[int]
    extra_minutes: Mapped[int] = mapped_column(default=0)
    elapsed_seconds: Mapped[int] = mapped_column(default=0)
    timer_started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    # A question or statement the facilitator puts on the projector and the phones at this step.
    screen_text: Mapped[str] = mapped_column(Text, default="")
    screen_shown: Mapped[bool] = mapped_column(default=False)

    session: Mapped[DeliberationSession] = relationship(back_populates="steps")

    __table_args__ = (UniqueConstraint("session_id", "position"),)


class Poll(db.Model):
    """A question participants answer at one step; options may grow until it opens."""

    __tablename__ = "poll"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, not guessable
    session_id: Mapped[int] = mapped_column(
        ForeignKey("deliberation_session.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    key: Mapped[str] = mapped_column(String(60))
    dilemma_index: Mapped[int | None] = mapped_column(nullable=True)
    type: Mapped[str] = mapped_column(String(10))
    spec: Mapped[dict] = mapped_column(JSON)  # the method's poll definition (question, scale …)
    options: Mapped[list] = mapped_column(JSON, default=list)  # [{key, text: {nl, en}}]
    compare_with_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str] = mapped_column(String(10), default=PollStatus.PENDING.value)
    revealed: Mapped[bool] = mapped_column(default=False)

    session: Mapped[DeliberationSession] = relationship(back_populates="polls")

    # One open vote per session, whatever the number of app servers opening one at the same moment.
    __table_args__ = (
        Index("uq_poll_one_open_per_session", "session_id", unique=True,
              sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
    )  # fmt: skip


class FollowUp(enum.StrEnum):
    """What became of an action point, recorded in the next session of its team (the Terugblik)."""

    OPEN = "open"  # not looked back on yet
    DONE = "done"
    IN_PROGRESS = "in_progress"
    DROPPED = "dropped"
    CARRIED = "carried"  # carried over: a copy lives on in the next session (carried_from_id)


class ActionPoint(db.Model):
    """What the group agreed to do: what, who (as a role, never a name), by when; and, once the
    team looked back on it in its next session, what became of it."""

    __tablename__ = "action_point"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("deliberation_session.id", ondelete="CASCADE"), index=True
    )
    what: Mapped[str] = mapped_column(String(500))
    who: Mapped[str] = mapped_column(String(120), default="")
    due: Mapped[date | None] = mapped_column(nullable=True)
    follow_up: Mapped[str] = mapped_column(String(12), default=FollowUp.OPEN.value, server_default="open")
    follow_up_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The day it was marked done (to tell "done within its date"), and when it was looked back on.
    done_on: Mapped[date | None] = mapped_column(nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # A point carried over from an earlier session of the team: the point it continues.
    carried_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("action_point.id", ondelete="SET NULL"), nullable=True, index=True
    )

    session: Mapped[DeliberationSession] = relationship(back_populates="action_points")


class Team(db.Model):
    """A facilitator's own group that deliberates regularly: its sessions form a series.

    Facilitators see their own teams; coordinators and administrators see all."""

    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    # Where the team works (a level of the bank's vocabulary: gemeente, rijk, uitvoering …), or "".
    level: Mapped[str] = mapped_column(String(40), default="", server_default="")
    # The secret in the address of the team's calendar feed (.ics): calendar apps cannot sign in.
    calendar_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner: Mapped[User] = relationship()


class Participant(db.Model):
    """Someone who joined a session: only a keyed hash of their random token, nothing else.

    No name, address, user agent or time; the key cannot be turned back into the token,
    and it is useless once the session's secret is deleted at close.
    """

    __tablename__ = "participant"
    __table_args__ = {"sqlite_with_rowid": False}  # stored by key, not in the order people joined

    session_id: Mapped[int] = mapped_column(
        ForeignKey("deliberation_session.id", ondelete="CASCADE"), primary_key=True
    )
    participant_key: Mapped[str] = mapped_column(String(64), primary_key=True)


class Answer(db.Model):
    """One participant's answer to one poll.

    The id is random (no order), there is no time column and no link to a participant:
    voter_key = HMAC(session secret, token + poll id) exists only while the poll is open,
    to keep one answer per person and let them change it; it is wiped when the poll closes.
    """

    __tablename__ = "answer"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    poll_id: Mapped[str] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    value: Mapped[dict] = mapped_column(JSON)
    voter_key: Mapped[str | None] = mapped_column(String(64), nullable=True)

    # SQLite: stored by the random id, not by a hidden arrival counter (see vote/scatter.py).
    __table_args__ = (UniqueConstraint("poll_id", "voter_key"), {"sqlite_with_rowid": False})


class ContributionStatus(enum.StrEnum):
    PENDING = "pending"
    RELEASED = "released"
    REJECTED = "rejected"


class Contribution(db.Model):
    """An anonymous text a participant sends in: a value, an argument, a question.

    Identical texts are counted in one row (an atomic upsert), not stored twice. The facilitator
    releases them to the projector, which shows them by a random sort key, never by arrival.
    """

    __tablename__ = "contribution"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("deliberation_session.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(10), default=ContributionStatus.PENDING.value)
    flagged: Mapped[bool] = mapped_column(default=False)  # may contain personal data
    sort_key: Mapped[int]
    # The step at which the facilitator released it: the projector shows it with that step.
    released_position: Mapped[int | None] = mapped_column(nullable=True)

    __table_args__ = (UniqueConstraint("session_id", "text_hash"), {"sqlite_with_rowid": False})


class EvaluationAnswer(db.Model):
    """One participant's answer to one evaluation item: random id, no time, no participant.

    voter_key = HMAC(session secret, token + item) allows changing it until the session closes,
    when it is wiped with the secret.
    """

    __tablename__ = "evaluation_answer"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("deliberation_session.id", ondelete="CASCADE"), index=True
    )
    item_key: Mapped[str] = mapped_column(String(60))
    value: Mapped[dict] = mapped_column(JSON)
    voter_key: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (UniqueConstraint("session_id", "item_key", "voter_key"), {"sqlite_with_rowid": False})


class EvaluationTally(db.Model):
    """A closed session's evaluation, item by item, as sums: what the insights read.

    Written when the session closes, and only when at least k people evaluated it (the most
    answers any item got): a session below its k leaves no row, so nothing of a small group is ever
    kept beyond its raw answers, and the figures stay when the raw answers are purged. Holds no
    answer, only the count, sum, sum of squares, lowest and highest value of each scale item
    (answers counts text answers too; count, total and squares only numbers).
    """

    __tablename__ = "evaluation_tally"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("deliberation_session.id", ondelete="CASCADE"), primary_key=True
    )
    item_key: Mapped[str] = mapped_column(String(60), primary_key=True)
    answers: Mapped[int] = mapped_column()
    count: Mapped[int] = mapped_column()
    total: Mapped[float] = mapped_column()
    squares: Mapped[float] = mapped_column()
    low: Mapped[float | None] = mapped_column(nullable=True)
    high: Mapped[float | None] = mapped_column(nullable=True)


class AccessToken(db.Model):
    """A personal access token for the JSON API; only its SHA-256 hash is stored."""

    __tablename__ = "access_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # shown in lists so a user can tell tokens apart
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_on: Mapped[date | None] = mapped_column(nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)

    user: Mapped[User] = relationship()
