"""What every PDF of beraad shares (the summary, the dilemma cards): one embedded font family,
the colours, and text made safe for reportlab's paragraph markup.

The PDF modules (beraad/summary/pdf.py, beraad/bank/cards.py) and this one are the only ones that
import reportlab. All text reaches reportlab's markup through `escape` or `inline`, so no field can
inject markup.
"""

from __future__ import annotations

import html
import re
import threading
from pathlib import Path

import reportlab
from reportlab.lib import colors
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

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

FONT_LOCK = threading.Lock()
_fonts_registered = False

# Characters that reportlab's parser or the PDF cannot carry: C0/C1 controls (not tab or newline),
# lone surrogates and non-characters.
UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
BOLD_MARKUP = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__")
ITALIC_MARKUP = re.compile(
    r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])|(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)"
)


def register_fonts() -> None:
    """Register DejaVu Sans (or reportlab's bundled Vera) as one family, once per process."""
    global _fonts_registered
    if _fonts_registered:
        return
    with FONT_LOCK:
        if _fonts_registered:
            return
        bundled = Path(reportlab.__file__).parent / "fonts"
        use_dejavu = all((DEJAVU_DIR / dejavu).is_file() for dejavu, _vera in FONT_FILES.values())
        for name, (dejavu, vera) in FONT_FILES.items():
            path = DEJAVU_DIR / dejavu if use_dejavu else bundled / vera
            pdfmetrics.registerFont(TTFont(name, str(path)))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=ITALIC, boldItalic=BOLD_ITALIC)
        _fonts_registered = True


def clean(text: object) -> str:
    """Text as the PDF can carry it: no control characters, surrogates, tabs or carriage returns."""
    value = "" if text is None else str(text)
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    return UNPRINTABLE.sub("", value)


def escape(text: object) -> str:
    """Plain text, escaped for reportlab's paragraph markup; newlines become line breaks."""
    return html.escape(clean(text), quote=False).replace("\n", "<br/>")


def inline(text: str) -> str:
    """Escape one block of Markdown and turn **bold** and *italic* into properly nested markup."""
    out = []
    position = 0
    for match in BOLD_MARKUP.finditer(text):
        out.append(italics(text[position : match.start()], bold=False))
        out.append(italics(match.group(1) or match.group(2), bold=True))
        position = match.end()
    out.append(italics(text[position:], bold=False))
    return "".join(out).replace("\n", "<br/>")


def italics(text: str, bold: bool) -> str:
    def wrap(part: str, italic: bool) -> str:
        escaped = html.escape(part, quote=False)
        if not escaped:
            return ""
        if italic:
            escaped = f"<i>{escaped}</i>"
        return f"<b>{escaped}</b>" if bold else escaped

    out = []
    position = 0
    for match in ITALIC_MARKUP.finditer(text):
        out.append(wrap(text[position : match.start()], False))
        out.append(wrap(match.group(1) or match.group(2), True))
        position = match.end()
    out.append(wrap(text[position:], False))
    return "".join(out)
