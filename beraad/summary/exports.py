"""The summary as Markdown; its poll aggregates (and the texts put on the screen) as CSV."""

from __future__ import annotations

import csv
import io
import re

from .labels import labels, long_date
from .model import PollSummary, Summary

MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|])")
# Where a line could start a list item or a rule (# > * _ | are escaped anyway): "1." "1)" "-" "+".
BLOCK_START = re.compile(r"^(\d+(?=[.)](?:\s|$))|(?=[-+]))")
SETEXT_UNDERLINE = re.compile(r"^=+$")


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


def _poll_lines(poll: PollSummary, words: dict, k: int) -> list[str]:
    lines = [
        f"**{_escape(poll.question)}**" + (f" ({_escape(poll.step_title)})" if poll.step_title else ""),
        "",
    ]
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
        total += f" · {words['mean']} {poll.mean}"
    return [*lines, "", total, ""]


def to_markdown(summary: Summary) -> str:
    """The whole summary as a Markdown document."""
    w = labels(summary.language)
    out = [f"# {_escape(summary.title)}", ""]
    out.append(f"- {w['date']}: {long_date(summary.date, summary.language)}")
    out.append(f"- {w['method']}: {_escape(summary.method)}")
    if summary.facilitator:
        out.append(f"- {w['facilitator']}: {_escape(summary.facilitator)}")
    out.append(f"- {w['participants']}: {summary.participants}")
    out.append(
        f"- {w['time']}: {summary.actual_minutes} {w['minutes']} "
        f"({w['planned']} {summary.planned_minutes} {w['minutes']})"
    )
    out += ["", f"_{w['anonymity'].format(k=summary.k)}_", ""]
    for dilemma in summary.dilemmas:
        out += [f"## {w['dilemma']}: {_escape(dilemma.title)}", ""]
        if dilemma.consent != "full":
            out += [f"_{w['consent_' + dilemma.consent]}_", ""]
        out += [_escape(dilemma.text).replace("\\*\\*", "**"), ""]
    out += [f"## {w['steps']}", ""]
    for step in summary.steps:
        out += [
            f"### {step.position + 1}. {_escape(step.title)}",
            "",
            f"{w['time']}: {step.actual_minutes} {w['minutes']} ({w['planned']} {step.planned_minutes})",
            "",
        ]
        if step.screen_text.strip():
            out += [f"**{w['on_screen']}:**", "", *_quoted(step.screen_text), ""]
        out += [_escape(step.notes) if step.notes.strip() else f"_{w['no_notes']}_", ""]
    out += [f"## {w['polls']}", ""]
    if not summary.polls:
        out += [f"_{w['no_polls']}_", ""]
    for poll in summary.polls:
        out += _poll_lines(poll, w, summary.k)
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
        out += _poll_lines(item, w, summary.k)
    return "\n".join(out).rstrip() + "\n"


def _cell(value):
    """Keep spreadsheet programs from reading a text cell as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(summary: Summary) -> str:
    """Poll and evaluation aggregates, one row per option; below k only the count.

    Rows of kind "screen" come first: per step, the text the facilitator put on the screen (in the
    question column).
    """
    w = labels(summary.language)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["kind", "poll", w["step"], w["question"], "type", "option", "label",
                     w["count"], w["percent"], "answers", w["shown"], "before_percent"])  # fmt: skip

    def write(kind: str, poll: PollSummary) -> None:
        base = [kind, poll.key, _cell(poll.step_title), _cell(poll.question), poll.type]
        if not poll.shown:
            writer.writerow([*base, "", "", "", "", poll.count, "no", ""])
            return
        earlier = (
            {row.key: row.percent for row in poll.before.rows} if poll.before and poll.before.shown else {}
        )
        if poll.texts:
            writer.writerow([*base, "", "", "", "", poll.count, "yes", ""])
        for row in poll.rows:
            writer.writerow(
                [
                    *base,
                    _cell(row.key),
                    _cell(row.label),
                    row.count,
                    row.percent,
                    poll.count,
                    "yes",
                    earlier.get(row.key, ""),
                ]
            )

    for step in summary.steps:
        if step.screen_text.strip():
            writer.writerow(["screen", "", _cell(step.title), _cell(step.screen_text.strip()),
                             "", "", "", "", "", "", "", ""])  # fmt: skip
    for poll in summary.polls:
        write("poll", poll)
    for item in summary.evaluation:
        write("evaluation", item)
    return buffer.getvalue()
