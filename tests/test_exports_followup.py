"""The Terugblik in every export, as in the PDF: the Markdown, the CSV and the Excel workbook.

A team with two sessions, made with the service functions (test_followup.py's team_series): the
second looks back on the first one's action points and records what became of them. The Markdown is
checked as text, the CSV read with Python's csv module as Dutch (';') or English (',') Excel reads it,
the workbook opened with openpyxl cell by cell; in Dutch and in English. A session without a Terugblik
has none of it.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from beraad.extensions import db
from beraad.sessions import service as sessions
from beraad.summary.build import build_summary
from beraad.summary.exports import to_csv, to_markdown
from beraad.summary.model import Summary
from beraad.summary.xlsx import to_xlsx
from beraad.teams import followup

from . import test_followup
from .test_exports import CSV_HEADERS, SHEETS, dutch_csv, english_csv, table, workbook

# The factory fixtures of test_summary.py and test_followup.py, used here under the same names.
content, facilitator = test_followup.content, test_followup.facilitator
new_session, run_session = test_followup.new_session, test_followup.run_session
team_series = test_followup.team_series
load = test_followup.load

# The first session's action points: markup, a formula-like start and an empty role among them.
POINTS = [
    ("Bezwaar schriftelijk vastleggen", "onderzoeker", date(2030, 6, 1)),
    ("Protocol | *bespreken* in het MT", "teamleider", None),
    ("=Casus terugkoppelen aan de afdeling", "", date(2030, 7, 1)),
    ("Werkafspraak over meelezen vastleggen", "integriteitscoördinator", date(2030, 8, 15)),
    ("Casus aanbieden voor de nieuwsbrief", "", None),
]
DONE_NOTE = "Besproken in het MT; staat in de notulen."
DROPPED_NOTE = "-Niet meer nodig: het protocol is vervangen.\nZie *intranet* | archief"
PROGRESS_NOTE = "@teamleider: concept ligt bij de afdeling"
# What each point became (the last one was not looked back on) and its note, per point.
REVIEW = [("done", DONE_NOTE), ("carried", ""), ("dropped", DROPPED_NOTE), ("in_progress", PROGRESS_NOTE)]
STATUS_WORDS = {
    "nl": ["Gedaan", "Schuift door", "Vervallen", "Loopt nog", "Nog niet besproken"],
    "en": ["Done", "Carried over", "Dropped", "In progress", "Not discussed yet"],
}
HEADERS = {
    "nl": ["Wat", "Wie (rol)", "Wanneer", "Status", "Toelichting"],
    "en": ["What", "Who (role)", "By when", "Status", "Note"],
}
TITLE = {"nl": "Terugblik", "en": "Looking back"}
KIND = {"nl": "terugblik", "en": "looking back"}
INTRO = {
    "nl": "_Wat de vorige sessie van dit team afsprak, en wat ermee gebeurde._",
    "en": "_What this team's previous session agreed, and what became of it._",
}
LONG_DATES = {
    "nl": ["1 juni 2030", "—", "1 juli 2030", "15 augustus 2030", "—"],
    "en": ["1 June 2030", "—", "1 July 2030", "15 August 2030", "—"],
}
READERS = {"nl": dutch_csv, "en": english_csv}
SCREEN = "Wat hielp, en wat zat in de weg?"


@pytest.fixture
def reviewed(app, team_series):
    """Return a function that makes the two sessions, records the Terugblik in the second (which is
    then run and closed) and returns the second one's summary."""

    def make(language: str = "nl") -> Summary:
        _, session_id = team_series(points=POINTS, language=language)
        with app.app_context():
            session = load(session_id)
            points = followup.points_to_review(session)
            assert [p.what for p in points] == [what for what, _who, _due in POINTS]
            for point, (status, note) in zip(points, REVIEW, strict=False):
                followup.record_follow_up(session, point, status, note, today=date(2030, 5, 20))
            sessions.start_session(session)
            sessions.set_screen_text(session, 0, SCREEN, True)  # at the Terugblik step: a row of its own
            sessions.close_session(session)
            db.session.commit()
            return build_summary(load(session_id))

    return make


# --- Markdown -------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["nl", "en"])
def test_markdown_has_the_terugblik_after_the_title_block(reviewed, language):
    summary = reviewed(language)
    assert [p.status for p in summary.follow_up] == ["done", "carried", "dropped", "in_progress", "open"]
    text = to_markdown(summary)
    start = text.index(f"## {TITLE[language]}\n")
    anonymity = {"nl": "_Dit verslag bevat alleen totalen.", "en": "_This summary contains totals only."}
    assert text.index(anonymity[language]) < start  # after the title block and the anonymity line
    assert start < text.index("## Dilemma")  # before everything else, as in the PDF
    section = text[start : text.index("## Dilemma")].strip().splitlines()
    assert section == [
        f"## {TITLE[language]}",
        "",
        INTRO[language],
        "",
        "| " + " | ".join(HEADERS[language]) + " |",
        "| --- | --- | --- | --- | --- |",
        f"| Bezwaar schriftelijk vastleggen | onderzoeker | {LONG_DATES[language][0]} | "
        f"{STATUS_WORDS[language][0]} | {DONE_NOTE} |",
        f"| Protocol \\| \\*bespreken\\* in het MT | teamleider | — | {STATUS_WORDS[language][1]} |  |",
        f"| =Casus terugkoppelen aan de afdeling | — | {LONG_DATES[language][2]} | "
        f"{STATUS_WORDS[language][2]} | -Niet meer nodig: het protocol is vervangen. "
        "Zie \\*intranet\\* \\| archief |",
        f"| Werkafspraak over meelezen vastleggen | integriteitscoördinator | {LONG_DATES[language][3]} | "
        f"{STATUS_WORDS[language][3]} | {PROGRESS_NOTE} |",
        f"| Casus aanbieden voor de nieuwsbrief | — | — | {STATUS_WORDS[language][4]} |  |",
    ]
    # Every table row has the header's five cells: no note's "|" or line break splits a row.
    rows = [line for line in section if line.startswith("| ")]
    assert all(line.replace("\\|", "").count("|") == 6 for line in rows)


# --- CSV ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["nl", "en"])
def test_csv_has_terugblik_rows_of_their_own_kind(reviewed, language):
    rows = READERS[language](to_csv(reviewed(language)))
    header = rows[0]
    assert header == CSV_HEADERS[language] and header[-5:] == HEADERS[language]  # the PDF's five last
    assert all(len(row) == len(header) for row in rows)
    records = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    kind = header[0]
    mine = [r for r in records if r[kind] == KIND[language]]
    assert records[: len(mine)] == mine  # first, as the Terugblik comes first in the PDF
    # Only the kind and the five Terugblik columns are filled; the poll columns stay empty.
    assert all(not any(r[column] for column in CSV_HEADERS[language][1:-5]) for r in mine)
    assert [[r[column] for column in HEADERS[language]] for r in mine] == [
        ["Bezwaar schriftelijk vastleggen", "onderzoeker", "2030-06-01", STATUS_WORDS[language][0],
         DONE_NOTE],
        ["Protocol | *bespreken* in het MT", "teamleider", "", STATUS_WORDS[language][1], ""],
        ["'=Casus terugkoppelen aan de afdeling", "", "2030-07-01", STATUS_WORDS[language][2],
         "'" + DROPPED_NOTE],
        ["Werkafspraak over meelezen vastleggen", "integriteitscoördinator", "2030-08-15",
         STATUS_WORDS[language][3], "'" + PROGRESS_NOTE],
        ["Casus aanbieden voor de nieuwsbrief", "", "", STATUS_WORDS[language][4], ""],
    ]  # fmt: skip
    # The rest of the CSV is as before; its rows leave the five Terugblik columns empty.
    others = [r for r in records if r[kind] != KIND[language]]
    assert [r[header[4]] for r in others] == [SCREEN]  # the text on screen, in the question column
    assert all(not any(r[column] for column in HEADERS[language]) for r in others)


# --- XLSX -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["nl", "en"])
def test_xlsx_has_a_terugblik_sheet_after_the_overview(reviewed, language):
    book = workbook(to_xlsx(reviewed(language)))
    names = SHEETS[language]
    assert book.sheetnames == [names[0], TITLE[language], *names[1:]]
    sheet = book[TITLE[language]]
    assert sheet.freeze_panes == "A2"
    assert [cell.value for cell in sheet[1]] == HEADERS[language]
    assert all(cell.font.bold for cell in sheet[1])
    assert table(sheet)[1:] == [
        ["Bezwaar schriftelijk vastleggen", "onderzoeker", datetime(2030, 6, 1), STATUS_WORDS[language][0],
         DONE_NOTE],
        ["Protocol | *bespreken* in het MT", "teamleider", None, STATUS_WORDS[language][1]],
        ["=Casus terugkoppelen aan de afdeling", None, datetime(2030, 7, 1), STATUS_WORDS[language][2],
         DROPPED_NOTE],
        ["Werkafspraak over meelezen vastleggen", "integriteitscoördinator", datetime(2030, 8, 15),
         STATUS_WORDS[language][3], PROGRESS_NOTE],
        ["Casus aanbieden voor de nieuwsbrief", None, None, STATUS_WORDS[language][4]],
    ]  # fmt: skip
    due = sheet["C2"]
    assert due.is_date and due.number_format == {"nl": "dd-mm-yyyy", "en": "yyyy-mm-dd"}[language]
    formula = sheet["A4"]
    assert formula.data_type == "s"  # text, never a formula
    assert sheet["E4"].data_type == "s" and sheet["E4"].alignment.wrap_text  # the note's two lines
    assert sheet["E5"].data_type == "s"
    # The carried point lives on in this session's own action points, as a new agreement.
    actions = table(book[names[3]])
    assert ["Protocol | *bespreken* in het MT", "teamleider"] in actions


# --- the same summary through the downloads -------------------------------------------------------


def test_downloads_carry_the_terugblik(app, client, auth, reviewed):
    summary = reviewed()
    auth.login("anna", role="facilitator")
    markdown = client.get(f"/sessions/{summary.session_id}/summary.md")
    assert markdown.status_code == 200 and "## Terugblik" in markdown.get_data(as_text=True)
    rows = dutch_csv(client.get(f"/sessions/{summary.session_id}/summary.csv").get_data(as_text=True))
    assert [row[0] for row in rows[1:6]] == ["terugblik"] * 5
    book = workbook(client.get(f"/sessions/{summary.session_id}/summary.xlsx").data)
    assert "Terugblik" in book.sheetnames


# --- no Terugblik, no part ------------------------------------------------------------------------


def assert_no_terugblik(summary: Summary) -> None:
    language = summary.language
    assert summary.follow_up == ()
    text = to_markdown(summary)
    assert f"## {TITLE[language]}" not in text and INTRO[language] not in text
    rows = READERS[language](to_csv(summary))
    assert rows[0] == CSV_HEADERS[language]  # the same columns, empty
    assert all(len(row) == len(rows[0]) for row in rows)
    assert KIND[language] not in {row[0] for row in rows[1:]}
    assert workbook(to_xlsx(summary)).sheetnames == SHEETS[language]


@pytest.mark.parametrize("points", [None, []], ids=["first-of-its-team", "no-action-points-last-time"])
def test_a_team_session_without_a_terugblik_has_no_such_part(app, team_series, points):
    _, session_id = team_series(points=points)
    with app.app_context():
        session = load(session_id)
        sessions.start_session(session)
        sessions.close_session(session)
        db.session.commit()
        assert_no_terugblik(build_summary(load(session_id)))


def test_the_reviewed_session_itself_has_no_terugblik(app, team_series):
    """The first session of the team (whose points are looked back on) has none of its own."""
    team_id, _ = team_series(points=POINTS)
    with app.app_context():
        from beraad.models import Team
        from beraad.teams.service import series

        first = series(db.session.get(Team, team_id))[0]
        assert first.title == "Vorige keer" and first.action_points
        assert_no_terugblik(build_summary(first))


@pytest.mark.parametrize("language", ["nl", "en"])
def test_a_session_outside_any_team_has_no_terugblik(app, run_session, language):
    ran = run_session(language=language)
    with app.app_context():
        assert_no_terugblik(build_summary(load(ran.session_id)))
