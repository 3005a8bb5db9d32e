"""The summary as an Excel workbook (.xlsx): one sheet per part, in the session's language.

Sheets: an overview; where the session had one, the Terugblik (the previous session's action points
and what became of them, as in the PDF); the votes, one row per option; the evaluation, one row per
item with a column per scale point and the open answers below; the action points; the texts put on
the screen. Numbers
are numeric cells, percentages numbers shown as percent (0.6 → 60%), dates date cells. A vote or
evaluation item with fewer than k answers shows only its count and a note, as in every export.

The same summary gives the same bytes: the workbook's created and modified times and the times of
the entries in its zip file come from the summary's date, never from the clock.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from datetime import date, datetime, time

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from .exports import below_k, export_words
from .labels import follow_up_label, labels
from .model import PollSummary, Summary

MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_CELL = 32_767  # the most characters Excel keeps in one cell
MIN_WIDTH, MAX_WIDTH = 8, 60  # column widths, in characters
PERCENT = "0%"
MEAN = "0.0"
COUNT = "0"
DATE_FORMATS = {"nl": "dd-mm-yyyy", "en": "yyyy-mm-dd"}
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")


def _text(value: str) -> str | None:
    """Text as a cell can hold it: no control characters (invalid in the file), at most MAX_CELL."""
    value = ILLEGAL_CHARACTERS_RE.sub("", value or "")[:MAX_CELL]
    return value or None


def _percent(value: int | None) -> float | None:
    return None if value is None else value / 100


class _Sheet:
    """A worksheet with a bold, frozen header row; numbers and dates get their number format."""

    def __init__(self, workbook: Workbook, title: str, headers: Iterable[str], language: str):
        self.ws: Worksheet = workbook.create_sheet(title)
        self.date_format = DATE_FORMATS.get(language, DATE_FORMATS["nl"])
        self.next_row = 1
        self.row(headers, bold=True)
        self.ws.freeze_panes = "A2"

    def row(self, values: Iterable, *, formats: dict[int, str] | None = None, bold: bool = False) -> None:
        """Append a row; formats maps a column (0-based) holding a number to its number format."""
        number, self.next_row = self.next_row, self.next_row + 1
        for column, value in enumerate(values, start=1):
            if isinstance(value, str):
                value = _text(value)
            if value is None:
                continue
            cell = self.ws.cell(row=number, column=column, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text stays text, even "=SUM(A1)": never a formula
            elif isinstance(value, date):
                cell.number_format = self.date_format
            elif formats and column - 1 in formats:
                cell.number_format = formats[column - 1]
            if bold:
                cell.font = BOLD

    def blank(self) -> None:
        self.next_row += 1

    def finish(self) -> None:
        """Fit the columns to their content, within bounds; wrap text that is wider."""
        widths: dict[int, int] = {}
        for row in self.ws.iter_rows():
            for cell in row:
                if cell.value is None:
                    continue
                if isinstance(cell.value, date):
                    length = 10
                elif isinstance(cell.value, str):
                    length = max(len(line) for line in cell.value.splitlines() or [""])
                    if length > MAX_WIDTH or "\n" in cell.value:
                        cell.alignment = WRAP
                else:
                    length = len(str(cell.value)) + 2
                widths[cell.column] = max(widths.get(cell.column, 0), length)
        for column, length in widths.items():
            width = min(max(length + 2, MIN_WIDTH), MAX_WIDTH)
            self.ws.column_dimensions[get_column_letter(column)].width = width


def _overview(workbook: Workbook, summary: Summary, w: dict, x: dict) -> None:
    sheet = _Sheet(workbook, x["sheet_overview"], (x["field"], x["value"]), summary.language)
    notes = [w["anonymity"].format(k=summary.k)]
    if summary.status != "closed":
        notes.append(w["not_closed"])
    for field, value in (
        (x["title"], summary.title),
        (w["date"], date.fromisoformat(summary.date)),
        (w["method"], summary.method),
        (w["facilitator"], summary.facilitator),
        (w["participants"], summary.participants),
        (x["k"], summary.k),
        (x["planned_minutes"], summary.planned_minutes),
        (x["actual_minutes"], summary.actual_minutes),
        (x["status"], x["statuses"].get(summary.status, summary.status)),
        (x["note"], " ".join(notes)),
    ):
        sheet.row((field, value), formats={1: COUNT})
    sheet.finish()


POLL_FORMATS = {6: COUNT, 7: PERCENT, 8: COUNT, 9: MEAN, 10: PERCENT}


def _polls(workbook: Workbook, summary: Summary, w: dict, x: dict) -> None:
    headers = ("step", "dilemma", "question", "type", "option", "text", "count", "percent", "answers",
               "mean", "before_percent", "note")  # fmt: skip
    sheet = _Sheet(workbook, x["sheet_polls"], (x[h] for h in headers), summary.language)
    if not summary.polls:
        sheet.row((w["no_polls"],))
    hidden = w["hidden"].format(k=summary.k)
    for poll in summary.polls:
        base = (poll.step_title, poll.dilemma_title, poll.question, x["types"].get(poll.type, poll.type))
        if below_k(poll, summary.k):
            # Below k: the number of answers and why nothing more, never a figure per option.
            sheet.row((*base, None, None, None, None, poll.count, None, None, hidden), formats=POLL_FORMATS)
            continue
        earlier = (
            {r.key: r.percent for r in poll.before.rows}
            if poll.before and not below_k(poll.before, summary.k)
            else {}
        )
        note = x["points_note"] if poll.type == "ranking" else None
        for text in poll.texts:
            sheet.row((*base, None, text, None, None, poll.count), formats=POLL_FORMATS)
        for row in poll.rows:
            label = None if row.label == row.key else row.label
            sheet.row(
                (*base, row.key, label, row.count, _percent(row.percent), poll.count, poll.mean,
                 _percent(earlier.get(row.key)), note),
                formats=POLL_FORMATS,
            )  # fmt: skip
        if not poll.texts and not poll.rows:
            sheet.row((*base, None, None, None, None, poll.count), formats=POLL_FORMATS)
    sheet.finish()


def _point_keys(items: Iterable[PollSummary]) -> list[str]:
    """Every scale point (or option) of the shown items: numbers in order, then the rest as met."""
    keys: list[str] = []
    for item in items:
        keys += [row.key for row in item.rows if row.key not in keys]
    numeric = sorted((key for key in keys if key.lstrip("-").isdigit()), key=int)
    return numeric + [key for key in keys if key not in numeric]


def _evaluation(workbook: Workbook, summary: Summary, w: dict, x: dict) -> None:
    items = summary.evaluation
    points = _point_keys(item for item in items if not below_k(item, summary.k))
    headers = (x["item"], x["type"], x["n"], *points, x["mean"], x["note"])
    sheet = _Sheet(workbook, x["sheet_evaluation"], headers, summary.language)
    if not items:
        sheet.row((w["evaluation_open" if summary.evaluation_open else "no_evaluation"],))
    hidden = w["hidden"].format(k=summary.k)
    formats = {2: COUNT, **{3 + i: COUNT for i in range(len(points))}, 3 + len(points): MEAN}
    for item in items:
        base = (item.question, x["types"].get(item.type, item.type), item.count)
        if below_k(item, summary.k):
            sheet.row((*base, *[None] * len(points), None, hidden), formats=formats)
            continue
        counts = {row.key: row.count for row in item.rows}
        sheet.row((*base, *(counts.get(key) for key in points), item.mean), formats=formats)
    texts = [(item.question, text) for item in items if not below_k(item, summary.k) for text in item.texts]
    if texts:
        sheet.blank()
        sheet.row((x["text_answers"],), bold=True)
        sheet.row((x["item"], x["answer"]), bold=True)
        for question, text in texts:
            sheet.row((question, text))
    sheet.finish()


def _actions(workbook: Workbook, summary: Summary, w: dict, x: dict) -> None:
    sheet = _Sheet(workbook, x["sheet_actions"], (w["what"], w["who"], w["when"]), summary.language)
    if not summary.actions:
        sheet.row((w["no_actions"],))
    for action in summary.actions:
        sheet.row((action.what, action.who, date.fromisoformat(action.due) if action.due else None))
    sheet.finish()


def _follow_up(workbook: Workbook, summary: Summary, w: dict, x: dict) -> None:
    """The Terugblik, a sheet of its own after the overview (none where the session had no Terugblik)."""
    if not summary.follow_up:
        return
    headers = (w["what"], w["who"], w["when"], w["status"], w["follow_up_note"])
    sheet = _Sheet(workbook, w["follow_up"], headers, summary.language)
    for point in summary.follow_up:
        due = date.fromisoformat(point.due) if point.due else None
        sheet.row((point.what, point.who, due, follow_up_label(point.status, summary.language), point.note))
    sheet.finish()


def _screen(workbook: Workbook, summary: Summary, w: dict, x: dict) -> None:
    sheet = _Sheet(workbook, x["sheet_screen"], (x["number"], x["step"], x["text"]), summary.language)
    steps = [step for step in summary.steps if step.screen_text.strip()]
    if not steps:
        sheet.row((x["no_screen"],))
    for step in steps:
        sheet.row((step.position + 1, step.title, step.screen_text.strip()), formats={0: COUNT})
    sheet.finish()


def _stamped(raw: bytes, moment: datetime) -> bytes:
    """The zip file again, every entry dated `moment` instead of when it was written."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(raw)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=moment.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            target.writestr(info, source.read(entry.filename))
    return out.getvalue()


def to_xlsx(summary: Summary) -> bytes:
    """The summary as an .xlsx workbook; the same summary always gives the same bytes."""
    w, x = labels(summary.language), export_words(summary.language)
    workbook = Workbook()
    workbook.remove(workbook.active)
    for part in (_overview, _follow_up, _polls, _evaluation, _actions, _screen):
        part(workbook, summary, w, x)
    moment = datetime.combine(date.fromisoformat(summary.date), time())
    properties = workbook.properties
    properties.created = properties.modified = moment
    properties.creator = "beraad"
    properties.title = _text(summary.title)
    properties.language = summary.language
    raw = io.BytesIO()
    # ExcelWriter rather than Workbook.save, which would set the modified time to now.
    ExcelWriter(workbook, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED)).save()
    return _stamped(raw.getvalue(), moment)
