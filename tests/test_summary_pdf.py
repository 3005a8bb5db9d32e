"""The summary PDF: content, labels, page numbers, diacritics, k, and hostile input.

Pages are also rasterised with Debian's pdftoppm (poppler-utils) into test-output/pdf/ for a human
to look at. Without pdftoppm those checks skip, unless BERAAD_REQUIRE_CHROMIUM=1 (CI) makes that
a failure.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from beraad.summary.model import ActionSummary, DilemmaSummary, PollSummary, ResultRow, StepSummary
from beraad.summary.pdf import render_pdf
from tests.data.summary_sample import sample_summary

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "test-output" / "pdf"
REQUIRE_RENDERER = os.environ.get("BERAAD_REQUIRE_CHROMIUM") == "1"
A4_POINTS = (595.2756, 841.8898)


def reader(pdf: bytes) -> PdfReader:
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    return PdfReader(io.BytesIO(pdf), strict=True)


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in reader(pdf).pages]


def body_texts(pdf: bytes) -> list[str]:
    """Each page's text without the running header and page number (drawn last, as two lines)."""
    return ["\n".join(text.rstrip("\n").split("\n")[:-2]) for text in page_texts(pdf)]


def squeezed(text: str) -> str:
    """Text without any whitespace: a long word split over lines or cells reads as one again."""
    return "".join(text.split())


def flat(text: str) -> str:
    """Whitespace (including the line breaks of wrapped paragraphs) as single spaces."""
    return " ".join(text.split())


def all_text(pdf: bytes) -> str:
    return flat("\n".join(page_texts(pdf)))


def between(text: str, start: str, end: str | None) -> str:
    begin = text.index(start)
    return text[begin : text.index(end, begin) if end else None]


def assert_numbered(pdf: bytes, label: str = "Pagina {page} van {total}") -> list[str]:
    texts = [flat(text) for text in page_texts(pdf)]
    for number, text in enumerate(texts, start=1):
        assert label.format(page=number, total=len(texts)) in text, (number, text[-200:])
    return texts


# --- content --------------------------------------------------------------------------------------


def test_sample_shows_every_part():
    summary = sample_summary()
    text = all_text(render_pdf(summary))
    for expected in [
        "Het rapport moet ‘genuanceerder’",
        "Datum 25 november 2026",
        "Methode Dilemmamethode",
        "Gespreksleider Anna de Vries",
        "Deelnemers 6",
        "gepland 90 min, werkelijk 97 min",
        "Dilemma: Het rapport moet “genuanceerder”",
        "Een onderzoeker krijgt het verzoek…",
        "Moet ik de conclusies aanpassen?",
        "1. Inleiding",
        "gepland 5 min, werkelijk 6 min",
        "Afspraken: vertrouwelijk, vragen stellen.",
        "2. De casus",
        "gepland 10 min, werkelijk 12 min",
        "Op het scherm Wat zou jij doen als je leidinggevende dit vraagt? De casusinbrenger vertelt",
        "Stap: Waarden",
        "A. Conclusies aanpassen",
        "4 (67%)",
        "2 (33%)",
        "14 punten (78%)",
        "4 punten (22%)",
        "eerst 4 (67%) nu 1 (17%)",
        "eerst 2 (33%) nu 5 (83%)",
        "Boos",
        "Herkenbaar",
        "“Lastig”",
        "Onafhankelijkheid",
        "Wat als de minister het vraagt?",
        "Bespreek in het MT",
        "afdelingshoofd",
        "15 december 2026",
        "Evalueer het protocol",
        "Ik herkende de casus.",
        "2 (40%)",
        "Gemiddelde: 4,2",
    ]:
        assert expected in text, expected
    # The empty who and due of the second action point show as a dash.
    assert "Evalueer het protocol — —" in text
    # Only the step with a text on the screen has the label.
    assert text.count("Op het scherm") == 1
    # The full-consent dilemma carries no consent remark.
    assert "casusinbrenger" not in between(text, "Dilemma:", "Stappen")


def test_markdown_in_dilemma_is_rendered_not_shown():
    summary = sample_summary(
        dilemmas=(
            DilemmaSummary(
                "Casus", "Eerste *alinea* met **vet**.\n\n- punt een\n- punt twee\n\nSlot.", "full"
            ),
        )
    )
    text = all_text(render_pdf(summary))
    assert "Eerste alinea met vet." in text
    assert "• punt een • punt twee Slot." in text
    assert "*" not in between(text, "Dilemma: Casus", "Stappen")


@pytest.mark.parametrize(
    ("consent", "language", "remark"),
    [
        ("question", "nl", "Alleen de morele vraag, op verzoek van de casusinbrenger."),
        ("redacted", "nl", "Aangepaste tekst, met instemming van de casusinbrenger."),
        ("question", "en", "Only the moral question, at the case presenter's request."),
    ],
)
def test_consent_choice_is_stated(consent, language, remark):
    summary = sample_summary(language=language, dilemmas=(DilemmaSummary("Casus", "Mag dit?", consent),))
    text = all_text(render_pdf(summary))
    assert remark in between(text, "Dilemma: Casus", "Mag dit?")


def test_facilitator_only_when_given():
    text = all_text(render_pdf(sample_summary(facilitator="")))
    assert "Gespreksleider" not in text
    assert "Methode Dilemmamethode Deelnemers 6" in text


def test_below_k_poll_shows_only_its_count():
    # Even if a caller left rows in a poll below k, none of them may reach the PDF.
    polls = list(sample_summary().polls)
    polls[3] = replace(polls[3], rows=(ResultRow("A", "Geheime optie", 2, 100),), texts=("Geheim antwoord",))
    text = all_text(render_pdf(sample_summary(polls=tuple(polls))))
    hidden = between(text, "Wat kies jij?", "Wat is je eerste reactie?")
    assert "2 antwoorden — resultaten worden pas getoond vanaf 3 antwoorden" in hidden
    assert "%" not in hidden
    assert "Geheim" not in text
    evaluation = between(text, "Wat kan beter?", "Pagina")
    assert "2 antwoorden — resultaten worden pas getoond vanaf 3 antwoorden" in evaluation
    assert "%" not in evaluation


def test_before_poll_below_k_gives_no_before_bars():
    polls = list(sample_summary().polls)
    polls[2] = replace(polls[2], before=replace(polls[0], count=2, shown=False, rows=()))
    text = all_text(render_pdf(sample_summary(polls=tuple(polls))))
    section = between(text, "Stap: Conclusie", "Wat kies jij?")
    assert "2 antwoorden — resultaten worden pas getoond vanaf 3 antwoorden" in section
    assert "eerst 4" not in section
    assert "1 (17%)" in section and "5 (83%)" in section


# --- labels, dates, pages, fonts, metadata -----------------------------------------------------


def test_labels_follow_the_summary_language():
    dutch = all_text(render_pdf(sample_summary()))
    english = all_text(render_pdf(sample_summary(language="en")))
    for label in [
        "Deelnemers",
        "Gespreksleider",
        "Stappen",
        "Actiepunten",
        "Evaluatie",
        "Gemiddelde",
        "Op het scherm",
        "Pagina 1 van",
    ]:
        assert label in dutch
        assert label not in english
    for label in [
        "Participants 6", "Facilitator Anna de Vries", "Date 25 November 2026", "Steps", "Action points",
        "planned 90 min, actual 97 min", "14 points (78%)", "before 4 (67%) now 1 (17%)", "Average: 4.2",
        "2 answers — results are only shown from 3 answers", "Who (role)", "15 December 2026", "Page 1 of",
        "On screen",
    ]:  # fmt: skip
        assert label in english, label
        assert label not in dutch, label


def test_every_page_has_the_running_header_and_its_number():
    pdf = render_pdf(sample_summary())
    texts = assert_numbered(pdf)
    assert len(texts) >= 2
    for text in texts:
        assert "Het rapport moet ‘genuanceerder’" in text
    for page in reader(pdf).pages:
        assert [round(float(side), 1) for side in page.mediabox[2:]] == [round(side, 1) for side in A4_POINTS]


def test_long_title_is_shortened_in_the_header_only():
    title = "Een titel " * 30
    texts = [flat(text) for text in page_texts(render_pdf(sample_summary(title=title)))]
    assert flat(title) in texts[0]
    assert "…" in texts[1] and flat(title) not in texts[1]


def test_dutch_diacritics_and_typographic_quotes_survive():
    title = "Café‑overleg: ‘één’ of “geïnde” naïeve reünie"
    text = all_text(render_pdf(sample_summary(title=title)))
    assert title in text
    assert "Tweede alinea met é, ë, ï en “quotes”." in text
    for char in "éëï“”‘’":
        assert char in text


def test_fonts_are_embedded_truetype():
    pdf = reader(render_pdf(sample_summary()))
    fonts = {}
    for page in pdf.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts[str(font["/BaseFont"])] = font
    assert fonts
    for name, font in fonts.items():
        assert "DejaVuSans" in name or "Vera" in name, name  # never an unembedded standard font
        descriptor = font["/FontDescriptor"].get_object() if "/FontDescriptor" in font else None
        assert descriptor is not None and "/FontFile2" in descriptor, name
        assert "/ToUnicode" in font, name


def test_metadata_is_deterministic_and_reveals_no_paths():
    summary = sample_summary()
    first, second = render_pdf(summary), render_pdf(summary)
    assert first == second
    info = reader(first).metadata
    assert info.title == "Het rapport moet ‘genuanceerder’"
    assert info.creator == "beraad"
    for key in ("/Author", "/Creator", "/Producer", "/Subject", "/Keywords"):
        assert "/" not in str(info.get(key, "")), key
    assert b"/home/" not in first and b"/work/" not in first and b"/usr/" not in first


def test_only_the_pdf_module_imports_reportlab():
    importers = [
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "beraad").rglob("*.py")
        if re.search(r"^\s*(import|from)\s+reportlab", path.read_text(encoding="utf-8"), re.MULTILINE)
    ]
    assert importers == ["beraad/summary/pdf.py"]


def test_falls_back_to_reportlabs_vera_fonts_without_dejavu():
    # Font registration happens once per process, so the fallback runs in a fresh interpreter.
    script = (
        "import sys; from pathlib import Path; import beraad.summary.pdf as pdf; "
        "from tests.data.summary_sample import sample_summary; "
        "pdf.DEJAVU_DIR = Path('/nonexistent'); "
        "sys.stdout.buffer.write(pdf.render_pdf(sample_summary()))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, check=True, timeout=120
    )
    pdf = result.stdout
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in reader(pdf).pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert fonts and all("Vera" in name for name in fonts), fonts
    text = all_text(pdf)
    assert "Het rapport moet ‘genuanceerder’" in text
    assert "Tweede alinea met é, ë, ï en “quotes”." in text


# --- bad input --------------------------------------------------------------------------------------


def test_nothing_at_all_still_makes_a_summary():
    summary = sample_summary(
        title="", method="", facilitator="", participants=0, dilemmas=(), polls=(), contributions=(),
        actions=(), evaluation=(),
        steps=(StepSummary(0, "Inleiding", None, 5, 0, ""), StepSummary(1, "Slot", None, 5, 0, "  \n\n ")),
    )  # fmt: skip
    pdf = render_pdf(summary)
    text = flat("\n".join(assert_numbered(pdf)))
    for expected in [
        "Geen dilemma vastgelegd.", "Geen notities.", "Er is niet gestemd.", "Geen bijdragen vrijgegeven.",
        "Geen actiepunten.", "Geen evaluatie ingevuld.",
    ]:  # fmt: skip
        assert expected in text, expected
    assert text.count("Geen notities.") == 2
    no_steps = all_text(render_pdf(replace(summary, steps=(), status="running", language="en")))
    assert "No steps recorded." in no_steps
    assert "Provisional summary" in no_steps


@pytest.mark.parametrize(
    ("note", "expected"),
    [
        ("**vet *schuin***", "vet *schuin*"),
        ("*a **b* c**", "*a b* c"),
        ("<b>**x**</b>", "<b>x</b>"),
        ("- \n- \n-", "-"),
        ("# \n#\n> \n>", "#"),
        ("1. een\n2) twee\n   vervolg", "1. een 2. twee vervolg"),
        ("snake_case_naam en __init__", "snake_case_naam en init"),
        ("nul\x00byte\ud800 en\r\nCRLF\tTab\x1b[31m", "nulbyte en CRLF Tab[31m"),
        ("&lt;b&gt; &#x3C;i&#x3E; &nbsp;", "&lt;b&gt; &#x3C;i&#x3E; &nbsp;"),
    ],
)
def test_markdown_edge_cases_render_safely(note, expected):
    pdf = render_pdf(sample_summary(steps=(StepSummary(0, "Stap", None, 1, 1, note),)))
    assert expected in between(all_text(pdf), "gepland 1 min, werkelijk 1 min", "Stemmingen")


def test_text_on_screen_is_shown_as_typed_between_the_step_and_its_notes():
    steps = (
        StepSummary(0, "Leeg", None, 5, 5, "Notitie een.", screen_text=""),
        StepSummary(1, "Spaties", None, 5, 5, "Notitie twee.", screen_text="  \n\t "),
        StepSummary(
            2, "Vraag", None, 5, 5, "Notitie drie.", screen_text="# Geen kop\n- geen *lijst*\n**vet**"
        ),
    )
    text = all_text(render_pdf(sample_summary(steps=steps)))
    assert text.count("Op het scherm") == 1  # blank texts get no label
    assert "Op het scherm" not in between(text, "1. Leeg", "3. Vraag")
    assert (
        "gepland 5 min, werkelijk 5 min Op het scherm # Geen kop - geen *lijst* **vet** Notitie drie." in text
    )


def test_ten_thousand_word_note_flows_over_numbered_pages():
    words = [f"woord{number}" for number in range(10_000)]
    paragraphs = [" ".join(words[start : start + 250]) for start in range(0, len(words), 250)]
    paragraphs[3] = " ".join(words[750:1000])  # keep every word exactly once
    note = "\n\n".join(paragraphs[:20]) + "\n\n" + " ".join(words[5000:])  # one paragraph of 5,000 words
    steps = (StepSummary(0, "Lang", None, 60, 61, note),)
    pdf = render_pdf(sample_summary(steps=steps))
    texts = assert_numbered(pdf)
    assert len(texts) >= 15
    found = set(" ".join(texts).split())
    missing = [word for word in words if word not in found]
    assert missing == []  # nothing clipped or overlapped away
    save_pngs("long-note", pdf)


def test_emoji_and_right_to_left_text():
    weird = "Emoji 😀🎉👩🏽‍⚕️ · עברית שלום · العربية مرحبا · ‏‎mixed"
    summary = sample_summary(
        title=weird,
        dilemmas=(DilemmaSummary(weird, weird, "full"),),
        steps=(StepSummary(0, weird, weird, 5, 5, weird),),
        contributions=(weird,),
        actions=(ActionSummary(weird, weird, None),),
    )
    pdf = render_pdf(summary)
    texts = assert_numbered(pdf)
    assert "Emoji" in texts[0]
    assert "Pagina" in texts[-1]
    save_pngs("emoji-rtl", pdf)


MARKUP = (
    '<b>vet</b> <i>schuin</i> <font color=red size=40>rood</font> <a href="https://evil.example/x">link</a> '
    "&amp; &lt;ok&gt; &#60;b&#62; <script>alert(1)</script> <br/> <para> <img src=x/> ]]> </para> <b"
)


def hostile(name: str) -> str:
    return f"{name}: {MARKUP}"


def test_markup_in_every_field_appears_literally():
    poll = PollSummary(
        key=hostile("key"), step_title=hostile("pollstep"), question=hostile("question"), type="choice",
        count=5, shown=True, rows=(ResultRow("A", hostile("option"), 5, 100),),
    )  # fmt: skip
    text_poll = PollSummary(
        key="t",
        step_title="Tekst",
        question="Tekst?",
        type="text",
        count=3,
        shown=True,
        texts=(hostile("answer"),),
    )
    summary = sample_summary(
        title=hostile("title"),
        method=hostile("method"),
        facilitator=hostile("facilitator"),
        date=hostile("date"),
        dilemmas=(DilemmaSummary(hostile("dilemmatitle"), hostile("dilemmatext"), "question"),),
        steps=(
            StepSummary(
                0,
                hostile("steptitle"),
                hostile("stepdilemma"),
                5,
                5,
                hostile("notes"),
                screen_text=hostile("screentext"),
            ),
            StepSummary(1, "Twee", hostile("otherdilemma"), 5, 5, ""),
        ),
        polls=(poll, text_poll),
        contributions=(hostile("contribution"),),
        actions=(ActionSummary(hostile("what"), hostile("who"), hostile("due")),),
        evaluation=(replace(poll, question=hostile("evaluation"), type="scale", mean=4.0),),
    )
    pdf = render_pdf(summary)
    text = all_text(pdf)
    body = squeezed("".join(body_texts(pdf)))  # narrow table cells split the longer tokens
    for name in [
        "title", "method", "facilitator", "date", "dilemmatitle", "dilemmatext", "steptitle",
        "stepdilemma", "notes", "screentext", "pollstep", "question", "option", "answer", "contribution",
        "what", "who", "due", "evaluation",
    ]:  # fmt: skip
        assert squeezed(hostile(name)) in body, name
    assert flat(hostile("notes")) in text and flat(hostile("contribution")) in text
    assert flat(hostile("screentext")) in text
    assert "<script>alert(1)</script>" in text and "&amp;" in text and "&#60;b&#62;" in text
    for page in reader(pdf).pages:
        assert "/Annots" not in page  # no link was made
    assert b"/URI" not in pdf and b"/Link" not in pdf
    assert_numbered(pdf)
    save_pngs("markup", pdf)


def test_five_thousand_character_word_wraps():
    # Greek letters occur nowhere else in the summary, so they can be counted exactly.
    alphabet = "αβγδεζηθικλμνξοπρστυφχψω"
    word = "".join(alphabet[number % len(alphabet)] for number in range(5_000))
    poll = PollSummary(
        key="w", step_title=word, question=word, type="choice", count=4, shown=True,
        rows=(ResultRow("A", word, 3, 75), ResultRow("B", "Kort", 1, 25)),
    )  # fmt: skip
    summary = sample_summary(
        title=word,
        steps=(StepSummary(0, "Woord", None, 5, 5, f"Voor {word} na"),),
        contributions=(word,),
        actions=(ActionSummary(word, word, None),),
        polls=(poll,),
    )
    pdf = render_pdf(summary)
    texts = assert_numbered(pdf)
    body = squeezed("".join(body_texts(pdf)))
    # Title, notes, poll question, its step, its option, contribution, action what and who: all there,
    # nothing cut off or drawn twice. (The two table cells alternate per page in the extracted text.)
    assert sum(body.count(letter) for letter in alphabet) == 8 * len(word)
    assert body.count(word) >= 6
    assert f"Voor{word}na" in body
    assert "3 (75%)" in flat(" ".join(texts))
    save_pngs("long-word", pdf)


def test_huge_texts_in_table_cells_and_answers():
    long_text = " ".join(["lange actie met veel woorden"] * 1500)
    summary = sample_summary(
        actions=(ActionSummary(long_text, long_text[:3000], "2026-13-45"),) * 2,
        contributions=tuple(f"bijdrage {n}" for n in range(300)),
    )
    pdf = render_pdf(summary)
    text = flat("\n".join(assert_numbered(pdf)))
    assert "2026-13-45" in text  # an invalid date is shown as it is
    # Both rows split over pages inside their cells; every phrase of both columns is still there.
    assert text.count("lange actie") == 2 * (1500 + long_text[:3000].count("lange actie"))
    assert "bijdrage 0" in text and "bijdrage 299" in text


# --- rasterised pages ---------------------------------------------------------------------------


def pdftoppm() -> str:
    binary = shutil.which("pdftoppm")
    if binary is None:
        message = "pdftoppm (Debian package poppler-utils) is not installed"
        if REQUIRE_RENDERER:
            pytest.fail(f"{message}, and BERAAD_REQUIRE_CHROMIUM=1 requires it")
        pytest.skip(f"{message}; install it to check the rendered pages")
    return binary


def rasterise(pdf: bytes, folder: Path, name: str, *options: str) -> list[Path]:
    source = folder / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        [pdftoppm(), "-r", "50", *options, str(source), str(folder / name)], check=True, timeout=120
    )
    return sorted(folder.glob(f"{name}-*.*"), key=lambda path: int(path.stem.rsplit("-", 1)[1]))


def blank_png_size(folder: Path) -> int:
    writer = PdfWriter()
    writer.add_blank_page(*A4_POINTS)
    buffer = io.BytesIO()
    writer.write(buffer)
    return rasterise(buffer.getvalue(), folder, "blank", "-png")[0].stat().st_size


def inked_pixels_in_body(pgm: Path) -> int:
    """Non-white pixels of a binary PGM (pdftoppm -gray), leaving out the header and footer bands."""
    data = pgm.read_bytes()
    fields = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    width, height = int(fields.group(1)), int(fields.group(2))
    pixels = data[fields.end() :]
    band = height * 28 // 297  # about 2.8 cm of 29.7
    body = pixels[band * width : (height - band) * width]
    return sum(1 for value in body if value < 200)


def save_pngs(name: str, pdf: bytes) -> list[Path]:
    """Rasterise to test-output/pdf/<name>-<page>.png and check no page is blank."""
    if shutil.which("pdftoppm") is None and not REQUIRE_RENDERER:
        return []  # the dedicated rendering test reports the skip
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for old in OUTPUT.glob(f"{name}-*.png"):
        old.unlink()
    pngs = rasterise(pdf, OUTPUT, name, "-png")
    pages = len(reader(pdf).pages)
    assert len(pngs) == pages
    with tempfile.TemporaryDirectory() as scratch:
        blank = blank_png_size(Path(scratch))
        pgms = rasterise(pdf, Path(scratch), name, "-gray")
        assert len(pgms) == pages
        for png, pgm in zip(pngs, pgms, strict=True):
            assert png.stat().st_size > 2 * blank, png
            assert inked_pixels_in_body(pgm) > 20, f"{png.name} has no content between header and footer"
    return pngs


@pytest.mark.parametrize("language", ["nl", "en"])
def test_sample_pages_render_and_are_not_blank(language):
    pdftoppm()
    pdf = render_pdf(sample_summary(language=language))
    pngs = save_pngs(f"sample-{language}", pdf)
    assert len(pngs) == len(reader(pdf).pages) >= 1
    for text in page_texts(pdf):
        assert flat(text)


def test_empty_summary_renders():
    pdftoppm()
    summary = sample_summary(dilemmas=(), steps=(), polls=(), contributions=(), actions=(), evaluation=())
    assert len(save_pngs("empty", render_pdf(summary))) == 1
