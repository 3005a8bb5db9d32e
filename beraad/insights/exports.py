"""The insights as CSV and as an Excel workbook, with exactly the figures of the page.

Both follow the k rule of service.py: a cell below k has an empty mean, spread, minimum and
maximum (only its count of evaluations is given, as the page does). The language is the
interface's: Dutch gets ";" and a decimal comma in the CSV (what Dutch Excel expects), English ","
and a decimal point; headers follow the language in both. The workbook has one sheet per part,
numbers as numeric cells, and the same figures always give the same bytes (its times come from the
insights' date, never from the clock).
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime, time

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from ..summary.exports import BOM, CSV_DELIMITERS
from ..summary.xlsx import COUNT, MIMETYPE, PERCENT, _Sheet, _stamped
from .service import Cell, Insights

__all__ = ["MIMETYPE", "to_csv", "to_xlsx", "words"]

MEAN = "0.00"
WORDS = {
    "nl": {
        "months": "Bijeenkomsten per maand", "teams": "Teams", "themes": "Thema's", "methods": "Methoden",
        "evaluation": "Evaluatie", "evaluation_team": "Evaluatie per team",
        "evaluation_month": "Evaluatie per maand", "measure": "Periodieke meting",
        "month": "Maand", "sessions": "Bijeenkomsten", "team": "Team", "theme": "Thema",
        "method": "Methode", "question": "Vraag", "key": "Code", "evaluations": "Evaluaties",
        "mean": "Gemiddelde", "sd": "Standaardafwijking", "low": "Laagste", "high": "Hoogste",
        "scale": "Schaal", "counted": "Actiepunten met verstreken datum of gedaan",
        "on_time": "Op tijd gedaan", "share": "Aandeel op tijd", "share_percent": "Aandeel op tijd (%)",
        "no_team": "Zonder team", "all": "Alle teams", "domain": "Domein", "title": "Titel",
        "held_on": "Datum", "respondents": "Antwoorden (meeste op één vraag)",
        "domains": {"competentie": "Morele competentie", "teamwerk": "Moreel teamwerk",
                    "handelen": "Moreel handelen"},
    },
    "en": {
        "months": "Sessions per month", "teams": "Teams", "themes": "Themes", "methods": "Methods",
        "evaluation": "Evaluation", "evaluation_team": "Evaluation per team",
        "evaluation_month": "Evaluation per month", "measure": "Periodic measure",
        "month": "Month", "sessions": "Sessions", "team": "Team", "theme": "Theme",
        "method": "Method", "question": "Question", "key": "Key", "evaluations": "Evaluations",
        "mean": "Mean", "sd": "Standard deviation", "low": "Lowest", "high": "Highest",
        "scale": "Scale", "counted": "Action points past their date or done",
        "on_time": "Done on time", "share": "Share on time", "share_percent": "Share on time (%)",
        "no_team": "No team", "all": "All teams", "domain": "Domain", "title": "Title",
        "held_on": "Date", "respondents": "Answers (most to one question)",
        "domains": {"competentie": "Moral competence", "teamwerk": "Moral teamwork",
                    "handelen": "Moral action"},
    },
}  # fmt: skip


def words(language: str) -> dict:
    return WORDS.get(language, WORDS["nl"])


def _team_name(name: str, team_id, w: dict) -> str:
    return name if team_id is not None else w["no_team"]


def _cell_values(cell: Cell) -> list:
    """count, mean, sd, low, high: the figures empty (None) below k."""
    return [cell.count, cell.mean, cell.sd, cell.low, cell.high]


def _eval_headers(w: dict) -> list[str]:
    return [w["evaluations"], w["mean"], w["sd"], w["low"], w["high"]]


def _team_names(ins: Insights, w: dict) -> dict:
    return {row.team_id: _team_name(row.name, row.team_id, w) for row in ins.teams}


def _parts(ins: Insights, w: dict) -> list[tuple[str, list[str], list[list], dict[int, str]]]:
    """Every part as (title, headers, rows, number formats per column): the CSV and the workbook
    are written from the same rows."""
    names = _team_names(ins, w)
    evaluation_formats = {2: COUNT, 3: MEAN, 4: MEAN, 5: COUNT, 6: COUNT}
    parts = [
        (w["months"], [w["month"], w["sessions"]], [[m.month, m.sessions] for m in ins.months], {1: COUNT}),
        (
            w["teams"],
            [w["team"], w["sessions"], w["counted"], w["on_time"], w["share"]],
            [
                [
                    _team_name(t.name, t.team_id, w),
                    t.sessions,
                    t.actions_counted,
                    t.actions_on_time,
                    t.share_on_time,
                ]
                for t in ins.teams
            ]
            + [[w["all"], ins.total_sessions, ins.actions_counted, ins.actions_on_time, ins.share_on_time]],
            {1: COUNT, 2: COUNT, 3: COUNT, 4: PERCENT},
        ),  # fmt: skip
        (w["themes"], [w["theme"], w["sessions"]], [[t.label, t.sessions] for t in ins.themes], {1: COUNT}),
        (
            w["methods"],
            [w["method"], w["sessions"]],
            [[m.label, m.sessions] for m in ins.methods],
            {1: COUNT},
        ),
        (
            w["evaluation"],
            [w["question"], w["key"], *_eval_headers(w)],
            [[item.question, item.key, *_cell_values(item.overall)] for item in ins.items],
            evaluation_formats,
        ),
        (
            w["evaluation_team"],
            [w["team"], w["question"], w["key"], *_eval_headers(w)],
            [
                [names.get(team, w["no_team"]), item.question, item.key, *_cell_values(cell)]
                for team in names
                for item in ins.items
                if (cell := item.by_team.get(team)) is not None
            ],
            {key + 1: value for key, value in evaluation_formats.items()},
        ),
        (
            w["evaluation_month"],
            [w["month"], w["question"], w["key"], *_eval_headers(w)],
            [
                [m.month, item.question, item.key, *_cell_values(cell)]
                for m in ins.months
                for item in ins.items
                if (cell := item.by_month.get(m.month)) is not None
            ],
            {key + 1: value for key, value in evaluation_formats.items()},
        ),
    ]
    if ins.measure is not None:
        measure = ins.measure
        parts.append(
            (
                w["measure"],
                [w["domain"], w["mean"]],
                [[w["domains"].get(domain, domain), mean] for domain, mean in measure.domains]
                + [
                    [w["respondents"], measure.respondents],
                    [w["title"], measure.title],
                    [w["held_on"], measure.held_on.date().isoformat()],
                ],
                {1: MEAN},
            )  # fmt: skip
        )
    return parts


def _csv_value(value, language: str, percent: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        text = f"{value * 100:.1f}" if percent else f"{value:.2f}"
        return text.replace(".", ",") if language == "nl" else text
    return str(value)


def to_csv(ins: Insights) -> str:
    """Every part one after the other: its title on a row of its own, its header row, its rows and
    an empty row. Shares are percentages with one decimal; means and spreads two decimals."""
    language = ins.language if ins.language in CSV_DELIMITERS else "nl"
    w = words(language)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=CSV_DELIMITERS[language], lineterminator="\r\n")
    for title, headers, rows, formats in _parts(ins, w):
        percent_columns = {column for column, number_format in formats.items() if number_format == PERCENT}
        headers = [w["share_percent"] if index in percent_columns else h for index, h in enumerate(headers)]
        writer.writerow([title])
        writer.writerow(headers)
        for row in rows:
            writer.writerow(
                [_csv_value(value, language, index in percent_columns) for index, value in enumerate(row)]
            )
        writer.writerow([])
    return BOM + buffer.getvalue()


def to_xlsx(ins: Insights) -> bytes:
    """One sheet per part; numbers are numeric cells (shares as 0–1 shown as percent)."""
    language = ins.language if ins.language in WORDS else "nl"
    w = words(language)
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, headers, rows, formats in _parts(ins, w):
        sheet = _Sheet(workbook, title[:31], headers, language)
        for row in rows:
            sheet.row(row, formats=formats)
        sheet.finish()
    moment = datetime.combine(ins.until, time())
    properties = workbook.properties
    properties.created = properties.modified = moment
    properties.creator = "beraad"
    properties.title = "beraad"
    properties.language = language
    raw = io.BytesIO()
    ExcelWriter(workbook, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED)).save()
    return _stamped(raw.getvalue(), moment)
