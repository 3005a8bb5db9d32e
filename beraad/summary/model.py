"""The session summary as plain, immutable data: what every export (PDF, HTML, Markdown, CSV) shows.

Nothing here identifies a participant: polls and evaluation items carry aggregates only,
and results below the session's k carry only their count.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class ResultRow:
    key: str  # option key ("A"), scale point ("4") or ranked item key
    label: str
    count: int  # answers (choice, scale) or Borda points (ranking)
    percent: int


@dataclass(frozen=True)
class PollSummary:
    key: str
    step_title: str
    question: str
    type: str  # choice | scale | ranking | text
    count: int  # number of answers
    shown: bool  # False: fewer than k answered, only the count may be shown
    rows: tuple[ResultRow, ...] = ()
    texts: tuple[str, ...] = ()  # text answers, sorted alphabetically
    mean: float | None = None
    before: PollSummary | None = None  # the earlier poll this one is compared with
    # The dilemma the poll is about, in a session on several dilemmas (a game); else None.
    dilemma_title: str | None = None


@dataclass(frozen=True)
class StepSummary:
    position: int
    title: str
    dilemma_title: str | None
    planned_minutes: int
    actual_minutes: int  # actual_seconds rounded, kept for summaries archived before the seconds
    notes: str
    # What the facilitator put on the projector at this step, as typed. The default lets summaries
    # archived before it existed load.
    screen_text: str = ""
    actual_seconds: int = 0  # what the step's timer ran, to the second


@dataclass(frozen=True)
class ActionSummary:
    what: str
    who: str
    due: str | None  # ISO date


@dataclass(frozen=True)
class FollowUpSummary:
    """An action point of the team's previous session, as looked back on at this session's Terugblik."""

    what: str
    who: str  # a role
    due: str | None  # ISO date
    status: str  # open | done | in_progress | dropped | carried
    note: str = ""


@dataclass(frozen=True)
class DilemmaSummary:
    title: str
    text: str  # Markdown: the full case, the redacted version or only the moral question
    consent: str  # full | redacted | question
    # True where a case presenter brought this case in and chose the consent: only then does the summary
    # speak of their consent (not for a case from the bank in a game). False in summaries archived before.
    presenter_consent: bool = False


@dataclass(frozen=True)
class Summary:
    session_id: int
    title: str
    language: str  # nl | en: every label in the exports follows it
    date: str  # ISO date the session took place (started, else was created), in local time
    method: str
    facilitator: str  # the facilitator's chosen display name, or ""
    participants: int
    k: int
    planned_minutes: int
    actual_minutes: int
    dilemmas: tuple[DilemmaSummary, ...]
    steps: tuple[StepSummary, ...]
    polls: tuple[PollSummary, ...]
    contributions: tuple[str, ...]  # released ones, in their shuffled order
    actions: tuple[ActionSummary, ...]
    evaluation: tuple[PollSummary, ...]
    status: str = "closed"
    actual_seconds: int = 0  # the steps' timers added up (never their rounded minutes)
    started_at: str | None = None  # ISO 8601, UTC, to the minute
    closed_at: str | None = None
    # BERAAD_ORGANISATION: the team or organisation, in the title block and every page's header ("": none).
    organisation: str = ""
    # BERAAD_TIMEZONE: the organisation's time zone, in which started_at and closed_at are shown.
    timezone: str = "Europe/Amsterdam"
    evaluation_open: bool = (
        False  # while open only that is said: per-item counts would show one phone's choices
    )
    extra: dict = field(default_factory=dict, compare=False)
    # The Terugblik: the previous session's action points and what became of them (none: no Terugblik,
    # as in every summary archived before it existed).
    follow_up: tuple[FollowUpSummary, ...] = ()

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Summary:
        def poll(item: dict | None) -> PollSummary | None:
            if item is None:
                return None
            return PollSummary(
                **{
                    **item,
                    "rows": tuple(ResultRow(**row) for row in item["rows"]),
                    "texts": tuple(item["texts"]),
                    "before": poll(item.get("before")),
                }
            )

        def step(item: dict) -> StepSummary:
            # Archived before the seconds were kept: the minutes are all there is.
            return StepSummary(**{"actual_seconds": item["actual_minutes"] * 60, **item})

        steps = tuple(step(s) for s in data["steps"])
        return cls(
            **{
                "actual_seconds": sum(s.actual_seconds for s in steps),
                **data,
                "dilemmas": tuple(DilemmaSummary(**d) for d in data["dilemmas"]),
                "steps": steps,
                "polls": tuple(poll(p) for p in data["polls"]),
                "contributions": tuple(data["contributions"]),
                "actions": tuple(ActionSummary(**a) for a in data["actions"]),
                "evaluation": tuple(poll(p) for p in data["evaluation"]),
                "follow_up": tuple(FollowUpSummary(**f) for f in data.get("follow_up", ())),
            }
        )
