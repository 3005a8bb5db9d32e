"""What the projector and the facilitator screen show, as plain data."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

from markupsafe import Markup

from ..charts import Chart, build_chart
from ..methods.loader import Method, Step
from ..models import DeliberationSession, Poll, PollStatus
from ..render import render_markdown
from ..summary.build import consented_case
from ..teams.followup import followup_view
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


CHUNK_WORDS = 55  # a long paragraph of a case is cut into pieces of about this many words
SHORT_CHUNK_WORDS = 45  # the short version shares the screen with its options: smaller pieces
SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def case_chunks(text: str, words: int = CHUNK_WORDS) -> list[Markup]:
    """The case as rendered pieces small enough for the projector to page through."""
    chunks = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        sentences, piece = SENTENCE_END.split(paragraph.strip()), []
        for sentence in sentences:
            if piece and len(" ".join([*piece, sentence]).split()) > words:
                chunks.append(" ".join(piece))
                piece = []
            piece.append(sentence)
        if piece:
            chunks.append(" ".join(piece))
    return [render_markdown(chunk) for chunk in chunks if chunk.strip()]


def _dilemma_options(session: DeliberationSession, dilemma: dict | None, step: Step) -> list[dict]:
    if dilemma is None or not step.show_options:
        return []
    return [{"key": option["key"], "text": option["text"]} for option in dilemma.get("options", [])]


def projector_case(session: DeliberationSession, dilemma: dict | None, case: list[Markup]) -> list[Markup]:
    """The case as the projector shows it (`case`: as the phones do): the bank's short version
    where there is one. A whole case of 300 words cannot be read from the back of a room; the
    phones carry it in full. A presenter's own (redacted) text is shown as it is."""
    short = (dilemma or {}).get("short") or ""
    if case and short and session.case_consent == "full":
        return case_chunks(short, SHORT_CHUNK_WORDS)
    return case


def stage_context(session: DeliberationSession, live_counts: bool = True) -> dict:
    """Everything needed to show the current step (without the counts that change without a version)."""
    method = service.method_of(session)
    current = service.current_step(session)
    step = _step_definition(method, current.step_key)
    dilemma = session.dilemmas_snapshot[current.dilemma_index] if current.dilemma_index is not None else None
    poll = next((p for p in session.polls if p.position == current.position), None)
    shown = poll_results(session, poll)
    if session.show_contributions and live_counts:
        position = None if session.pin_contributions else current.position
        shown_contributions = contributions.released(session, position)
    else:
        shown_contributions = []
    case = case_chunks(consented_case(session, dilemma["body"])) if dilemma and step.show_case else []
    return {
        **shown,
        "chart": poll_chart(session, poll, shown),
        "case": case,
        "projector_case": projector_case(session, dilemma, case),
        "case_options": _dilemma_options(session, dilemma, step),
        "screen_text": current.screen_text if current.screen_shown else "",
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
        "participants": service.participant_count(session) if live_counts else None,
        "answer_count": (answer_count(poll.id) if poll is not None else 0) if live_counts else None,
        "contributions": shown_contributions,
        "timer": service.timer_state(current),
        # At the Terugblik: the previous session's action points with what became of them.
        "followup": followup_view(session) if step.followup else [],
    }


PHONE_KEYS = (
    "position", "count", "title", "prompt_html", "dilemma", "screen_text", "case", "case_options",
    "poll_view", "chart", "followup",
)  # fmt: skip
_phone_stages: OrderedDict[tuple[str, int], dict] = OrderedDict()
_phone_stages_lock = threading.Lock()
PHONE_STAGES_KEPT = 64


def phone_stage(session: DeliberationSession) -> dict:
    """What every phone shows of the current step: plain data, the same for all participants.

    Every phone of a room asks for it after each change, so each app process keeps it per session
    version (every change a phone shows bumps the version); nothing per person is in it.
    """
    key = (session.join_code, session.version)  # the code is random: no clash between databases
    with _phone_stages_lock:
        cached = _phone_stages.get(key)
        if cached is not None:
            _phone_stages.move_to_end(key)
            return cached
    context = stage_context(session, live_counts=False)
    poll = context["poll"]
    stage = {name: context[name] for name in PHONE_KEYS}
    stage["poll_id"] = poll.id if poll is not None else None
    stage["poll_is_open"] = poll is not None and poll.status == PollStatus.OPEN
    with _phone_stages_lock:
        _phone_stages[key] = stage
        while len(_phone_stages) > PHONE_STAGES_KEPT:
            _phone_stages.popitem(last=False)
    return stage


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


def poll_chart(session: DeliberationSession, poll: Poll | None, shown: dict) -> Chart | None:
    """The chart of a closed poll's results (before/after where the method compares)."""
    if poll is None or shown["results"] is None:
        return None
    scale = poll.spec.get("scale") or {}
    labels = [scale.get(end) or {} for end in ("min_label", "max_label")]
    return build_chart(
        poll.type, shown["results"], shown["before"],
        labels[0].get(session.language, ""), labels[1].get(session.language, ""),
    )  # fmt: skip


def projector_state(session: DeliberationSession) -> dict:
    """The live state as JSON-ready data: step, timer, participants, poll.

    Polled by the facilitator screen every two seconds and by projectors on every change: it reads
    only what it returns (no results, no chart, no rendered case).
    """
    current = service.current_step(session)
    step = _step_definition(service.method_of(session), current.step_key)
    poll = next((p for p in session.polls if p.position == current.position), None)
    view = poll_view(session, poll)
    timer = service.timer_state(current)
    return {
        "version": session.version,
        "status": session.status,
        "show_join": session.show_join,
        "step": {
            "position": current.position,
            "count": len(session.steps),
            "title": step.title.get(session.language),
        },
        "timer": {
            "elapsed": timer.elapsed_seconds,
            "planned": timer.planned_seconds,
            "running": timer.running,
        },
        "participants": service.participant_count(session),
        "poll": {**view, "answers": answer_count(poll.id)} if view else None,
    }
