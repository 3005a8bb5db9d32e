"""The session summary as a printable A4 PDF (reportlab platypus).

This is the only module that imports reportlab. It runs without a Flask request: every label comes
from the small dictionaries below, in the summary's own language. All text from the summary is
escaped before it reaches reportlab's paragraph markup, so no field can inject markup.
"""

from __future__ import annotations

import html
import io
import re
import threading
from datetime import date
from functools import partial
from pathlib import Path

import reportlab
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
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

from .labels import LABELS, MONTHS
from .model import DilemmaSummary, PollSummary, ResultRow, StepSummary, Summary

DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {  # our name: (DejaVu file, bundled Vera fallback)
    "BeraadSans": ("DejaVuSans.ttf", "Vera.ttf"),
    "BeraadSans-Bold": ("DejaVuSans-Bold.ttf", "VeraBd.ttf"),
    "BeraadSans-Oblique": ("DejaVuSans-Oblique.ttf", "VeraIt.ttf"),
    "BeraadSans-BoldOblique": ("DejaVuSans-BoldOblique.ttf", "VeraBI.ttf"),
}
FONT, BOLD, ITALIC, BOLD_ITALIC = FONT_FILES

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#5f6b7a")
RULE = colors.HexColor("#c9d1db")
BAR = colors.HexColor("#2b5c8a")
BAR_BEFORE = colors.HexColor("#a9c1d9")
TRACK = colors.HexColor("#eef1f4")

MARGIN = 2 * cm
FRAME_PADDING = 6  # platypus frames keep 6 pt inside their edges
FRAME_WIDTH = A4[0] - 2 * MARGIN - 2 * FRAME_PADDING  # the width content can use
HEADER_MAX_CHARS = 80
INLINE_LABEL_WIDTH = 4 * cm  # result labels up to this wide stand left of their bar

_font_lock = threading.Lock()
_fonts_registered = False

# Characters that reportlab's parser or the PDF cannot carry: C0/C1 controls (not tab or newline),
# lone surrogates and non-characters.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__")
_ITALIC = re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])|(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)")
_BULLET = re.compile(r"^\s{0,3}([-*+•])\s+(.*)$")
_NUMBERED = re.compile(r"^\s{0,3}(\d{1,3})[.)]\s+(.*)$")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_QUOTE = re.compile(r"^\s{0,3}>\s?(.*)$")


def render_pdf(summary: Summary) -> bytes:
    """Render the summary as an A4 PDF and return its bytes (the same summary gives the same bytes)."""
    _register_fonts()
    words = LABELS.get(summary.language, LABELS["nl"])
    styles = _styles()
    story = [
        *_title_block(summary, words, styles),
        *_dilemmas(summary, words, styles),
        *_steps(summary, words, styles),
        *_polls(summary, words, styles),
        *_contributions(summary, words, styles),
        *_actions(summary, words, styles),
        *_evaluation(summary, words, styles),
    ]
    buffer = io.BytesIO()
    title = _clean(summary.title).strip() or words["summary"]
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        author="",
        subject=words["summary"],
        creator="beraad",
        producer="beraad (ReportLab)",
        keywords=[],
        lang=summary.language if summary.language in LABELS else "nl",
        invariant=1,
        initialFontName=FONT,
    )
    header = _shorten(" ".join(title.split()), HEADER_MAX_CHARS)
    doc.build(story, canvasmaker=partial(_NumberedCanvas, header=header, page_label=words["page"]))
    return buffer.getvalue()


# --- fonts, styles, page furniture -------------------------------------------------------------


def _register_fonts() -> None:
    """Register DejaVu Sans (or reportlab's bundled Vera) as one family, once per process."""
    global _fonts_registered
    if _fonts_registered:
        return
    with _font_lock:
        if _fonts_registered:
            return
        bundled = Path(reportlab.__file__).parent / "fonts"
        use_dejavu = all((DEJAVU_DIR / dejavu).is_file() for dejavu, _vera in FONT_FILES.values())
        for name, (dejavu, vera) in FONT_FILES.items():
            path = DEJAVU_DIR / dejavu if use_dejavu else bundled / vera
            pdfmetrics.registerFont(TTFont(name, str(path)))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=ITALIC, boldItalic=BOLD_ITALIC)
        _fonts_registered = True


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
    }


class _NumberedCanvas(canvas.Canvas):
    """Holds every page back until the end, so each can say 'page n of total' (two-pass pattern)."""

    def __init__(self, *args, header: str, page_label: str, **kwargs):
        super().__init__(*args, **kwargs)
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


def _clean(text: object) -> str:
    """Text as the PDF can carry it: no control characters, surrogates, tabs or carriage returns."""
    value = "" if text is None else str(text)
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    return _UNPRINTABLE.sub("", value)


def _esc(text: object) -> str:
    """Plain text, escaped for reportlab's paragraph markup; newlines become line breaks."""
    return html.escape(_clean(text), quote=False).replace("\n", "<br/>")


def _table_style(commands: list) -> TableStyle:
    """A table style that never falls back to reportlab's default (unembedded) Helvetica."""
    return TableStyle([("FONT", (0, 0), (-1, -1), FONT, 9), *commands])


def _shorten(text: str, length: int) -> str:
    return text if len(text) <= length else text[: max(length - 1, 0)].rstrip() + "…"


def _inline(text: str) -> str:
    """Escape one block of Markdown and turn **bold** and *italic* into properly nested markup."""
    out = []
    position = 0
    for match in _BOLD.finditer(text):
        out.append(_italics(text[position : match.start()], bold=False))
        out.append(_italics(match.group(1) or match.group(2), bold=True))
        position = match.end()
    out.append(_italics(text[position:], bold=False))
    return "".join(out).replace("\n", "<br/>")


def _italics(text: str, bold: bool) -> str:
    def wrap(part: str, italic: bool) -> str:
        escaped = html.escape(part, quote=False)
        if not escaped:
            return ""
        if italic:
            escaped = f"<i>{escaped}</i>"
        return f"<b>{escaped}</b>" if bold else escaped

    out = []
    position = 0
    for match in _ITALIC.finditer(text):
        out.append(wrap(text[position : match.start()], False))
        out.append(wrap(match.group(1) or match.group(2), True))
        position = match.end()
    out.append(wrap(text[position:], False))
    return "".join(out)


def _markdown(text: str, styles: dict) -> list:
    """Simple Markdown: paragraphs, headings, **bold**, *italic*, bullet and numbered lists, quotes."""
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
        markup = _inline("\n".join(lines))
        if kind == "heading":
            flowables.append(Paragraph(f"<b>{markup}</b>", styles["body"]))
        elif kind == "item":
            flowables.append(Paragraph(markup, styles["bullet"], bulletText=bullet))
        elif kind == "quote":
            flowables.append(Paragraph(markup, styles["quote"]))
        else:
            flowables += _long_paragraph("\n".join(lines), styles)
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


def _number(value: float, language: str) -> str:
    text = f"{value:.1f}"
    return text if language == "en" else text.replace(".", ",")


def _counted(count: int, words: dict) -> str:
    return f"{count} {words['answer'] if count == 1 else words['answers']}"


# --- sections -----------------------------------------------------------------------------------


def _title_block(summary: Summary, words: dict, styles: dict) -> list:
    rows = [
        (words["date"], _esc(_long_date(summary.date, summary.language))),
        (words["method"], _esc(summary.method)),
    ]
    if summary.facilitator.strip():
        rows.append((words["facilitator"], _esc(summary.facilitator)))
    rows.append((words["participants"], str(int(summary.participants))))
    planned = words["planned_actual"].format(planned=summary.planned_minutes, actual=summary.actual_minutes)
    rows.append((words["time"], _esc(planned)))
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
    consent = words.get(f"consent_{dilemma.consent}") if dilemma.consent != "full" else None
    if consent:
        story.append(Paragraph(_esc(consent), styles["note"]))
    story += _markdown(dilemma.text, styles) or [Paragraph("—", styles["body"])]
    return story


def _steps(summary: Summary, words: dict, styles: dict) -> list:
    story = [CondPageBreak(4 * cm), Paragraph(_esc(words["steps"]), styles["h2"])]
    if not summary.steps:
        return [*story, Paragraph(_esc(words["no_steps"]), styles["body"])]
    several = len({step.dilemma_title for step in summary.steps if step.dilemma_title}) > 1
    for step in summary.steps:
        story += _step(step, words, styles, show_dilemma=several)
    return story


def _step(step: StepSummary, words: dict, styles: dict, show_dilemma: bool) -> list:
    meta = words["planned_actual"].format(planned=step.planned_minutes, actual=step.actual_minutes)
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
    story = [CondPageBreak(4 * cm), Paragraph(_esc(words["polls"]), styles["h2"])]
    if not summary.polls:
        return [*story, Paragraph(_esc(words["no_polls"]), styles["body"])]
    for poll in summary.polls:
        story += _poll(poll, summary, words, styles)
    return story


def _poll(poll: PollSummary, summary: Summary, words: dict, styles: dict) -> list:
    """Question, step, then the count only (below k) or the results: bars, answers or mean."""
    head = [Paragraph(_esc(poll.question) or "—", styles["h3"])]
    meta = [f"{words['step']}: {_clean(poll.step_title)}"] if poll.step_title.strip() else []
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
        mean = f"<b>{_esc(words['mean'].capitalize())}:</b> {_number(poll.mean, summary.language)}"
        body.append(Paragraph(mean, styles["mean"]))
    if not body:
        body.append(Paragraph(_esc(words["no_answers"]), styles["note"]))
    # Keep the question with its first result rows; long lists flow on.
    return [KeepTogether([*head, *body[:3]]), *body[3:], Spacer(1, 4)]


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
        if poll.type == "ranking":
            amount = f"{row.count} {words['point'] if row.count == 1 else words['points']}"
        else:
            amount = str(row.count)
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
    table = Table(
        data,
        colWidths=[FRAME_WIDTH - 8 * cm, 4.5 * cm, 3.5 * cm],
        repeatRows=1,
        splitInRow=1,
        hAlign="LEFT",
    )
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
    return [*story, table]


def _evaluation(summary: Summary, words: dict, styles: dict) -> list:
    story = [CondPageBreak(4 * cm), Paragraph(_esc(words["evaluation"]), styles["h2"])]
    if not summary.evaluation:
        empty = words["evaluation_open" if summary.evaluation_open else "no_evaluation"]
        return [*story, Paragraph(_esc(empty), styles["body"])]
    for item in summary.evaluation:
        story += _poll(item, summary, words, styles)
    return story
