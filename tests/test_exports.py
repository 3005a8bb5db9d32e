"""The spreadsheet exports as people open them: the .xlsx workbook and the CSV for Dutch Excel.

The workbook is read back with openpyxl cell by cell; the CSV with Python's csv module in a Dutch
dialect (';', decoded with 'utf-8-sig'). Sessions with answers come from the factory fixtures of
test_summary.py (five participants, four polls of which one stays below k, the evaluation, action
points); the finer points (texts on screen, free texts, "één") from summaries built by hand.
"""

from __future__ import annotations

import codecs
import csv
import io
import time
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from beraad.auth import tokens
from beraad.extensions import db
from beraad.models import User
from beraad.sessions import service as sessions
from beraad.summary.build import build_summary
from beraad.summary.exports import to_csv
from beraad.summary.model import ActionSummary, PollSummary, ResultRow, StepSummary, Summary
from beraad.summary.xlsx import MIMETYPE, to_xlsx

from . import test_summary as summary_tests
from .test_summary import DAY, FORMULA, HIDDEN_EVALUATION_TEXT, RANKING_ROWS, SLUG, at, load

# The factory fixtures of test_summary.py, used here under the same names.
content, facilitator = summary_tests.content, summary_tests.facilitator
new_session, run_session = summary_tests.new_session, summary_tests.run_session

SHEETS = {
    "nl": ["Overzicht", "Stemmingen", "Evaluatie", "Actiepunten", "Op het scherm"],
    "en": ["Overview", "Votes", "Evaluation", "Action points", "On screen"],
}
POLL_HEADERS = {
    "nl": ["Stap", "Dilemma", "Vraag", "Type", "Optie", "Tekst", "Aantal", "Procent", "Antwoorden",
           "Gemiddelde", "Procent eerder", "Opmerking"],
    "en": ["Step", "Dilemma", "Question", "Type", "Option", "Text", "Count", "Percent", "Answers",
           "Average", "Percent before", "Note"],
}  # fmt: skip
CSV_HEADERS = {
    "nl": ["Soort", "Code", "Stap", "Dilemma", "Vraag", "Type", "Optie", "Tekst", "Aantal", "Procent",
           "Antwoorden", "Getoond", "Procent eerder", "Gemiddelde",
           "Wat", "Wie (rol)", "Wanneer", "Status", "Toelichting"],
    "en": ["Kind", "Key", "Step", "Dilemma", "Question", "Type", "Option", "Text", "Count", "Percent",
           "Answers", "Shown", "Percent before", "Average",
           "What", "Who (role)", "By when", "Status", "Note"],
}  # fmt: skip
# Values the old exports wrote in English whatever the language: none may be in a Dutch file.
ENGLISH_VALUES = {"yes", "no", "kind", "poll", "vote", "evaluation", "screen", "choice", "scale", "ranking",
                  "text", "answers", "label", "option", "before_percent", "closed"}  # fmt: skip
HIDDEN_NOTE = "resultaten worden pas getoond vanaf 3 antwoorden"
EEN = "Kies één optie: café of reünie?"


def workbook(data: bytes):
    assert data[:2] == b"PK"  # a zip file
    return load_workbook(io.BytesIO(data))


def table(sheet) -> list[list]:
    """Every row of a sheet as values, trailing empty cells dropped."""
    rows = []
    for row in sheet.iter_rows(values_only=True):
        values = list(row)
        while values and values[-1] is None:
            values.pop()
        rows.append(values)
    return rows


def records(sheet) -> list[dict]:
    """The data rows of a sheet as dicts keyed by the header row, with the cells themselves."""
    header, *rows = list(sheet.iter_rows())
    names = [cell.value for cell in header]
    return [dict(zip(names, row, strict=True)) for row in rows]


def dutch_csv(text: str) -> list[list[str]]:
    """The CSV as Dutch Excel reads it: UTF-8 with BOM, fields separated by ';'."""
    data = text.encode("utf-8")
    assert data.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def english_csv(text: str) -> list[list[str]]:
    data = text.encode("utf-8")
    assert data.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=","))


def made_summary(language: str = "nl", k: int = 3) -> Summary:
    """A summary without a database: a vote, a vote below k, texts, scale items, an action, a screen."""
    return Summary(
        session_id=1, title="Beraad over één casus", language=language, date="2026-11-25",
        method="Dilemmamethode", facilitator="Anna de Vries", participants=5, k=k, planned_minutes=90,
        actual_minutes=97, dilemmas=(),
        steps=(StepSummary(0, "Inleiding", None, 5, 5, ""),
               StepSummary(1, "De casus", None, 10, 12, "", screen_text=EEN)),
        polls=(
            PollSummary("keuze", "De casus", EEN, "choice", 4, True,
                        (ResultRow("A", "Café", 3, 75), ResultRow("B", "Reünie", 1, 25)),
                        dilemma_title="Het rapport"),
            PollSummary("weinig", "De casus", "Te weinig?", "choice", 2, False),
            PollSummary("woord", "De casus", "Eén woord?", "text", 3, True, texts=("moed", "één", "zorg")),
        ),
        contributions=(),
        actions=(ActionSummary("Bezwaar vastleggen", "onderzoeker", "2030-06-01"),),
        evaluation=(
            PollSummary("herkenbaar", "", "Herkenbaar?", "scale", 4, True,
                        tuple(ResultRow(str(n), str(n), c, 25 * c) for n, c in enumerate((0, 0, 1, 2, 1), 1)),
                        mean=4.8),
            PollSummary("verbeterpunt", "", "Wat kan beter?", "text", 3, True, texts=("a", "b", "één ding")),
            PollSummary("kijk", "", "Veranderd?", "scale", 2, False),
        ),
    )  # fmt: skip


def api_token(app, user_id: int) -> dict:
    with app.app_context():
        _row, secret = tokens.create_token(db.session.get(User, user_id), "test")
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


# --- the workbook, from a session that ran ----------------------------------------------------------


def test_xlsx_of_a_dutch_session_cell_by_cell(app, run_session):
    ran = run_session()
    with app.app_context():
        book = workbook(to_xlsx(build_summary(load(ran.session_id))))
    assert book.sheetnames == SHEETS["nl"]
    for sheet in book:
        assert sheet.freeze_panes == "A2", sheet.title
        assert all(cell.font.bold for cell in sheet[1] if cell.value is not None), sheet.title
        assert all(sheet.column_dimensions[cell.column_letter].width >= 8 for cell in sheet[1])

    overview = {row[0].value: row[1] for row in book["Overzicht"].iter_rows(min_row=2)}
    assert overview["Datum"].is_date and overview["Datum"].value.date() == date.fromisoformat(DAY)
    fields = ("Deelnemers", "Anonimiteitsgrens (k)", "Geplande tijd (min)", "Werkelijke tijd (min)", "Status")
    assert [overview[field].value for field in fields] == [5, 3, 90, 97, "Gesloten"]
    assert (
        overview["Methode"].value == "Dilemmamethode" and overview["Gespreksleider"].value == "Anna de Vries"
    )

    polls = book["Stemmingen"]
    assert [cell.value for cell in polls[1]] == POLL_HEADERS["nl"]
    rows = records(polls)
    first = [r for r in rows if r["Vraag"].value == "Naar welke kant neig je nu?"]
    assert [(r["Optie"].value, r["Tekst"].value, r["Aantal"].value, r["Procent"].value, r["Antwoorden"].value)
            for r in first] == [
        ("A", "Je past de conclusies aan.", 3, 0.6, 5),
        ("B", "Je legt je bezwaar vast.", 1, 0.2, 5),
        ("C", FORMULA, 1, 0.2, 5),
    ]  # fmt: skip
    for r in first:
        assert r["Stap"].value == "Morele vraag en dilemma" and r["Type"].value == "keuze"
        assert r["Aantal"].data_type == "n" and r["Procent"].number_format == "0%"
        assert r["Gemiddelde"].value is None and r["Opmerking"].value is None
    formula = first[2]["Tekst"]
    assert formula.data_type == "s" and formula.value == FORMULA  # text, never a formula
    after = [r for r in rows if r["Vraag"].value == "Naar welke kant neig je nu, na het gesprek?"]
    assert [(r["Aantal"].value, r["Procent"].value, r["Procent eerder"].value) for r in after] == [
        (1, 0.2, 0.6), (4, 0.8, 0.2), (0, 0, 0.2),
    ]  # fmt: skip
    ranking = [r for r in rows if r["Type"].value == "rangorde"]
    assert [(r["Optie"].value, r["Tekst"].value, r["Aantal"].value, r["Procent"].value) for r in ranking] == [
        (key, label, points, percent / 100) for key, label, points, percent in RANKING_ROWS
    ]
    assert {r["Opmerking"].value for r in ranking} == {"aantal = punten (rangorde)"}
    # Below k: one row with the number of answers and the note, no figure per option.
    below = [r for r in rows if r["Vraag"].value == "Wat zou jij doen?"]
    assert len(below) == 1
    assert {name: cell.value for name, cell in below[0].items() if cell.value is not None} == {
        "Stap": "Eigen afweging", "Vraag": "Wat zou jij doen?", "Type": "keuze", "Antwoorden": 2,
        "Opmerking": HIDDEN_NOTE,
    }  # fmt: skip

    evaluation = book["Evaluatie"]
    header = [cell.value for cell in evaluation[1]]
    assert header == [
        "Vraag",
        "Type",
        "Aantal antwoorden",
        *map(str, range(1, 11)),
        "Gemiddelde",
        "Opmerking",
    ]
    items = {r["Vraag"].value: r for r in records(evaluation) if r["Vraag"].value}
    herkenbaar = items["Ik herkende de casus uit mijn eigen werk."]
    columns = ("Aantal antwoorden", "1", "2", "3", "4", "5", "6", "Gemiddelde")
    assert [herkenbaar[column].value for column in columns] == [4, 0, 0, 1, 2, 1, None, 4.0]
    assert herkenbaar["Gemiddelde"].number_format == "0.0" and herkenbaar["3"].data_type == "n"
    assert items["Ik voelde me vrij om te zeggen wat ik dacht."]["Gemiddelde"].value == 4.8
    below_items = [r for r in items.values() if r["Aantal antwoorden"].value == 2]
    assert len(below_items) == 2  # kijk-veranderd and verbeterpunt: only their count
    for r in below_items:
        assert [r[h].value for h in header[3:]] == [None] * 11 + [HIDDEN_NOTE]
    assert all(HIDDEN_EVALUATION_TEXT not in str(cell) for row in table(evaluation) for cell in row)
    assert "Open antwoorden" not in str(table(evaluation))  # the only free texts are below k

    actions = book["Actiepunten"]
    assert table(actions)[:3] == [
        ["Wat", "Wie (rol)", "Wanneer"],
        ["Bezwaar schriftelijk vastleggen", "onderzoeker", datetime(2030, 6, 1)],
        ["Protocol bespreken in het MT"],
    ]
    due = actions["C2"]
    assert due.is_date and due.number_format == "dd-mm-yyyy"
    assert table(book["Op het scherm"]) == [
        ["Nr.", "Stap", "Tekst"],
        ["Er is geen tekst op het scherm gezet."],
    ]

    # No English in a Dutch workbook.
    values = {str(cell).strip().lower() for sheet in book for row in table(sheet) for cell in row}
    assert not values & ENGLISH_VALUES, values & ENGLISH_VALUES


def test_xlsx_of_an_english_session(app, run_session):
    ran = run_session(title="Deliberation on the report", language="en")
    with app.app_context():
        book = workbook(to_xlsx(build_summary(load(ran.session_id))))
    assert book.sheetnames == SHEETS["en"]
    assert [cell.value for cell in book["Votes"][1]] == POLL_HEADERS["en"]
    assert table(book["Overview"])[0] == ["Field", "Value"]
    assert table(book["Evaluation"])[0][:3] == ["Question", "Type", "Number of answers"]
    assert table(book["Action points"])[0] == ["What", "Who (role)", "By when"]
    assert book["Action points"]["C2"].number_format == "yyyy-mm-dd"
    overview = {row[0]: row[1] for row in table(book["Overview"])[1:]}
    assert (overview["Method"], overview["Status"]) == ("Dilemma method", "Closed")
    rows = records(book["Votes"])
    assert {r["Type"].value for r in rows} == {"choice", "ranking"}
    assert [r["Note"].value for r in rows if r["Answers"].value == 2] == [
        "results are only shown from 3 answers"
    ]
    values = {str(cell) for sheet in book for row in table(sheet) for cell in row}
    assert not values & {"Stemmingen", "Stap", "Vraag", "keuze", "ja", "nee", "Gesloten"}


def test_xlsx_texts_screen_and_one_poll_with_a_dilemma():
    book = workbook(to_xlsx(made_summary()))
    polls = records(book["Stemmingen"])
    assert [(r["Dilemma"].value, r["Optie"].value, r["Tekst"].value) for r in polls[:2]] == [
        ("Het rapport", "A", "Café"), ("Het rapport", "B", "Reünie"),
    ]  # fmt: skip
    texts = [r for r in polls if r["Type"].value == "open vraag"]
    assert [(r["Tekst"].value, r["Aantal"].value, r["Antwoorden"].value) for r in texts] == [
        ("moed", None, 3), ("één", None, 3), ("zorg", None, 3),
    ]  # fmt: skip
    evaluation = table(book["Evaluatie"])
    assert evaluation[0] == ["Vraag", "Type", "Aantal antwoorden", "1", "2", "3", "4", "5", "Gemiddelde",
                             "Opmerking"]  # fmt: skip
    assert evaluation[1:] == [
        ["Herkenbaar?", "schaal", 4, 0, 0, 1, 2, 1, 4.8],
        ["Wat kan beter?", "open vraag", 3],
        ["Veranderd?", "schaal", 2, None, None, None, None, None, None, HIDDEN_NOTE],
        [],
        ["Open antwoorden"],
        ["Vraag", "Antwoord"],
        ["Wat kan beter?", "a"], ["Wat kan beter?", "b"], ["Wat kan beter?", "één ding"],
    ]  # fmt: skip
    sheet = book["Evaluatie"]
    assert sheet["A6"].font.bold and sheet["A7"].font.bold and not sheet["A8"].font.bold
    assert table(book["Op het scherm"]) == [["Nr.", "Stap", "Tekst"], [2, "De casus", EEN]]
    assert book["Overzicht"]["B2"].value == "Beraad over één casus"


def test_xlsx_of_a_session_without_votes_evaluation_or_actions():
    summary = Summary.from_dict({**made_summary().to_dict(), "polls": [], "evaluation": [], "actions": []})
    book = workbook(to_xlsx(summary))
    assert table(book["Stemmingen"])[1:] == [["Er is niet gestemd."]]
    assert table(book["Evaluatie"])[1:] == [["Geen evaluatie ingevuld."]]
    assert table(book["Actiepunten"])[1:] == [["Geen actiepunten."]]
    open_evaluation = Summary.from_dict({**summary.to_dict(), "evaluation_open": True, "status": "running"})
    book = workbook(to_xlsx(open_evaluation))
    assert table(book["Evaluatie"])[1][0].startswith("De evaluatie loopt nog.")
    overview = {row[0]: row[1] for row in table(book["Overzicht"])[1:]}
    assert overview["Status"] == "Loopt" and "Voorlopig verslag" in overview["Opmerking"]


def test_xlsx_is_deterministic_and_dated_by_the_summary(monkeypatch):
    summary = made_summary()
    first = to_xlsx(summary)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 86_400 * 40)  # zip entries would carry this
    assert to_xlsx(summary) == first
    assert to_xlsx(Summary.from_dict(summary.to_dict())) == first
    properties = workbook(first).properties
    assert properties.created == properties.modified == datetime(2026, 11, 25)
    assert properties.creator == "beraad"
    assert to_xlsx(made_summary(language="en")) != first


def test_xlsx_cells_hold_no_control_characters_and_no_formula():
    summary = Summary.from_dict(
        {**made_summary().to_dict(), "title": "=HYPERLINK(\"x\")\x1b", "actions": [
            {"what": "+cmd\x00|' /C calc", "who": "@rol", "due": None}]}
    )  # fmt: skip
    book = workbook(to_xlsx(summary))
    assert book["Overzicht"]["B2"].value == '=HYPERLINK("x")' and book["Overzicht"]["B2"].data_type == "s"
    assert [cell.value for cell in book["Actiepunten"][2]] == ["+cmd|' /C calc", "@rol", None]


# --- the CSV as Dutch Excel opens it ----------------------------------------------------------------


def test_dutch_csv_has_a_bom_semicolons_dutch_words_and_decimal_commas():
    text = to_csv(made_summary())
    rows = dutch_csv(text)
    assert rows[0] == CSV_HEADERS["nl"]
    assert all(len(row) == len(CSV_HEADERS["nl"]) for row in rows)
    records_ = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert records_[0]["Soort"] == "scherm" and records_[0]["Vraag"] == EEN  # "één" round-trips
    vote = [r for r in records_ if r["Code"] == "keuze"]
    assert [(r["Soort"], r["Type"], r["Dilemma"], r["Tekst"], r["Aantal"], r["Getoond"]) for r in vote] == [
        ("stemming", "keuze", "Het rapport", "Café", "3", "ja"),
        ("stemming", "keuze", "Het rapport", "Reünie", "1", "ja"),
    ]  # fmt: skip
    herkenbaar = [r for r in records_ if r["Code"] == "herkenbaar"]
    assert {(r["Soort"], r["Type"], r["Gemiddelde"]) for r in herkenbaar} == {("evaluatie", "schaal", "4,8")}
    values = {cell.lower() for row in rows[1:] for cell in row}
    assert not values & ENGLISH_VALUES, values & ENGLISH_VALUES
    assert "één" in text.encode("utf-8").decode("utf-8-sig")


def test_english_csv_uses_commas_and_a_decimal_point():
    rows = english_csv(to_csv(made_summary(language="en")))
    assert rows[0] == CSV_HEADERS["en"]
    records_ = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert {r["Average"] for r in records_ if r["Key"] == "herkenbaar"} == {"4.8"}
    assert {(r["Kind"], r["Shown"]) for r in records_ if r["Key"] == "keuze"} == {("vote", "yes")}
    assert [(r["Kind"], r["Count"], r["Answers"], r["Shown"]) for r in records_ if r["Key"] == "weinig"] == [
        ("vote", "", "2", "no")
    ]


# --- the k rule in both spreadsheet exports ---------------------------------------------------------


@pytest.mark.parametrize("k", [3, 5])
def test_below_k_only_the_count_in_csv_and_xlsx(k):
    """Below k only the count; with k = 5 also for results the (hand-made) summary marks as shown."""
    summary = made_summary(k=k)
    hidden = {p.key: p for p in (*summary.polls, *summary.evaluation) if p.count < k}
    assert {"weinig", "kijk"} <= set(hidden) and (k == 5) == ("keuze" in hidden)
    rows = dutch_csv(to_csv(summary))
    for key, poll in hidden.items():
        found = [dict(zip(rows[0], row, strict=True)) for row in rows[1:] if row[1] == key]
        assert len(found) == 1, key
        filled = {name: value for name, value in found[0].items() if value}
        # What the poll is and how many answered; no option, count, percent or mean.
        assert set(filled) <= {"Soort", "Code", "Stap", "Dilemma", "Vraag", "Type", "Antwoorden", "Getoond"}
        assert (filled["Vraag"], filled["Antwoorden"], filled["Getoond"]) == (
            poll.question,
            str(poll.count),
            "nee",
        )

    book = workbook(to_xlsx(summary))
    polls = records(book["Stemmingen"])
    for poll in summary.polls:
        mine = [r for r in polls if r["Vraag"].value == poll.question]
        if poll.key not in hidden:
            assert len(mine) > 1
            continue
        assert len(mine) == 1
        numbers = {name: cell.value for name, cell in mine[0].items() if isinstance(cell.value, int | float)}
        assert numbers == {"Antwoorden": poll.count}
        assert mine[0]["Opmerking"].value == f"resultaten worden pas getoond vanaf {k} antwoorden"
        assert mine[0]["Optie"].value is None and mine[0]["Tekst"].value is None
    evaluation = records(book["Evaluatie"])
    for item in summary.evaluation:
        mine = [r for r in evaluation if r["Vraag"].value == item.question]
        if item.key in hidden:
            numbers = [cell.value for cell in mine[0].values() if isinstance(cell.value, int | float)]
            assert len(mine) == 1 and numbers == [item.count]
    texts = [cell.value for row in evaluation for cell in row.values()]
    assert ("één ding" in texts) == ("verbeterpunt" not in hidden)
    assert ("zorg" in str(table(book["Stemmingen"]))) == ("woord" not in hidden)


# --- downloads --------------------------------------------------------------------------------------


def test_xlsx_download_view_and_api(app, client, auth, run_session, create_user):
    ran = run_session()
    url = f"/sessions/{ran.session_id}/summary.xlsx"
    assert client.get(url).status_code == 302  # signed out: to the login page
    auth.login("anna", role="facilitator")
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == MIMETYPE
    assert response.headers["Content-Disposition"] == f'attachment; filename="beraad-{DAY}-{SLUG}.xlsx"'
    assert response.headers["Cache-Control"] == "no-store"
    with app.app_context():
        assert response.data == to_xlsx(build_summary(load(ran.session_id)))
        owner = load(ran.session_id).owner_id
    assert workbook(response.data).sheetnames == SHEETS["nl"]
    assert client.get("/sessions/999999/summary.xlsx").status_code == 404

    api = client.get(f"/api/v1{url}", headers=api_token(app, owner))
    assert api.status_code == 200 and api.headers["Content-Type"] == MIMETYPE
    assert api.headers["Content-Disposition"] == response.headers["Content-Disposition"]
    assert api.headers["Cache-Control"] == "no-store"
    assert api.data == response.data
    assert (
        client.get("/api/v1/sessions/999999/summary.xlsx", headers=api_token(app, owner)).status_code == 404
    )
    auth.logout()

    bert = create_user("bert", role="facilitator")
    assert client.get(f"/api/v1{url}", headers=api_token(app, bert)).status_code == 403
    assert auth.login("bert", role="facilitator").status_code == 302
    assert client.get(url).status_code == 403
    auth.logout()
    assert auth.login("cora", role="coordinator").status_code == 302
    assert client.get(url).status_code == 200


def test_csv_download_is_utf8_with_a_bom(app, client, auth, run_session):
    ran = run_session()
    auth.login("anna", role="facilitator")
    response = client.get(f"/sessions/{ran.session_id}/summary.csv")
    assert response.status_code == 200 and response.data.startswith(codecs.BOM_UTF8)
    rows = dutch_csv(response.data.decode("utf-8"))
    assert rows[0] == CSV_HEADERS["nl"]
    means = {row[13] for row in rows[1:] if row[1] == "vrij-spreken"}
    assert means == {"4,8"}


def test_run_page_offers_the_exports_only_once_the_session_started(app, client, auth, new_session):
    session_id = new_session()
    auth.login("anna", role="facilitator")
    page = client.get(f"/sessions/{session_id}").get_data(as_text=True)
    summary_card = page[page.index('id="summary"') :]
    summary_card = summary_card[: summary_card.index("</section>")]
    assert "summary.xlsx" not in summary_card and "summary.pdf" not in summary_card
    assert any(
        hint in summary_card
        for hint in (
            "The summary can be downloaded once the session has started.",
            "Het verslag kun je downloaden zodra de bijeenkomst is gestart.",
        )
    )
    with app.app_context():
        sessions.start_session(load(session_id), now=at(0))
        db.session.commit()
    page = client.get(f"/sessions/{session_id}").get_data(as_text=True)
    summary_card = page[page.index('id="summary"') :]
    summary_card = summary_card[: summary_card.index("</section>")]
    assert f'href="/sessions/{session_id}/summary.xlsx"' in summary_card and "Excel (.xlsx)" in summary_card
    assert f'href="/sessions/{session_id}/summary.csv"' in summary_card
