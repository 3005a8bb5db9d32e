"""The anonymous end-of-session evaluation, defined by the method (Euro-MCD-based by default)."""

from __future__ import annotations

import secrets

from sqlalchemy import delete, func, select, update

from ..extensions import db
from ..methods.loader import PollSpec
from ..models import DeliberationSession, EvaluationAnswer, EvaluationTally
from ..sessions.service import method_of
from .scatter import scatter
from .service import Membership, VoteError, _insert, _keyed, require_open_session, require_storable


def items(session: DeliberationSession) -> tuple[PollSpec, ...]:
    return method_of(session).evaluation


def _voter_key(session: DeliberationSession, token: str, item_key: str) -> str:
    return _keyed(session.secret, f"evaluation:{item_key}:{token}")


def validate(spec: PollSpec, raw) -> dict | None:
    """Return the value to store for one item, None when left empty; raise VoteError(422)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if spec.type == "scale":
        try:
            number = int(str(raw).strip())
        except ValueError:
            raise VoteError(422, "not_a_number") from None
        if not spec.scale.min <= number <= spec.scale.max:
            raise VoteError(422, "out_of_range")
        return {"value": number}
    if not isinstance(raw, str):
        raise VoteError(422, "malformed")
    if len(raw) > spec.max_length:
        raise VoteError(422, "too_long")
    require_storable(raw)
    return {"text": " ".join(raw.split())}


def submit(session: DeliberationSession, member: Membership, answers: dict) -> int:
    """Store (or change) this participant's evaluation; items left empty are skipped.

    Everything is validated before anything is written: a bad item changes nothing. Each item
    is stored like an answer to a poll of its own (its own voter key), so the items of one
    phone cannot be put together from the table.
    """
    require_open_session(session)
    if not session.evaluation_open:
        raise VoteError(409, "evaluation_not_open")
    if not member.joined(session.secret):
        raise VoteError(403, "not_joined")
    values = {spec.key: validate(spec, answers.get(spec.key)) for spec in items(session)}
    stored = 0
    for key, value in values.items():
        if value is None:
            continue
        statement = _insert(EvaluationAnswer).values(
            id=secrets.token_hex(16),
            session_id=session.id,
            item_key=key,
            value=value,
            voter_key=_voter_key(session, member.token, key),
        )
        db.session.execute(
            statement.on_conflict_do_update(
                index_elements=["session_id", "item_key", "voter_key"], set_={"value": value}
            )
        )
        stored += 1
    if not stored:
        raise VoteError(422, "empty")
    return stored


def my_answers(session: DeliberationSession, member: Membership) -> dict:
    if not member.joined(session.secret):
        return {}
    result = {}
    for spec in items(session):
        value = db.session.scalar(
            select(EvaluationAnswer.value).where(
                EvaluationAnswer.session_id == session.id,
                EvaluationAnswer.item_key == spec.key,
                EvaluationAnswer.voter_key == _voter_key(session, member.token, spec.key),
            )
        )
        if value is not None:
            result[spec.key] = value
    return result


def values_for(session: DeliberationSession, item_key: str) -> list[dict]:
    return list(
        db.session.scalars(
            select(EvaluationAnswer.value).where(
                EvaluationAnswer.session_id == session.id, EvaluationAnswer.item_key == item_key
            )
        )
    )


def wipe_voter_keys(session: DeliberationSession) -> None:
    db.session.execute(
        update(EvaluationAnswer).where(EvaluationAnswer.session_id == session.id).values(voter_key=None)
    )


def set_open(session: DeliberationSession, is_open: bool) -> None:
    from ..sessions.service import _require_open, bump_version

    _require_open(session)
    session.evaluation_open = is_open
    if not is_open:  # closed: one phone's answers, written together, must not stay together
        scatter(EvaluationAnswer, EvaluationAnswer.session_id == session.id)
    bump_version(session)
    db.session.flush()


def tally(session: DeliberationSession) -> int:
    """Keep the closed session's evaluation as sums per item (EvaluationTally), when at least k
    people evaluated it; return the number of items kept (0: below k, or no evaluation).

    The number of people is the most answers any one item got (answers to different items cannot
    be linked). Called when the session closes, so nothing is added to it afterwards; done again,
    it replaces what was kept.
    """
    db.session.execute(delete(EvaluationTally).where(EvaluationTally.session_id == session.id))
    value = EvaluationAnswer.value["value"].as_float()
    rows = db.session.execute(
        select(
            EvaluationAnswer.item_key,
            func.count(),
            func.count(value),
            func.coalesce(func.sum(value), 0.0),
            func.coalesce(func.sum(value * value), 0.0),
            func.min(value),
            func.max(value),
        )
        .where(EvaluationAnswer.session_id == session.id)
        .group_by(EvaluationAnswer.item_key)
    ).all()
    if not rows or max(row[1] for row in rows) < session.k:
        return 0
    for item_key, answers, count, total, squares, low, high in rows:
        db.session.add(
            EvaluationTally(
                session_id=session.id, item_key=item_key, answers=answers, count=count,
                total=float(total), squares=float(squares),
                low=None if low is None else float(low), high=None if high is None else float(high),
            )
        )  # fmt: skip
    db.session.flush()
    return len(rows)
