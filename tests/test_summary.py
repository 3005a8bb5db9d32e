"""The session summary on both databases: building, consent, anonymity, exports, downloads, retention.

A factory fixture runs a realistic dilemmamethode session through the service functions (five
anonymous participants, four polls of which one stays below k, notes, action points, moderated
contributions, the evaluation) with explicit clock values, so every number below is known.
The PDF is only reached through its download view; those checks skip while `beraad.summary.pdf`
cannot be imported.
"""

from __future__ import annotations

import csv
import importlib
import importlib.util
import io
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import markdown
import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from beraad.auth import tokens
from beraad.bank import service as bank
from beraad.bank.loader import load_bank
from beraad.extensions import db
from beraad.methods import service as methods_service
from beraad.methods.loader import load_methods
from beraad.models import (
    Answer,
    Contribution,
    DeliberationSession,
    EvaluationAnswer,
    Participant,
    Poll,
    User,
    utcnow,
)
from beraad.sessions import service as sessions
from beraad.summary import retention
from beraad.summary.build import build_summary, moral_question
from beraad.summary.exports import to_csv, to_markdown
from beraad.summary.model import ActionSummary, DilemmaSummary, ResultRow, StepSummary, Summary
from beraad.vote import contributions, evaluation
from beraad.vote import service as vote

from .conftest import DATA_DIR

# Relative to today, so "closed less than the retention period ago" stays true whenever this runs.
T0 = datetime.combine(utcnow().date() - timedelta(days=3), time(9, 0))
DAY = T0.date().isoformat()
TITLE = "Beraad over het rapport"
SLUG = "beraad-over-het-rapport"
DILEMMA_TITLE = "Het rapport bijstellen"
FULL_SENTENCE = "De cijfers zijn volgens jou helder."  # only in the full case text
FULL_OPENING = "Je leidinggevende vraagt je"  # the case's first words
MORAL_QUESTION = "Moet ik de conclusies aanpassen?"
REDACTED = f"Een onderzoeker wordt gevraagd de conclusies te verzachten.\n\n**{MORAL_QUESTION}**"
FORMULA = "=SUM(A1)"
HTML_NOTE = "De casusinbrenger zei: “Het moet genuanceerder.” Café, reünie, naïef. <b>html</b>"
NOTES = {
    0: "Afspraken: vertrouwelijk, vragen stellen.",
    1: HTML_NOTE,
    3: "Kernvraag helder; A en B doen allebei schade.",
    8: "Conclusie: bezwaar vastleggen en in het MT bespreken.",
}
RELEASED = "Integriteit gaat boven loyaliteit."
REJECTED = "Dit is een afgewezen bijdrage."
PENDING = "Deze bijdrage wacht nog op moderatie."
HIDDEN_EVALUATION_TEXT = "Meer tijd voor de dialoog"  # one of two answers: below k
MONTHS_NL = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
             "september", "oktober", "november", "december"]  # fmt: skip
CSV_COLUMNS = 19  # 14 for polls and the evaluation, 5 for the Terugblik
STEPS_NL = [
    # position, title, planned (+ added minutes), actual minutes on the timer
    (0, "Inleiding", 5, 6),
    (1, "De casus", 10, 12),
    (2, "Verhelderende vragen", 12, 11),
    (3, "Morele vraag en dilemma", 10, 10),
    (4, "Perspectieven, waarden en normen", 18, 15),
    (5, "Alternatieven", 5, 4),
    (6, "Eigen afweging", 10, 10),
    (7, "Dialoog", 12, 13),
    (8, "Conclusie en afspraken", 8, 9),
    (9, "Evaluatie", 5, 7),
]
VALUES_ORDER = ["integriteit", "transparantie", "zorgvuldigheid", "rechtvaardigheid",
                "vertrouwen", "loyaliteit", "autonomie", "veiligheid"]  # fmt: skip
# Borda points of four rankings (three in VALUES_ORDER, one with the first two swapped), of 4 × 7.
RANKING_ROWS = [
    ("integriteit", "Integriteit", 27, 96),
    ("transparantie", "Transparantie", 25, 89),
    ("zorgvuldigheid", "Zorgvuldigheid", 20, 71),
    ("rechtvaardigheid", "Rechtvaardigheid", 16, 57),
    ("vertrouwen", "Vertrouwen", 12, 43),
    ("loyaliteit", "Loyaliteit", 8, 29),
    ("autonomie", "Autonomie", 4, 14),
    ("veiligheid", "Veiligheid", 0, 0),
]


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def load(session_id: int) -> DeliberationSession:
    return db.session.get(DeliberationSession, session_id)


def poll_by_key(session: DeliberationSession, key: str) -> Poll:
    return next(poll for poll in session.polls if poll.key == key)


def long_date_nl(iso: str) -> str:
    year, month, day = (int(part) for part in iso.split("-"))
    return f"{day} {MONTHS_NL[month - 1]} {year}"


def csv_rows(text: str, delimiter: str = ";") -> list[list[str]]:
    """The CSV's rows: a Dutch session's is separated by ';', an English one's by ','; both have a BOM."""
    assert text.startswith("\ufeff"), text[:20]
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=delimiter))
    assert rows, "the CSV has no header"
    assert all(len(row) == CSV_COLUMNS for row in rows), [len(row) for row in rows]
    return rows


def csv_records(text: str, delimiter: str = ";") -> list[dict[str, str]]:
    header, *rows = csv_rows(text, delimiter)
    return [dict(zip(header, row, strict=True)) for row in rows]


def between(text: str, start: str, end: str) -> str:
    begin = text.index(start)
    return text[begin : text.index(end, begin)]


def raw_rows(session_id: int) -> dict[str, int]:
    """How many raw (participant-made) rows the session has, per table."""

    def count(model, *where) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(*where))

    poll_ids = select(Poll.id).where(Poll.session_id == session_id)
    return {
        "answers": count(Answer, Answer.poll_id.in_(poll_ids)),
        "contributions": count(Contribution, Contribution.session_id == session_id),
        "evaluation": count(EvaluationAnswer, EvaluationAnswer.session_id == session_id),
        "participants": count(Participant, Participant.session_id == session_id),
    }


FULL_RUN_ROWS = {"answers": 5 + 4 + 2 + 5, "contributions": 3, "evaluation": 16, "participants": 5}


def pdf_or_skip() -> None:
    """Skip when a colleague's PDF module is not importable yet (the view imports it lazily)."""
    try:
        importlib.import_module("beraad.summary.pdf")
    except Exception as error:  # noqa: BLE001 - an unfinished module may fail in any way
        pytest.skip(f"beraad.summary.pdf cannot be imported yet ({type(error).__name__}: {error})")


def pdf_reader(body: bytes) -> PdfReader:
    assert body.startswith(b"%PDF-"), body[:20]
    reader = PdfReader(io.BytesIO(body), strict=True)
    assert len(reader.pages) >= 1
    return reader


def pdf_text(body: bytes) -> str:
    """All text of the PDF (pages and metadata), whitespace collapsed to single spaces."""
    reader = pdf_reader(body)
    parts = [page.extract_text() for page in reader.pages]
    parts += [str(value) for value in (reader.metadata or {}).values()]
    return " ".join(" ".join(parts).split())


def assert_no_identifiers(text: str, identifiers: list[str], where: str) -> None:
    squeezed = "".join(text.split())  # a value wrapped over lines in a PDF reads as one again
    for value in identifiers:
        assert value[:16] not in squeezed, f"{where} contains an identifier ({value[:6]}…)"


# --- factory fixtures -----------------------------------------------------------------------------


@pytest.fixture
def content(app):
    """Import the test methods and the test bank."""
    with app.app_context():
        methods_service.import_methods(load_methods(DATA_DIR / "methods"))
        bank.import_dilemmas(load_bank(DATA_DIR / "bank"))
        db.session.commit()


@pytest.fixture
def facilitator(create_user) -> int:
    """Anna, who runs every session here (log in with auth.login("anna", role="facilitator"))."""
    return create_user("anna", role="facilitator")


@pytest.fixture
def new_session(app, content, facilitator):
    """Return a function that creates a dilemmamethode session in the lobby and returns its id."""

    def make(title: str = TITLE, language: str = "nl", k: int = 3) -> int:
        with app.app_context():
            session = sessions.create_session(
                db.session.get(User, facilitator),
                methods_service.get_method("dilemmamethode"),
                [bank.get_by_slug("rapport-bijstellen")],
                title,
                language,
                k,
                facilitator_name="Anna de Vries",
            )
            db.session.commit()
            return session.id

    return make


@dataclass
class RanSession:
    session_id: int
    tokens: list[str]
    participant_keys: list[str] = field(default_factory=list)
    members: list = field(default_factory=list)
    voter_keys: list[str] = field(default_factory=list)
    secret: str = ""

    @property
    def identifiers(self) -> list[str]:
        return [*self.tokens, *self.participant_keys, *self.voter_keys, self.secret]


@pytest.fixture
def run_session(app, new_session):
    """Return a function that runs a whole dilemmamethode session and returns a RanSession.

    Five participants join; 'moreel-dilemma' (5), the ranking (4), 'eigen-afweging' (2: below k)
    and 'conclusie' (5) are answered; notes, action points, three contributions (released,
    rejected, pending) and the evaluation (4) are added; then the session closes. Identifiers
    (tokens, keys, the secret) are collected before they are wiped.
    """

    def run(
        title: str = TITLE, language: str = "nl", consent: str = "full", redacted: str = ""
    ) -> RanSession:
        ran = RanSession(new_session(title=title, language=language), [vote.new_token() for _ in range(5)])
        with app.app_context():
            session = load(ran.session_id)
            ran.secret = session.secret
            assert ran.secret
            ran.members = [vote.join(session, token) for token in ran.tokens]
            assert sessions.add_alternative(session, 0, FORMULA) == "C"
            db.session.commit()

            def answer(poll: Poll, index: int, raw: dict) -> str:
                db.session.commit()
                vote.begin_write()
                outcome = vote.submit_answer(session.join_code, poll.id, ran.members[index], raw)
                db.session.commit()
                return outcome

            def poll_round(key: str, answers: list[tuple[int, dict]]) -> Poll:
                poll = poll_by_key(session, key)
                sessions.open_poll(session, poll)
                for index, raw in answers:
                    answer(poll, index, raw)
                ran.voter_keys += db.session.scalars(
                    select(Answer.voter_key).where(Answer.poll_id == poll.id)
                )
                sessions.close_poll(session, poll)
                db.session.commit()
                return poll

            sessions.start_session(session, now=at(0))
            sessions.save_notes(session, 0, NOTES[0])
            sessions.go_to_step(session, 1, now=at(6))
            sessions.save_notes(session, 1, NOTES[1])
            sessions.control_timer(session, "pause", now=at(11))  # a break: the timer stands still
            sessions.control_timer(session, "start", now=at(14))
            sessions.go_to_step(session, 2, now=at(21))
            sessions.go_to_step(session, 3, now=at(32))
            sessions.save_notes(session, 3, NOTES[3])
            db.session.commit()

            first = poll_by_key(session, "moreel-dilemma")
            sessions.open_poll(session, first)
            for index, choice in enumerate("AAABA"):
                assert answer(first, index, {"choice": choice}) == "created"
            assert answer(first, 4, {"choice": "C"}) == "changed"  # a phone changes its mind
            ran.voter_keys += db.session.scalars(select(Answer.voter_key).where(Answer.poll_id == first.id))
            sessions.close_poll(session, first)

            sessions.go_to_step(session, 4, now=at(42))
            sessions.control_timer(session, "add", minutes=5, now=at(50))
            swapped = [VALUES_ORDER[1], VALUES_ORDER[0], *VALUES_ORDER[2:]]
            poll_round(
                "waarden-en-normen",
                [(0, {"ranking": VALUES_ORDER}), (1, {"ranking": ",".join(VALUES_ORDER)}),
                 (2, {"ranking": VALUES_ORDER}), (3, {"ranking": swapped})],
            )  # fmt: skip
            sessions.go_to_step(session, 5, now=at(57))
            sessions.go_to_step(session, 6, now=at(61))
            poll_round("eigen-afweging", [(1, {"choice": "A"}), (2, {"choice": "B"})])
            sessions.go_to_step(session, 7, now=at(71))

            sent = {}
            for text in (RELEASED, REJECTED, PENDING):
                db.session.commit()
                vote.begin_write()
                sent[text] = contributions.submit(session, text).id
                db.session.commit()
            contributions.moderate(session, sent[RELEASED], "released")
            contributions.moderate(session, sent[REJECTED], "rejected")

            sessions.go_to_step(session, 8, now=at(84))
            sessions.save_notes(session, 8, NOTES[8])
            sessions.add_action_point(
                session, "Bezwaar schriftelijk vastleggen", "onderzoeker", date(2030, 6, 1)
            )
            sessions.add_action_point(session, "Protocol bespreken in het MT", "", None)
            db.session.commit()
            poll_round("conclusie", [(index, {"choice": choice}) for index, choice in enumerate("ABBBB")])

            sessions.go_to_step(session, 9, now=at(93))
            evaluation.set_open(session, True)
            filled = [
                {"herkenbaar": "4", "vrij-spreken": "5", "cijfer": "8", "kijk-veranderd": "2",
                 "verbeterpunt": HIDDEN_EVALUATION_TEXT},
                {"herkenbaar": "5", "vrij-spreken": "5", "cijfer": "7", "kijk-veranderd": "4",
                 "verbeterpunt": "Kortere inleiding"},
                {"herkenbaar": "3", "vrij-spreken": "4", "cijfer": "9"},
                {"herkenbaar": "4", "vrij-spreken": "5", "cijfer": "8", "handelen": ""},
            ]  # fmt: skip
            for index, answers in enumerate(filled):
                db.session.commit()
                vote.begin_write()
                evaluation.submit(session, ran.members[index], answers)
                db.session.commit()
            ran.voter_keys += db.session.scalars(
                select(EvaluationAnswer.voter_key).where(EvaluationAnswer.session_id == ran.session_id)
            )
            ran.participant_keys = list(
                db.session.scalars(
                    select(Participant.participant_key).where(Participant.session_id == ran.session_id)
                )
            )
            if consent != "full":
                sessions.set_case_consent(session, consent, redacted)
            sessions.close_session(session, now=at(100) + timedelta(seconds=20))
            db.session.commit()
            assert load(ran.session_id).secret is None
        assert len(ran.participant_keys) == 5 and all(ran.voter_keys) and len(ran.voter_keys) == 16 + 16
        return ran

    return run


def summary_of(app, session_id: int) -> Summary:
    with app.app_context():
        return build_summary(load(session_id))


def exports_of(app, session_id: int) -> tuple[Summary, str, str]:
    with app.app_context():
        summary = build_summary(load(session_id))
        return summary, to_markdown(summary), to_csv(summary)


def download(client, session_id: int, kind: str):
    suffix = {"html": "", "pdf": ".pdf", "md": ".md", "csv": ".csv"}[kind]
    return client.get(f"/sessions/{session_id}/summary{suffix}")


# --- moral_question (pure Python) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Een verhaal.\n\n**Moet ik de conclusies aanpassen?**\n", "Moet ik de conclusies aanpassen?"),
        ("**Eerste vraag?**\n\nMeer verhaal.\n\n  **Mag ik het pakket houden?**  \n\nSlot.",
         "Mag ik het pakket houden?"),
        ("Dit is **belangrijk** voor mij.\nMag ik dat? Of moet ik dit? Slot.", "Of moet ik dit?"),
        ("Geen vraag hier. Alleen zinnen!\nNog een.", ""),
        ("", ""),
    ],
    ids=["bold-line", "last-bold-line", "question-fallback", "nothing", "empty"],
)  # fmt: skip
def test_moral_question_is_the_last_bold_line_else_the_last_question(body, expected):
    assert moral_question(body) == expected


def test_moral_question_of_none_is_empty():
    assert moral_question(None) == ""


# --- build_summary ---------------------------------------------------------------------------------


def test_summary_header_steps_and_timers(app, run_session):
    summary = summary_of(app, run_session().session_id)
    assert (summary.title, summary.language, summary.date, summary.method, summary.facilitator) == (
        TITLE, "nl", DAY, "Dilemmamethode", "Anna de Vries",
    )  # fmt: skip
    assert (summary.participants, summary.k, summary.status) == (5, 3, "closed")
    assert (summary.planned_minutes, summary.actual_minutes) == (90, 97)
    assert [(s.position, s.title, s.planned_minutes, s.actual_minutes) for s in summary.steps] == STEPS_NL
    assert {s.dilemma_title for s in summary.steps} == {DILEMMA_TITLE}
    assert {s.position: s.notes for s in summary.steps if s.notes} == NOTES
    assert summary.steps[1].notes == HTML_NOTE  # stored as typed: escaping is the exports' job


def test_summary_polls_rows_percentages_and_k(app, run_session):
    summary = summary_of(app, run_session().session_id)
    polls = {poll.key: poll for poll in summary.polls}
    assert [poll.key for poll in summary.polls] == [
        "moreel-dilemma", "waarden-en-normen", "eigen-afweging", "conclusie",
    ]  # fmt: skip
    first = polls["moreel-dilemma"]
    assert (first.step_title, first.question, first.type, first.count, first.shown) == (
        "Morele vraag en dilemma", "Naar welke kant neig je nu?", "choice", 5, True,
    )  # fmt: skip
    assert first.rows == (
        ResultRow("A", "Je past de conclusies aan.", 3, 60),
        ResultRow("B", "Je legt je bezwaar vast.", 1, 20),
        ResultRow("C", FORMULA, 1, 20),  # the changed answer counts once, as its last choice
    )
    assert first.before is None

    ranking = polls["waarden-en-normen"]
    assert (ranking.type, ranking.count, ranking.shown) == ("ranking", 4, True)
    assert [tuple(row.__dict__.values()) for row in ranking.rows] == RANKING_ROWS

    below = polls["eigen-afweging"]
    assert (below.count, below.shown, below.rows, below.texts, below.mean) == (2, False, (), (), None)

    last = polls["conclusie"]
    assert (last.question, last.count, last.shown) == ("Naar welke kant neig je nu, na het gesprek?", 5, True)
    assert [(row.key, row.count, row.percent) for row in last.rows] == [
        ("A", 1, 20),
        ("B", 4, 80),
        ("C", 0, 0),
    ]


def test_summary_before_after_compares_conclusie_with_moreel_dilemma(app, run_session):
    summary = summary_of(app, run_session().session_id)
    polls = {poll.key: poll for poll in summary.polls}
    assert polls["conclusie"].before == polls["moreel-dilemma"]
    assert all(poll.before is None for key, poll in polls.items() if key != "conclusie")


def test_summary_contributions_actions_and_evaluation(app, run_session):
    summary = summary_of(app, run_session().session_id)
    assert summary.contributions == (RELEASED,)
    assert summary.actions == (
        ActionSummary("Bezwaar schriftelijk vastleggen", "onderzoeker", "2030-06-01"),
        ActionSummary("Protocol bespreken in het MT", "", None),
    )
    items = {item.key: item for item in summary.evaluation}
    # Items nobody answered are left out; the method's order is kept.
    assert list(items) == ["herkenbaar", "vrij-spreken", "kijk-veranderd", "cijfer", "verbeterpunt"]
    herkenbaar = items["herkenbaar"]
    assert (herkenbaar.question, herkenbaar.type, herkenbaar.count, herkenbaar.shown, herkenbaar.mean) == (
        "Ik herkende de casus uit mijn eigen werk.", "scale", 4, True, 4.0,
    )  # fmt: skip
    assert [(r.key, r.count, r.percent) for r in herkenbaar.rows] == [
        ("1", 0, 0), ("2", 0, 0), ("3", 1, 25), ("4", 2, 50), ("5", 1, 25),
    ]  # fmt: skip
    assert items["vrij-spreken"].mean == 4.8
    assert (items["cijfer"].mean, len(items["cijfer"].rows)) == (8.0, 10)
    for key in ("kijk-veranderd", "verbeterpunt"):  # two answers each: below k
        assert (items[key].count, items[key].shown, items[key].rows, items[key].texts, items[key].mean) == (
            2, False, (), (), None,
        )  # fmt: skip


def test_summary_follows_the_session_language(app, run_session):
    ran = run_session(title="Deliberation on the report", language="en")
    summary, text, table = exports_of(app, ran.session_id)
    assert (summary.language, summary.method) == ("en", "Dilemma method")
    assert [poll.question for poll in summary.polls] == [
        "Which way do you lean right now?",
        "Which values are most at stake in this case? Put the most important one at the top.",
        "What would you do?",
        "Which way do you lean now, after the conversation?",
    ]
    assert summary.polls[0].step_title == "Moral question and dilemma"
    assert [row.label for row in summary.polls[1].rows][:2] == ["Integrity", "Transparency"]
    assert [step.title for step in summary.steps][:3] == ["Introduction", "The case", "Clarifying questions"]
    assert summary.evaluation[0].question == "I recognised the case from my own work."
    for heading in (
        "## Steps",
        "## Votes",
        "## Anonymous contributions",
        "## Action points",
        "## Evaluation",
    ):
        assert heading in text
    assert "Naar welke kant" not in text and "Stappen" not in text
    assert csv_rows(table, ",")[0] == ["Kind", "Key", "Step", "Dilemma", "Question", "Type", "Option",
                                       "Text", "Count", "Percent", "Answers", "Shown", "Percent before",
                                       "Average", "What", "Who (role)", "By when", "Status",
                                       "Note"]  # fmt: skip


def test_summary_round_trips_through_its_dict(app, run_session):
    summary = summary_of(app, run_session().session_id)
    assert Summary.from_dict(summary.to_dict()) == summary


# --- consent -------------------------------------------------------------------------------------


def test_full_case_text_by_default(app, run_session):
    ran = run_session()
    summary, text, _table = exports_of(app, ran.session_id)
    with app.app_context():
        body = bank.get_by_slug("rapport-bijstellen").body
    assert summary.dilemmas == (DilemmaSummary(DILEMMA_TITLE, body, "full"),)
    assert FULL_SENTENCE in body and FULL_SENTENCE in text
    assert "op verzoek van de casusinbrenger" not in text  # no consent remark for the full text
    assert "met instemming van de casusinbrenger" not in text


@pytest.mark.parametrize(
    ("consent", "redacted", "expected", "remark"),
    [
        ("question", "", MORAL_QUESTION, "Alleen de morele vraag, op verzoek van de casusinbrenger."),
        ("redacted", REDACTED, REDACTED, "Aangepaste tekst, met instemming van de casusinbrenger."),
    ],
)
def test_markdown_csv_and_print_view_follow_the_consent(
    app, client, auth, run_session, consent, redacted, expected, remark
):
    ran = run_session(consent=consent, redacted=redacted)
    summary, text, table = exports_of(app, ran.session_id)
    # The dilemma method: someone brought this case in, so the summary speaks of their consent.
    assert summary.dilemmas == (DilemmaSummary(DILEMMA_TITLE, expected, consent, presenter_consent=True),)
    assert remark in text and MORAL_QUESTION in text
    if consent == "redacted":
        assert "de conclusies te verzachten" in text
    auth.login("anna", role="facilitator")
    page = download(client, ran.session_id, "html")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert remark in html and MORAL_QUESTION in html
    for body in (text, table, html, download(client, ran.session_id, "md").get_data(as_text=True)):
        assert FULL_SENTENCE not in body and FULL_OPENING not in body


@pytest.mark.parametrize(("consent", "redacted"), [("question", ""), ("redacted", REDACTED)])
def test_pdf_follows_the_consent(app, client, auth, run_session, consent, redacted):
    pdf_or_skip()
    ran = run_session(consent=consent, redacted=redacted)
    auth.login("anna", role="facilitator")
    response = download(client, ran.session_id, "pdf")
    assert response.status_code == 200
    text = pdf_text(response.data)
    assert MORAL_QUESTION in text
    assert FULL_SENTENCE not in text and FULL_OPENING not in text
    if consent == "redacted":
        assert "de conclusies te verzachten" in text


def test_question_consent_uses_the_moral_question_of_the_case(app, new_session):
    session_id = new_session()
    with app.app_context():
        session = load(session_id)
        sessions.set_case_consent(session, "question")
        db.session.commit()
        body = session.dilemmas_snapshot[0]["body"]
        assert build_summary(session).dilemmas[0].text == moral_question(body) == MORAL_QUESTION


def test_redacted_consent_needs_a_text_and_a_closed_session_refuses_changes(app, new_session):
    session_id = new_session()
    with app.app_context():
        session = load(session_id)
        for empty in ("", "   \n\t "):
            with pytest.raises(sessions.SessionError, match="redacted text"):
                sessions.set_case_consent(session, "redacted", empty)
        with pytest.raises(sessions.SessionError, match="unknown choice"):
            sessions.set_case_consent(session, "everything")
        assert (session.case_consent, session.case_redacted) == ("full", "")
        sessions.set_case_consent(session, "redacted", f"  {REDACTED}  ")
        assert build_summary(session).dilemmas[0] == DilemmaSummary(DILEMMA_TITLE, REDACTED, "redacted", True)
        sessions.close_session(session)
        db.session.commit()
        with pytest.raises(sessions.SessionClosedError):
            sessions.set_case_consent(session, "full")
        assert load(session_id).case_consent == "redacted"


# --- no identifiers in any export -----------------------------------------------------------------


def test_exports_and_print_view_contain_no_identifiers(app, client, auth, run_session):
    ran = run_session()
    _summary, text, table = exports_of(app, ran.session_id)
    auth.login("anna", role="facilitator")
    bodies = {kind: download(client, ran.session_id, kind) for kind in ("html", "md", "csv")}
    assert all(response.status_code == 200 for response in bodies.values())
    for where, body in {
        "to_markdown": text,
        "to_csv": table,
        **{kind: response.get_data(as_text=True) for kind, response in bodies.items()},
    }.items():
        assert_no_identifiers(body, ran.identifiers, where)
        # Rejected, pending and below-k free texts stay out too.
        for secret_text in (REJECTED, PENDING, HIDDEN_EVALUATION_TEXT):
            assert secret_text not in body, (where, secret_text)


def test_pdf_contains_no_identifiers(app, client, auth, run_session):
    pdf_or_skip()
    ran = run_session()
    auth.login("anna", role="facilitator")
    response = download(client, ran.session_id, "pdf")
    assert response.status_code == 200
    text = pdf_text(response.data)
    assert RELEASED in text  # the text extraction works, so absence below means something
    assert_no_identifiers(text, ran.identifiers, "pdf text")
    assert_no_identifiers(response.data.decode("latin-1"), ran.identifiers, "pdf bytes")
    for secret_text in (REJECTED, PENDING, HIDDEN_EVALUATION_TEXT):
        assert secret_text not in text


# --- exports ---------------------------------------------------------------------------------------


def test_markdown_has_every_section_in_order(app, run_session):
    _summary, text, _table = exports_of(app, run_session().session_id)
    sections = [
        f"# {TITLE}",
        f"- Datum: {long_date_nl(DAY)}, ",
        "- Methode: Dilemmamethode",
        "- Gespreksleider: Anna de Vries",
        "- Deelnemers: 5",
        "- Tijd: gepland 90 min, werkelijk 97 min",
        f"## Dilemma: {DILEMMA_TITLE}",
        FULL_SENTENCE,
        "## Stappen",
        *(f"### {position + 1}. {title}" for position, title, _planned, _actual in STEPS_NL),
        "## Stemmingen",
        "**Naar welke kant neig je nu?** (Morele vraag en dilemma)",
        "**Wat zou jij doen?** (Eigen afweging)",
        "**Naar welke kant neig je nu, na het gesprek?** (Conclusie en afspraken)",
        "## Anonieme bijdragen",
        f"- {RELEASED}",
        "## Actiepunten",
        "## Evaluatie",
        "**Ik herkende de casus uit mijn eigen werk.**",
    ]
    positions = [text.find(section) for section in sections]
    assert -1 not in positions, [s for s, p in zip(sections, positions, strict=True) if p == -1]
    assert positions == sorted(positions)
    assert "Tijd: gepland 18 min, werkelijk 15 min" in text  # a step with added minutes
    assert "| A. Je past de conclusies aan. | 3 | 60% |" in text
    assert "| A. Je past de conclusies aan. | 1 | 60% → 20% |" in text  # the before/after shift
    assert "| integriteit. Integriteit | 27 punten | 96% |" in text
    assert "2 antwoorden — resultaten worden pas getoond vanaf 3 antwoorden" in text
    assert "| Bezwaar schriftelijk vastleggen | onderzoeker | 1 juni 2030 |" in text
    assert "| Protocol bespreken in het MT | — | — |" in text
    assert "5 antwoorden · gemiddelde 4,0" not in text and "4 antwoorden · gemiddelde 4,0" in text
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_markdown_escapes_markup_in_notes(app, run_session):
    _summary, text, _table = exports_of(app, run_session().session_id)
    assert "<b>html</b>" not in text
    assert "“Het moet genuanceerder.” Café, reünie, naïef." in text  # typography and diacritics kept
    rendered = markdown.markdown(text, extensions=["tables"])
    assert "<b>" not in rendered and "&lt;b&gt;html" in rendered
    assert "<table>" in rendered  # the result tables are still real tables


def test_print_view_escapes_notes(app, client, auth, run_session):
    ran = run_session()
    auth.login("anna", role="facilitator")
    html = download(client, ran.session_id, "html").get_data(as_text=True)
    assert "<b>html</b>" not in html and "&lt;b&gt;html&lt;/b&gt;" in html
    assert "Café, reünie, naïef." in html
    assert FULL_SENTENCE in html and RELEASED in html


def test_csv_has_one_row_per_option_with_counts_percents_and_before(app, run_session):
    _summary, _text, table = exports_of(app, run_session().session_id)
    header = csv_rows(table)[0]
    assert header == ["Soort", "Code", "Stap", "Dilemma", "Vraag", "Type", "Optie", "Tekst", "Aantal",
                      "Procent", "Antwoorden", "Getoond", "Procent eerder", "Gemiddelde",
                      "Wat", "Wie (rol)", "Wanneer", "Status", "Toelichting"]  # fmt: skip
    records = csv_records(table)
    by_poll: dict[str, list[dict]] = {}
    for record in records:
        by_poll.setdefault(record["Code"], []).append(record)

    def cells(key: str, *columns: str) -> list[tuple]:
        return [tuple(r[c] for c in columns) for r in by_poll[key]]

    columns = ("Optie", "Tekst", "Aantal", "Procent", "Antwoorden", "Getoond", "Procent eerder", "Gemiddelde")
    assert cells("moreel-dilemma", "Soort", "Type") == [("stemming", "keuze")] * 3
    assert cells("moreel-dilemma", *columns) == [
        ("A", "Je past de conclusies aan.", "3", "60", "5", "ja", "", ""),
        ("B", "Je legt je bezwaar vast.", "1", "20", "5", "ja", "", ""),
        ("C", "'" + FORMULA, "1", "20", "5", "ja", "", ""),  # neutralised for spreadsheets
    ]
    assert cells("conclusie", *columns) == [
        ("A", "Je past de conclusies aan.", "1", "20", "5", "ja", "60", ""),
        ("B", "Je legt je bezwaar vast.", "4", "80", "5", "ja", "20", ""),
        ("C", "'" + FORMULA, "0", "0", "5", "ja", "20", ""),
    ]
    assert cells("waarden-en-normen", "Type", "Optie", "Tekst", "Aantal", "Procent") == [
        ("rangorde", key, label, str(points), str(percent)) for key, label, points, percent in RANKING_ROWS
    ]
    # Below k: one row, only the count, shown 'nee'.
    for kind, key in (
        ("stemming", "eigen-afweging"),
        ("evaluatie", "kijk-veranderd"),
        ("evaluatie", "verbeterpunt"),
    ):
        assert cells(key, "Soort", *columns) == [(kind, "", "", "", "", "2", "nee", "", "")]
    assert {(r["Soort"], r["Type"]) for r in by_poll["herkenbaar"]} == {("evaluatie", "schaal")}
    assert cells("herkenbaar", "Optie", "Aantal", "Procent", "Gemiddelde")[2:] == [
        ("3", "1", "25", "4,0"),
        ("4", "2", "50", "4,0"),
        ("5", "1", "25", "4,0"),
    ]
    assert {r["Gemiddelde"] for r in by_poll["vrij-spreken"]} == {"4,8"}  # a decimal comma
    assert len(by_poll["cijfer"]) == 10
    assert not any(cell.startswith(("=", "+", "@")) for row in csv_rows(table) for cell in row)


def test_download_views_content_types_and_filenames(app, client, auth, run_session):
    ran = run_session()
    auth.login("anna", role="facilitator")
    for kind, content_type in (("md", "text/markdown; charset=utf-8"), ("csv", "text/csv; charset=utf-8")):
        response = download(client, ran.session_id, kind)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == content_type, kind  # one charset, not two
        assert response.headers["Content-Disposition"] == f'attachment; filename="beraad-{DAY}-{SLUG}.{kind}"'
        assert response.headers["Cache-Control"] == "no-store"
    with app.app_context():
        summary = build_summary(load(ran.session_id))
        assert download(client, ran.session_id, "md").get_data(as_text=True) == to_markdown(summary)
        assert download(client, ran.session_id, "csv").get_data(as_text=True) == to_csv(summary)
    page = download(client, ran.session_id, "html")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "Content-Disposition" not in page.headers
    assert client.get("/sessions/999999/summary.md").status_code == 404


def test_pdf_download_content_type_and_filename(app, client, auth, run_session):
    pdf_or_skip()
    ran = run_session()
    auth.login("anna", role="facilitator")
    response = download(client, ran.session_id, "pdf")
    assert response.status_code == 200 and response.content_type == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="beraad-{DAY}-{SLUG}.pdf"'
    text = pdf_text(response.data)
    assert TITLE in text and "Naar welke kant neig je nu?" in text


def test_who_may_download_the_summary(app, client, auth, run_session, create_user):
    ran = run_session()
    kinds = ["html", "md", "csv"]
    try:
        importlib.import_module("beraad.summary.pdf")
        kinds.append("pdf")
    except Exception:  # noqa: BLE001 - the PDF is covered (or skipped) by its own tests
        pass
    for kind in kinds:  # anonymous: to the login page
        response = download(client, ran.session_id, kind)
        assert response.status_code == 302 and "/login" in response.location, kind
    for username, role, status in [
        ("anna", "facilitator", 200),  # the owner
        ("root", "admin", 200),
        ("cora", "coordinator", 200),
        ("bert", "facilitator", 403),  # another facilitator
    ]:
        assert auth.login(username, role=role).status_code == 302
        for kind in kinds:
            assert download(client, ran.session_id, kind).status_code == status, (username, kind)
        auth.logout()


# --- text on screen -------------------------------------------------------------------------------

SCREEN_QUESTION = "Mag loyaliteit aan je leidinggevende zwaarder wegen dan de waarheid?"
# Typed to try every block of Markdown; every export must show it as the plain text it is.
SCREEN_MARKUP = "# Geen kop\n- geen lijst\n1. geen lijst\nStelling\n===\n<b>html</b> en **vet**"
SCREENS = {1: SCREEN_QUESTION, 3: SCREEN_MARKUP}  # position: text kept with that step
SCREEN_STEPS = ("### 2. De casus", "### 3. Verhelderende vragen", "### 4. Morele vraag en dilemma",
                "### 5. Perspectieven")  # fmt: skip


@pytest.fixture
def screen_session(app, new_session):
    """Return a function that runs a short session with text on the screen at steps 2 and 4 (positions
    1 and 3) and returns its id. Step 4's text was taken off the screen again: it stays with the step."""

    def make(language: str = "nl") -> int:
        session_id = new_session(language=language)
        with app.app_context():
            session = load(session_id)
            sessions.start_session(session, now=at(0))
            sessions.go_to_step(session, 1, now=at(5))
            sessions.set_screen_text(session, 1, SCREEN_QUESTION, True)
            sessions.go_to_step(session, 3, now=at(10))
            sessions.set_screen_text(session, 3, SCREEN_MARKUP, True)
            sessions.set_screen_text(session, 3, SCREEN_MARKUP, False)
            sessions.close_session(session, now=at(15))
            db.session.commit()
        return session_id

    return make


def screen_summary(*texts: str, language: str = "nl") -> Summary:
    """A summary without a database whose steps carry these texts on the screen."""
    steps = tuple(
        StepSummary(position, f"Stap {position + 1}", None, 5, 5, "", screen_text=text)
        for position, text in enumerate(texts)
    )
    return Summary(
        session_id=1, title="Scherm", language=language, date="2026-11-25", method="Dilemmamethode",
        facilitator="", participants=0, k=3, planned_minutes=10, actual_minutes=10, dilemmas=(),
        steps=steps, polls=(), contributions=(), actions=(), evaluation=(),
    )  # fmt: skip


def test_summary_and_its_json_keep_the_text_on_screen_with_its_step(app, client, screen_session):
    session_id = screen_session()
    summary = summary_of(app, session_id)
    assert {step.position: step.screen_text for step in summary.steps if step.screen_text} == SCREENS
    assert Summary.from_dict(summary.to_dict()) == summary
    with app.app_context():
        _token, secret = tokens.create_token(db.session.get(User, load(session_id).owner_id), "test")
        db.session.commit()
    response = client.get(
        f"/api/v1/sessions/{session_id}/summary", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 200
    assert [step["screen_text"] for step in response.json["steps"]] == [
        SCREENS.get(position, "") for position, *_rest in STEPS_NL
    ]


def test_markdown_quotes_the_text_on_screen_under_its_step(app, screen_session):
    _summary, text, _table = exports_of(app, screen_session())
    assert text.count("**Op het scherm:**") == len(SCREENS)  # no empty label at the other steps
    first = between(text, SCREEN_STEPS[0], SCREEN_STEPS[1])
    assert f"**Op het scherm:**\n\n> {SCREEN_QUESTION}\n\n_Geen notities._" in first
    assert "Op het scherm" in between(text, SCREEN_STEPS[2], SCREEN_STEPS[3])
    rendered = markdown.markdown(text, extensions=["tables"])
    quotes = re.findall(r"<blockquote>(.*?)</blockquote>", rendered, re.S)
    assert len(quotes) == len(SCREENS) and SCREEN_QUESTION in quotes[0]
    # Typed Markdown stays text: no heading, list, emphasis or HTML inside the quote.
    assert set(re.findall(r"</?(\w+)", quotes[1])) == {"p"}
    for line in ("# Geen kop", "- geen lijst", "1. geen lijst", "Stelling", "===", "**vet**"):
        assert line in quotes[1], line
    assert "<b>" not in rendered


def test_csv_has_a_screen_row_per_step_with_text_on_screen(app, screen_session):
    _summary, _text, table = exports_of(app, screen_session())
    records = csv_records(table)
    screen = [record for record in records if record["Soort"] == "scherm"]
    assert [(record["Stap"], record["Vraag"]) for record in screen] == [
        ("De casus", SCREEN_QUESTION),
        ("Morele vraag en dilemma", SCREEN_MARKUP),
    ]
    assert records[: len(screen)] == screen  # before the polls, like the steps in the summary
    assert all(value == "" for record in screen for key, value in record.items() if key not in
               ("Soort", "Stap", "Vraag"))  # fmt: skip


def test_print_view_shows_the_text_on_screen_under_its_step(app, client, auth, screen_session):
    session_id = screen_session()
    auth.login("anna", role="facilitator")
    html = download(client, session_id, "html").get_data(as_text=True)
    assert html.count("Op het scherm") == len(SCREENS)
    first = between(html, "2. De casus", "3. Verhelderende vragen")
    assert SCREEN_QUESTION in first and first.index("Op het scherm") < first.index(SCREEN_QUESTION)
    markup = between(html, "4. Morele vraag en dilemma", "5. Perspectieven")
    assert "&lt;b&gt;html&lt;/b&gt; en **vet**" in markup and "<b>html</b>" not in html


def test_pdf_shows_the_text_on_screen_under_its_step(app, client, auth, screen_session):
    pdf_or_skip()
    session_id = screen_session(language="en")
    auth.login("anna", role="facilitator")
    response = download(client, session_id, "pdf")
    assert response.status_code == 200
    text = pdf_text(response.data)
    assert text.count("On screen") == len(SCREENS) and "Op het scherm" not in text
    assert f"On screen {SCREEN_QUESTION}" in between(text, "2. The case", "3. Clarifying questions")
    assert "<b>html</b> en **vet**" in text  # as typed: the PDF renders no Markdown from it


def test_blank_text_on_screen_shows_no_label_and_a_formula_is_neutralised():
    summary = screen_summary("", "  \n\t ", "=HYPERLINK(1)", language="en")
    text, table = to_markdown(summary), to_csv(summary)
    assert text.count("On screen") == 1 and "> =HYPERLINK(1)" in text
    assert [record["Question"] for record in csv_records(table, ",") if record["Kind"] == "screen"] == [
        "'=HYPERLINK(1)"
    ]


def test_a_summary_archived_before_the_text_on_screen_still_loads(app, screen_session):
    session_id = screen_session()
    with app.app_context():
        session = load(session_id)
        retention.purge_session(session, utcnow())
        archived = session.archived_summary
        assert [step["screen_text"] for step in archived["steps"]][1] == SCREEN_QUESTION
        old = {
            **archived,
            "steps": [{k: v for k, v in s.items() if k != "screen_text"} for s in archived["steps"]],
        }
        session.archived_summary = old  # as stored before steps had a text on screen
        db.session.commit()
        assert {step.screen_text for step in Summary.from_dict(old).steps} == {""}
        summary = build_summary(load(session_id))
        # The steps come from the session itself, so their text on screen is still there.
        assert {step.position: step.screen_text for step in summary.steps if step.screen_text} == SCREENS
        assert SCREEN_QUESTION in to_markdown(summary)


# --- retention ------------------------------------------------------------------------------------


def test_purge_leaves_sessions_within_the_retention_period_alone(app, runner, run_session):
    recent, almost = run_session(), run_session(title="Bijna verlopen")
    with app.app_context():
        load(almost.session_id).closed_at = utcnow() - timedelta(days=29)
        db.session.commit()
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "Purged raw answers of 0 session(s) closed more than 30 days ago." in result.output
    with app.app_context():
        for ran in (recent, almost):
            assert raw_rows(ran.session_id) == FULL_RUN_ROWS
            session = load(ran.session_id)
            assert (session.purged_at, session.archived_summary) == (None, None)


def test_purge_deletes_raw_rows_of_expired_sessions_and_keeps_the_summary(app, runner, run_session):
    expired, recent = run_session(title="Verlopen sessie"), run_session()
    with app.app_context():
        load(expired.session_id).closed_at = utcnow() - timedelta(days=31)
        db.session.commit()
    before, markdown_before, csv_before = exports_of(app, expired.session_id)

    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "Purged raw answers of 1 session(s) closed more than 30 days ago." in result.output

    with app.app_context():
        assert raw_rows(expired.session_id) == dict.fromkeys(FULL_RUN_ROWS, 0)
        assert raw_rows(recent.session_id) == FULL_RUN_ROWS  # another session's rows stay
        session = load(expired.session_id)
        assert session.purged_at is not None and abs(session.purged_at - utcnow()) < timedelta(minutes=5)
        assert session.archived_summary is not None
        assert load(recent.session_id).purged_at is None
    after, markdown_after, csv_after = exports_of(app, expired.session_id)
    assert after.to_dict() == before.to_dict()
    assert markdown_after == markdown_before and csv_after == csv_before
    assert after.participants == 5 and after.contributions == (RELEASED,)


def test_purge_command_with_days_zero_prints_the_count(app, runner, run_session):
    first, second = run_session(), run_session(title="Tweede sessie")
    result = runner.invoke(args=["purge", "--days", "0"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("Purged raw answers of 2 session(s) closed more than 0 days ago.")
    with app.app_context():
        assert all(raw_rows(ran.session_id)["answers"] == 0 for ran in (first, second))
    again = runner.invoke(args=["purge", "--days", "0"])
    assert again.exit_code == 0 and "of 0 session(s)" in again.output  # purged ones are not redone


def test_a_purge_that_fails_halfway_changes_nothing(app, runner, run_session, monkeypatch):
    sessions_ran = [run_session(), run_session(title="Tweede sessie")]
    with app.app_context():
        for ran in sessions_ran:
            load(ran.session_id).closed_at = utcnow() - timedelta(days=40)
        db.session.commit()
    real_delete, seen = retention.delete, []

    def failing_delete(model):
        seen.append(model)
        if model is Participant and seen.count(Participant) == 2:  # the second session's last table
            raise RuntimeError("disk full")
        return real_delete(model)

    monkeypatch.setattr(retention, "delete", failing_delete)
    result = runner.invoke(args=["purge"])
    assert result.exit_code != 0
    assert isinstance(result.exception, RuntimeError) and "disk full" in str(result.exception)
    assert seen.count(Answer) == 2  # it really got halfway through the second session
    with app.app_context():
        for ran in sessions_ran:
            assert raw_rows(ran.session_id) == FULL_RUN_ROWS
            session = load(ran.session_id)
            assert (session.purged_at, session.archived_summary) == (None, None)

    monkeypatch.undo()
    retry = runner.invoke(args=["purge"])
    assert retry.exit_code == 0 and "of 2 session(s)" in retry.output


# --- bad input ------------------------------------------------------------------------------------

LONG_WORDS = ["woord", "café", "“citaat”", "naïef,", "reünie.", "waarom?", "A&B", "<i>x</i>", "50%"]
LONG_NOTE = "\n".join(
    " ".join(LONG_WORDS[(line * 100 + n) % len(LONG_WORDS)] for n in range(100)) for line in range(100)
)
EMOJI_RTL_NOTE = "🙂 👍🏽 🇳🇱 👩‍👩‍👧 — مرحبا، هل يجوز لي ذلك؟ — שלום, האם מותר לי? — נקודה‏ ‎mixed"
EMOJI_RTL_ACTION = ("Bespreek het 🤝 met het team — ناقش ذلك مع الفريق", "מנהל צוות 👩‍💼")


def _scenario(session: DeliberationSession, name: str) -> None:
    if name == "never-started":
        pass
    elif name == "nothing-answered":
        sessions.start_session(session, now=at(0))
        poll = poll_by_key(session, "moreel-dilemma")
        sessions.open_poll(session, poll)
        sessions.close_poll(session, poll)
        sessions.go_to_step(session, 9, now=at(1))
    elif name == "long-note":
        sessions.start_session(session, now=at(0))
        sessions.save_notes(session, 1, LONG_NOTE)
    elif name == "emoji-rtl":
        sessions.start_session(session, now=at(0))
        sessions.save_notes(session, 0, EMOJI_RTL_NOTE)
        sessions.save_notes(session, 2, "עברית בלבד")
        sessions.add_action_point(session, *EMOJI_RTL_ACTION, date(2030, 1, 31))
    sessions.close_session(session, now=at(2))


SCENARIOS = ["never-started", "nothing-answered", "long-note", "emoji-rtl"]


@pytest.fixture
def odd_session(app, new_session):
    """Return a function that runs one of SCENARIOS and returns the session's id."""

    def make(name: str) -> int:
        title = "Beraad 🙂 שלום" if name == "emoji-rtl" else f"Randgeval {name}"
        session_id = new_session(title=title)
        with app.app_context():
            _scenario(load(session_id), name)
            db.session.commit()
        return session_id

    return make


def test_long_note_has_ten_thousand_words():
    assert len(LONG_NOTE.split()) == 10_000


@pytest.mark.parametrize("name", SCENARIOS)
def test_odd_sessions_give_a_summary_and_valid_markdown_and_csv(app, client, auth, odd_session, name):
    session_id = odd_session(name)
    summary, text, table = exports_of(app, session_id)
    assert isinstance(summary, Summary) and summary.status == "closed"
    assert Summary.from_dict(summary.to_dict()) == summary
    assert summary.participants == 0 and summary.contributions == () and summary.evaluation == ()
    rendered = markdown.markdown(text, extensions=["tables"])
    assert "<h1>" in rendered and "<script" not in rendered
    for section in ("## Stappen", "## Stemmingen", "## Anonieme bijdragen", "## Actiepunten", "## Evaluatie"):
        assert section in text
    assert "_Geen bijdragen vrijgegeven._" in text and "_Geen evaluatie ingevuld._" in text
    rows = csv_rows(table)
    assert rows[0][0] == "Soort"
    if name == "never-started":
        assert summary.polls == () and summary.actual_minutes == 0 and len(rows) == 1
        # Not started: the day it was created, in the organisation's time zone.
        assert summary.date == datetime.now(ZoneInfo("Europe/Amsterdam")).date().isoformat()
        assert "_Er is niet gestemd._" in text and "_Geen actiepunten._" in text
    elif name == "nothing-answered":
        assert [(p.key, p.count, p.shown, p.rows) for p in summary.polls] == [
            ("moreel-dilemma", 0, False, ())
        ]
        assert rows[1:] == [
            ["stemming", "moreel-dilemma", "Morele vraag en dilemma", "", "Naar welke kant neig je nu?",
             "keuze", "", "", "", "", "0", "nee", "", "", "", "", "", "", ""],
        ]  # fmt: skip
        assert all(not step.notes for step in summary.steps)
        assert text.count("_Geen notities._") == 10
    elif name == "long-note":
        assert summary.steps[1].notes == LONG_NOTE
        assert len(text.split()) > 10_000 and "\\<i\\>x\\</i\\>" in text and "<i>x</i>" not in text
        assert "<i>" not in rendered
    elif name == "emoji-rtl":
        assert summary.steps[0].notes == EMOJI_RTL_NOTE
        assert summary.actions == (ActionSummary(*EMOJI_RTL_ACTION, "2030-01-31"),)
        assert EMOJI_RTL_NOTE in text and EMOJI_RTL_ACTION[0] in text and EMOJI_RTL_ACTION[1] in text
        assert "# Beraad 🙂 שלום" in text
    auth.login("anna", role="facilitator")
    for kind in ("html", "md", "csv"):
        response = download(client, session_id, kind)
        assert response.status_code == 200, kind
    assert download(client, session_id, "md").get_data(as_text=True) == text
    if name == "emoji-rtl":
        assert EMOJI_RTL_NOTE in download(client, session_id, "html").get_data(as_text=True)


@pytest.mark.parametrize("name", SCENARIOS)
def test_odd_sessions_give_a_pdf_that_opens(app, client, auth, odd_session, name):
    pdf_or_skip()
    session_id = odd_session(name)
    auth.login("anna", role="facilitator")
    response = download(client, session_id, "pdf")
    assert response.status_code == 200 and response.content_type == "application/pdf"
    reader = pdf_reader(response.data)
    if name == "long-note":
        assert len(reader.pages) > 3
        text = pdf_text(response.data)
        assert text.count("reünie.") > 500  # the note is all there, not cut off
    if name == "emoji-rtl":
        assert "Bespreek het" in pdf_text(response.data)


# --- the summary a coordinator files: times, dilemmas, consent, organisation, pages -----------------

GAME_TITLE = "Dilemmaspel in het werkoverleg"
GAME_SLUGS = ("rapport-bijstellen", "geschenk-leverancier")
GAME_DILEMMAS = ("Het rapport bijstellen", "Een kerstpakket van de leverancier")
GIFT_OPTIONS = ("Je houdt het pakket.", "Je stuurt het pakket terug.", "Je meldt het bij je leidinggevende.")
GAME_MINUTES = [4, 3, 2, 9, 2, 3, 2, 11, 2, 6]  # per step, in order
ORGANISATION = "Gemeente Voorbeeld, team Vergunningen"
GAME_REMARKS = ("Meer dilemma's", "Kortere uitleg", "Goed tempo")


@pytest.fixture
def game_session(app, content, facilitator):
    """Return a function that runs a dilemma game on two cases from the bank (five phones, both polls
    per dilemma answered, the evaluation filled in) and returns the session's id."""

    def make(language: str = "nl", consent: str = "full") -> int:
        with app.app_context():
            session = sessions.create_session(
                db.session.get(User, facilitator),
                methods_service.get_method("dilemmaspel"),
                [bank.get_by_slug(slug) for slug in GAME_SLUGS],
                GAME_TITLE,
                language,
                3,
                facilitator_name="Bram Jansen",
            )
            db.session.commit()
            members = [vote.join(session, vote.new_token()) for _ in range(5)]
            for text in GIFT_OPTIONS:  # the second case has no fixed choices of its own
                sessions.add_alternative(session, 1, text)
            db.session.commit()
            sessions.start_session(session, now=at(0))
            choices = {0: ("AABBA", "ABBBB"), 1: ("ABCCB", "BBCCC")}  # per dilemma: first, again
            moment = 0
            for step, minutes in zip(session.steps, GAME_MINUTES, strict=True):
                if step.position:
                    sessions.go_to_step(session, step.position, now=at(moment))
                moment += minutes
                for poll in [poll for poll in session.polls if poll.position == step.position]:
                    sessions.open_poll(session, poll)
                    again = poll.key == "opnieuw-kiezen"
                    for member, choice in zip(members, choices[poll.dilemma_index][again], strict=True):
                        db.session.commit()
                        vote.begin_write()
                        vote.submit_answer(session.join_code, poll.id, member, {"choice": choice})
                        db.session.commit()
                    sessions.close_poll(session, poll)
                    db.session.commit()
            evaluation.set_open(session, True)
            for index, member in enumerate(members):
                db.session.commit()
                vote.begin_write()
                answers = {"herkenbaar": str(3 + index % 3), "vrij-spreken": str(4 + index % 2),
                           "cijfer": str(6 + index), "verbeterpunt": GAME_REMARKS[index % 3]}  # fmt: skip
                evaluation.submit(session, member, answers)
                db.session.commit()
            evaluation.set_open(session, False)
            if consent != "full":
                sessions.set_case_consent(session, consent)
            sessions.close_session(session, now=at(moment))
            db.session.commit()
            return session.id

    return make


def test_actual_time_is_counted_in_seconds(app, client, auth, new_session):
    # Eight steps of 20 seconds: 2 min 40 s, where adding each step's rounded minutes gave 0 min.
    session_id = new_session()
    with app.app_context():
        session = load(session_id)
        sessions.start_session(session, now=T0)
        for position in range(1, 8):
            sessions.go_to_step(session, position, now=T0 + timedelta(seconds=20 * position))
        sessions.close_session(session, now=T0 + timedelta(seconds=160))
        db.session.commit()
    summary = summary_of(app, session_id)
    assert [step.actual_seconds for step in summary.steps] == [20] * 8 + [0, 0]
    assert (summary.actual_seconds, summary.actual_minutes) == (160, 3)
    auth.login("anna", role="facilitator")
    html = download(client, session_id, "html").get_data(as_text=True)
    assert "gepland 90 min, werkelijk 2 min 40 s" in html
    # A session under ten minutes: every step to the second too (and they add up).
    assert html.count("werkelijk 0 min 20 s") == 8 and html.count("werkelijk 0 min 0 s") == 2
    pdf_or_skip()
    text = pdf_text(download(client, session_id, "pdf").data)
    assert "Tijd gepland 90 min, werkelijk 2 min 40 s" in text
    assert text.count("werkelijk 0 min 20 s") == 8 and "werkelijk 3 min" not in text


@pytest.mark.parametrize("timezone", ["Europe/Amsterdam", "Asia/Tokyo", "America/New_York"])
def test_start_and_end_in_the_configured_time_zone(app, client, auth, run_session, timezone):
    app.config["TIMEZONE"] = timezone
    ran = run_session()
    local = ZoneInfo(timezone)
    start = T0.replace(tzinfo=UTC).astimezone(local)
    end = (at(100)).replace(tzinfo=UTC).astimezone(local)  # closed at 100 min 20 s: to the minute
    expected = f"{long_date_nl(start.date().isoformat())}, {start:%H:%M}–{end:%H:%M}"
    summary = summary_of(app, ran.session_id)
    assert (summary.started_at, summary.timezone) == (T0.isoformat(timespec="minutes"), timezone)
    assert summary.date == start.date().isoformat()
    auth.login("anna", role="facilitator")
    assert expected in download(client, ran.session_id, "html").get_data(as_text=True)
    pdf_or_skip()
    assert f"Datum {expected} Methode" in pdf_text(download(client, ran.session_id, "pdf").data)


def test_a_session_not_started_has_no_times(app, client, auth, new_session):
    session_id = new_session()
    summary = summary_of(app, session_id)
    assert (summary.started_at, summary.closed_at, summary.status) == (None, None, "lobby")
    auth.login("anna", role="facilitator")
    html = download(client, session_id, "html").get_data(as_text=True)
    day = long_date_nl(summary.date)
    assert f"<dd>{day}</dd>" in html and "begonnen" not in html
    pdf_or_skip()
    assert f"Datum {day} Methode" in pdf_text(download(client, session_id, "pdf").data)


def test_game_polls_are_headed_and_grouped_by_their_dilemma(app, client, auth, game_session):
    session_id = game_session()
    summary = summary_of(app, session_id)
    assert [(poll.key, poll.dilemma_title) for poll in summary.polls] == [
        ("eigen-keuze", GAME_DILEMMAS[0]), ("opnieuw-kiezen", GAME_DILEMMAS[0]),
        ("eigen-keuze", GAME_DILEMMAS[1]), ("opnieuw-kiezen", GAME_DILEMMAS[1]),
    ]  # fmt: skip
    auth.login("anna", role="facilitator")
    html = download(client, session_id, "html").get_data(as_text=True)
    polls = between(html, "<h2>Stemmingen</h2>", "<h2>Anonieme bijdragen</h2>")
    headings = re.findall(r'<h3 class="print-dilemma">(.*?)</h3>', polls)
    assert headings == [f"Dilemma: {title}" for title in GAME_DILEMMAS]
    for title in GAME_DILEMMAS:
        group = polls[polls.index(f"Dilemma: {title}</h3>") :]
        assert f'Wat zou jij doen? <small class="muted">(Dilemma: {title} · Stap: Kies voor jezelf)' in group
    pdf_or_skip()
    text = pdf_text(download(client, session_id, "pdf").data)
    polls = between(text, "Stemmingen", "Anonieme bijdragen")
    for title in GAME_DILEMMAS:
        assert (
            f"Dilemma: {title} Wat zou jij doen? Dilemma: {title} · Stap: Kies voor jezelf · 5 antwoorden"
            in polls
        )
        assert f"Wat zou jij nu doen? Dilemma: {title} · Stap: Opnieuw kiezen" in polls
    assert "Je meldt het bij je leidinggevende." in polls


@pytest.mark.parametrize("consent", ["question", "full"])
def test_the_case_presenter_is_only_named_where_someone_brought_the_case_in(
    app, client, auth, run_session, game_session, consent
):
    method_case = run_session(consent=consent).session_id
    game = game_session(consent=consent)
    presenter = [dilemma.presenter_consent for dilemma in summary_of(app, method_case).dilemmas]
    assert presenter == [consent != "full"]  # the dilemma method: a case presenter, when not in full
    assert [dilemma.presenter_consent for dilemma in summary_of(app, game).dilemmas] == [False, False]
    auth.login("anna", role="facilitator")
    bodies = {"method": download(client, method_case, "html").get_data(as_text=True),
              "game": download(client, game, "html").get_data(as_text=True)}  # fmt: skip
    if importlib.util.find_spec("reportlab"):
        bodies |= {f"{name} pdf": pdf_text(download(client, session_id, "pdf").data)
                   for name, session_id in (("method", method_case), ("game", game))}  # fmt: skip
    for name, body in bodies.items():
        remark = "Alleen de morele vraag, op verzoek van de casusinbrenger."
        if name.startswith("method") and consent == "question":
            assert remark in body, name
        else:
            assert "casusinbrenger" not in body.replace("De casusinbrenger zei", ""), (
                name
            )  # a note quotes one
            assert ("Alleen de morele vraag uit de casus." in body) == (consent == "question"), name


def test_presenter_methods_are_methods_on_one_case():
    from beraad.summary.build import PRESENTER_METHODS

    methods = {method.key: method for method in load_methods(Path(__file__).parent.parent / "methods")}
    for key in PRESENTER_METHODS:
        assert key in methods and tuple(methods[key].dilemmas) == (1, 1), key
    assert {"cura", "dilemmamethode", "nijmeegse-methode", "tien-stappen-afweging"} <= PRESENTER_METHODS
    # Cases from the bank: nobody brought them in.
    for key in ("dilemmaspel", "kort-beraad", "integriteitsdialoog", "socratisch-gesprek", "crisissimulatie"):
        assert key in methods and key not in PRESENTER_METHODS, key


def test_organisation_in_the_summary_print_view_and_pdf(app, client, auth, run_session):
    app.config["ORGANISATION"] = ORGANISATION
    ran = run_session()
    assert summary_of(app, ran.session_id).organisation == ORGANISATION
    auth.login("anna", role="facilitator")
    html = download(client, ran.session_id, "html").get_data(as_text=True)
    assert f"<dt>Organisatie</dt><dd>{ORGANISATION}</dd>" in html
    pdf_or_skip()
    body = download(client, ran.session_id, "pdf").data
    reader = pdf_reader(body)
    assert len(reader.pages) >= 2
    for page in reader.pages:
        assert f"{ORGANISATION} · {TITLE}" in page.extract_text()
    assert reader.metadata.subject == f"Verslag moreel beraad · {ORGANISATION}"
    assert reader.metadata.creation_date == at(100).replace(tzinfo=UTC)  # closed, to the minute


def test_print_view_evaluation_is_one_table_with_local_numbers(app, client, auth, run_session):
    ran = run_session(language="en")
    auth.login("anna", role="facilitator")
    html = download(client, ran.session_id, "html").get_data(as_text=True)
    table = between(html, '<table class="table print-evaluation">', "</table>")
    assert table.count("<tr>") == 1 + 5  # the header and the five items answered
    assert "1: 0 · 2: 0 · 3: 1 · 4: 2 · 5: 1" in table and ">4.8<" in table
    assert "results are only shown from 3 answers" in table  # below k: the n only
    assert HIDDEN_EVALUATION_TEXT not in html
    dutch = download(client, run_session().session_id, "html").get_data(as_text=True)
    assert ">4,8<" in between(dutch, "print-evaluation", "</table>")


# --- configuration --------------------------------------------------------------------------------


def test_timezone_and_organisation_come_from_the_environment(monkeypatch, tmp_path):
    from beraad.config import DEFAULTS, ConfigurationError, from_environment

    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.delenv("BERAAD_TIMEZONE", raising=False)
    monkeypatch.delenv("BERAAD_ORGANISATION", raising=False)
    config = from_environment(tmp_path)
    assert (config["TIMEZONE"], config["ORGANISATION"]) == ("Europe/Amsterdam", "")
    assert (DEFAULTS["TIMEZONE"], DEFAULTS["ORGANISATION"]) == ("Europe/Amsterdam", "")
    monkeypatch.setenv("BERAAD_TIMEZONE", "Europe/Brussels")
    monkeypatch.setenv("BERAAD_ORGANISATION", "  Provincie   Voorbeeld ")
    config = from_environment(tmp_path)
    assert (config["TIMEZONE"], config["BABEL_DEFAULT_TIMEZONE"]) == ("Europe/Brussels", "Europe/Brussels")
    assert config["ORGANISATION"] == "Provincie Voorbeeld"
    for wrong in ("Europe/Amsterdm", "CET+1", "../../etc/passwd", "/etc/localtime"):
        monkeypatch.setenv("BERAAD_TIMEZONE", wrong)
        with pytest.raises(ConfigurationError, match="BERAAD_TIMEZONE must be a time zone name"):
            from_environment(tmp_path)


# --- the pages, to look at ------------------------------------------------------------------------

PAGES = Path(__file__).resolve().parent.parent / "test-output" / "summary-pages"


def rasterise_pages(pdf: bytes, name: str) -> list[Path]:
    """Every page as test-output/summary-pages/<name>-<page>.png (pdftoppm, poppler-utils)."""
    binary = shutil.which("pdftoppm")
    if binary is None:
        message = "pdftoppm (Debian package poppler-utils) is not installed"
        if os.environ.get("BERAAD_REQUIRE_CHROMIUM") == "1":
            pytest.fail(f"{message}, and BERAAD_REQUIRE_CHROMIUM=1 requires it")
        pytest.skip(f"{message}; install it to look at the summary's pages")
    PAGES.mkdir(parents=True, exist_ok=True)
    for old in PAGES.glob(f"{name}-*.png"):
        old.unlink()
    (PAGES / f"{name}.pdf").write_bytes(pdf)
    subprocess.run([binary, "-r", "80", "-png", str(PAGES / f"{name}.pdf"), str(PAGES / name)], check=True,
                   timeout=120)  # fmt: skip
    return sorted(PAGES.glob(f"{name}-*.png"))


@pytest.mark.parametrize("language", ["nl", "en"])
def test_realistic_summaries_render_page_by_page(app, backend, run_session, game_session, language):
    if backend != "sqlite":
        pytest.skip("the pages are the same on both databases: rendered once, from SQLite")
    pdf_or_skip()
    from beraad.summary.pdf import render_pdf

    app.config["ORGANISATION"] = ORGANISATION
    title = TITLE if language == "nl" else "Deliberation on the report"
    sessions_by_name = {
        "dilemmamethode": run_session(title=title, language=language, consent="question").session_id,
        "dilemmaspel": game_session(language=language),
    }
    for name, session_id in sessions_by_name.items():
        summary = summary_of(app, session_id)
        pdf = render_pdf(summary)
        reader = pdf_reader(pdf)
        pngs = rasterise_pages(pdf, f"{name}-{language}")
        assert len(pngs) == len(reader.pages) >= 2
        pages = [" ".join(page.extract_text().split()) for page in reader.pages]
        # Whatever the page breaks: every poll with all its options on one page.
        for poll in summary.polls:
            where = [number for number, page in enumerate(pages) if poll.question in page]
            assert where, poll.question
            if poll.shown:
                assert any(poll.rows[-1].label in pages[number] for number in where), poll.question
        evaluation = [number for number, page in enumerate(pages) if summary.evaluation[0].question in page]
        assert len(evaluation) == 1
        assert all(item.question in pages[evaluation[0]] for item in summary.evaluation)


def test_the_case_presenter_is_asked_only_where_someone_brings_the_case(
    app, client, auth, new_session, game_session
):
    """The facilitator screen asks what of the case goes on paper only in a session with a case
    presenter; a game on cases from the bank has nobody to ask."""
    with_presenter, game = new_session(), game_session()  # both run by anna
    auth.login("anna", role="facilitator")
    assert 'id="consent"' in client.get(f"/sessions/{with_presenter}").get_data(as_text=True)
    assert 'id="consent"' not in client.get(f"/sessions/{game}").get_data(as_text=True)
