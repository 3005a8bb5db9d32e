"""The session summary as a printable A4 PDF (reportlab platypus).

It runs without a Flask request: every label comes from the summary's own language (labels.py).
All text from the summary is escaped (beraad/pdftext.py) before it reaches reportlab's paragraph
markup, so no field can inject markup.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime, time
from functools import partial

from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from ..pdftext import BAR, BOLD, FONT, INK, ITALIC, MUTED, RULE, register_fonts
from ..pdftext import clean as _clean
from ..pdftext import escape as _esc
from ..pdftext import inline as _inline
from .labels import (
    LABELS,
    MONTHS,
    consent_remark,
    date_and_time,
    distribution,
    follow_up_label,
    format_number,
    labels,
    local_time,
    session_day,
    time_spent,
    zone,
)
from .model import DilemmaSummary, PollSummary, ResultRow, StepSummary, Summary

BAR_BEFORE = colors.HexColor("#a9c1d9")
TRACK = colors.HexColor("#eef1f4")

MARGIN = 2 * cm
FRAME_PADDING = 6  # platypus frames keep 6 pt inside their edges
FRAME_WIDTH = A4[0] - 2 * MARGIN - 2 * FRAME_PADDING  # the width content can use
HEADER_MAX_CHARS = 80
INLINE_LABEL_WIDTH = 4 * cm  # result labels up to this wide stand left of their bar
# The evaluation table: item, n, distribution (a small histogram), mean (as wide as its header).
COUNT_COLUMN, DISTRIBUTION_COLUMN, CELL_PADDING = 1.2 * cm, 6.2 * cm, 9
HISTOGRAM_MAX_POINTS = 12  # more points (or longer keys) than this: the distribution as text

_BULLET = re.compile(r"^\s{0,3}([-*+•])\s+(.*)$")
_NUMBERED = re.compile(r"^\s{0,3}(\d{1,3})[.)]\s+(.*)$")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_QUOTE = re.compile(r"^\s{0,3}>\s?(.*)$")


def render_pdf(summary: Summary) -> bytes:
    """Render the summary as an A4 PDF and return its bytes (the same summary gives the same bytes)."""
    register_fonts()
    words = labels(summary.language)
    styles = _styles()
    story = [
        *_title_block(summary, words, styles),
        *_follow_up(summary, words, styles),
        *_dilemmas(summary, words, styles),
        *_steps(summary, words, styles),
        *_polls(summary, words, styles),
        *_contributions(summary, words, styles),
        *_actions(summary, words, styles),
        *_evaluation(summary, words, styles),
    ]
    buffer = io.BytesIO()
    title = _clean(summary.title).strip() or words["summary"]
    organisation = _organisation(summary)
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        author="beraad",
        subject=f"{words['summary']} · {organisation}" if organisation else words["summary"],
        creator="beraad",
        producer="beraad (ReportLab)",
        keywords=[],
        lang=summary.language if summary.language in LABELS else "nl",
        invariant=1,
        initialFontName=FONT,
    )
    header = _shorten(
        " · ".join(part for part in (organisation, " ".join(title.split())) if part), HEADER_MAX_CHARS
    )
    canvasmaker = partial(
        _NumberedCanvas, header=header, page_label=words["page"], created=_pdf_date(summary)
    )
    doc.build(story, canvasmaker=canvasmaker)
    return buffer.getvalue()


def _organisation(summary: Summary) -> str:
    return " ".join(_clean(summary.organisation).split())


def _pdf_date(summary: Summary) -> str | None:
    """The document's creation date as a PDF date: when the session closed, else started, else the day
    it was made (local time, with its offset). The same summary always gives the same date."""
    moment = local_time(summary.closed_at or summary.started_at, summary.timezone)
    if moment is None:
        day = session_day(summary)
        if day is None:
            return None
        moment = datetime.combine(day, time(0, 0), tzinfo=zone(summary.timezone))
    minutes = int(moment.utcoffset().total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"D:{moment:%Y%m%d%H%M%S}{sign}{hours:02d}'{minutes:02d}'"


# --- fonts, styles, page furniture -------------------------------------------------------------


def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle(
        "body", fontName=FONT, fontSize=10, leading=14, textColor=INK, alignment=TA_LEFT,
        spaceAfter=5, splitLongWords=1, allowWidows=1, allowOrphans=0,
    )  # fmt: skip
    # The text put on the screen: a small label, then the text on a light band, like the projector.
    screen_label = ParagraphStyle(
        "screen_label", body, fontName=BOLD, fontSize=8.5, leading=11.5, textColor=MUTED, spaceBefore=2,
        spaceAfter=2, keepWithNext=1,
    )  # fmt: skip
    screen = ParagraphStyle(
        "screen", body, fontName=BOLD, leftIndent=8, borderPadding=(4, 6, 4, 6), backColor=TRACK,
        spaceBefore=2, spaceAfter=9,
    )  # fmt: skip
    return {
        "body": body,
        "body_continued": ParagraphStyle("body_continued", body, spaceAfter=0),
        "title": ParagraphStyle("title", body, fontName=BOLD, fontSize=18, leading=23, spaceAfter=10),
        "h2": ParagraphStyle(
            "h2", body, fontName=BOLD, fontSize=13.5, leading=17, spaceBefore=14, spaceAfter=6, keepWithNext=1
        ),
        "h3": ParagraphStyle(
            "h3", body, fontName=BOLD, fontSize=11, leading=14.5, spaceBefore=8, spaceAfter=2, keepWithNext=1
        ),
        # The dilemma a group of polls is about (in a game): above the polls' own headings.
        "group": ParagraphStyle(
            "group",
            body,
            fontName=BOLD,
            fontSize=12,
            leading=15.5,
            textColor=BAR,
            spaceBefore=12,
            spaceAfter=0,
            keepWithNext=1,
        ),
        "meta": ParagraphStyle(
            "meta", body, fontSize=8.5, leading=11.5, textColor=MUTED, spaceAfter=4, keepWithNext=1
        ),
        "note": ParagraphStyle("note", body, fontName=ITALIC, fontSize=9, leading=12.5, textColor=MUTED),
        "bullet": ParagraphStyle(
            "bullet", body, leftIndent=14, bulletIndent=3, bulletFontName=FONT, spaceAfter=3
        ),
        "mean": ParagraphStyle("mean", body, spaceBefore=4),
        "quote": ParagraphStyle("quote", body, leftIndent=14, textColor=MUTED),
        "screen_label": screen_label,
        "screen": screen,
        "label": ParagraphStyle("label", body, fontSize=9, leading=12, spaceBefore=3, spaceAfter=1),
        "key": ParagraphStyle("key", body, fontName=BOLD, fontSize=9.5, leading=13, spaceAfter=0),
        "value": ParagraphStyle("value", body, fontSize=9.5, leading=13, spaceAfter=0),
        "cell": ParagraphStyle("cell", body, fontSize=9, leading=12, spaceAfter=0),
        "cellhead": ParagraphStyle("cellhead", body, fontName=BOLD, fontSize=9, leading=12, spaceAfter=0),
        "cellnum": ParagraphStyle("cellnum", body, fontSize=9, leading=12, spaceAfter=0, alignment=TA_RIGHT),
        "cellheadnum": ParagraphStyle(
            "cellheadnum", body, fontName=BOLD, fontSize=9, leading=12, spaceAfter=0, alignment=TA_RIGHT
        ),
        "cellnote": ParagraphStyle(
            "cellnote", body, fontName=ITALIC, fontSize=8.5, leading=11, textColor=MUTED, spaceAfter=0
        ),
    }


class _NumberedCanvas(canvas.Canvas):
    """Holds every page back until the end, so each can say 'page n of total' (two-pass pattern)."""

    def __init__(self, *args, header: str, page_label: str, created: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if created:  # the session's own date, not the moment of rendering (nor invariant's 2000-01-01)
            self.setDateFormatter(lambda *_parts: created)
        self._header = header
        self._page_label = page_label
        self._pages: list[dict] = []

    def showPage(self):  # noqa: N802 (reportlab's name)
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for page in self._pages:
            self.__dict__.update(page)
            self._draw_furniture(total)
            super().showPage()
        super().save()

    def _draw_furniture(self, total: int) -> None:
        width, height = A4
        self.saveState()
        self.setFillColor(MUTED)
        self.setStrokeColor(RULE)
        self.setLineWidth(0.5)
        self.setFont(FONT, 8)
        left, right = MARGIN + FRAME_PADDING, width - MARGIN - FRAME_PADDING
        header = self._header
        while header and pdfmetrics.stringWidth(header, FONT, 8) > FRAME_WIDTH:
            header = _shorten(header, len(header) - 5)
        self.drawString(left, height - MARGIN + 0.75 * cm, header)
        self.line(left, height - MARGIN + 0.6 * cm, right, height - MARGIN + 0.6 * cm)
        self.line(left, MARGIN - 0.6 * cm, right, MARGIN - 0.6 * cm)
        self.drawRightString(
            right, MARGIN - 0.95 * cm, self._page_label.format(page=self._pageNumber, total=total)
        )
        self.restoreState()


# --- text helpers ---------------------------------------------------------------------------------


def _table_style(commands: list) -> TableStyle:
    """A table style that never falls back to reportlab's default (unembedded) Helvetica."""
    return TableStyle([("FONT", (0, 0), (-1, -1), FONT, 9), *commands])


def _shorten(text: str, length: int) -> str:
    return text if len(text) <= length else text[: max(length - 1, 0)].rstrip() + "…"


def _markdown(text: str, styles: dict, soft_breaks: bool = False) -> list:
    """Simple Markdown: paragraphs, headings, **bold**, *italic*, bullet and numbered lists, quotes.

    With soft_breaks (a case from the bank, wrapped in its source file) a single line break inside a
    paragraph is a space, as in Markdown; notes typed on the screen keep their line breaks.
    """
    joiner = " " if soft_breaks else "\n"
    flowables = []
    blocks: list[tuple[str, str | None, list[str]]] = []  # (kind, bullet, lines)
    for line in _clean(text).split("\n"):
        if not line.strip():
            blocks.append(("blank", None, []))
            continue
        if match := _HEADING.match(line):
            blocks.append(("heading", None, [match.group(1)]))
        elif match := _BULLET.match(line):
            blocks.append(("item", "•", [match.group(2)]))
        elif match := _NUMBERED.match(line):
            blocks.append(("item", f"{match.group(1)}.", [match.group(2)]))
        elif match := _QUOTE.match(line):
            if blocks and blocks[-1][0] == "quote":
                blocks[-1][2].append(match.group(1))
            else:
                blocks.append(("quote", None, [match.group(1)]))
        elif blocks and blocks[-1][0] in ("para", "item"):
            blocks[-1][2].append(line.strip() if blocks[-1][0] == "item" else line)
        else:
            blocks.append(("para", None, [line]))
    for kind, bullet, lines in blocks:
        if kind == "blank":
            continue
        markup = _inline(joiner.join(lines))
        if kind == "heading":
            flowables.append(Paragraph(f"<b>{markup}</b>", styles["body"]))
        elif kind == "item":
            flowables.append(Paragraph(markup, styles["bullet"], bulletText=bullet))
        elif kind == "quote":
            flowables.append(Paragraph(markup, styles["quote"]))
        else:
            flowables += _long_paragraph(joiner.join(lines), styles)
    return flowables


CHUNK_WORDS = 120


def _long_paragraph(text: str, styles: dict) -> list:
    """A paragraph; a very long one in chunks, because reportlab re-breaks a paragraph's lines
    every time it splits over a page (a 10,000-word note would take seconds)."""
    words = text.split(" ")
    if len(words) <= CHUNK_WORDS * 2:
        return [Paragraph(_inline(text), styles["body"])]
    chunks = [" ".join(words[i : i + CHUNK_WORDS]) for i in range(0, len(words), CHUNK_WORDS)]
    flowables = [Paragraph(_inline(chunk), styles["body_continued"]) for chunk in chunks[:-1]]
    return [*flowables, Paragraph(_inline(chunks[-1]), styles["body"])]


def _long_date(iso: str | None, language: str) -> str:
    """2026-11-25 → '25 november 2026' (nl) or '25 November 2026' (en); other text stays as it is."""
    try:
        day = date.fromisoformat(str(iso))
    except ValueError:
        return _clean(iso)
    return f"{day.day} {MONTHS.get(language, MONTHS['nl'])[day.month - 1]} {day.year}"


def _counted(count: int, words: dict) -> str:
    amount = format_number(count, words.language, 0)
    return f"{amount} {words['answer'] if count == 1 else words['answers']}"


# --- sections -----------------------------------------------------------------------------------


def _title_block(summary: Summary, words: dict, styles: dict) -> list:
    rows = []
    if organisation := _organisation(summary):
        rows.append((words["organisation"], _esc(organisation)))
    rows += [
        (words["date"], _esc(date_and_time(summary))),
        (words["method"], _esc(summary.method)),
    ]
    if summary.facilitator.strip():
        rows.append((words["facilitator"], _esc(summary.facilitator)))
    rows.append((words["participants"], _esc(format_number(int(summary.participants), summary.language, 0))))
    rows.append((words["time"], _esc(time_spent(summary, summary.language))))
    table = Table(
        [[Paragraph(_esc(key), styles["key"]), Paragraph(value, styles["value"])] for key, value in rows],
        colWidths=[3.6 * cm, FRAME_WIDTH - 3.6 * cm],
        hAlign="LEFT",
        splitInRow=1,
    )
    table.setStyle(
        _table_style(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
    )
    story = [
        Paragraph(_esc(words["summary"]), styles["meta"]),
        Paragraph(_esc(summary.title) or _esc(words["summary"]), styles["title"]),
        table,
        Spacer(1, 6),
    ]
    if summary.status != "closed":
        story.append(Paragraph(_esc(words["not_closed"]), styles["note"]))
    story.append(Paragraph(_esc(words["anonymity"].format(k=summary.k)), styles["note"]))
    return story


def _follow_up(summary: Summary, words: dict, styles: dict) -> list:
    """The Terugblik, right after the title block: what became of the previous session's action points
    (nothing where the session had no Terugblik)."""
    if not summary.follow_up:
        return []
    cell, head, note = styles["cell"], styles["cellhead"], styles["cellnote"]
    keys = ("what", "who", "when", "status", "follow_up_note")
    data = [[Paragraph(_esc(words[key]), head) for key in keys]]
    for point in summary.follow_up:
        data.append(
            [
                Paragraph(_esc(point.what) or "—", cell),
                Paragraph(_esc(point.who) if point.who.strip() else "—", cell),
                Paragraph(_esc(_long_date(point.due, summary.language)) if point.due else "—", cell),
                Paragraph(f"<b>{_esc(follow_up_label(point.status, summary.language))}</b>", cell),
                Paragraph(_esc(point.note), note) if _clean(point.note).strip() else Paragraph("", cell),
            ]
        )
    fixed = [2.7 * cm, 2.5 * cm, 2.4 * cm]
    rest = FRAME_WIDTH - sum(fixed)
    table = _ruled_table(data, [rest * 0.55, *fixed, rest * 0.45])
    return [
        Paragraph(_esc(words["follow_up"]), styles["h2"]),
        Paragraph(_esc(words["follow_up_intro"]), styles["meta"]),
        table,
    ]


def _dilemmas(summary: Summary, words: dict, styles: dict) -> list:
    if not summary.dilemmas:
        return [
            Paragraph(_esc(words["dilemma"]), styles["h2"]),
            Paragraph(_esc(words["no_dilemma"]), styles["body"]),
        ]
    story = []
    for dilemma in summary.dilemmas:
        story += _dilemma(dilemma, words, styles)
    return story


def _dilemma(dilemma: DilemmaSummary, words: dict, styles: dict) -> list:
    title = f"{words['dilemma']}: {dilemma.title}" if dilemma.title.strip() else words["dilemma"]
    story = [Paragraph(_esc(title), styles["h2"])]
    # The presenter is named only where someone brought the case in (not for a case from the bank).
    if consent := consent_remark(dilemma, words.language):
        story.append(Paragraph(_esc(consent), styles["note"]))
    story += _markdown(dilemma.text, styles, soft_breaks=True) or [Paragraph("—", styles["body"])]
    return story


def _steps(summary: Summary, words: dict, styles: dict) -> list:
    story = [CondPageBreak(4 * cm), Paragraph(_esc(words["steps"]), styles["h2"])]
    if not summary.steps:
        return [*story, Paragraph(_esc(words["no_steps"]), styles["body"])]
    several = len({step.dilemma_title for step in summary.steps if step.dilemma_title}) > 1
    for step in summary.steps:
        story += _step(step, summary, words, styles, show_dilemma=several)
    return story


def _step(step: StepSummary, summary: Summary, words: dict, styles: dict, show_dilemma: bool) -> list:
    meta = time_spent(step, words.language, summary)
    if show_dilemma and step.dilemma_title:
        meta += f" · {words['dilemma']}: {_clean(step.dilemma_title)}"
    story = [
        Paragraph(_esc(f"{step.position + 1}. {step.title}"), styles["h3"]),
        Paragraph(_esc(meta), styles["meta"]),
    ]
    if _clean(step.screen_text).strip():  # shown as typed: not Markdown, unlike the notes
        story += [
            Paragraph(_esc(words["on_screen"]), styles["screen_label"]),
            Paragraph(_esc(_clean(step.screen_text).strip()), styles["screen"]),
        ]
    notes = _markdown(step.notes, styles)
    return story + (notes or [Paragraph(_esc(words["no_notes"]), styles["note"])])


def _polls(summary: Summary, words: dict, styles: dict) -> list:
    """Every poll in order; in a session on several dilemmas grouped under the dilemma they are about.

    Each poll is kept on one page with its heading; the section's and the group's headings go in the
    same block as the poll after them, so no heading is left alone at the foot of a page.
    """
    heading = Paragraph(_esc(words["polls"]), styles["h2"])
    if not summary.polls:
        return [CondPageBreak(4 * cm), heading, Paragraph(_esc(words["no_polls"]), styles["body"])]
    grouped = any(poll.dilemma_title for poll in summary.polls)
    story: list = [CondPageBreak(4 * cm)]
    lead: list = [heading]
    group: object = object()  # no group yet
    for poll in summary.polls:
        if grouped and poll.dilemma_title != group:
            group = poll.dilemma_title
            title = f"{words['dilemma']}: {_clean(group)}" if group else words["general_polls"]
            lead.append(Paragraph(_esc(title), styles["group"]))
        story += _poll(poll, summary, words, styles, lead)
        lead = []
    return story


def _poll(poll: PollSummary, summary: Summary, words: dict, styles: dict, lead: list | None = None) -> list:
    """Question, dilemma and step, then the count only (below k) or the results: bars or answers, mean.

    All of it in one KeepTogether, headings in `lead` first: a poll moves to the next page whole. Only
    a poll taller than a page splits, and then it starts at the top of a page, heading and all.
    """
    head = [*(lead or []), Paragraph(_esc(poll.question) or "—", styles["h3"])]
    meta = [f"{words['dilemma']}: {_clean(poll.dilemma_title)}"] if (poll.dilemma_title or "").strip() else []
    if poll.step_title.strip():
        meta.append(f"{words['step']}: {_clean(poll.step_title)}")
    if not poll.shown:
        hidden = f"{_counted(poll.count, words)} — {words['hidden'].format(k=summary.k)}"
        if meta:
            head.append(Paragraph(_esc(" · ".join(meta)), styles["meta"]))
        return [KeepTogether([*head, Paragraph(_esc(hidden), styles["note"])]), Spacer(1, 4)]
    meta.append(_counted(poll.count, words))
    before = poll.before if poll.before is not None and poll.type != "text" else None
    if before is not None:
        earlier = f"{words['compared'].format(question=_clean(before.question))}"
        if before.step_title.strip():
            earlier += f" ({_clean(before.step_title)})"
        earlier += f", {_counted(before.count, words)}"
        if not before.shown:
            earlier += f" — {words['hidden'].format(k=summary.k)}"
        meta.append(earlier)
    head.append(Paragraph(_esc(" · ".join(meta)), styles["meta"]))
    body: list = []
    if poll.type == "text" or (poll.texts and not poll.rows):
        body += [Paragraph(_esc(text), styles["bullet"], bulletText="•") for text in poll.texts]
    else:
        body += _bars(poll, before if before is not None and before.shown else None, words, styles)
    if poll.mean is not None:
        mean = f"<b>{_esc(words['mean'].capitalize())}:</b> {format_number(poll.mean, words.language)}"
        body.append(Paragraph(mean, styles["mean"]))
    if not body:
        body.append(Paragraph(_esc(words["no_answers"]), styles["note"]))
    return [KeepTogether([*head, *body]), Spacer(1, 4)]


def _bars(poll: PollSummary, before: PollSummary | None, words: dict, styles: dict) -> list:
    """One horizontal bar per result row, with a lighter 'before' bar above it where there is one.

    Short labels (scale points, short options) stand left of their bar; longer ones get a line of
    their own above the bar, so they can wrap.
    """
    earlier = {row.key: row for row in before.rows} if before else {}
    rows = list(poll.rows)
    keys = {row.key for row in rows}
    rows += [
        ResultRow(row.key, row.label, 0, 0) for row in (before.rows if before else ()) if row.key not in keys
    ]
    labels = [
        _clean(
            f"{row.key}. {row.label}"
            if poll.type == "choice" and len(row.key or "") == 1 and row.key != row.label
            else row.label
        )
        for row in rows
    ]
    inline = not before and all(
        "\n" not in label and pdfmetrics.stringWidth(label, FONT, 9) <= INLINE_LABEL_WIDTH - 6
        for label in labels
    )
    story = []
    for row, label in zip(rows, labels, strict=True):
        if inline:
            story.append(_bar_drawing([(label, row, BAR)], poll, words, INLINE_LABEL_WIDTH, 9, INK))
            continue
        if before:
            past = earlier.get(row.key, ResultRow(row.key, row.label, 0, 0))
            bars = [(words["before"], past, BAR_BEFORE), (words["after"], row, BAR)]
            drawing = _bar_drawing(bars, poll, words, 1.2 * cm, 7.5, MUTED)
        else:
            drawing = _bar_drawing([("", row, BAR)], poll, words, 0, 0, MUTED)
        # A one-column table keeps each label on the page of its bars (nested KeepTogethers misbehave).
        cells = Table(
            [[Paragraph(_esc(label), styles["label"])], [drawing]], colWidths=[FRAME_WIDTH], hAlign="LEFT"
        )
        cells.setStyle(
            _table_style(
                [
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 0),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ]
            )
        )
        story.append(cells)
    return story


def _bar_drawing(
    bars: list, poll: PollSummary, words: dict, caption_width: float, caption_size: float, caption_color
) -> Drawing:
    """Bars for one result row: [(caption, row, colour)], each on a full-scale (100 %) track."""
    bar_height, gap = 9, 3.5
    numbers_width = 3.4 * cm
    track_width = FRAME_WIDTH - caption_width - numbers_width
    height = len(bars) * (bar_height + gap) + 1
    drawing = Drawing(FRAME_WIDTH, height, initialFontName=FONT, initialFontSize=8.5)
    for index, (caption, row, fill) in enumerate(bars):
        y = height - (index + 1) * (bar_height + gap) + gap / 2
        share = min(max(row.percent, 0), 100) / 100
        if caption:
            drawing.add(
                String(0, y + 1.5, caption, fontName=FONT, fontSize=caption_size, fillColor=caption_color)
            )
        drawing.add(Rect(caption_width, y, track_width, bar_height, fillColor=TRACK, strokeColor=None))
        if share:
            drawing.add(
                Rect(caption_width, y, track_width * share, bar_height, fillColor=fill, strokeColor=None)
            )
        amount = format_number(row.count, words.language, 0)
        if poll.type == "ranking":
            amount += f" {words['point'] if row.count == 1 else words['points']}"
        drawing.add(
            String(caption_width + track_width + 5, y + 1.5, f"{amount} ({row.percent}%)", fontName=FONT,
                   fontSize=8.5, fillColor=INK)
        )  # fmt: skip
    return drawing


def _contributions(summary: Summary, words: dict, styles: dict) -> list:
    story = [CondPageBreak(3 * cm), Paragraph(_esc(words["contributions"]), styles["h2"])]
    if not summary.contributions:
        return [*story, Paragraph(_esc(words["no_contributions"]), styles["body"])]
    return story + [Paragraph(_esc(text), styles["bullet"], bulletText="•") for text in summary.contributions]


def _actions(summary: Summary, words: dict, styles: dict) -> list:
    story = [CondPageBreak(3 * cm), Paragraph(_esc(words["actions"]), styles["h2"])]
    if not summary.actions:
        return [*story, Paragraph(_esc(words["no_actions"]), styles["body"])]
    cell, head = styles["cell"], styles["cellhead"]
    data = [[Paragraph(_esc(words[key]), head) for key in ("what", "who", "when")]]
    for action in summary.actions:
        data.append(
            [
                Paragraph(_esc(action.what) or "—", cell),
                Paragraph(_esc(action.who) if action.who.strip() else "—", cell),
                Paragraph(_esc(_long_date(action.due, summary.language)) if action.due else "—", cell),
            ]
        )
    return [*story, _ruled_table(data, [FRAME_WIDTH - 8 * cm, 4.5 * cm, 3.5 * cm])]


def _ruled_table(data: list, widths: list) -> Table:
    """A list as a table: a header row repeated on every page, a rule under each row, rows that may
    split over a page (a long point)."""
    table = Table(data, colWidths=widths, repeatRows=1, splitInRow=1, hAlign="LEFT")
    table.setStyle(
        _table_style(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
                ("LINEBELOW", (0, 1), (-1, -1), 0.4, RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 6),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


def _evaluation(summary: Summary, words: dict, styles: dict) -> list:
    """The evaluation as one table (item, n, distribution, mean), then the answers to its open questions.

    An item below k shows only its n: no distribution, mean or text of fewer than k answers.
    """
    story = [CondPageBreak(5 * cm), Paragraph(_esc(words["evaluation"]), styles["h2"])]
    if not summary.evaluation:
        empty = words["evaluation_open" if summary.evaluation_open else "no_evaluation"]
        return [*story, Paragraph(_esc(empty), styles["body"])]
    cell, head, note = styles["cell"], styles["cellhead"], styles["cellnote"]
    number, number_head = styles["cellnum"], styles["cellheadnum"]
    data = [
        [
            Paragraph(_esc(words["question"]), head),
            Paragraph(_esc(words["n"]), number_head),
            Paragraph(_esc(words["distribution"]), head),
            Paragraph(_esc(words["average"]), number_head),
        ]
    ]
    texts = []
    for item in summary.evaluation:
        mean = format_number(item.mean, words.language) if item.shown and item.mean is not None else ""
        if not item.shown:  # below k: the n only
            spread = Paragraph(_esc(words["hidden"].format(k=summary.k)), note)
        elif item.type == "text" or (item.texts and not item.rows):
            spread = Paragraph(_esc(words["open_answers" if item.texts else "no_answers"]), note)
            if item.texts:
                texts.append(item)
        elif item.rows:
            spread = _distribution(item, words, styles)
        else:
            spread = Paragraph(_esc(words["no_answers"]), note)
        count = format_number(item.count, words.language, 0)
        data.append(
            [
                Paragraph(_esc(item.question) or "—", cell),
                Paragraph(_esc(count), number),
                spread,
                Paragraph(_esc(mean), number),
            ]
        )
    mean_column = max(1.6 * cm, pdfmetrics.stringWidth(words["average"], BOLD, 9) + CELL_PADDING + 2)
    columns = [FRAME_WIDTH - COUNT_COLUMN - DISTRIBUTION_COLUMN - mean_column, COUNT_COLUMN]
    table = Table(
        data,
        colWidths=[*columns, DISTRIBUTION_COLUMN, mean_column],
        repeatRows=1,
        splitInRow=1,
        hAlign="LEFT",
    )
    table.setStyle(
        _table_style(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("VALIGN", (0, 0), (-1, 0), "BOTTOM"),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("ALIGN", (3, 0), (3, -1), "RIGHT"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
                ("LINEBELOW", (0, 1), (-1, -1), 0.4, RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 6),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    story.append(table)
    for item in texts:
        answers = [Paragraph(_esc(text), styles["bullet"], bulletText="•") for text in item.texts]
        head = [Paragraph(_esc(item.question) or "—", styles["h3"])]
        head.append(Paragraph(_esc(_counted(item.count, words)), styles["meta"]))
        story += [KeepTogether([*head, *answers[:3]]), *answers[3:]]
    return story


def _distribution(item: PollSummary, words: dict, styles: dict):
    """How the answers spread over the scale points (or options): a small histogram with the count
    above each column and the point below it; as text where there are many points or long keys."""
    rows = item.rows
    keys = [_clean(row.key) for row in rows]
    if len(rows) > HISTOGRAM_MAX_POINTS or any(len(key) > 3 for key in keys):
        return Paragraph(_esc(distribution(item, words.language)), styles["cell"])
    width = DISTRIBUTION_COLUMN - CELL_PADDING
    column = min(18.0, width / len(rows))
    bar_width, bar_height, height = column * 0.62, 12.0, 31.0
    peak = max([row.count for row in rows] + [1])
    drawing = Drawing(column * len(rows), height, initialFontName=FONT, initialFontSize=7.5)
    for index, (row, key) in enumerate(zip(rows, keys, strict=True)):
        middle = index * column + column / 2
        drawing.add(Rect(middle - bar_width / 2, 9, bar_width, bar_height, fillColor=TRACK, strokeColor=None))
        if row.count > 0:
            share = bar_height * row.count / peak
            drawing.add(Rect(middle - bar_width / 2, 9, bar_width, share, fillColor=BAR, strokeColor=None))
        amount = format_number(row.count, words.language, 0)
        drawing.add(
            String(middle, 23.5, amount, fontName=FONT, fontSize=7.5, fillColor=INK, textAnchor="middle")
        )
        drawing.add(String(middle, 1, key, fontName=FONT, fontSize=6.5, fillColor=MUTED, textAnchor="middle"))
    return drawing
