"""Dilemma bank operations: import, edit, workflow, revisions. Flushes, never commits."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..extensions import db
from ..models import Dilemma, DilemmaRevision, DilemmaStatus, DilemmaTag, User
from . import quality
from .loader import DilemmaData, DilemmaFileError, dump_dilemma

# Which status may follow which: the curation workflow.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    DilemmaStatus.DRAFT: (DilemmaStatus.REVIEW,),
    DilemmaStatus.REVIEW: (DilemmaStatus.PUBLISHED, DilemmaStatus.DRAFT),
    DilemmaStatus.PUBLISHED: (DilemmaStatus.RETIRED,),
    DilemmaStatus.RETIRED: (DilemmaStatus.DRAFT,),
}
TAG_KINDS = {"theme": "themes", "level": "levels", "role": "roles"}


class WorkflowError(ValueError):
    """A status change the workflow does not allow."""


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"{len(self.created)} created, {len(self.updated)} updated, {len(self.unchanged)} unchanged"


def dilemma_data(dilemma: Dilemma) -> DilemmaData:
    """Return the stored dilemma as file data."""
    return DilemmaData(
        id=dilemma.slug,
        title=dilemma.title,
        body=dilemma.body,
        language=dilemma.language,
        status=dilemma.status,
        themes=tuple(dilemma.themes or ()),
        levels=tuple(dilemma.levels or ()),
        roles=tuple(dilemma.roles or ()),
        options=DilemmaData.from_dict({"id": "", "title": "", "options": dilemma.options}).options,
        sources=tuple(dilemma.sources or ()),
        protagonist=dilemma.protagonist or "",
        short=dilemma.short or "",
    )


def _apply(dilemma: Dilemma, data: DilemmaData) -> None:
    values = data.to_dict()
    dilemma.slug = data.id
    for key in (
        "title",
        "body",
        "language",
        "status",
        "themes",
        "levels",
        "roles",
        "options",
        "sources",
        "protagonist",
        "short",
    ):
        setattr(dilemma, key, values[key])
    wanted = {(kind, value) for kind, attr in TAG_KINDS.items() for value in values[attr]}
    current = {(tag.kind, tag.value): tag for tag in dilemma.tags}
    for key, tag in current.items():
        if key not in wanted:
            dilemma.tags.remove(tag)
    for kind, value in sorted(wanted - current.keys()):
        dilemma.tags.append(DilemmaTag(kind=kind, value=value))


def _record_revision(
    dilemma: Dilemma, change: str, author: User | None, note: str = "", number: int | None = None
) -> None:
    if number is None:
        latest = db.session.scalar(
            select(func.max(DilemmaRevision.number)).where(DilemmaRevision.dilemma_id == dilemma.id)
        )
        number = (latest or 0) + 1
    db.session.add(
        DilemmaRevision(
            dilemma_id=dilemma.id,
            number=number,
            author_id=author.id if author else None,
            change=change,
            note=note[:300],
            snapshot=dilemma_data(dilemma).to_dict(),
        )
    )


def get_by_slug(slug: str) -> Dilemma | None:
    return db.session.scalar(select(Dilemma).where(Dilemma.slug == slug))


def import_dilemmas(items: list[DilemmaData], author: User | None = None) -> ImportReport:
    """Create or update dilemmas from file data; unchanged ones are left alone (idempotent)."""
    report = ImportReport()
    existing = {d.slug: d for d in db.session.scalars(select(Dilemma))}
    created: list[Dilemma] = []
    for data in items:
        dilemma = existing.get(data.id)
        if dilemma is None:
            dilemma = Dilemma()
            _apply(dilemma, data)
            db.session.add(dilemma)
            created.append(dilemma)
            report.created.append(data.id)
        elif dilemma_data(dilemma) != data:
            _apply(dilemma, data)
            db.session.flush()
            _record_revision(dilemma, "import", author, "updated from file")
            report.updated.append(data.id)
        else:
            report.unchanged.append(data.id)
    db.session.flush()  # one flush for every new dilemma: ids for their first revision
    for dilemma in created:
        _record_revision(dilemma, "import", author, "imported from file", number=1)
    db.session.flush()
    return report


def create_dilemma(data: DilemmaData, author: User) -> Dilemma:
    """Create a new dilemma as a draft written in the editor."""
    if get_by_slug(data.id) is not None:
        raise DilemmaFileError(
            "editor", None, _l("a dilemma with id %(id)s already exists", id=repr(data.id))
        )
    dilemma = Dilemma()
    _apply(dilemma, replace(data, status=DilemmaStatus.DRAFT.value))
    db.session.add(dilemma)
    db.session.flush()
    _record_revision(dilemma, "create", author)
    return dilemma


def update_dilemma(dilemma: Dilemma, data: DilemmaData, author: User, note: str = "") -> bool:
    """Save an edit (the status is kept); return False when nothing changed."""
    data = replace(data, id=dilemma.slug, status=dilemma.status)
    if dilemma_data(dilemma) == data:
        return False
    if dilemma.status == DilemmaStatus.PUBLISHED.value:
        # A published case stays publishable: an edit may not add a problem the gate would find.
        # A case published before a rule existed can still get its typo fixed.
        protagonists = published_protagonists()
        before = {code for code, _ in quality.publication_problems(dilemma_data(dilemma), protagonists)}
        added = [p for p in quality.publication_problems(data, protagonists) if p[0] not in before]
        if added:
            raise QualityError(added)
    _apply(dilemma, data)
    db.session.flush()
    _record_revision(dilemma, "edit", author, note)
    return True


def allowed_transitions(dilemma: Dilemma) -> tuple[str, ...]:
    return tuple(str(status) for status in TRANSITIONS.get(dilemma.status, ()))


class FourEyesError(WorkflowError):
    """Who sent a dilemma to review does not publish it too."""


class QualityError(WorkflowError):
    """A dilemma that does not pass the quality gate cannot be published."""

    def __init__(self, problems: list[tuple[str, dict]]):
        self.problems = problems
        super().__init__("not ready to publish: " + "; ".join(quality.describe(p) for p in problems))


def published_protagonists() -> dict[str, list[str]]:
    """The protagonists of the published cases in the bank (a quality.protagonist_index)."""
    rows = db.session.execute(
        select(Dilemma.protagonist, Dilemma.slug).where(Dilemma.status == DilemmaStatus.PUBLISHED.value)
    )
    return quality.protagonist_index(rows)


def stored_dilemmas() -> list[DilemmaData]:
    return [dilemma_data(d) for d in db.session.scalars(select(Dilemma))]


def sent_to_review_by(dilemma: Dilemma) -> int | None:
    """The user who last moved the dilemma into review (None when it arrived there otherwise)."""
    for revision in sorted(dilemma.revisions, key=lambda r: r.number, reverse=True):
        if revision.change == "status" and revision.snapshot.get("status") == DilemmaStatus.REVIEW.value:
            return revision.author_id
    return None


def transition(
    dilemma: Dilemma, new_status: str, author: User, note: str = "", four_eyes: bool = True
) -> None:
    """Move a dilemma through the workflow; raise WorkflowError for a step it does not allow.

    The four-eyes rule (on unless an administrator lifts it with BERAAD_FOUR_EYES=0, for a
    one-person organisation): the coordinator who sent a dilemma to review cannot publish it.
    """
    if new_status not in allowed_transitions(dilemma):
        raise WorkflowError(f"cannot go from {dilemma.status} to {new_status}")
    if (
        four_eyes
        and dilemma.status == DilemmaStatus.REVIEW.value
        and new_status == DilemmaStatus.PUBLISHED.value
        and author is not None
        and sent_to_review_by(dilemma) == author.id
    ):
        raise FourEyesError("you sent this dilemma to review: another coordinator publishes it (four eyes)")
    if new_status == DilemmaStatus.PUBLISHED.value:
        problems = quality.publication_problems(dilemma_data(dilemma), published_protagonists())
        if problems:
            raise QualityError(problems)
    old = dilemma.status
    dilemma.status = new_status
    db.session.flush()
    _record_revision(dilemma, "status", author, note or f"{old} → {new_status}")


def revisions(dilemma: Dilemma) -> list[DilemmaRevision]:
    return list(dilemma.revisions)


def get_revision(dilemma: Dilemma, number: int) -> DilemmaRevision | None:
    return dilemma.revisions.filter(DilemmaRevision.number == number).first()


def revision_diff(older: DilemmaRevision | None, newer: DilemmaRevision) -> list[str]:
    """Return a unified diff (lines) between two revisions' file text."""
    before = dump_dilemma(DilemmaData.from_dict(older.snapshot)) if older else ""
    after = dump_dilemma(DilemmaData.from_dict(newer.snapshot))
    return list(
        difflib.unified_diff(
            before.splitlines(),
            after.splitlines(),
            fromfile=f"revision {older.number}" if older else "(none)",
            tofile=f"revision {newer.number}",
            lineterm="",
        )
    )


def all_dilemmas() -> list[Dilemma]:
    return list(db.session.scalars(select(Dilemma).order_by(Dilemma.slug)))
