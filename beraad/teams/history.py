"""A team's history: its sessions in order, the themes it discussed, its action points and what
became of them, and the trend of its evaluations.

The trend follows the k rule of each session: an evaluation item's mean is given only when at
least k (that session's k) answered it; otherwise the point carries its count and no mean, and
the page shows "–". Nothing here sees a single answer: the means come from the same aggregate the
summary uses (or from the archived summary once the raw answers are purged). Evaluations are read
only for closed sessions, never while an evaluation is open. Plain Python, no request globals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo

from sqlalchemy import select

from ..extensions import db
from ..models import DeliberationSession, Dilemma, DilemmaStatus, SessionStatus
from ..sessions.service import method_of
from ..summary.model import Summary
from ..vote import evaluation
from ..vote.service import aggregate
from .suggest import Candidate


@dataclass(frozen=True)
class DilemmaRef:
    slug: str
    title: str
    themes: tuple[str, ...]


@dataclass(frozen=True)
class SessionEntry:
    id: int
    title: str
    method: str
    day: date  # when it took place (or is planned, or was made)
    scheduled_for: date | None
    status: str
    ran: bool  # started: it has a summary
    dilemmas: tuple[DilemmaRef, ...]

    @property
    def themes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(theme for d in self.dilemmas for theme in d.themes))


@dataclass(frozen=True)
class ThemeEntry:
    theme: str
    last: date
    times: int


@dataclass(frozen=True)
class ActionEntry:
    id: int
    session_id: int
    session_title: str
    day: date
    what: str
    who: str
    due: date | None
    follow_up: str
    note: str
    done_on: date | None


@dataclass(frozen=True)
class TrendPoint:
    session_id: int
    title: str
    day: date
    k: int
    count: int
    mean: float | None  # None: fewer than k answered, or no answers


@dataclass(frozen=True)
class ChartDot:
    x: float
    y: float
    point: TrendPoint


@dataclass(frozen=True)
class Trend:
    key: str
    question: str
    low: int
    high: int
    points: tuple[TrendPoint, ...]  # one per closed session of the series, oldest first

    @property
    def shown(self) -> tuple[TrendPoint, ...]:
        return tuple(p for p in self.points if p.mean is not None)


@dataclass(frozen=True)
class TrendChart:
    """The geometry of a trend's line chart (SVG user units), so the template only draws."""

    width: int
    height: int
    left: int
    top: int
    bottom: int
    low: int
    high: int
    dots: tuple[ChartDot, ...]
    segments: tuple[tuple[ChartDot, ChartDot], ...]  # between neighbours that both have a mean
    ticks: tuple[tuple[float, int], ...]  # (y, value) of the horizontal grid lines
    columns: tuple[tuple[float, TrendPoint], ...]  # (x, point) of every session, for its label


@dataclass(frozen=True)
class History:
    sessions: tuple[SessionEntry, ...]
    themes: tuple[ThemeEntry, ...]  # least recently discussed first
    actions: tuple[ActionEntry, ...]
    trends: tuple[Trend, ...]
    trend_sessions: tuple[TrendPoint, ...]  # the sessions of the trend (columns), mean unused

    def last_discussed(self) -> dict[str, date]:
        return {entry.theme: entry.last for entry in self.themes}


def local_date(moment: datetime, zone: tzinfo | None) -> date:
    if zone is None:
        return moment.date()
    return moment.replace(tzinfo=UTC).astimezone(zone).date()


def session_day(session: DeliberationSession, zone: tzinfo | None = None) -> date:
    """When the session took place; not started: the day it is planned for, else when it was made."""
    if session.started_at is not None:
        return local_date(session.started_at, zone)
    return session.scheduled_for or local_date(session.created_at, zone)


def discussed_slugs(sessions: Iterable[DeliberationSession]) -> set[str]:
    """Every dilemma in the team's series, planned ones included."""
    return {d["slug"] for s in sessions for d in (s.dilemmas_snapshot or []) if d.get("slug")}


def _bank_tags(slugs: Iterable[str]) -> dict[str, Dilemma]:
    slugs = set(slugs)
    if not slugs:
        return {}
    return {d.slug: d for d in db.session.scalars(select(Dilemma).where(Dilemma.slug.in_(slugs)))}


def _entries(sessions: list[DeliberationSession], zone: tzinfo | None, language: str) -> list[SessionEntry]:
    bank = _bank_tags(discussed_slugs(sessions))
    entries = []
    for session in sessions:
        dilemmas = tuple(
            DilemmaRef(
                d.get("slug", ""),
                d.get("title", ""),
                tuple(bank[d["slug"]].themes or ()) if d.get("slug") in bank else (),
            )
            for d in session.dilemmas_snapshot or []
        )
        method = (session.method_snapshot or {}).get("name") or {}
        entries.append(
            SessionEntry(
                id=session.id,
                title=session.title,
                method=method.get(language) or method.get("nl") or session.method_key,
                day=session_day(session, zone),
                scheduled_for=session.scheduled_for,
                status=session.status,
                ran=session.started_at is not None or session.status != SessionStatus.LOBBY.value,
                dilemmas=dilemmas,
            )
        )
    return entries


def themes_over_time(entries: Iterable[SessionEntry]) -> list[ThemeEntry]:
    """Each theme the team discussed (in a session that ran), with the last day: oldest first."""
    last: dict[str, date] = {}
    times: dict[str, int] = {}
    for entry in entries:
        if not entry.ran:
            continue
        for theme in entry.themes:
            last[theme] = max(last.get(theme, entry.day), entry.day)
            times[theme] = times.get(theme, 0) + 1
    return [ThemeEntry(t, last[t], times[t]) for t in sorted(last, key=lambda t: (last[t], t))]


def _actions(sessions: list[DeliberationSession], zone: tzinfo | None) -> list[ActionEntry]:
    return [
        ActionEntry(
            id=point.id,
            session_id=session.id,
            session_title=session.title,
            day=session_day(session, zone),
            what=point.what,
            who=point.who,
            due=point.due,
            follow_up=point.follow_up,
            note=point.follow_up_note or "",
            done_on=point.done_on,
        )
        for session in sessions
        for point in session.action_points
    ]


def _evaluation_of(
    session: DeliberationSession, language: str
) -> list[tuple[str, str, int, int, int, float | None]]:
    """(key, question, low, high, count, mean) per scale item of a closed session; mean None under k."""
    if session.archived_summary is not None:
        items = {item.key: item for item in Summary.from_dict(session.archived_summary).evaluation}
    else:
        items = None
    result = []
    for spec in method_of(session).evaluation:
        if spec.type != "scale":
            continue
        low, high = (spec.scale.min, spec.scale.max) if spec.scale else (1, 5)
        question = spec.question.get(language)
        if items is not None:
            item = items.get(spec.key)
            count = item.count if item else 0
            mean = item.mean if item is not None and item.shown and count >= session.k else None
        else:
            res = aggregate(
                "scale", evaluation.values_for(session, spec.key), {}, {"min": low, "max": high}, session.k
            )
            count, mean = res.count, (res.mean if res.shown else None)
        result.append((spec.key, question, low, high, count, None if mean is None else float(mean)))
    return result


def trends(
    sessions: list[DeliberationSession], zone: tzinfo | None, language: str
) -> tuple[list[Trend], list[TrendPoint]]:
    """Per scale item of the evaluation, one point per closed session of the series."""
    closed = [s for s in sessions if s.status == SessionStatus.CLOSED.value and not s.evaluation_open]
    columns: list[TrendPoint] = []
    found: dict[str, dict] = {}
    for session in closed:
        day = session_day(session, zone)
        columns.append(TrendPoint(session.id, session.title, day, session.k, 0, None))
        for key, question, low, high, count, mean in _evaluation_of(session, language):
            item = found.setdefault(key, {"question": question, "low": low, "high": high, "points": {}})
            item["low"], item["high"] = min(item["low"], low), max(item["high"], high)
            item["points"][session.id] = TrendPoint(session.id, session.title, day, session.k, count, mean)
    result = []
    for key, item in found.items():
        if not any(point.count for point in item["points"].values()):
            continue  # a question nobody in the series answered: no line of dashes
        points = tuple(
            item["points"].get(c.session_id) or TrendPoint(c.session_id, c.title, c.day, c.k, 0, None)
            for c in columns
        )
        result.append(Trend(key, item["question"], item["low"], item["high"], points))
    return result, columns


def chart(trend: Trend, width: int = 560, height: int = 180) -> TrendChart:
    left, right, top, bottom = 36, 16, 12, 28
    inner_w, inner_h = width - left - right, height - top - bottom
    count = len(trend.points)
    span = max(trend.high - trend.low, 1)

    def x_of(index: int) -> float:
        return round(left + (inner_w / 2 if count == 1 else inner_w * index / (count - 1)), 1)

    def y_of(value: float) -> float:
        return round(top + inner_h * (trend.high - value) / span, 1)

    dots, segments, previous = [], [], None
    for index, point in enumerate(trend.points):
        if point.mean is None:
            previous = None
            continue
        dot = ChartDot(x_of(index), y_of(point.mean), point)
        if previous is not None:
            segments.append((previous, dot))
        dots.append(dot)
        previous = dot
    step = 1 if span <= 5 else (2 if span <= 10 else max(span // 5, 1))
    ticks = tuple((y_of(v), v) for v in range(trend.low, trend.high + 1, step))
    return TrendChart(
        width, height, left, top, height - bottom, trend.low, trend.high, tuple(dots), tuple(segments),
        ticks, tuple((x_of(i), p) for i, p in enumerate(trend.points)),
    )  # fmt: skip


def build(
    team, sessions: list[DeliberationSession], language: str = "nl", zone: tzinfo | None = None
) -> History:
    """The whole history page's figures, from the team's series (oldest first)."""
    entries = _entries(sessions, zone, language)
    found, columns = trends(sessions, zone, language)
    return History(
        sessions=tuple(entries),
        themes=tuple(themes_over_time(entries)),
        actions=tuple(_actions(sessions, zone)),
        trends=tuple(found),
        trend_sessions=tuple(columns),
    )


@dataclass(frozen=True)
class Overview:
    sessions: int
    last: date | None  # the last session that took place
    next: date | None  # the next planned day, today or later, of a session not run yet


def overview(sessions: list[DeliberationSession], today: date, zone: tzinfo | None = None) -> Overview:
    held = [session_day(s, zone) for s in sessions if s.started_at is not None]
    planned = [
        s.scheduled_for
        for s in sessions
        if s.scheduled_for and s.scheduled_for >= today and s.status == SessionStatus.LOBBY.value
    ]
    return Overview(len(sessions), max(held, default=None), min(planned, default=None))


def candidates() -> list[Candidate]:
    """The published dilemmas, as the suggestion ranking sees them."""
    statement = select(Dilemma).where(Dilemma.status == DilemmaStatus.PUBLISHED.value).order_by(Dilemma.title)
    return [
        Candidate(d.slug, d.title, tuple(d.themes or ()), tuple(d.levels or ()))
        for d in db.session.scalars(statement)
    ]
