"""The periodic measure across sessions: averages per domain and question, measure by measure.

A measure is a closed session of the `periodieke-meting` method: its questionnaire is that
session's evaluation, so it keeps the evaluation's anonymity (answers unlinkable, nothing read
while it is open) and its k rule (a question with fewer than k answers shows no average). A
domain's average is the mean of the averages of its shown questions. Pure Python on top of the
summary; no request globals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from statistics import fmean

from ..models import DeliberationSession, SessionStatus
from .build import build_summary

MEASURE_METHOD = "periodieke-meting"
DOMAINS = ("competentie", "teamwerk", "handelen")  # question keys start with their domain


@dataclass(frozen=True)
class QuestionResult:
    key: str
    question: str
    count: int
    mean: float | None  # None: fewer than k answers


@dataclass(frozen=True)
class Measure:
    session_id: int
    title: str
    held_on: datetime
    k: int
    respondents: int  # the most answers any one question got (people may skip questions)
    domains: dict[str, float | None]
    questions: tuple[QuestionResult, ...]
    remarks: tuple[str, ...]  # the open question's answers, sorted; empty below k


def is_measure(session: DeliberationSession) -> bool:
    return session.method_key == MEASURE_METHOD


def measure_of(session: DeliberationSession) -> Measure:
    summary = build_summary(session)
    questions, remarks = [], ()
    for item in summary.evaluation:
        if item.type == "text":
            remarks = item.texts if item.shown else ()
            continue
        mean = item.mean if item.shown else None
        questions.append(QuestionResult(item.key, item.question, item.count, mean))
    domains = {}
    for domain in DOMAINS:
        means = [q.mean for q in questions if q.key.startswith(domain + "-") and q.mean is not None]
        domains[domain] = fmean(means) if means else None
    return Measure(
        session_id=session.id,
        title=session.title,
        held_on=session.closed_at or session.started_at or session.created_at,
        k=session.k,
        respondents=max((q.count for q in questions), default=0),
        domains=domains,
        questions=tuple(questions),
        remarks=tuple(remarks),
    )


def measures(sessions: list[DeliberationSession]) -> list[Measure]:
    """The closed measures among these sessions, oldest first (a trend reads left to right)."""
    closed = [s for s in sessions if is_measure(s) and s.status == SessionStatus.CLOSED.value]
    return [measure_of(s) for s in sorted(closed, key=lambda s: (s.closed_at or s.created_at, s.id))]
