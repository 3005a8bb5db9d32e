"""SQLAlchemy models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
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
