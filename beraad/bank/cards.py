"""Printable dilemma cards: four A6 cards on each A4 page, for moreel beraad without a projector or
for the dilemma game on a table.

Plain Python without a Flask request: the caller passes each dilemma's texts and the address its QR
code opens. The few labels on a card follow that dilemma's own language (the dictionary below).
Fonts, escaping and Markdown emphasis come from the summary PDF, so no text can inject reportlab
markup and both PDFs embed the same font family (cards in its condensed cut). Every card is measured
before it is drawn: what does not fit is set smaller (the text never below 9 pt), then shortened with
"…", so nothing runs off a card.
"""

from __future__ import annotations

import io
import math
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm, mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Flowable, Paragraph
from reportlab.platypus.flowables import HRFlowable

from .. import pdftext
from ..labels import option_mark
from ..pdftext import BAR, BOLD, FONT, INK, MUTED, RULE, register_fonts
from ..pdftext import BOLD_MARKUP as _BOLD
from ..pdftext import ITALIC_MARKUP as _ITALIC
from ..pdftext import clean as _clean
from ..pdftext import escape as _esc
from ..pdftext import inline as _inline
from ..qr import qr_modules

LABELS = {
    "nl": {
        "document": "Dilemmakaarten",
        "subject": "Dilemma's uit de dilemmabank, om te printen en te knippen",
        "qr": "Voor de gespreksleider",
    },
    "en": {
        "document": "Dilemma cards",
        "subject": "Dilemmas from the dilemma bank, to print and cut",
        "qr": "For the facilitator",
    },
}

PAGE_WIDTH, PAGE_HEIGHT = A4
CARDS_PER_PAGE = 4
CARD_WIDTH, CARD_HEIGHT = PAGE_WIDTH / 2, PAGE_HEIGHT / 2  # A6: cut the A4 page in four
PADDING = 7 * mm  # clear of the edge a printer cannot print on (most leave 3 to 5 mm)
CONTENT_WIDTH, CONTENT_HEIGHT = CARD_WIDTH - 2 * PADDING, CARD_HEIGHT - 2 * PADDING
QR_SIZE = 2 * cm
CAPTION_SIZE, CAPTION_LEADING = 7, 8.4
CAPTION_GAP = 5  # between the code and its caption: part of the code's quiet zone
QR_BLOCK_HEIGHT = QR_SIZE + CAPTION_GAP + 2 * CAPTION_LEADING
QR_GAP = 8  # the text keeps this far from the code: about four modules of quiet zone
CUT_COLOUR = colors.HexColor("#b8c0cc")

# DejaVu Sans Condensed, of the family the summary PDF registers: a card holds a tenth more text at
# the same type size. Without it (reportlab's Vera has no condensed cut) cards use that family as it is.
CONDENSED_FILES = {
    "BeraadSansCondensed": "DejaVuSansCondensed.ttf",
    "BeraadSansCondensed-Bold": "DejaVuSansCondensed-Bold.ttf",
    "BeraadSansCondensed-Oblique": "DejaVuSansCondensed-Oblique.ttf",
    "BeraadSansCondensed-BoldOblique": "DejaVuSansCondensed-BoldOblique.ttf",
}
_font_lock = threading.Lock()
_card_fonts: tuple[str, str] | None = None

# Type sizes in points, tried from large to small: (title, case, options). Never below 9 pt.
SIZES = ((13, 10, 10), (12.5, 9.5, 9.5), (12, 9, 9), (11.5, 9, 9))
MIN_WORDS = 30  # the case keeps this many words before an option is shortened
MIN_OPTION_CHARS = 60
MIN_TITLE_CHARS = 40
FIT = 1e-6

_SENTENCE_END = re.compile(r"[.!?…][\"'”’)]*$")
_LIST_ITEM = re.compile(r"^\s{0,3}(?:[-*+•]|\d{1,3}[.)])\s+")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_QUOTE = re.compile(r"^\s{0,3}>\s?")


@dataclass(frozen=True)
class CardContent:
    """What one card shows. `options` as the bank stores them: mappings with `key` and `text`."""

    title: str
    url: str  # the dilemma's page in the bank: what the QR code opens
    short: str = ""  # the short version (Markdown); the body is used, shortened, when it is empty
    body: str = ""
    options: Sequence[Mapping[str, str]] = field(default_factory=tuple)
    language: str = "nl"


def render_cards(cards: Sequence[CardContent]) -> bytes:
    """Render the cards, four to an A4 page, and return the PDF (the same cards give the same bytes)."""
    if not cards:
        raise ValueError("no cards to render")
    regular, _bold = _fonts()
    language = "en" if all(card.language == "en" for card in cards) else "nl"
    words = LABELS[language]
    buffer = io.BytesIO()
    pdf = canvas.Canvas(
        buffer, pagesize=A4, invariant=1, initialFontName=regular, initialFontSize=10, lang=language
    )
    pdf.setTitle(words["document"])
    pdf.setAuthor("beraad")
    pdf.setSubject(words["subject"])
    pdf.setCreator("beraad")
    pdf.setProducer("beraad (ReportLab)")
    for index, card in enumerate(cards):
        place = index % CARDS_PER_PAGE
        if place == 0:
            if index:
                pdf.showPage()
            _draw_cut_lines(pdf)
        left = (place % 2) * CARD_WIDTH
        bottom = PAGE_HEIGHT - (place // 2 + 1) * CARD_HEIGHT
        _draw_card(pdf, card, left, bottom)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def card_boxes(left: float = 0, bottom: float = 0) -> tuple[tuple[float, float, float, float], ...]:
    """Where a card's text may go, as (x, y, width, height): the full width above the QR code, then
    the narrower strip beside it. The code and its caption sit in the bottom right corner."""
    x, y = left + PADDING, bottom + PADDING
    beside = QR_BLOCK_HEIGHT + QR_GAP
    return (
        (x, y + beside, CONTENT_WIDTH, CONTENT_HEIGHT - beside),
        (x, y, CONTENT_WIDTH - QR_SIZE - QR_GAP, beside),
    )


# --- one card ------------------------------------------------------------------------------------


def _draw_card(pdf: canvas.Canvas, card: CardContent, left: float, bottom: float) -> None:
    words = LABELS.get(card.language, LABELS["nl"])
    case, plan = _fitted_plan(card)
    if not _flow(_story(card, case, plan), card_boxes(left, bottom), pdf):
        raise RuntimeError("a card measured to fit did not")  # the same boxes, so never
    qr_left = left + PADDING + CONTENT_WIDTH - QR_SIZE
    qr_bottom = bottom + PADDING + QR_BLOCK_HEIGHT - QR_SIZE
    _draw_qr(pdf, card.url, qr_left, qr_bottom, QR_SIZE)
    caption = Paragraph(_esc(words["qr"]), _caption_style())
    _width, height = caption.wrap(QR_SIZE, QR_BLOCK_HEIGHT)
    caption.drawOn(pdf, qr_left, qr_bottom - CAPTION_GAP - height)


@dataclass(frozen=True)
class _Case:
    """The case text as Markdown paragraphs, with its closing question (a last line all in bold) apart:
    when the case must be shortened, the question stays."""

    paragraphs: tuple[str, ...]
    question: str
    words: int

    @classmethod
    def of(cls, card: CardContent) -> _Case:
        lines = _clean(card.short if card.short.strip() else card.body).rstrip().split("\n")
        last = lines[-1].strip()
        match = _BOLD.fullmatch(last)
        question = ""
        if match and "**" not in (match.group(1) or "") and "__" not in (match.group(2) or ""):
            question, lines = last, lines[:-1]  # a line of its own, in bold: the case's question
        paragraphs = _paragraphs("\n".join(lines))
        words = sum(len(_plain(paragraph).split()) for paragraph in paragraphs)
        return cls(tuple(paragraphs), question, words)


@dataclass(frozen=True)
class _Plan:
    """How much of a card to show, and how large."""

    sizes: tuple[float, float, float]
    words: int  # of the case, before its question
    question: bool = True
    option_chars: int | None = None  # None: options whole
    title_chars: int | None = None  # None: the title whole


def _fitted_plan(card: CardContent) -> tuple[_Case, _Plan]:
    """The largest type at which the whole card fits, or else the least shortening that fits."""
    case = _Case.of(card)

    def fits(plan: _Plan) -> bool:
        return _flow(_story(card, case, plan), card_boxes())

    for sizes in SIZES:
        plan = _Plan(sizes, case.words)
        if fits(plan):
            return case, plan
    # Shorten the case first, but keep some of it; then the options; then the rest of the case.
    base = _Plan(SIZES[-1], min(MIN_WORDS, case.words))
    longest = max((len(_clean(option.get("text", ""))) for option in card.options), default=0)
    attempts: list[tuple[Callable[[int], _Plan], int, int]] = [
        (lambda n: replace(base, words=n), base.words, case.words),
        (lambda n: replace(base, option_chars=n), MIN_OPTION_CHARS, longest),
        (lambda n: replace(base, option_chars=MIN_OPTION_CHARS, words=n), 0, base.words),
        (lambda n: replace(base, option_chars=MIN_OPTION_CHARS, words=0, question=False, title_chars=n),
         MIN_TITLE_CHARS, len(card.title)),
    ]  # fmt: skip
    for make, low, high in attempts:
        best = _largest(lambda n, make=make: fits(make(n)), low, high)
        if best is not None:
            found = make(best)
            if found.option_chars is not None:  # the options get back what the rest leaves free
                least = found.option_chars
                grown = _largest(lambda n, f=found: fits(replace(f, option_chars=n)), least, longest)
                found = replace(found, option_chars=grown)
            return case, found
    raise ValueError(f"a card does not fit even shortened: {card.title[:40]!r}")


def _largest(fits: Callable[[int], bool], low: int, high: int) -> int | None:
    """The largest n in [low, high] that fits (text grows with n), or None when even low does not."""
    if high < low or not fits(low):
        return None
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _story(card: CardContent, case: _Case, plan: _Plan) -> list[Flowable]:
    title_size, text_size, option_size = plan.sizes
    styles = _styles(title_size, text_size, option_size)
    title = _clean(card.title).strip()
    if plan.title_chars is not None:
        title = _shorten(title, plan.title_chars)
    story: list[Flowable] = [Paragraph(_esc(title), styles["title"])]
    story += [Paragraph(markup, styles["text"]) for markup in _case_markup(case, plan.words, plan.question)]
    options = [option for option in card.options if _clean(option.get("text", "")).strip()]
    if options:
        story.append(HRFlowable(width="100%", thickness=0.6, color=RULE, spaceBefore=2, spaceAfter=1))
    for number, option in enumerate(options, start=1):
        text = " ".join(_clean(option.get("text", "")).split())
        if plan.option_chars is not None:
            text = _shorten(text, plan.option_chars)
        mark = option_mark(str(option.get("key", "")), number)
        story.append(_Option(mark, Paragraph(_esc(text), styles["option"])))
    return story


def _styles(title_size: float, text_size: float, option_size: float) -> dict[str, ParagraphStyle]:
    regular, bold = _fonts()
    text = ParagraphStyle(
        "card_text", fontName=regular, fontSize=text_size, leading=round(text_size * 1.27, 2), textColor=INK,
        spaceAfter=round(text_size * 0.45, 2), splitLongWords=1, allowWidows=1, allowOrphans=1,
    )  # fmt: skip
    title = ParagraphStyle(
        "card_title", text, fontName=bold, fontSize=title_size, leading=round(title_size * 1.22, 2),
        spaceAfter=round(title_size * 0.5, 2), allowOrphans=0,
    )  # fmt: skip
    option = ParagraphStyle(
        "card_option", text, fontSize=option_size, leading=round(option_size * 1.25, 2),
        spaceBefore=round(option_size * 0.45, 2), spaceAfter=0,
    )  # fmt: skip
    return {"title": title, "text": text, "option": option}


def _caption_style() -> ParagraphStyle:
    return ParagraphStyle(
        "card_qr", fontName=_fonts()[0], fontSize=CAPTION_SIZE, leading=CAPTION_LEADING, textColor=MUTED,
        alignment=TA_CENTER,
    )  # fmt: skip


class _Option(Flowable):
    """One option: its letter in a round badge and its text beside it. Splits like a paragraph, so a
    long option can continue in the strip beside the QR code."""

    def __init__(self, mark: str, paragraph: Paragraph, first: bool = True):
        super().__init__()
        self.mark = mark
        self.paragraph = paragraph
        self.first = first
        size = paragraph.style.fontSize
        self.badge = round(size * 1.35, 2)
        self.indent = self.badge + size * 0.55
        self.spaceBefore = paragraph.style.spaceBefore if first else 0
        self.spaceAfter = 0

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        _width, height = self.paragraph.wrap(available_width - self.indent, available_height)
        self.width = available_width
        self.height = max(height, self.badge) if self.first else height
        return self.width, self.height

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        if self.first and available_height < self.badge:
            return []
        parts = self.paragraph.split(available_width - self.indent, available_height)
        if len(parts) < 2:
            return []
        return [_Option(self.mark, parts[0], self.first), _Option(self.mark, parts[1], first=False)]

    def draw(self) -> None:
        pdf = self.canv
        if self.first:  # the badge first: copied or read aloud, the letter comes before its text
            radius = self.badge / 2
            centre = self.height - radius  # level with the first line of text
            letter = self.paragraph.style.fontSize * 0.85
            pdf.saveState()
            pdf.setFillColor(BAR)
            pdf.circle(radius, centre, radius, stroke=0, fill=1)
            pdf.setFillColor(colors.white)
            pdf.setFont(_fonts()[1], letter if len(self.mark) == 1 else letter * 0.8)
            pdf.drawCentredString(radius, centre - letter * 0.36, self.mark)
            pdf.restoreState()
        self.paragraph.drawOn(pdf, self.indent, self.height - self.paragraph.height)


def _flow(story: list[Flowable], boxes, pdf: canvas.Canvas | None = None) -> bool:
    """Place the flowables in the boxes, top to bottom, splitting one over two boxes where it can;
    draw them when a canvas is given. Return whether everything was placed.

    A box right under the previous one continues where that one's text ended, so a paragraph split
    over the two runs on without a gap, only narrower beside the QR code."""
    queue = list(story)
    previous_bottom, left_over, split = None, 0.0, False
    for x, y, width, height in boxes:
        continues = previous_bottom is not None and abs(previous_bottom - (y + height)) < 0.01
        if continues:
            height += left_over
        used = 0.0
        while queue:
            item = queue[0]
            space = item.getSpaceBefore() if used or (continues and not split) else 0.0
            available = height - used - space
            if available <= 0:
                break
            _width, needed = item.wrap(width, available)
            if needed <= available + FIT:
                placed, split = queue.pop(0), False
            else:
                parts = item.split(width, available)
                if len(parts) < 2:
                    break
                placed, split = parts[0], True
                _width, needed = placed.wrap(width, available)
                if needed > available + FIT:
                    break
                queue[0:1] = parts[1:]
            if pdf is not None:
                placed.drawOn(pdf, x, y + height - used - space - needed)
            used += space + needed
            if split:
                break  # this box is full
            used += placed.getSpaceAfter()
        previous_bottom, left_over = y, max(height - used, 0.0)
    return not queue


def _fonts() -> tuple[str, str]:
    """The cards' regular and bold font, registered once per process."""
    global _card_fonts
    if _card_fonts is not None:
        return _card_fonts
    with _font_lock:
        if _card_fonts is None:
            register_fonts()
            folder = pdftext.DEJAVU_DIR
            if all((folder / file).is_file() for file in CONDENSED_FILES.values()):
                for name, file in CONDENSED_FILES.items():
                    pdfmetrics.registerFont(TTFont(name, str(folder / file)))
                regular, bold, italic, bold_italic = CONDENSED_FILES
                pdfmetrics.registerFontFamily(
                    regular, normal=regular, bold=bold, italic=italic, boldItalic=bold_italic
                )
                _card_fonts = regular, bold
            else:
                _card_fonts = FONT, BOLD
    return _card_fonts


# --- text --------------------------------------------------------------------------------------


def _paragraphs(markdown: str) -> list[str]:
    """Markdown as plain paragraphs that keep their **emphasis**: headings and quotes lose their
    marks, each list item becomes a paragraph of its own with a bullet."""
    blocks: list[str] = []
    current: list[str] = []
    for line in _clean(markdown).split("\n"):
        if not line.strip():
            if current:
                blocks.append(" ".join(current))
                current = []
            continue
        if match := _HEADING.match(line):
            line = match.group(1)
        elif _LIST_ITEM.match(line):
            if current:
                blocks.append(" ".join(current))
                current = []
            line = "• " + _LIST_ITEM.sub("", line, count=1)
        else:
            line = _QUOTE.sub("", line, count=1)
        current.append(" ".join(line.split()))
    if current:
        blocks.append(" ".join(current))
    return [block for block in blocks if block.strip()]


def _plain(markdown: str) -> str:
    """Text without its emphasis marks: a shortened text cannot keep half a **bold** span."""
    text = _BOLD.sub(lambda match: match.group(1) or match.group(2), markdown)
    return _ITALIC.sub(lambda match: match.group(1) or match.group(2), text)


def _case_markup(case: _Case, words: int, question: bool) -> list[str]:
    """Paragraph markup for the case with at most `words` words, and its question when asked."""
    if words >= case.words:
        markup = [_inline(paragraph) for paragraph in case.paragraphs]
    else:
        markup = [_esc(paragraph) for paragraph in _cut(case.paragraphs, words)]
    if question and case.question:
        markup.append(_inline(case.question))
    return markup


def _cut(paragraphs: Sequence[str], words: int) -> list[str]:
    """The first `words` words of the paragraphs, as plain text ending in "…": at the end of a sentence
    when that keeps most of them, else after the last word."""
    flat = [(index, word) for index, paragraph in enumerate(paragraphs) for word in _plain(paragraph).split()]
    if words <= 0 or not flat:
        return []
    kept = flat[:words]
    at_sentence = next(
        (end for end in range(len(kept), max(math.ceil(len(kept) * 0.6), 1) - 1, -1)
         if _SENTENCE_END.search(kept[end - 1][1])),
        None,
    )  # fmt: skip
    if at_sentence is not None:
        kept, ending = kept[:at_sentence], "\u00a0…"  # a no-break space: never "…" alone on a line
    else:
        index, word = kept[-1]
        kept[-1] = (index, word.rstrip(",;:–—-"))
        ending = "…"
    result: list[str] = []
    last_index = None
    for index, word in kept:
        if index != last_index:
            result.append(word)
            last_index = index
        else:
            result[-1] += " " + word
    result[-1] += ending
    return result


def _shorten(text: str, length: int) -> str:
    """Text of at most `length` characters, cut at a word with "…"."""
    if len(text) <= length:
        return text
    cut = text[: max(length - 1, 1)]
    if " " in cut.strip():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:–—-") + "…"


# --- drawing -----------------------------------------------------------------------------------


def _draw_cut_lines(pdf: canvas.Canvas) -> None:
    """Light dashed lines where the page is cut into four cards."""
    pdf.saveState()
    pdf.setStrokeColor(CUT_COLOUR)
    pdf.setLineWidth(0.5)
    pdf.setDash(3, 3)
    pdf.line(PAGE_WIDTH / 2, 0, PAGE_WIDTH / 2, PAGE_HEIGHT)
    pdf.line(0, PAGE_HEIGHT / 2, PAGE_WIDTH, PAGE_HEIGHT / 2)
    pdf.restoreState()


def _draw_qr(pdf: canvas.Canvas, data: str, left: float, bottom: float, size: float) -> None:
    """The QR code as one vector path, black on the white card: sharp at any printer's resolution."""
    modules = qr_modules(data)
    unit = size / len(modules)
    path = pdf.beginPath()
    for row_number, row in enumerate(modules):
        top = bottom + size - row_number * unit
        column = 0
        while column < len(row):
            if not row[column]:
                column += 1
                continue
            start = column
            while column < len(row) and row[column]:
                column += 1
            path.rect(left + start * unit, top - unit, (column - start) * unit, unit)
    pdf.saveState()
    pdf.setFillColor(colors.black)
    pdf.drawPath(path, stroke=0, fill=1)
    pdf.restoreState()
