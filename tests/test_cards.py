"""Printable dilemma cards: four A6 cards to an A4 page, the QR code on each, what stays inside a
card, and the /bank/cards.pdf route with its access rules and bad input.

Pages are rasterised with Debian's pdftoppm (poppler-utils) and QR codes read back with zbarimg
(zbar-tools). Without them those checks skip, unless BERAAD_REQUIRE_CHROMIUM=1 (CI) makes that a
failure. A sample is left in test-output/cards/ for a human to look at.
"""

from __future__ import annotations

import functools
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from beraad.bank import service
from beraad.bank.cards import (
    CAPTION_GAP,
    CARD_HEIGHT,
    CARD_WIDTH,
    PADDING,
    QR_BLOCK_HEIGHT,
    QR_GAP,
    QR_SIZE,
    CardContent,
    card_boxes,
    render_cards,
)
from beraad.bank.loader import load_bank, read_dilemma_file
from beraad.extensions import db

from .conftest import DATA_DIR, assert_fonts_embedded

ROOT = Path(__file__).resolve().parent.parent
BANK = ROOT / "dilemma_bank"
OUTPUT = ROOT / "test-output" / "cards"
REQUIRE_TOOLS = os.environ.get("BERAAD_REQUIRE_CHROMIUM") == "1"
A4_POINTS = (595.2756, 841.8898)
BASE = "https://beraad.example.nl/bank/"

# The longest title the bank stores (200 characters) and options of 300 characters each.
TITLE_WORDS = (
    "Mag een teamleider die bevriend is met de wethouder een advies over diens vergunning schrijven? "
)
OPTION_WORDS = (
    "Je schrijft het advies zelf, maar een collega van een andere afdeling leest elke conclusie na "
    "en je legt in het dossier vast wie er meelas en wat je met de opmerkingen deed. "
)
LONG_TITLE = (TITLE_WORDS * 3)[:200]
LONG_OPTION = (OPTION_WORDS * 3)[:300]


def bank_card(slug: str, **changes) -> CardContent:
    """A card for a dilemma from the project's bank (realistic Dutch cases)."""
    data = read_dilemma_file(BANK / f"{slug}.md")
    values = {
        "title": data.title,
        "url": BASE + data.id,
        "short": data.short,
        "body": data.body,
        "options": [{"key": option.key, "text": option.text} for option in data.options],
        "language": data.language,
    }
    return CardContent(**{**values, **changes})


def sample_slugs(count: int) -> list[str]:
    """The first published dilemmas of the bank that have options and a short version."""
    slugs = published_bank_slugs()
    assert len(slugs) >= count
    return list(slugs[:count])


@functools.cache
def published_bank_slugs() -> tuple[str, ...]:
    items = [d for d in load_bank(BANK) if d.status == "published" and d.options and d.short]
    return tuple(sorted(d.id for d in items))


def extreme_card(**changes) -> CardContent:
    values = {
        "title": LONG_TITLE,
        "url": BASE + "extreem",
        "short": "Een lange casus die niet op een kaart past. " * 40 + "\n\n**Wat doe je?**",
        "options": [{"key": key, "text": LONG_OPTION} for key in "ABCD"],
    }
    return CardContent(**{**values, **changes})


def reader(pdf: bytes) -> PdfReader:
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    return PdfReader(io.BytesIO(pdf), strict=True)


def flat(text: str) -> str:
    return " ".join(text.split())


def page_texts(pdf: bytes) -> list[str]:
    return [flat(page.extract_text()) for page in reader(pdf).pages]


# --- external tools -------------------------------------------------------------------------------


def tool(name: str, package: str) -> str:
    binary = shutil.which(name)
    if binary is None:
        message = f"{name} (Debian package {package}) is not installed"
        if REQUIRE_TOOLS:
            pytest.fail(f"{message}, and BERAAD_REQUIRE_CHROMIUM=1 requires it")
        pytest.skip(f"{message}; install it to check the rendered cards")
    return binary


def rasterise(pdf: bytes, folder: Path, name: str, *options: str) -> list[Path]:
    """Render with pdftoppm into folder as <name>-<page>.<ext>; test-output/ only for a human to see."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"{name}-*.*"):
        old.unlink()
    source = folder / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        [tool("pdftoppm", "poppler-utils"), *options, str(source), str(folder / name)],
        check=True,
        timeout=120,
    )
    source.unlink()
    return sorted(folder.glob(f"{name}-*.*"), key=lambda path: int(path.stem.rsplit("-", 1)[1]))


def decode_qr(png: Path) -> set[str]:
    """Every QR code zbarimg reads off the image, as a phone camera would."""
    zbarimg = tool("zbarimg", "zbar-tools")
    result = subprocess.run([zbarimg, "--raw", "-q", str(png)], capture_output=True, text=True, timeout=60)
    return {line for line in result.stdout.splitlines() if line}


class Grey:
    """A page rendered by pdftoppm -gray (binary PGM), looked up in PDF points."""

    def __init__(self, path: Path, dpi: int):
        data = path.read_bytes()
        fields = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
        self.width, self.height = int(fields.group(1)), int(fields.group(2))
        self.pixels = data[fields.end() :]
        self.scale = dpi / 72

    def inked(self, darker_than: int = 200) -> list[tuple[float, float]]:
        """Where something is drawn, as (x, y) in points from the bottom left, like the PDF."""
        points = []
        for index, value in enumerate(self.pixels):
            if value < darker_than:
                row, column = divmod(index, self.width)
                points.append(((column + 0.5) / self.scale, (self.height - row - 0.5) / self.scale))
        return points


def card_origins() -> list[tuple[float, float]]:
    """Bottom left corners of the four cards on a page: top left, top right, bottom left, bottom right."""
    return [((place % 2) * CARD_WIDTH, A4_POINTS[1] - (place // 2 + 1) * CARD_HEIGHT) for place in range(4)]


def content_rects() -> list[tuple[float, float, float, float]]:
    """Each card's inside: everything on a card is drawn here (x0, y0, x1, y1)."""
    return [(x + PADDING, y + PADDING, x + CARD_WIDTH - PADDING, y + CARD_HEIGHT - PADDING)
            for x, y in card_origins()]  # fmt: skip


def quiet_zones() -> list[tuple[float, float, float, float]]:
    """The bands around each QR code that must stay blank: left of it, above it, and between the code
    and its caption (a little less than the gaps the layout keeps)."""
    zones = []
    for _x0, y0, x1, _y1 in content_rects():
        qr_left, qr_bottom = x1 - QR_SIZE, y0 + QR_BLOCK_HEIGHT - QR_SIZE
        qr_top = qr_bottom + QR_SIZE
        margin = QR_GAP - 2
        zones += [
            (qr_left - margin, y0, qr_left - 1, qr_top + margin),  # left, down to the card's inside
            (qr_left - margin, qr_top + 1, x1, qr_top + margin),  # above
            (qr_left, qr_bottom - CAPTION_GAP + 1.5, x1, qr_bottom - 1),  # under, above its caption
        ]
    return zones


def inside(point: tuple[float, float], rect: tuple[float, float, float, float], slack: float = 0) -> bool:
    x, y = point
    x0, y0, x1, y1 = rect
    return x0 - slack <= x <= x1 + slack and y0 - slack <= y <= y1 + slack


def on_cut_line(point: tuple[float, float], slack: float = 1.5) -> bool:
    x, y = point
    return abs(x - A4_POINTS[0] / 2) <= slack or abs(y - A4_POINTS[1] / 2) <= slack


def stray_ink(grey: Grey) -> list[tuple[float, float]]:
    """Ink outside every card's inside and off the cut lines: text that ran off its card."""
    rects = content_rects()
    return [p for p in grey.inked() if not on_cut_line(p) and not any(inside(p, r, 1.5) for r in rects)]


def ink_near_qr(grey: Grey) -> list[tuple[float, float]]:
    zones = quiet_zones()
    return [p for p in grey.inked() if not on_cut_line(p) and any(inside(p, zone) for zone in zones)]


# --- content ---------------------------------------------------------------------------------------


def test_five_cards_take_two_pages_with_every_title_and_option():
    slugs = sample_slugs(5)
    cards = [bank_card(slug) for slug in slugs]
    pdf = render_cards(cards)
    pages = reader(pdf).pages
    assert len(pages) == 2
    for page in pages:
        assert [round(float(side), 1) for side in page.mediabox[2:]] == [round(side, 1) for side in A4_POINTS]
    texts = page_texts(pdf)
    for number, card in enumerate(cards):
        text = texts[number // 4]
        assert flat(card.title) in text, card.title
        for option in card.options:
            assert flat(option["text"]) in text, option["text"]
        assert "Voor de gespreksleider" in text
    # A short version of the size the bank asks for (60-120 words) fits whole, question and all.
    first = flat(re.sub(r"[*_]", "", cards[0].short))
    assert first in texts[0]


def test_a_card_without_a_short_version_shows_the_body_shortened_and_its_question():
    card = bank_card("rapport-afzwakken", short="")
    text = page_texts(render_cards([card]))[0]
    assert text.startswith(flat(card.title))
    assert "…" in text
    body = flat(card.body)
    assert len(body.split()) > 300
    assert body[:120] in text and body[-600:-100] not in text  # the start, not the whole body
    question = card.body.strip().splitlines()[-1]
    assert question.startswith("**") and question.strip("*") in text  # and still the question


def test_labels_follow_each_dilemmas_language():
    english = bank_card("rapport-afzwakken", language="en")
    dutch = bank_card("rapport-afzwakken")
    only_english = reader(render_cards([english]))
    assert "For the facilitator" in flat(only_english.pages[0].extract_text())
    assert only_english.metadata.title == "Dilemma cards"
    mixed = reader(render_cards([dutch, english]))
    text = flat(mixed.pages[0].extract_text())
    assert "For the facilitator" in text and "Voor de gespreksleider" in text
    assert mixed.metadata.title == "Dilemmakaarten"


def test_metadata_fonts_and_the_same_bytes_each_time():
    cards = [bank_card(slug) for slug in sample_slugs(2)]
    first, second = render_cards(cards), render_cards(cards)
    assert first == second
    pdf = reader(first)
    assert pdf.metadata.title == "Dilemmakaarten"
    assert pdf.metadata.author == "beraad"
    for folder in (str(ROOT), "/home/", "/usr/"):  # no font or project path in the file
        assert folder.encode() not in first, folder
    assert_fonts_embedded(pdf)


def test_falls_back_to_reportlabs_vera_fonts_without_dejavu():
    # Fonts are registered once per process, so the fallback runs in a fresh interpreter.
    script = (
        "import sys; from pathlib import Path; import beraad.summary.pdf as pdf; "
        "import beraad.pdftext as pdftext; pdftext.DEJAVU_DIR = Path('/nonexistent'); "
        "from beraad.bank.cards import CardContent, render_cards; "
        "card = CardContent('Een café, één vraag', 'https://beraad.example.nl/bank/x', 'Tekst met ë en ï.', "
        "options=[{'key': 'A', 'text': 'Doen'}, {'key': 'B', 'text': 'Laten'}]); "
        "sys.stdout.buffer.write(render_cards([card]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, check=True, timeout=120
    )
    pdf = reader(result.stdout)
    fonts = {str(font.get_object()["/BaseFont"]) for font in pdf.pages[0]["/Resources"]["/Font"].values()}
    assert fonts and all("Vera" in name for name in fonts), fonts
    text = flat(pdf.pages[0].extract_text())
    assert "Een café, één vraag" in text and "Tekst met ë en ï." in text


def test_markup_and_control_characters_in_the_text_are_printed_as_text():
    card = CardContent(
        title='<b>Vet</b> & "quotes" <font size=90>',
        url=BASE + "x",
        short="Tekst met <br/> en &amp; en \x00\x07 een stuurteken.\n\n**Wat <i>nu</i>?**",
        options=[{"key": "A", "text": "<para>Optie</para>"}, {"key": "B", "text": "Laten & zo"}],
    )
    text = page_texts(render_cards([card]))[0]
    assert '<b>Vet</b> & "quotes" <font size=90>' in text
    assert "Tekst met <br/> en &amp; en een stuurteken." in text
    assert "Wat <i>nu</i>?" in text and "<para>Optie</para>" in text and "Laten & zo" in text


def test_no_cards_is_an_error():
    with pytest.raises(ValueError):
        render_cards([])


# --- the layout: inside the card, clear of the QR code -----------------------------------------


def test_extreme_texts_wrap_and_shorten_inside_their_card(tmp_path):
    cards = [
        extreme_card(),
        extreme_card(short="", body="Een casus zonder korte versie. " * 200),
        extreme_card(short="x" * 2000, options=[{"key": key, "text": "y" * 300} for key in "ABCD"]),
        extreme_card(title="W" * 200, options=[{"key": key, "text": LONG_OPTION} for key in "ABCDEF"]),
    ]
    assert len(LONG_TITLE) == 200 and len(LONG_OPTION) == 300
    pdf = render_cards(cards)
    assert len(reader(pdf).pages) == 1
    text = page_texts(pdf)[0]
    assert LONG_TITLE[:60] in text and "…" in text
    squeezed = "".join(text.split())
    assert "W" * 200 in squeezed  # a title of one long word is broken over lines, never cut
    # Every piece of text starts inside its card.
    rects = content_rects()
    starts = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            starts.append((text, (x, y)))

    reader(pdf).pages[0].extract_text(visitor_text=visit)
    assert len(starts) > 40
    outside = [(t, p) for t, p in starts if not any(inside(p, rect, 0.01) for rect in rects)]
    assert not outside, outside[:5]
    # Nothing at all is drawn off its card (the rendered page), nor in the QR code's quiet zone.
    grey = Grey(rasterise(pdf, tmp_path, "extreme", "-gray", "-r", "72")[0], 72)
    assert grey.inked()
    assert not stray_ink(grey), stray_ink(grey)[:10]
    assert not ink_near_qr(grey), ink_near_qr(grey)[:10]
    rasterise(pdf, OUTPUT, "extreme", "-png", "-r", "100")


def test_the_layout_checks_can_fail(tmp_path):
    """The checks above see text that runs off a card or into the QR code's quiet zone."""
    from reportlab.pdfgen import canvas

    def drawn(x: float, y: float) -> Grey:
        buffer = io.BytesIO()
        page = canvas.Canvas(buffer, pagesize=A4_POINTS)
        page.drawString(x, y, "overloop")
        page.save()
        return Grey(rasterise(buffer.getvalue(), tmp_path, "check", "-gray", "-r", "72")[0], 72)

    x0, y0, x1, _y1 = content_rects()[0]
    assert stray_ink(drawn(x1 - 10, y0 + 200))  # runs off the right edge of the top left card
    assert stray_ink(drawn(x0 + 20, y0 - 12))  # below its inside
    assert not stray_ink(drawn(x0 + 20, y0 + 200))  # well inside
    (_x, _y, _w, _h), (strip_left, strip_bottom, strip_width, _h2) = card_boxes(*card_origins()[0])
    assert strip_left == x0 and strip_bottom == y0
    assert not ink_near_qr(drawn(x0 + 5, y0 + 30))  # in the strip beside the code
    assert ink_near_qr(drawn(x0 + strip_width - 20, y0 + 30))  # runs past the strip, towards the code


def test_real_cards_leave_the_qr_code_clear_and_stay_inside(tmp_path):
    pdf = render_cards([bank_card(slug) for slug in sample_slugs(4)])
    grey = Grey(rasterise(pdf, tmp_path, "real", "-gray", "-r", "72")[0], 72)
    assert not stray_ink(grey), stray_ink(grey)[:10]
    assert not ink_near_qr(grey), ink_near_qr(grey)[:10]


# --- QR codes ---------------------------------------------------------------------------------------


def test_each_qr_code_opens_its_dilemma_in_the_bank(tmp_path):
    slugs = sample_slugs(5)
    pdf = render_cards([bank_card(slug) for slug in slugs])
    pngs = rasterise(pdf, tmp_path, "qr", "-png", "-r", "200")
    assert len(pngs) == 2
    assert decode_qr(pngs[0]) == {BASE + slug for slug in slugs[:4]}
    assert decode_qr(pngs[1]) == {BASE + slugs[4]}


def test_sample_cards_for_a_human_to_look_at():
    """Six Dutch cases from the bank, as a team would print them: test-output/cards/sample-*.png."""
    pdf = render_cards([bank_card(slug) for slug in sample_slugs(6)])
    pngs = rasterise(pdf, OUTPUT, "sample", "-png", "-r", "100")
    assert len(pngs) == 2
    for png in pngs:
        assert png.stat().st_size > 50_000  # text and codes, not a blank page


# --- the route -------------------------------------------------------------------------------------


@pytest.fixture
def bank(app):
    """The test bank (a draft and two published cases) and four published cases from the project's bank;
    returns the published slugs."""
    items = load_bank(DATA_DIR / "bank-ready") + [
        read_dilemma_file(BANK / f"{s}.md") for s in sample_slugs(4)
    ]
    with app.app_context():
        service.import_dilemmas(items)
        db.session.commit()
    return sorted(d.id for d in items if d.status == "published")


def query(*slugs: str) -> str:
    return "/bank/cards.pdf?" + "&".join(f"id={slug}" for slug in slugs)


def test_a_facilitator_prints_published_dilemmas_as_cards(app, client, auth, bank):
    auth.login("fien", role="facilitator")
    response = client.get(query(*bank[:5]))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == 'attachment; filename="dilemmakaarten.pdf"'
    assert response.headers["Cache-Control"] == "no-store"
    pdf = reader(response.data)
    assert len(pdf.pages) == 2
    assert pdf.metadata.title == "Dilemmakaarten" and pdf.metadata.author == "beraad"
    text = flat(" ".join(page.extract_text() for page in pdf.pages))
    with app.app_context():
        for slug in bank[:5]:
            dilemma = service.get_by_slug(slug)
            assert flat(dilemma.title) in text
            for option in dilemma.options:
                assert flat(option["text"]) in text


def test_the_qr_code_holds_the_public_address_of_the_dilemma(app, client, auth, bank, tmp_path):
    app.config["BERAAD_BASE_URL"] = "https://beraad.gemeente.example"
    auth.login("fien", role="facilitator")
    response = client.get(query(bank[0], bank[1]))
    assert response.status_code == 200
    png = rasterise(response.data, tmp_path, "route", "-png", "-r", "200")[0]
    assert decode_qr(png) == {f"https://beraad.gemeente.example/bank/{slug}" for slug in bank[:2]}


def test_the_same_id_twice_gives_one_card_in_the_order_asked(app, client, auth, bank):
    auth.login("fien", role="facilitator")
    pdf = reader(client.get(query(bank[1], bank[0], bank[1])).data)
    assert len(pdf.pages) == 1
    text = flat(pdf.pages[0].extract_text())
    assert text.count("Voor de gespreksleider") == 2
    with app.app_context():
        first, second = (flat(service.get_by_slug(slug).title) for slug in (bank[1], bank[0]))
    assert text.index(first) < text.index(second)


def test_a_facilitator_cannot_print_a_draft(client, auth, bank):
    auth.login("fien", role="facilitator")
    response = client.get(query(bank[0], "concept-neutraliteit"))
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    # The same answer as for a dilemma that does not exist: nothing says a draft is there.
    assert "Een mening op sociale media" not in response.get_data(as_text=True)
    assert client.get(query(bank[0], "concept-bestaat-niet")).status_code == 404


def test_a_coordinator_prints_a_draft(client, auth, bank):
    auth.login()
    response = client.get(query("concept-neutraliteit"))
    assert response.status_code == 200
    assert "Een mening op sociale media" in flat(reader(response.data).pages[0].extract_text())


def test_anonymous_visitors_are_sent_to_sign_in(client, bank):
    response = client.get(query(bank[0]))
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "ids",
    [[], [""], ["  "]],
    ids=["none", "empty", "blank"],
)
def test_no_id_is_a_400_that_says_what_to_do(client, auth, bank, ids):
    auth.login("fien", role="facilitator")
    client.set_cookie("beraad_lang", "en")
    response = client.get("/bank/cards.pdf" + ("?" + "&".join(f"id={i}" for i in ids) if ids else ""))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Choose one or more dilemmas to print as cards." in page
    assert 'class="dilemma-list"' in page and 'name="id"' in page  # the bank again, to choose from


def test_more_than_48_ids_is_a_400(client, auth, bank):
    auth.login("fien", role="facilitator")
    client.set_cookie("beraad_lang", "en")
    response = client.get(query(*[bank[0]] * 49))
    assert response.status_code == 400
    assert "Choose at most 48 dilemmas to print at once." in response.get_data(as_text=True)
    assert client.get(query(*[bank[0]] * 48)).status_code == 200


@pytest.mark.parametrize(
    "slug",
    [
        "onbekend",
        "../etc/passwd",
        "a%00b",
        "%3Cscript%3E",
        "Rapport-Bijstellen",
        "x" * 101,
        "é",
        "a'--",
        "%FF",
    ],
)
def test_an_unknown_or_odd_id_is_a_404(client, auth, bank, slug):
    auth.login()
    response = client.get(query(bank[0], slug))
    assert response.status_code == 404


def test_cards_pdf_is_not_taken_for_a_dilemma(app):
    adapter = app.url_map.bind("localhost")
    assert adapter.match("/bank/cards.pdf") == ("bank.cards", {})
    assert adapter.match("/bank/cards") == ("bank.detail", {"slug": "cards"})


def test_the_bank_page_lets_a_facilitator_tick_dilemmas_to_print(client, auth, bank):
    auth.login("fien", role="facilitator")
    page = client.get("/bank/").get_data(as_text=True)
    form = re.search(r'<form method="get" action="/bank/cards.pdf"[^>]*>(.*?)</form>', page, re.S)
    assert form, "a GET form to the cards"
    for slug in bank:
        assert f'name="id" value="{slug}"' in form.group(1)
    assert 'type="submit"' in form.group(1)
    assert 'value="concept-neutraliteit"' not in page  # a draft is not offered to a facilitator
    assert '<form method="get" action="/bank/" class="filters card"' in page
