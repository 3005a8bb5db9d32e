"""Anonymous contributions: sending, spotting personal data, moderation. Flushes, never commits."""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata

from sqlalchemy import func, select

from ..extensions import db
from ..models import Contribution, ContributionStatus, DeliberationSession
from .service import VoteError, _insert, require_open_session, require_storable

MAX_LENGTH = 500
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?:\+|00)?\d[\d\s().-]{7,}\d")
# Two capitalised words in a row (with Dutch name particles between): "Karel Jansen",
# "Ilse van der Berg". Function words that start a sentence are not names.
NAME = re.compile(
    r"\b([A-Z][a-zà-ÿ]+(?:-[A-Z][a-zà-ÿ]+)?)"
    r"(?:\s+(?:van|de|der|den|ten|ter|te|het|'t|la|le|du|da|von))*\s+[A-Z][a-zà-ÿ]+"
)
NOT_FIRST_NAMES = {
    "De", "Het", "Een", "Ik", "Je", "Jij", "Wij", "We", "Zij", "Ze", "Hij", "Dat", "Dit", "Die",
    "Deze", "Er", "Als", "Maar", "En", "Of", "Waarom", "Wat", "Wie", "Hoe", "Mijn", "Onze", "Ons",
    "Bij", "In", "Op", "Met", "Voor", "Na", "Door", "Mag", "Moet", "Kan", "Is", "Zijn", "The",
}  # fmt: skip


def personal_data_reasons(text: str) -> list[str]:
    """Return why text may identify someone: 'email', 'phone', 'name' (empty when it seems fine)."""
    reasons = []
    if EMAIL.search(text):
        reasons.append("email")
    if any(sum(ch.isdigit() for ch in match) >= 9 for match in PHONE.findall(text)):
        reasons.append("phone")
    if any(match.group(1) not in NOT_FIRST_NAMES for match in NAME.finditer(text)):
        reasons.append("name")
    return reasons


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text or "").replace("\x00", "")
    return " ".join(text.split())


def submit(session: DeliberationSession, text: str) -> Contribution:
    """Store a contribution; the same text again only raises its count (atomic upsert).
    Call after begin_write: a session that closed meanwhile refuses it (410)."""
    require_open_session(session)
    require_storable(text.replace("\x00", ""))
    text = normalise(text)
    if not text:
        raise VoteError(422, "empty")
    if len(text) > MAX_LENGTH:
        raise VoteError(422, "too_long")
    digest = hashlib.sha256(text.casefold().encode()).hexdigest()
    statement = _insert(Contribution).values(
        id=secrets.token_hex(16),
        session_id=session.id,
        text=text,
        text_hash=digest,
        count=1,
        status=ContributionStatus.PENDING.value,
        flagged=bool(personal_data_reasons(text)),
        sort_key=secrets.randbelow(2**31),
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["session_id", "text_hash"], set_={"count": Contribution.count + 1}
        )
    )
    return db.session.scalar(
        select(Contribution).where(Contribution.session_id == session.id, Contribution.text_hash == digest)
    )


def for_moderation(session: DeliberationSession) -> list[Contribution]:
    """Every contribution, grouped by status, in random (not arrival) order."""
    return list(
        db.session.scalars(
            select(Contribution)
            .where(Contribution.session_id == session.id)
            .order_by(Contribution.status, Contribution.sort_key)
        )
    )


def received(session: DeliberationSession) -> int:
    """How many contributions came in (a repeated text counts again): tells the facilitator to look."""
    return db.session.scalar(
        select(func.coalesce(func.sum(Contribution.count), 0)).where(Contribution.session_id == session.id)
    )


def released(session: DeliberationSession, position: int | None = None) -> list[Contribution]:
    """Released contributions in random order: all of them, or those released at one step."""
    statement = select(Contribution).where(
        Contribution.session_id == session.id,
        Contribution.status == ContributionStatus.RELEASED.value,
    )
    if position is not None:
        statement = statement.where(Contribution.released_position == position)
    return list(db.session.scalars(statement.order_by(Contribution.sort_key)))


def moderate(session: DeliberationSession, contribution_id: str, status: str) -> None:
    """Release a contribution to the projector, reject it, or put it back in the queue."""
    from ..sessions.service import SessionError, _require_open, bump_version

    _require_open(session)
    if status not in set(ContributionStatus):
        raise SessionError("unknown status")
    contribution = db.session.get(Contribution, contribution_id)
    if contribution is None or contribution.session_id != session.id:
        raise SessionError("no such contribution")
    contribution.status = status
    # Released contributions belong to the step where they were released (and move with a new release).
    contribution.released_position = (
        session.current_position if status == ContributionStatus.RELEASED else None
    )
    bump_version(session)
    db.session.flush()
