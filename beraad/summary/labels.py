"""Labels of the exports in the session's language (PDF, Markdown, CSV run without a request).

Besides the words, the few formatting rules every summary shares live here, so the PDF and the HTML
print view say the same: a duration (`format_duration`), a number (`format_number`), the time spent
against the plan (`time_spent`) and the date with the start and end times (`date_and_time`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.numbers import format_decimal

from ..config import DEFAULT_TIMEZONE

SECONDS_BELOW = 10 * 60  # a session shorter than this gives its times to the second: "2 min 40 s"
HOURS_FROM_MINUTES = 120  # from this a duration is given in hours and minutes: "2 uur 5 min"

LABELS = {
    "nl": {
        "summary": "Verslag moreel beraad", "date": "Datum", "method": "Methode",
        "facilitator": "Gespreksleider", "organisation": "Organisatie",
        "participants": "Deelnemers", "time": "Tijd", "planned": "gepland", "actual": "werkelijk",
        "minutes": "min", "seconds": "s", "hours": "uur",
        "dilemma": "Dilemma", "steps": "Stappen", "notes": "Notities",
        "on_screen": "Op het scherm",
        "no_notes": "Geen notities.", "polls": "Stemmingen", "no_polls": "Er is niet gestemd.",
        "general_polls": "Algemeen",
        "answers": "antwoorden", "hidden": "resultaten worden pas getoond vanaf {k} antwoorden",
        "before": "eerst", "after": "nu", "mean": "gemiddelde", "points": "punten",
        "contributions": "Anonieme bijdragen", "no_contributions": "Geen bijdragen vrijgegeven.",
        "actions": "Actiepunten", "no_actions": "Geen actiepunten.", "what": "Wat",
        "who": "Wie (rol)", "when": "Wanneer", "evaluation": "Evaluatie",
        "no_evaluation": "Geen evaluatie ingevuld.",
        "evaluation_open": "De evaluatie loopt nog. De uitkomsten komen in dit verslag zodra de "
                           "gespreksleider haar sluit.",
        "n": "n", "distribution": "Verdeling", "average": "Gemiddelde",
        "open_answers": "open vraag: de antwoorden staan hieronder",
        "step": "Stap", "question": "Vraag",
        "option": "Optie", "count": "Aantal", "percent": "Procent", "shown": "Getoond",
        "consent_redacted": "Aangepaste tekst, met instemming van de casusinbrenger.",
        "consent_question": "Alleen de morele vraag, op verzoek van de casusinbrenger.",
        # The same choice where nobody brought the case in (a case from the bank, a game).
        "consent_redacted_plain": "Aangepaste tekst van de casus.",
        "consent_question_plain": "Alleen de morele vraag uit de casus.",
        "anonymity": "Dit verslag bevat alleen totalen. Resultaten van minder dan {k} antwoorden "
                     "worden niet getoond.",
        "planned_actual": "gepland {planned}, werkelijk {actual}",
        "started_at": "begonnen om {time}", "closed_at": "gesloten om {time}",
        "closed_on": "gesloten op {date} om {time}",
        "not_closed": "Voorlopig verslag: de sessie is nog niet afgesloten.",
        "no_dilemma": "Geen dilemma vastgelegd.", "no_steps": "Geen stappen vastgelegd.",
        "answer": "antwoord", "point": "punt", "compared": "eerst: {question}",
        "no_answers": "Geen antwoorden.", "page": "Pagina {page} van {total}",
        # The Terugblik: what became of the action points of the team's previous session.
        "follow_up": "Terugblik", "status": "Status", "follow_up_note": "Toelichting",
        "follow_up_intro": "Wat de vorige sessie van dit team afsprak, en wat ermee gebeurde.",
        "follow_up_open": "Nog niet besproken", "follow_up_done": "Gedaan",
        "follow_up_in_progress": "Loopt nog", "follow_up_dropped": "Vervallen",
        "follow_up_carried": "Schuift door",
    },
    "en": {
        "summary": "Moral case deliberation summary", "date": "Date", "method": "Method",
        "facilitator": "Facilitator", "organisation": "Organisation",
        "participants": "Participants", "time": "Time", "planned": "planned", "actual": "actual",
        "minutes": "min", "seconds": "s", "hours": "h",
        "dilemma": "Dilemma", "steps": "Steps", "notes": "Notes",
        "on_screen": "On screen",
        "no_notes": "No notes.", "polls": "Votes", "no_polls": "There were no votes.",
        "general_polls": "General",
        "answers": "answers", "hidden": "results are only shown from {k} answers",
        "before": "before", "after": "now", "mean": "average", "points": "points",
        "contributions": "Anonymous contributions", "no_contributions": "No contributions released.",
        "actions": "Action points", "no_actions": "No action points.", "what": "What",
        "who": "Who (role)", "when": "By when", "evaluation": "Evaluation",
        "no_evaluation": "No evaluation filled in.",
        "evaluation_open": "The evaluation is still open. Its results appear in this summary once the "
                           "facilitator closes it.",
        "n": "n", "distribution": "Distribution", "average": "Average",
        "open_answers": "open question: the answers follow below",
        "step": "Step", "question": "Question",
        "option": "Option", "count": "Count", "percent": "Percent", "shown": "Shown",
        "consent_redacted": "Edited text, with the case presenter's consent.",
        "consent_question": "Only the moral question, at the case presenter's request.",
        "consent_redacted_plain": "Edited text of the case.",
        "consent_question_plain": "Only the moral question from the case.",
        "anonymity": "This summary contains totals only. Results of fewer than {k} answers "
                     "are not shown.",
        "planned_actual": "planned {planned}, actual {actual}",
        "started_at": "started at {time}", "closed_at": "closed at {time}",
        "closed_on": "closed on {date} at {time}",
        "not_closed": "Provisional summary: the session has not been closed yet.",
        "no_dilemma": "No dilemma recorded.", "no_steps": "No steps recorded.",
        "answer": "answer", "point": "point", "compared": "before: {question}",
        "no_answers": "No answers.", "page": "Page {page} of {total}",
        "follow_up": "Looking back", "status": "Status", "follow_up_note": "Note",
        "follow_up_intro": "What this team's previous session agreed, and what became of it.",
        "follow_up_open": "Not discussed yet", "follow_up_done": "Done",
        "follow_up_in_progress": "In progress", "follow_up_dropped": "Dropped",
        "follow_up_carried": "Carried over",
    },
}  # fmt: skip
MONTHS = {
    "nl": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
           "september", "oktober", "november", "december"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
}  # fmt: skip


class Words(dict):
    """A language's labels, with that language's formatting as methods for the print view
    (`words.duration(seconds)`, `words.number(mean)` …). Method names never clash with a label key."""

    def __init__(self, language: str):
        self.language = language if language in LABELS else "nl"
        super().__init__(LABELS[self.language])

    def duration(self, seconds: float) -> str:
        return format_duration(seconds, self.language)

    def number(self, value: float, decimals: int = 1) -> str:
        return format_number(value, self.language, decimals)

    def time_spent(self, item, summary=None) -> str:
        return time_spent(item, self.language, summary)

    def date_and_time(self, summary) -> str:
        return date_and_time(summary)

    def consent_remark(self, dilemma) -> str:
        return consent_remark(dilemma, self.language)

    def answers_per_point(self, item) -> str:
        return distribution(item, self.language)

    def follow_up_status(self, status: str) -> str:
        return follow_up_label(status, self.language)


def labels(language: str) -> Words:
    return Words(language)


def long_date(iso: str, language: str) -> str:
    """2026-11-25 → '25 november 2026' / '25 November 2026'."""
    year, month, day = (int(part) for part in iso.split("-"))
    return f"{day} {MONTHS.get(language, MONTHS['nl'])[month - 1]} {year}"


def format_number(value: float, language: str, decimals: int = 1) -> str:
    """4.2 → '4,2' in Dutch, '4.2' in English (Babel); with decimals=0 a whole number, grouped."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return format_decimal(value, format=pattern, locale="en" if language == "en" else "nl")


def format_duration(seconds: float, language: str, precise: bool | None = None) -> str:
    """A time on the clock: to the second ('2 min 40 s', '0 min 20 s') when precise, by default under
    ten minutes; else in whole minutes ('87 min'), from two hours in hours and minutes ('2 uur 5 min').

    Precise times always have both parts, so a running timer only changes its figures, never its words.
    """
    words = LABELS.get(language, LABELS["nl"])
    total = max(0, round(seconds or 0))
    if precise is None:
        precise = total < SECONDS_BELOW
    if precise:
        minutes, rest = divmod(total, 60)
        return f"{minutes} {words['minutes']} {rest} {words['seconds']}"
    minutes = (total + 30) // 60  # half a minute rounds up
    if minutes < HOURS_FROM_MINUTES:
        return f"{minutes} {words['minutes']}"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} {words['hours']}" + (f" {minutes} {words['minutes']}" if minutes else "")


def actual_seconds(item) -> int:
    """The time a step or a whole session took, in seconds. A summary made before the seconds were
    kept has only its rounded minutes (its seconds are 0): those are all there is."""
    return item.actual_seconds or item.actual_minutes * 60


def time_spent(item, language: str, summary=None) -> str:
    """'gepland 90 min, werkelijk 87 min' for a step or a whole session (a StepSummary or Summary).

    One precision for the whole summary: a session shorter than ten minutes gives every actual time
    to the second ('werkelijk 2 min 40 s', and its steps' '0 min 20 s'), a longer one in minutes.
    Pass the summary a step belongs to.
    """
    words = LABELS.get(language, LABELS["nl"])
    precise = actual_seconds(summary if summary is not None else item) < SECONDS_BELOW
    return words["planned_actual"].format(
        planned=format_duration(item.planned_minutes * 60, language, precise=False),
        actual=format_duration(actual_seconds(item), language, precise=precise),
    )


def zone(name: str | None) -> tzinfo:
    """The organisation's time zone; UTC for a name this machine does not know."""
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return UTC


def local_time(iso: str | None, timezone: str | None) -> datetime | None:
    """A moment kept as ISO 8601 in UTC ('2026-11-25T13:05'), in the organisation's local time."""
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(str(iso))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone(timezone))


def session_day(summary) -> date | None:
    """The day the session took place, in local time: the day it started, else its recorded date."""
    start = local_time(summary.started_at, summary.timezone)
    if start is not None:
        return start.date()
    try:
        return date.fromisoformat(str(summary.date))
    except ValueError:
        return None


def date_and_time(summary) -> str:
    """'25 november 2026, 14:05–15:40': the date with, as far as known, the local start and end times.

    A session that never started has no times; one still running only its start; an end on another
    day than the start carries its own date.
    """
    language = summary.language
    words = LABELS.get(language, LABELS["nl"])
    day = session_day(summary)
    if day is None:
        return str(summary.date)
    text = long_date(day.isoformat(), language)
    start = local_time(summary.started_at, summary.timezone)
    end = local_time(summary.closed_at, summary.timezone)
    if end is not None and end.date() != day:
        end_day = long_date(end.date().isoformat(), language)
        if start is not None:
            return f"{text} {start:%H:%M} – {end_day} {end:%H:%M}"
        return f"{text}, {words['closed_on'].format(date=end_day, time=f'{end:%H:%M}')}"
    if start is not None and end is not None:
        return f"{text}, {start:%H:%M}–{end:%H:%M}"
    if start is not None:
        return f"{text}, {words['started_at'].format(time=f'{start:%H:%M}')}"
    if end is not None:
        return f"{text}, {words['closed_at'].format(time=f'{end:%H:%M}')}"
    return text


def consent_remark(dilemma, language: str) -> str:
    """What the reader is told about the case text: nothing for the full case; the presenter is only
    mentioned where someone brought the case in (DilemmaSummary.presenter_consent)."""
    if dilemma.consent not in ("redacted", "question"):
        return ""
    words = LABELS.get(language, LABELS["nl"])
    if getattr(dilemma, "presenter_consent", False):
        return words[f"consent_{dilemma.consent}"]
    return words[f"consent_{dilemma.consent}_plain"]


def distribution(item, language: str) -> str:
    """The answers per scale point or option in one line: '1: 0 · 2: 1 · 3: 4 · 4: 3 · 5: 2'.
    Only for a result at or above k (the caller checks `shown`)."""
    return " · ".join(
        f"{row.key if len(row.key) <= 3 else row.label}: {format_number(row.count, language, 0)}"
        for row in item.rows
    )


def follow_up_label(status: str, language: str) -> str:
    """What became of an action point, in words: 'Gedaan', 'Schuift door' … (status as kept: done,
    carried …); an unknown status as it is."""
    words = LABELS.get(language, LABELS["nl"])
    return words.get(f"follow_up_{status}", status)
