"""Anonymous participation: joining, answering polls, counting results.

The anonymity model (DESIGN §4, docs/anonymity.md): a participant is a random token in a
cookie. The database only ever sees keyed hashes of it: one per session (to count who joined)
and one per poll (to keep one answer per person while the poll is open). Answers have random ids
and no time.

Joining and answering never meet in one statement or one transaction: joining writes the
participant key and gives the phone a membership proof (an HMAC of its token under the session
secret) to keep in its cookie; answering checks that proof without reading the participant table.
So a database administrator watching every statement cannot group one phone's answers by its
participant key.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import JSON, Connection, String, bindparam, cast, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from ..extensions import db
from ..models import Answer, DeliberationSession, Participant, Poll, PollStatus, SessionStatus

TOKEN_BYTES = 32
MAX_TEXT_ANSWER = 1000


class VoteError(ValueError):
    """An answer that cannot be accepted; code is an HTTP status, message is for the phone."""

    def __init__(self, code: int, message: str, retry_after: int | None = None):
        self.code = code
        self.message = message
        self.retry_after = retry_after  # seconds, for 429
        super().__init__(message)


def new_token() -> str:
    """A participant's random token (256 bits), kept only in their cookie."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def is_valid_token(token: str | None) -> bool:
    return bool(token) and 40 <= len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum()


def _keyed(secret: str, message: str) -> str:
    return hmac.new(bytes.fromhex(secret), message.encode(), hashlib.sha256).hexdigest()


def participant_key(secret: str, token: str) -> str:
    """The key a participant joins a session under (secret: the session's)."""
    return _keyed(secret, f"participant:{token}")


@dataclass(frozen=True, order=True)
class Membership:
    """What a participant's cookie holds: the random token and, once joined, the proof of it.

    The proof is an HMAC of the token under the session secret, handed out by `join`; only the
    server can make it, so it proves the phone joined without asking the database.
    """

    token: str
    proof: str = ""

    @classmethod
    def from_cookie(cls, value: str | None) -> Membership | None:
        token, _, proof = (value or "").partition(".")
        if not is_valid_token(token) or (proof and not proof.isalnum()):
            return None
        return cls(token, proof)

    def cookie(self) -> str:
        return f"{self.token}.{self.proof}" if self.proof else self.token

    def joined(self, secret: str | None) -> bool:
        """Did this phone join the session whose secret this is? (No database read.)"""
        return bool(secret and self.proof) and hmac.compare_digest(self.proof, _proof(secret, self.token))


def _proof(secret: str, token: str) -> str:
    return _keyed(secret, f"member:{token}")[:32]


def voter_key(secret: str, token: str, poll_id: str) -> str:
    """Per poll, so one person's answers to different polls cannot be joined."""
    return _keyed(secret, f"poll:{poll_id}:{token}")


def _insert(model):
    return (postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert)(model)


class _Statements(NamedTuple):
    poll_for_answer: object
    upsert_answer: object
    my_answer: object


@functools.cache
def _statements(dialect: str) -> _Statements:
    """The answer path's statements, built once per dialect (building them costs more than
    running them); they run on a connection as plain Core statements."""
    sessions, polls, answers = DeliberationSession.__table__, Poll.__table__, Answer.__table__
    poll = (
        select(
            sessions.c.id.label("session_id"),
            sessions.c.status.label("session_status"),
            sessions.c.secret,
            polls.c.id,
            polls.c.type,
            polls.c.status,
            polls.c.spec,
            polls.c.options,
        )
        .join_from(polls, sessions, polls.c.session_id == sessions.c.id)
        .where(sessions.c.join_code == bindparam("code"), polls.c.id == bindparam("poll_id"))
    )
    # The answer goes in only while its poll and session are open, checked by the insert itself:
    # the poll read above takes no lock, and between the two a facilitator may close the poll.
    # PostgreSQL: FOR SHARE on the poll row, so close_poll's UPDATE waits for this statement, or
    # this statement sees the poll closed and inserts nothing. SQLite: the write lock does that.
    value = bindparam("value", type_=JSON)  # PostgreSQL needs the type; SQLite's CAST would make it a number
    still_open = (
        select(
            bindparam("id", type_=String),
            polls.c.id,
            cast(value, JSON) if dialect == "postgresql" else value,
            bindparam("key", type_=String),
        )
        .join_from(polls, sessions, polls.c.session_id == sessions.c.id)
        .where(
            polls.c.id == bindparam("poll_id"),
            polls.c.status == PollStatus.OPEN.value,
            sessions.c.status != SessionStatus.CLOSED.value,
            sessions.c.secret.is_not(None),
        )
    )
    if dialect == "postgresql":
        still_open = still_open.with_for_update(read=True, of=polls)
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(answers)
    upsert = (
        insert.from_select(["id", "poll_id", "value", "voter_key"], still_open)
        .on_conflict_do_update(index_elements=["poll_id", "voter_key"], set_={"value": insert.excluded.value})
        .returning(answers.c.id)
    )
    return _Statements(
        poll_for_answer=poll,
        upsert_answer=upsert,
        my_answer=select(answers.c.value).where(
            answers.c.poll_id == bindparam("poll_id"), answers.c.voter_key == bindparam("key")
        ),
    )


def _run(statement, connection: Connection | None = None, **params):
    """Execute a prebuilt Core statement on `connection`, or else on the ORM session's."""
    return (connection or db.session.connection()).execute(statement, params)


def _sql() -> _Statements:
    return _statements(db.engine.dialect.name)


def begin_write(connection: Connection | None = None) -> None:
    """Start the write transaction now (SQLite: BEGIN IMMEDIATE takes the write lock up front,
    so concurrent writers wait their turn instead of failing with 'database is locked').
    On `connection`, or else on the ORM session's."""
    if db.engine.dialect.name == "sqlite":
        (connection or db.session.connection()).exec_driver_sql("BEGIN IMMEDIATE")


def require_open_session(session: DeliberationSession) -> None:
    """Inside the write transaction (after begin_write): read the session again and hold it
    against a concurrent close, so what is written next is either in before the close (which
    then wipes its keys) or refused with 410. PostgreSQL: FOR SHARE, which the close's UPDATE
    waits for; SQLite: begin_write holds the database's write lock already."""
    db.session.refresh(session, with_for_update={"read": True})
    if session.status == SessionStatus.CLOSED or session.secret is None:
        raise VoteError(410, "closed")


def join(session: DeliberationSession, token: str) -> Membership:
    """Register a participant (idempotent: a returning phone keeps its place); return the
    membership its cookie keeps. The only statement that ever carries a participant key."""
    if session.status == SessionStatus.CLOSED or session.secret is None:
        raise VoteError(410, "closed")
    statement = _insert(Participant).values(
        session_id=session.id, participant_key=participant_key(session.secret, token)
    )
    db.session.execute(statement.on_conflict_do_nothing())
    return Membership(token, _proof(session.secret, token))


def require_storable(text: str) -> None:
    """Refuse text that cannot be stored or shown as UTF-8 (a lone surrogate, a NUL byte).

    Such text only comes from a script; stored, it would break every page that shows it.
    """
    if "\x00" in text:
        raise VoteError(422, "unreadable")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise VoteError(422, "unreadable") from None


def validate_answer(poll: Poll, options: list[dict], raw: dict) -> dict:
    """Check an answer body against the poll; return the value to store. Raises VoteError(422)."""
    keys = [o["key"] for o in options]
    if poll.type == "choice":
        choice = raw.get("choice")
        if not isinstance(choice, str) or choice not in keys:
            raise VoteError(422, "unknown_option")
        return {"choice": choice}
    if poll.type == "scale":
        scale = poll.spec.get("scale") or {}
        value = raw.get("value")
        try:
            number = int(str(value).strip())
        except (TypeError, ValueError):
            raise VoteError(422, "not_a_number") from None
        if not scale.get("min", 0) <= number <= scale.get("max", 10):
            raise VoteError(422, "out_of_range")
        return {"value": number}
    if poll.type == "ranking":
        order = raw.get("ranking")
        if isinstance(order, str):
            order = [part for part in order.split(",") if part]
        if (
            not isinstance(order, list)
            or not all(isinstance(item, str) for item in order)
            or len(order) != len(keys)
            or set(order) != set(keys)
        ):
            raise VoteError(422, "bad_ranking")
        return {"ranking": order}
    if poll.type == "text":
        answer = raw.get("text")
        limit = min(int(poll.spec.get("max_length") or 280), MAX_TEXT_ANSWER)
        if not isinstance(answer, str) or not answer.strip():
            raise VoteError(422, "empty")
        require_storable(answer)
        if len(answer) > limit:
            raise VoteError(422, "too_long")
        return {"text": answer.strip()}
    raise VoteError(422, "unknown_poll_type")


def submit_answer(
    join_code: str, poll_id: str, member: Membership, raw: dict, connection: Connection | None = None
) -> str:
    """Store or change this participant's answer; return 'created' or 'changed'.

    On `connection` (a transaction of its own, or autocommit: see store_answer), or else on the
    ORM session's; the caller commits. A poll that closed meanwhile is refused with 409 — an
    answer is either counted or refused, never lost. Two statements: the poll with its session
    (by join code), and the upsert by voter key, which inserts only while the poll is still open.
    Membership is checked on the proof, so nothing here names the participant. (A poll of
    another session, or of no session, is unknown.)
    """
    sql = _sql()
    poll = _run(sql.poll_for_answer, connection, code=join_code, poll_id=poll_id).first()
    _refuse_unless_open(poll)
    if not member.joined(poll.secret):  # someone who has not joined hears that before any check of the answer
        raise VoteError(403, "not_joined")
    value = validate_answer(poll, list(poll.options), raw)
    new_id = secrets.token_hex(16)
    key = voter_key(poll.secret, member.token, poll.id)
    stored_id = _run(sql.upsert_answer, connection, id=new_id, poll_id=poll.id, value=value, key=key).scalar()
    if stored_id is None:  # closed between the two statements: say which, as the first check would
        _refuse_unless_open(_run(sql.poll_for_answer, connection, code=join_code, poll_id=poll_id).first())
        raise VoteError(409, "poll_not_open")
    return "created" if stored_id == new_id else "changed"


def _refuse_unless_open(poll) -> None:
    if poll is None:
        raise VoteError(404, "unknown_poll")
    if poll.session_status == SessionStatus.CLOSED or poll.secret is None:
        raise VoteError(410, "closed")
    if poll.status != PollStatus.OPEN:
        raise VoteError(409, "poll_not_open")


def store_answer(join_code: str, poll_id: str, member: Membership, raw: dict) -> str:
    """submit_answer on a connection of its own, committed; the busiest write of a session.

    PostgreSQL runs it in autocommit: the upsert checks that the poll is open by itself, so the
    two statements need no transaction around them (a BEGIN and a COMMIT are two more round
    trips). SQLite takes its write lock first (begin_write). A connection the database dropped
    (a restart, a failover) is tried once more on a new one: the upsert is idempotent.
    """
    for attempt in (1, 2):
        try:
            with db.engine.connect() as connection:
                if connection.dialect.name == "postgresql":
                    connection = connection.execution_options(isolation_level="AUTOCOMMIT")
                begin_write(connection)
                outcome = submit_answer(join_code, poll_id, member, raw, connection)
                connection.commit()
                return outcome
        except DBAPIError as error:
            if attempt == 2 or not error.connection_invalidated:
                raise
    raise AssertionError("unreachable")


def my_answer(session: DeliberationSession, poll_id: str, member: Membership) -> dict | None:
    """The participant's own current answer to an open poll (after it closes nobody can find it)."""
    if not member.joined(session.secret):
        return None
    key = voter_key(session.secret, member.token, poll_id)
    return _run(_sql().my_answer, poll_id=poll_id, key=key).scalar()


def answer_count(poll_id: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Answer).where(Answer.poll_id == poll_id))


@dataclass(frozen=True)
class Results:
    """A poll's results, or only its count when fewer than k answered."""

    count: int
    k: int
    shown: bool
    rows: tuple = ()  # choice/scale: (key, label, count, percent); ranking: (key, label, score)
    texts: tuple = ()  # text answers, sorted alphabetically (never in stored order)
    mean: float | None = None


def results(poll: Poll, k: int, language: str) -> Results:
    """Aggregate a poll's answers, grouped by value; below k only the count is given."""
    values = list(db.session.scalars(select(Answer.value).where(Answer.poll_id == poll.id)))
    labels = {o["key"]: o["text"][language] for o in poll.options}
    return aggregate(poll.type, values, labels, poll.spec.get("scale"), k)


def aggregate(poll_type: str, values: list[dict], labels: dict, scale: dict | None, k: int) -> Results:
    """Group answer values by value (never in stored order); below k only the count."""
    count = len(values)
    if count < k:
        return Results(count=count, k=k, shown=False)
    if poll_type == "choice":
        tally = Counter(v.get("choice") for v in values)
        rows = tuple(
            (key, labels[key], tally.get(key, 0), round(100 * tally.get(key, 0) / count)) for key in labels
        )
        return Results(count, k, True, rows)
    if poll_type == "scale":
        scale = scale or {"min": 1, "max": 5}
        tally = Counter(v.get("value") for v in values)
        rows = tuple(
            (str(n), str(n), tally.get(n, 0), round(100 * tally.get(n, 0) / count))
            for n in range(scale["min"], scale["max"] + 1)
        )
        mean = sum(v.get("value", 0) for v in values) / count
        return Results(count, k, True, rows, mean=round(mean, 1))
    if poll_type == "ranking":
        # Borda count: first place gets n-1 points, last gets 0; higher total ranks higher.
        size = len(labels)
        scores: Counter = Counter()
        for value in values:
            for place, key in enumerate(value.get("ranking", [])):
                scores[key] += size - 1 - place
        most = count * max(size - 1, 1)
        rows = tuple(
            (key, labels[key], scores.get(key, 0), round(100 * scores.get(key, 0) / most))
            for key in sorted(labels, key=lambda key: (-scores.get(key, 0), key))
        )
        return Results(count, k, True, rows)
    texts = tuple(sorted((v.get("text", "") for v in values), key=str.casefold))
    return Results(count, k, True, texts=texts)
