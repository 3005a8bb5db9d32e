"""The summary as Markdown; its poll aggregates (with the Terugblik and the texts put on the screen)
as CSV.

The CSV is written for the spreadsheet people open it in: UTF-8 with a byte order mark, ";" between
fields and a decimal comma in a Dutch session (what Dutch Excel expects), "," and a decimal point in
an English one, headers and values in the session's language. The words of the spreadsheet exports
(this CSV and the workbook of xlsx.py) are kept here, in EXPORT_WORDS.
"""

from __future__ import annotations

import csv
import io
import re

from .labels import (
    consent_remark,
    date_and_time,
    follow_up_label,
    format_number,
    labels,
    long_date,
    time_spent,
)
from .model import PollSummary, Summary

MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|])")
# Where a line could start a list item or a rule (# > * _ | are escaped anyway): "1." "1)" "-" "+".
BLOCK_START = re.compile(r"^(\d+(?=[.)](?:\s|$))|(?=[-+]))")
SETEXT_UNDERLINE = re.compile(r"^=+$")
BOM = "\ufeff"  # lets Excel read the CSV as UTF-8 instead of the Windows code page
CSV_DELIMITERS = {"nl": ";", "en": ","}  # Dutch Excel splits on ";": its decimal separator is ","

# Headers and values of the spreadsheet exports (CSV, XLSX); the summary's other words are in labels.py.
EXPORT_WORDS = {
    "nl": {
        "kind": "Soort", "key": "Code", "step": "Stap", "dilemma": "Dilemma", "question": "Vraag",
        "type": "Type", "option": "Optie", "text": "Tekst", "count": "Aantal", "percent": "Procent",
        "answers": "Antwoorden", "shown": "Getoond", "before_percent": "Procent eerder",
        "mean": "Gemiddelde", "note": "Opmerking", "yes": "ja", "no": "nee",
        "kinds": {"screen": "scherm", "poll": "stemming", "evaluation": "evaluatie",
                  "follow_up": "terugblik"},
        "types": {"choice": "keuze", "scale": "schaal", "ranking": "rangorde", "text": "open vraag"},
        "statuses": {"lobby": "Nog niet gestart", "running": "Loopt", "closed": "Gesloten"},
        "points_note": "aantal = punten (rangorde)",
        "sheet_overview": "Overzicht", "sheet_polls": "Stemmingen", "sheet_evaluation": "Evaluatie",
        "sheet_actions": "Actiepunten", "sheet_screen": "Op het scherm",
        "field": "Gegeven", "value": "Waarde", "title": "Titel", "k": "Anonimiteitsgrens (k)",
        "planned_minutes": "Geplande tijd (min)", "actual_minutes": "Werkelijke tijd (min)",
        "status": "Status", "item": "Vraag", "n": "Aantal antwoorden", "text_answers": "Open antwoorden",
        "answer": "Antwoord", "number": "Nr.", "no_screen": "Er is geen tekst op het scherm gezet.",
    },
    "en": {
        "kind": "Kind", "key": "Key", "step": "Step", "dilemma": "Dilemma", "question": "Question",
        "type": "Type", "option": "Option", "text": "Text", "count": "Count", "percent": "Percent",
        "answers": "Answers", "shown": "Shown", "before_percent": "Percent before",
        "mean": "Average", "note": "Note", "yes": "yes", "no": "no",
        "kinds": {"screen": "screen", "poll": "vote", "evaluation": "evaluation",
                  "follow_up": "looking back"},
        "types": {"choice": "choice", "scale": "scale", "ranking": "ranking", "text": "open question"},
        "statuses": {"lobby": "Not started", "running": "Running", "closed": "Closed"},
        "points_note": "count = points (ranking)",
        "sheet_overview": "Overview", "sheet_polls": "Votes", "sheet_evaluation": "Evaluation",
        "sheet_actions": "Action points", "sheet_screen": "On screen",
        "field": "Field", "value": "Value", "title": "Title", "k": "Anonymity threshold (k)",
        "planned_minutes": "Planned time (min)", "actual_minutes": "Actual time (min)",
        "status": "Status", "item": "Question", "n": "Number of answers", "text_answers": "Open answers",
        "answer": "Answer", "number": "No.", "no_screen": "No text was put on the screen.",
    },
}  # fmt: skip


def _escape(text: str) -> str:
    """Escape Markdown and HTML characters in free text, so a note cannot become markup."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", text or "")


def _quoted(text: str) -> list[str]:
    """Free text as a Markdown quote whose lines stay plain text: no heading, list, rule or table."""
    lines = []
    for line in text.strip().splitlines():
        line = _escape(line.strip())
        if not line:
            lines.append(">")
            continue
        if SETEXT_UNDERLINE.match(line) and lines and lines[-1] != ">":
            lines.append(">")  # on a line of its own, '===' cannot turn the line above into a heading
        lines.append("> " + BLOCK_START.sub(r"\1\\", line))
    return lines


def _cell_text(text: str) -> str:
    """Free text for one cell of a Markdown table: on one line, its markup escaped."""
    return _escape(" ".join((text or "").split()))


def _follow_up_lines(summary: Summary, words: dict) -> list[str]:
    """The Terugblik as in the PDF: the previous session's action points and what became of them
    (nothing where the session had no Terugblik)."""
    if not summary.follow_up:
        return []
    keys = ("what", "who", "when", "status", "follow_up_note")
    lines = [f"## {words['follow_up']}", "", f"_{words['follow_up_intro']}_", ""]
    lines += ["| " + " | ".join(words[key] for key in keys) + " |", "| --- | --- | --- | --- | --- |"]
    for point in summary.follow_up:
        cells = (
            _cell_text(point.what) or "—",
            _cell_text(point.who) or "—",
            long_date(point.due, summary.language) if point.due else "—",
            _escape(follow_up_label(point.status, summary.language)),
            _cell_text(point.note),
        )
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


def _poll_lines(poll: PollSummary, words: dict, k: int, language: str) -> list[str]:
    where = " · ".join(_escape(part) for part in (poll.dilemma_title, poll.step_title) if part)
    lines = [f"**{_escape(poll.question)}**" + (f" ({where})" if where else ""), ""]
    if not poll.shown:
        return [*lines, f"{poll.count} {words['answers']} — {words['hidden'].format(k=k)}", ""]
    if poll.texts:
        return [
            *lines,
            *(f"- {_escape(' '.join(text.split()))}" for text in poll.texts),  # one line each: no headings
            "",
            f"{poll.count} {words['answers']}",
            "",
        ]
    earlier = {row.key: row for row in poll.before.rows} if poll.before and poll.before.shown else {}
    unit = words["points"] if poll.type == "ranking" else ""
    lines += [f"| {words['option']} | {words['count']} | {words['percent']} |", "| --- | ---: | ---: |"]
    for row in poll.rows:
        shift = f"{earlier[row.key].percent}% → " if row.key in earlier else ""
        label = row.key if row.label == row.key else f"{row.key}. {_escape(row.label)}"
        lines.append(f"| {label} | {row.count}{(' ' + unit) if unit else ''} | {shift}{row.percent}% |")
    total = f"{poll.count} {words['answers']}"
    if poll.mean is not None:
        total += f" · {words['mean']} {format_number(poll.mean, language)}"
    return [*lines, "", total, ""]


def to_markdown(summary: Summary) -> str:
    """The whole summary as a Markdown document."""
    w = labels(summary.language)
    out = [f"# {_escape(summary.title)}", ""]
    if summary.organisation:
        out.append(f"- {w['organisation']}: {_escape(summary.organisation)}")
    out.append(f"- {w['date']}: {date_and_time(summary)}")
    out.append(f"- {w['method']}: {_escape(summary.method)}")
    if summary.facilitator:
        out.append(f"- {w['facilitator']}: {_escape(summary.facilitator)}")
    out.append(f"- {w['participants']}: {summary.participants}")
    out.append(f"- {w['time']}: {time_spent(summary, summary.language)}")
    out += ["", f"_{w['anonymity'].format(k=summary.k)}_", ""]
    out += _follow_up_lines(summary, w)
    for dilemma in summary.dilemmas:
        out += [f"## {w['dilemma']}: {_escape(dilemma.title)}", ""]
        if remark := consent_remark(dilemma, summary.language):
            out += [f"_{remark}_", ""]
        out += [_escape(dilemma.text).replace("\\*\\*", "**"), ""]
    out += [f"## {w['steps']}", ""]
    for step in summary.steps:
        out += [
            f"### {step.position + 1}. {_escape(step.title)}",
            "",
            f"{w['time']}: {time_spent(step, summary.language, summary)}",
            "",
        ]
        if step.screen_text.strip():
            out += [f"**{w['on_screen']}:**", "", *_quoted(step.screen_text), ""]
        out += [_escape(step.notes) if step.notes.strip() else f"_{w['no_notes']}_", ""]
    out += [f"## {w['polls']}", ""]
    if not summary.polls:
        out += [f"_{w['no_polls']}_", ""]
    for poll in summary.polls:
        out += _poll_lines(poll, w, summary.k, summary.language)
    out += [f"## {w['contributions']}", ""]
    out += [f"- {_escape(text)}" for text in summary.contributions] or [f"_{w['no_contributions']}_"]
    out += ["", f"## {w['actions']}", ""]
    if summary.actions:
        out += [f"| {w['what']} | {w['who']} | {w['when']} |", "| --- | --- | --- |"]
        out += [
            f"| {_escape(a.what)} | {_escape(a.who) or '—'} | "
            f"{long_date(a.due, summary.language) if a.due else '—'} |"
            for a in summary.actions
        ]
    else:
        out.append(f"_{w['no_actions']}_")
    out += ["", f"## {w['evaluation']}", ""]
    if not summary.evaluation:
        out += [f"_{w['evaluation_open' if summary.evaluation_open else 'no_evaluation']}_", ""]
    for item in summary.evaluation:
        out += _poll_lines(item, w, summary.k, summary.language)
    return "\n".join(out).rstrip() + "\n"


def _cell(value):
    """Keep spreadsheet programs from reading a text cell as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export_words(language: str) -> dict:
    """The spreadsheet exports' words (CSV and XLSX) in the session's language; Dutch by default."""
    return EXPORT_WORDS.get(language, EXPORT_WORDS["nl"])


def below_k(poll: PollSummary, k: int) -> bool:
    """Whether only the poll's count may be shown: it says so, or (whatever it says) fewer than k answered."""
    return not poll.shown or poll.count < k


def decimal(value: float | None, language: str) -> str:
    """A number with decimals as a Dutch spreadsheet reads it: 4.8 → '4,8' in nl, '4.8' in en."""
    if value is None:
        return ""
    return str(value).replace(".", ",") if language == "nl" else str(value)


def to_csv(summary: Summary) -> str:
    """Poll and evaluation aggregates, one row per option; below k only the count.

    Made to open as it is in a spreadsheet of the session's language, Dutch Excel above all: the
    text starts with a byte order mark (serve it as UTF-8, so "één" is not garbled), fields are
    separated by ";" in a Dutch session (Dutch Excel uses the comma as decimal separator) and by ","
    in an English one, numbers with decimals (the means) use a decimal comma in Dutch, and headers
    and values (kind, type, shown) are in the session's language.

    Where the session had a Terugblik, its rows (kind "terugblik", "looking back") come first, one per
    action point of the previous session, in five more columns with the PDF's headers: what, who (a
    role), by when (an ISO date, which a spreadsheet reads as a date), the status in words and the
    note. Those columns are in every file (empty without a Terugblik), so the CSVs of several sessions
    have one shape and can be put together. Rows of kind
    "screen" ("scherm") come next: per step, the text the facilitator put on the screen (in the
    question column).
    """
    w = export_words(summary.language)
    words = labels(summary.language)
    columns = ("kind", "key", "step", "dilemma", "question", "type", "option", "text", "count", "percent",
               "answers", "shown", "before_percent", "mean")  # fmt: skip
    follow_up_columns = ("what", "who", "when", "status", "follow_up_note")
    width = len(columns) + len(follow_up_columns)
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, delimiter=CSV_DELIMITERS.get(summary.language, ";"))
    writer.writerow([w[column] for column in columns] + [words[column] for column in follow_up_columns])

    def emit(row: list) -> None:
        writer.writerow(row + [""] * (width - len(row)))

    def write(kind: str, poll: PollSummary) -> None:
        base = [w["kinds"][kind], poll.key, _cell(poll.step_title), _cell(poll.dilemma_title or ""),
                _cell(poll.question), w["types"].get(poll.type, poll.type)]  # fmt: skip
        if below_k(poll, summary.k):
            emit([*base, "", "", "", "", poll.count, w["no"], "", ""])
            return
        earlier = (
            {row.key: row.percent for row in poll.before.rows}
            if poll.before and not below_k(poll.before, summary.k)
            else {}
        )
        mean = decimal(poll.mean, summary.language)
        if poll.texts:
            emit([*base, "", "", "", "", poll.count, w["yes"], "", mean])
        for row in poll.rows:
            emit(
                [
                    *base,
                    _cell(row.key),
                    _cell(row.label),
                    row.count,
                    row.percent,
                    poll.count,
                    w["yes"],
                    earlier.get(row.key, ""),
                    mean,
                ]
            )

    for point in summary.follow_up:
        status = follow_up_label(point.status, summary.language)
        cells = [_cell(point.what), _cell(point.who), point.due or "", _cell(status), _cell(point.note)]
        emit([w["kinds"]["follow_up"], *[""] * (len(columns) - 1), *cells])
    for step in summary.steps:
        if step.screen_text.strip():
            emit([w["kinds"]["screen"], "", _cell(step.title), "", _cell(step.screen_text.strip())])
    for poll in summary.polls:
        write("poll", poll)
    for item in summary.evaluation:
        write("evaluation", item)
    return buffer.getvalue()
