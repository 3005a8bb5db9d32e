"""Build a session's Summary from the database (or from its archive after a purge)."""

from __future__ import annotations

import re
from datetime import UTC

from flask import current_app

from ..models import DeliberationSession
from ..sessions import service as sessions
from ..sessions.plan import planned_minutes
from ..teams.followup import points_to_review
from ..vote import contributions, evaluation
from ..vote.service import Results, aggregate, results
from .labels import DEFAULT_TIMEZONE, zone
from .model import (
    ActionSummary,
    DilemmaSummary,
    FollowUpSummary,
    PollSummary,
    ResultRow,
    StepSummary,
    Summary,
)

CONSENT_CHOICES = ("full", "redacted", "question")
# The methods in which someone brings in a case of their own (the casusinbrenger), read from the prompts
# in methods/*.yaml: only there does a summary speak of that person's consent to the case text. The
# seven questions take a case of one's own or one from the bank; a consent other than "full" says it was
# someone's own. Not the Socratic dialogue (its bank case only leads to the question; the example is
# told, not written down), the integrity dialogue (an actor plays a bank case), the short deliberation,
# the game, the crisis simulation and the large meeting (cases from the bank).
PRESENTER_METHODS = frozenset(
    {"dilemmamethode", "cura", "nijmeegse-methode", "tien-stappen-afweging", "zeven-vragen"}
)
BOLD_LINE = re.compile(r"^\s*\*\*(.+?)\*\*\s*$", re.M)


def moral_question(body: str) -> str:
    """The case's moral question: its last bold line, else its last question sentence."""
    bold = BOLD_LINE.findall(body or "")
    if bold:
        return bold[-1].strip()
    questions = re.findall(r"[^.!?\n]*\?", body or "")
    return questions[-1].strip() if questions else ""


def _poll_summary(
    key: str, step_title: str, question: str, poll_type: str, res: Results, before=None, dilemma_title=None
):
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
        dilemma_title=dilemma_title,
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


def has_case_presenter(session: DeliberationSession) -> bool:
    """One case, with a method where someone brings it in (PRESENTER_METHODS): only then is there a
    case presenter to ask what of it goes on paper."""
    return len(session.dilemmas_snapshot) == 1 and session.method_key in PRESENTER_METHODS


def presenter_consent(session: DeliberationSession) -> bool:
    """Whether the case text is as a case presenter consented: a session with a presenter, and not in full."""
    return has_case_presenter(session) and session.case_consent != "full"


def _dilemmas(session: DeliberationSession) -> tuple[DilemmaSummary, ...]:
    presenter = presenter_consent(session)
    return tuple(
        DilemmaSummary(
            dilemma["title"], consented_case(session, dilemma["body"]), session.case_consent, presenter
        )
        for dilemma in session.dilemmas_snapshot
    )


def _dilemma_title(session: DeliberationSession, index: int | None) -> str | None:
    """The title of the dilemma a step or poll is about, where a session has several of them."""
    snapshot = session.dilemmas_snapshot
    if index is None or len(snapshot) < 2 or index >= len(snapshot):
        return None
    return snapshot[index]["title"]


def _minute(moment) -> str | None:
    return moment.replace(second=0, microsecond=0).isoformat(timespec="minutes") if moment else None


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
            before, _dilemma_title(session, poll.dilemma_index),
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


def _follow_up(session: DeliberationSession) -> tuple[FollowUpSummary, ...]:
    """The Terugblik: the previous session's action points as this session looked back on them."""
    return tuple(
        FollowUpSummary(p.what, p.who, p.due.isoformat() if p.due else None, p.follow_up, p.follow_up_note)
        for p in points_to_review(session)
    )


def build_summary(session: DeliberationSession) -> Summary:
    """Everything the exports show, in the session's language; only aggregates, k respected."""
    method = sessions.method_of(session)
    if session.archived_summary is not None:
        archived = Summary.from_dict(session.archived_summary)
        participants, polls = archived.participants, archived.polls
        evaluation_items, released = archived.evaluation, archived.contributions
        follow_up = _follow_up(session) or archived.follow_up
    else:
        live = _aggregates(session)
        participants, polls = live["participants"], tuple(live["polls"])
        evaluation_items, released = tuple(live["evaluation"]), tuple(live["contributions"])
        follow_up = _follow_up(session)
    titles = {step.key: step.title.get(session.language) for step in method.steps}
    seconds = {
        step.position: sessions.timer_state(step, session.closed_at).elapsed_seconds for step in session.steps
    }
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
            actual_minutes=round(seconds[step.position] / 60),
            notes=step.notes,
            screen_text=step.screen_text or "",
            actual_seconds=seconds[step.position],
        )
        for step in session.steps
    )
    total_seconds = sum(seconds.values())
    timezone = current_app.config.get("TIMEZONE") or DEFAULT_TIMEZONE
    when = (session.started_at or session.created_at).replace(tzinfo=UTC).astimezone(zone(timezone))
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
        actual_minutes=round(total_seconds / 60),
        actual_seconds=total_seconds,
        started_at=_minute(session.started_at),
        closed_at=_minute(session.closed_at),
        organisation=(current_app.config.get("ORGANISATION") or "").strip(),
        timezone=timezone,
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
        follow_up=follow_up,
    )
