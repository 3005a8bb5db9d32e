"""What the projector and the facilitator screen show, as plain data."""

from __future__ import annotations

from ..methods.loader import Method, Step
from ..models import DeliberationSession, Poll, PollStatus
from ..render import render_markdown
from ..vote import contributions
from ..vote.service import answer_count, results
from . import service


def _step_definition(method: Method, key: str) -> Step:
    return next(step for step in method.steps if step.key == key)


def poll_view(session: DeliberationSession, poll: Poll | None) -> dict | None:
    """A poll as shown to people: question and options in the session's language."""
    if poll is None:
        return None
    language = session.language
    spec = poll.spec
    return {
        "id": poll.id,
        "type": poll.type,
        "status": poll.status,
        "revealed": poll.revealed,
        "question": spec["question"][language],
        "options": [
            {"key": o["key"], "text": o["text"][language]} for o in service.poll_options(session, poll)
        ],
        "scale": spec.get("scale"),
        "max_length": spec.get("max_length", 280),
    }


def stage_context(session: DeliberationSession) -> dict:
    """Everything needed to show the current step."""
    method = service.method_of(session)
    current = service.current_step(session)
    step = _step_definition(method, current.step_key)
    dilemma = session.dilemmas_snapshot[current.dilemma_index] if current.dilemma_index is not None else None
    poll = next((p for p in session.polls if p.position == current.position), None)
    return {
        **poll_results(session, poll),
        "method": method,
        "step": step,
        "session_step": current,
        "position": current.position,
        "count": len(session.steps),
        "title": step.title.get(session.language),
        "prompt_html": render_markdown(step.prompt.get(session.language)),
        "dilemma": dilemma,
        "dilemma_number": (current.dilemma_index + 1) if current.dilemma_index is not None else None,
        "poll": poll,
        "poll_view": poll_view(session, poll),
        "participants": service.participant_count(session),
        "answer_count": answer_count(poll.id) if poll is not None else 0,
        "contributions": contributions.released(session) if session.show_contributions else [],
        "timer": service.timer_state(current),
    }


def poll_results(session: DeliberationSession, poll: Poll | None) -> dict:
    """Results of a closed poll (and of the poll it is compared with), following the k rule.

    While a poll is open nobody sees the distribution, only the number of answers: a bar
    that moves as someone taps their phone would tell the room how that person voted.
    """
    if poll is None or poll.status != PollStatus.CLOSED:
        return {"results": None, "before": None}
    before_poll = next((p for p in session.polls if p.id == poll.compare_with_id), None)
    before = None
    if before_poll is not None and before_poll.status == PollStatus.CLOSED:
        before = results(before_poll, session.k, session.language)
    return {"results": results(poll, session.k, session.language), "before": before}


def projector_state(session: DeliberationSession) -> dict:
    """The live state as JSON-ready data: step, timer, participants, poll."""
    context = stage_context(session)
    timer = context["timer"]
    return {
        "version": session.version,
        "status": session.status,
        "step": {
            "position": context["position"],
            "count": context["count"],
            "title": context["title"],
        },
        "timer": {
            "elapsed": timer.elapsed_seconds,
            "planned": timer.planned_seconds,
            "running": timer.running,
        },
        "participants": context["participants"],
        "poll": {**context["poll_view"], "answers": context["answer_count"]}
        if context["poll_view"]
        else None,
    }
