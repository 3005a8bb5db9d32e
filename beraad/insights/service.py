"""Coordinator insights: figures across teams and sessions, anonymous by construction.

`insights(user)` answers the questions an integrity coordinator asks of the whole practice: how
many sessions ran (per month and per team), which themes and methods were used, how participants
rated the sessions (the end-of-session evaluation), whether action points were done within their
date, and what the latest periodic measure said. Plain Python over SQLAlchemy: no request globals.

Scope. Coordinators and administrators see every team and also the sessions that belong to no team
(the organisation's practice as a whole). A facilitator gets only the sessions of the teams they own,
and the latest measure they ran themselves, as on the Measures page; the page is for coordinators and
administrators, the function is safe for anyone. The period is the last `months` calendar months,
this month included, in the organisation's time zone (`zone`; UTC when none is given): a session
that starts at 00:30 on the first of the month in Amsterdam belongs to that month.

What counts. A session "ran" when it is running or closed; it belongs to the month of its start (of
its creation if it has none). Themes come from the bank: a session counts once under each theme of
its dilemmas (DilemmaTag rows of kind "theme", matched by slug); a dilemma no longer in the bank is
skipped. Evaluation figures come only from closed sessions whose evaluation is not open (an open one
is never read, as in the summary) and not from the periodic measure (it has its own part).

The k rule, and why no two views can be subtracted. A session contributes to the evaluation
figures only when at least k people evaluated it (k of that session; the number of people is the
most answers any one item got, since answers to different items cannot be linked). A session below
its k contributes nothing at all: not its answers, not its count, not its existence. On top of that,
every cell (an item overall, per team or per month) that would describe fewer than k evaluations
(k being the largest k of the sessions in it) shows no figure: None, "–" on the page, empty in the
exports. Since a small session never enters any evaluation figure, comparing two views (before and
after one more session, this team against the whole, one month against the year) can never isolate
the answers of a small group: the difference between two views is always a whole session of at
least k people. Counts of sessions, themes, methods and action points are about meetings, not about
people, and follow no k.

Action points are done "within their date" when their follow-up is done and the day they were
marked done is on or before their due date; the share is taken over points with a due date that
has passed or that are done already. Such a share may rest on fewer than k points: an action point
is an agreement of the group (what, a role, a date), never anyone's answer or opinion, so its
follow-up says nothing about a person.

Performance: a handful of aggregate queries (GROUP BY in the database; a session's local month is
a CASE over the months' first moments in UTC). The evaluation is added up from EvaluationTally:
one row per closed session and item (count, sum, sum of squares, min, max), written at close only
for sessions that met their k, never answer by answer. So the figures also stay when a session's
raw answers are purged.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, tzinfo

from sqlalchemy import and_, case, func, or_, select, true

from ..bank.vocabulary import THEME_LABELS_EN
from ..extensions import db
from ..methods.loader import Method
from ..models import (
    ActionPoint,
    DeliberationSession,
    Dilemma,
    DilemmaTag,
    EvaluationTally,
    FollowUp,
    MethodDefinition,
    SessionStatus,
    Team,
    User,
)
from ..summary.measures import DOMAINS, MEASURE_METHOD

RAN = (SessionStatus.RUNNING.value, SessionStatus.CLOSED.value)
NO_TEAM = None  # the team id of sessions outside any team


@dataclass(frozen=True)
class MonthCount:
    month: str  # "2025-03"
    first_day: date
    sessions: int


@dataclass(frozen=True)
class LabelCount:
    key: str
    label: str
    sessions: int


@dataclass(frozen=True)
class Cell:
    """Evaluation figures of one cell: None (all of them) below k evaluations."""

    count: int  # evaluations (answers) in the cell, from sessions that met their k
    mean: float | None = None
    sd: float | None = None  # population standard deviation
    low: float | None = None
    high: float | None = None

    @property
    def shown(self) -> bool:
        return self.mean is not None


@dataclass(frozen=True)
class EvaluationItem:
    key: str
    question: str
    scale_min: int
    scale_max: int
    overall: Cell
    by_team: dict[int | None, Cell] = field(default_factory=dict)
    by_month: dict[str, Cell] = field(default_factory=dict)


@dataclass(frozen=True)
class TeamRow:
    team_id: int | None
    name: str  # "" for sessions outside any team (the page names them)
    sessions: int
    actions_counted: int  # points with a passed due date, or done
    actions_on_time: int
    share_on_time: float | None  # 0–1; None when no point counted


@dataclass(frozen=True)
class MeasureFigures:
    session_id: int
    title: str
    held_on: datetime
    k: int
    respondents: int
    domains: tuple[tuple[str, float | None], ...]  # (domain, mean or None below k)


@dataclass(frozen=True)
class Insights:
    language: str
    since: date  # first day of the period
    until: date  # today
    scope: str  # "all" (coordinators, admins) | "own" (a facilitator's own teams)
    months: tuple[MonthCount, ...]
    teams: tuple[TeamRow, ...]
    themes: tuple[LabelCount, ...]
    methods: tuple[LabelCount, ...]
    items: tuple[EvaluationItem, ...]
    evaluated_sessions: int  # sessions that met their k and so contribute to the evaluation
    actions_counted: int
    actions_on_time: int
    share_on_time: float | None
    measure: MeasureFigures | None

    @property
    def total_sessions(self) -> int:
        return sum(month.sessions for month in self.months)

    def to_dict(self) -> dict:
        """Plain data (JSON-ready: dates as ISO strings, team keys as strings)."""

        def plain(value):
            if isinstance(value, datetime | date):
                return value.isoformat()
            if isinstance(value, dict):
                return {("" if key is None else str(key)): plain(item) for key, item in value.items()}
            if isinstance(value, list | tuple):
                return [plain(item) for item in value]
            return value

        data = plain(asdict(self))
        data["total_sessions"] = self.total_sessions
        return data


def month_keys(today: date, months: int) -> list[date]:
    """The first days of the last `months` calendar months, oldest first, this month last."""
    firsts = []
    year, month = today.year, today.month
    for _ in range(max(1, months)):
        firsts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return firsts[::-1]


def _next_month(first: date) -> date:
    return date(first.year + 1, 1, 1) if first.month == 12 else date(first.year, first.month + 1, 1)


def _moment():
    return func.coalesce(DeliberationSession.started_at, DeliberationSession.created_at)


def _utc(day: date, zone: tzinfo) -> datetime:
    """Midnight at the start of `day` in `zone`, as the database stores times (naive UTC)."""
    return datetime.combine(day, time(), zone).astimezone(UTC).replace(tzinfo=None)


def _scope(user: User, since: date, end: date, zone: tzinfo) -> list:
    criteria = [
        DeliberationSession.status.in_(RAN),
        _moment() >= _utc(since, zone),
        _moment() < _utc(end, zone),
    ]
    if not user.can_curate:
        criteria.append(DeliberationSession.team_id.in_(select(Team.id).where(Team.owner_id == user.id)))
    return criteria


def _theme_label(slug: str, language: str) -> str:
    return THEME_LABELS_EN.get(slug, slug) if language == "en" else slug.replace("-", " ")


def _methods() -> dict[str, Method]:
    methods = {}
    for key, definition in db.session.execute(select(MethodDefinition.key, MethodDefinition.definition)):
        try:
            methods[key] = Method.from_dict(definition)
        except (KeyError, TypeError, ValueError):  # a definition this version cannot read: name by key
            continue
    return methods


def _month_of(firsts: list[date], zone: tzinfo):
    """The local "YYYY-MM" of a session, in SQL: a CASE over the months' first moments in UTC (exact
    across daylight saving time; the scope already keeps out what starts before or after)."""
    moment = _moment()
    whens = [(moment < _utc(_next_month(first), zone), first.strftime("%Y-%m")) for first in firsts]
    return case(*whens, else_=None).label("month")


def _session_counts(criteria: list, month) -> list[tuple[str, int | None, str, int]]:
    statement = (
        select(month, DeliberationSession.team_id, DeliberationSession.method_key, func.count())
        .where(*criteria)
        .group_by(month, DeliberationSession.team_id, DeliberationSession.method_key)
    )
    return [(m, team, method, count) for m, team, method, count in db.session.execute(statement)]


def _theme_counts(criteria: list) -> list[tuple[str, int]]:
    """Sessions per theme: the slugs of each session's dilemmas (dilemma_slugs, a short list, not the
    whole snapshot), matched to the bank's tags."""
    column = DeliberationSession.dilemma_slugs
    if db.engine.dialect.name == "postgresql":
        element = func.json_array_elements_text(column).table_valued("value", joins_implicitly=True)
    else:
        element = func.json_each(column).table_valued("value", joins_implicitly=True)
    slug = element.c.value
    # The (session, slug) pairs first, as a subquery of their own (DISTINCT keeps SQLite from
    # flattening it): the planner then reads every session's slugs once, not once per tag.
    pairs = (
        select(DeliberationSession.id.label("session_id"), slug.label("slug"))
        .select_from(DeliberationSession)
        .join(element, true())
        .where(*criteria)
        .distinct()
        .subquery()
    )
    statement = (
        select(DilemmaTag.value, func.count(func.distinct(pairs.c.session_id)))
        .select_from(pairs)
        .join(Dilemma, Dilemma.slug == pairs.c.slug)
        .join(DilemmaTag, and_(DilemmaTag.dilemma_id == Dilemma.id, DilemmaTag.kind == "theme"))
        .group_by(DilemmaTag.value)
    )
    return list(db.session.execute(statement))


class _Accumulator:
    __slots__ = ("count", "total", "squares", "low", "high", "k")

    def __init__(self):
        self.count, self.total, self.squares = 0, 0.0, 0.0
        self.low, self.high, self.k = math.inf, -math.inf, 0

    def add(self, count, total, squares, low, high, k) -> None:
        self.count += count
        self.total += total
        self.squares += squares
        self.low, self.high = min(self.low, low), max(self.high, high)
        self.k = max(self.k, k)

    def cell(self) -> Cell:
        if self.count == 0 or self.count < self.k:
            return Cell(self.count)
        mean = self.total / self.count
        variance = max(0.0, self.squares / self.count - mean * mean)
        return Cell(self.count, round(mean, 4), round(math.sqrt(variance), 4), self.low, self.high)


def _evaluation(criteria: list, month, methods: dict[str, Method], language: str):
    """Per item: overall, per team and per month; only sessions that met their k contribute (only
    they have an EvaluationTally). The sums are added up in the database per item, team and month."""
    evaluated_in = (
        *criteria,
        DeliberationSession.status == SessionStatus.CLOSED.value,
        DeliberationSession.evaluation_open.is_(False),
        DeliberationSession.method_key != MEASURE_METHOD,
    )
    joined = (EvaluationTally, DeliberationSession.id == EvaluationTally.session_id)
    evaluated = db.session.scalar(
        select(func.count(func.distinct(EvaluationTally.session_id)))
        .select_from(DeliberationSession)
        .join(*joined)
        .where(*evaluated_in)
    )
    statement = (
        select(
            EvaluationTally.item_key, DeliberationSession.team_id, month,
            func.sum(EvaluationTally.count), func.sum(EvaluationTally.total),
            func.sum(EvaluationTally.squares), func.min(EvaluationTally.low), func.max(EvaluationTally.high),
            func.max(DeliberationSession.k),
        )
        .select_from(DeliberationSession)
        .join(*joined)
        .where(*evaluated_in, EvaluationTally.count > 0)  # a text item: no figure
        .group_by(EvaluationTally.item_key, DeliberationSession.team_id, month)
    )  # fmt: skip
    overall: dict[str, _Accumulator] = defaultdict(_Accumulator)
    by_team: dict[str, dict[int | None, _Accumulator]] = defaultdict(lambda: defaultdict(_Accumulator))
    by_month: dict[str, dict[str, _Accumulator]] = defaultdict(lambda: defaultdict(_Accumulator))
    for item, team, month_key, count, total, squares, low, high, k in db.session.execute(statement):
        figures = (int(count), float(total), float(squares), float(low), float(high), k)
        overall[item].add(*figures)
        by_team[item][team].add(*figures)
        by_month[item][month_key].add(*figures)
    specs = {}  # every scale item of every method, in the order the methods list them
    for method in sorted(methods.values(), key=lambda m: (m.key == MEASURE_METHOD, m.key)):
        if method.key == MEASURE_METHOD:
            continue
        for spec in method.evaluation:
            if spec.type == "scale" and spec.scale and spec.key not in specs:
                specs[spec.key] = spec
    order = [key for key in specs if key in overall] + sorted(key for key in overall if key not in specs)
    items = []
    for key in order:
        spec = specs.get(key)
        items.append(
            EvaluationItem(
                key=key,
                question=spec.question.get(language) if spec else key,
                scale_min=spec.scale.min if spec else int(overall[key].low),
                scale_max=spec.scale.max if spec else int(overall[key].high),
                overall=overall[key].cell(),
                by_team={team: acc.cell() for team, acc in by_team[key].items()},
                by_month={m: acc.cell() for m, acc in by_month[key].items()},
            )
        )
    return tuple(items), evaluated


def _actions(criteria: list, today: date) -> dict[int | None, tuple[int, int]]:
    counted = and_(
        ActionPoint.due.is_not(None),
        or_(ActionPoint.due < today, ActionPoint.follow_up == FollowUp.DONE.value),
    )
    on_time = and_(
        ActionPoint.follow_up == FollowUp.DONE.value,
        ActionPoint.done_on.is_not(None),
        ActionPoint.done_on <= ActionPoint.due,
    )
    statement = (
        select(DeliberationSession.team_id, func.count(), func.sum(case((on_time, 1), else_=0)))
        .join(DeliberationSession, DeliberationSession.id == ActionPoint.session_id)
        .where(*criteria, counted)
        .group_by(DeliberationSession.team_id)
    )
    return {team: (count, int(done or 0)) for team, count, done in db.session.execute(statement)}


def _measure(user: User) -> MeasureFigures | None:
    """The latest closed periodic measure (its figures are k-safe: summary/measures.py)."""
    from ..summary.measures import measure_of

    statement = select(DeliberationSession).where(
        DeliberationSession.method_key == MEASURE_METHOD,
        DeliberationSession.status == SessionStatus.CLOSED.value,
    )
    if not user.can_curate:
        statement = statement.where(DeliberationSession.owner_id == user.id)
    latest = db.session.scalar(
        statement.order_by(
            func.coalesce(DeliberationSession.closed_at, DeliberationSession.created_at).desc(),
            DeliberationSession.id.desc(),
        ).limit(1)
    )
    if latest is None:
        return None
    measure = measure_of(latest)
    return MeasureFigures(
        session_id=measure.session_id,
        title=measure.title,
        held_on=measure.held_on,
        k=measure.k,
        respondents=measure.respondents,
        domains=tuple((domain, measure.domains.get(domain)) for domain in DOMAINS),
    )


def _share(counted: int, on_time: int) -> float | None:
    return on_time / counted if counted else None


def insights(
    user: User,
    today: date | None = None,
    months: int = 12,
    language: str = "nl",
    zone: tzinfo | None = None,
) -> Insights:
    """The coordinator's figures over the last `months` months (see the module docstring)."""
    zone = zone or UTC
    today = today or datetime.now(zone).date()
    firsts = month_keys(today, months)
    since, end = firsts[0], _next_month(firsts[-1])
    criteria = _scope(user, since, end, zone)
    methods = _methods()

    month = _month_of(firsts, zone)
    per_month: dict[str, int] = defaultdict(int)
    per_team: dict[int | None, int] = defaultdict(int)
    per_method: dict[str, int] = defaultdict(int)
    for month_key, team, method, count in _session_counts(criteria, month):
        per_month[month_key] += count
        per_team[team] += count
        per_method[method] += count

    team_statement = select(Team.id, Team.name).order_by(func.lower(Team.name), Team.id)
    if not user.can_curate:
        team_statement = team_statement.where(Team.owner_id == user.id)
    names: dict[int | None, str] = dict(db.session.execute(team_statement).all())
    actions = _actions(criteria, today)
    team_ids = list(names)
    if user.can_curate and (per_team.get(NO_TEAM) or NO_TEAM in actions):
        team_ids.append(NO_TEAM)  # sessions outside any team, last
    teams = tuple(
        TeamRow(
            team_id=team,
            name=names.get(team, ""),
            sessions=per_team.get(team, 0),
            actions_counted=actions.get(team, (0, 0))[0],
            actions_on_time=actions.get(team, (0, 0))[1],
            share_on_time=_share(*actions.get(team, (0, 0))),
        )
        for team in team_ids
    )
    counted = sum(row.actions_counted for row in teams)
    on_time = sum(row.actions_on_time for row in teams)

    themes = tuple(
        sorted(
            (
                LabelCount(slug, _theme_label(slug, language), count)
                for slug, count in _theme_counts(criteria)
            ),
            key=lambda row: (-row.sessions, row.label),
        )
    )
    method_rows = tuple(
        sorted(
            (
                LabelCount(key, methods[key].name.get(language) if key in methods else key, count)
                for key, count in per_method.items()
            ),
            key=lambda row: (-row.sessions, row.label),
        )
    )
    items, evaluated = _evaluation(criteria, month, methods, language)
    return Insights(
        language=language,
        since=since,
        until=today,
        scope="all" if user.can_curate else "own",
        months=tuple(
            MonthCount(f.strftime("%Y-%m"), f, per_month.get(f.strftime("%Y-%m"), 0)) for f in firsts
        ),
        teams=teams,
        themes=themes,
        methods=method_rows,
        items=items,
        evaluated_sessions=evaluated,
        actions_counted=counted,
        actions_on_time=on_time,
        share_on_time=_share(counted, on_time),
        measure=_measure(user),
    )
