"""Build a session's Summary from the database (or from its archive after a purge)."""

from __future__ import annotations

import re

from ..models import DeliberationSession
from ..sessions import service as sessions
from ..sessions.plan import planned_minutes
from ..vote import contributions, evaluation
from ..vote.service import Results, aggregate, results
from .model import (
    ActionSummary,
    DilemmaSummary,
    PollSummary,
    ResultRow,
    StepSummary,
    Summary,
)

CONSENT_CHOICES = ("full", "redacted", "question")
BOLD_LINE = re.compile(r"^\s*\*\*(.+?)\*\*\s*$", re.M)


def moral_question(body: str) -> str:
    """The case's moral question: its last bold line, else its last question sentence."""
    bold = BOLD_LINE.findall(body or "")
    if bold:
        return bold[-1].strip()
    questions = re.findall(r"[^.!?\n]*\?", body or "")
    return questions[-1].strip() if questions else ""


def _poll_summary(key: str, step_title: str, question: str, poll_type: str, res: Results, before=None):
    return PollSummary(
        key=key,
        step_title=step_title,
        question=question,
        type=poll_type,
        count=res.count,
        shown=res.shown,
        rows=tuple(ResultRow(str(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in res.rows),
        texts=tuple(res.texts),
        mean=res.mean,
        before=before,
    )


def consented_case(session: DeliberationSession, body: str) -> str:
    """The case as its presenter consented: the full text, the redacted version or only the question.

    The one rule for paper, the projector and the phones alike.
    """
    if session.case_consent == "redacted":
        return session.case_redacted.strip() or moral_question(body)
    if session.case_consent == "question":
        return moral_question(body)
    return body


def _dilemmas(session: DeliberationSession) -> tuple[DilemmaSummary, ...]:
    return tuple(
        DilemmaSummary(dilemma["title"], consented_case(session, dilemma["body"]), session.case_consent)
        for dilemma in session.dilemmas_snapshot
    )


def _aggregates(session: DeliberationSession) -> dict:
    """What a summary needs from raw answers: kept in the archive when those are purged."""
    method = sessions.method_of(session)
    titles = {step.key: step.title.get(session.language) for step in method.steps}
    by_id: dict[str, PollSummary] = {}
    polls = []
    for poll in session.polls:
        if poll.status == "pending":
            continue
        step = sessions.step_at(session, poll.position)
        res = results(poll, session.k, session.language)
        if poll.status == "open":
            # Only the number while it is open: two downloads a tap apart would show that tap.
            res = Results(count=res.count, k=res.k, shown=False)
        before = by_id.get(poll.compare_with_id)
        summary = _poll_summary(
            poll.key, titles[step.step_key], poll.spec["question"][session.language], poll.type, res,
            before,
        )  # fmt: skip
        by_id[poll.id] = summary
        polls.append(summary)
    items = []
    # While the evaluation is open it is not read at all: even a count per item, downloaded
    # before and after one phone sent its answers, would show which questions that phone answered.
    for spec in () if session.evaluation_open else method.evaluation:
        scale = {"min": spec.scale.min, "max": spec.scale.max} if spec.scale else None
        res = aggregate(spec.type, evaluation.values_for(session, spec.key), {}, scale, session.k)
        if res.count:
            items.append(_poll_summary(spec.key, "", spec.question.get(session.language), spec.type, res))
    return {
        "participants": sessions.participant_count(session),
        "polls": polls,
        "evaluation": items,
        "contributions": [c.text for c in contributions.released(session)],
    }


def build_summary(session: DeliberationSession) -> Summary:
    """Everything the exports show, in the session's language; only aggregates, k respected."""
    method = sessions.method_of(session)
    if session.archived_summary is not None:
        archived = Summary.from_dict(session.archived_summary)
        participants, polls = archived.participants, archived.polls
        evaluation_items, released = archived.evaluation, archived.contributions
    else:
        live = _aggregates(session)
        participants, polls = live["participants"], tuple(live["polls"])
        evaluation_items, released = tuple(live["evaluation"]), tuple(live["contributions"])
    titles = {step.key: step.title.get(session.language) for step in method.steps}
    steps = tuple(
        StepSummary(
            position=step.position,
            title=titles[step.step_key],
            dilemma_title=(
                session.dilemmas_snapshot[step.dilemma_index]["title"]
                if step.dilemma_index is not None
                else None
            ),
            planned_minutes=step.planned_minutes + step.extra_minutes,
            actual_minutes=round(sessions.timer_state(step, session.closed_at).elapsed_seconds / 60),
            notes=step.notes,
            screen_text=step.screen_text or "",
        )
        for step in session.steps
    )
    when = session.started_at or session.created_at
    return Summary(
        session_id=session.id,
        title=session.title,
        language=session.language,
        date=when.date().isoformat(),
        method=method.name.get(session.language),
        facilitator=session.facilitator_name,
        participants=participants,
        k=session.k,
        planned_minutes=planned_minutes(method, len(session.dilemmas_snapshot)),
        actual_minutes=sum(step.actual_minutes for step in steps),
        dilemmas=_dilemmas(session),
        steps=steps,
        polls=polls,
        contributions=released,
        actions=tuple(
            ActionSummary(p.what, p.who, p.due.isoformat() if p.due else None) for p in session.action_points
        ),
        evaluation=evaluation_items,
        status=session.status,
        evaluation_open=session.evaluation_open and session.archived_summary is None,
    )
