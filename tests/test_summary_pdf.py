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

from beraad.summary.labels import LABELS, Words, format_duration, format_number
from beraad.summary.model import ActionSummary, DilemmaSummary, PollSummary, ResultRow, StepSummary
from beraad.summary.pdf import render_pdf
from tests.data.summary_sample import sample_summary

from .conftest import assert_fonts_embedded

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
        "Evaluatie Vraag n Verdeling Gemiddelde",
        "Ik herkende de casus. 5",
        "4,2 Wat kan beter? 2",
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


def test_a_case_wrapped_in_its_source_reads_as_one_paragraph_and_notes_keep_their_lines():
    case = "Een leverancier stuurt een royaal kerstpakket naar\nje huisadres. Er zit een kaart bij."
    summary = sample_summary(
        dilemmas=(DilemmaSummary("Casus", case, "full"),),
        steps=(StepSummary(0, "Stap", None, 5, 5, "Eerste regel\nTweede regel"),),
    )
    page = page_texts(render_pdf(summary))[0]
    assert "kerstpakket naar je huisadres." in page  # a line break in the source is a space (Markdown)
    assert "Eerste regel\nTweede regel" in page  # typed notes keep theirs


@pytest.mark.parametrize(
    ("consent", "language", "remark"),
    [
        ("question", "nl", "Alleen de morele vraag, op verzoek van de casusinbrenger."),
        ("redacted", "nl", "Aangepaste tekst, met instemming van de casusinbrenger."),
        ("question", "en", "Only the moral question, at the case presenter's request."),
    ],
)
def test_consent_choice_is_stated(consent, language, remark):
    dilemma = DilemmaSummary("Casus", "Mag dit?", consent, presenter_consent=True)
    text = all_text(render_pdf(sample_summary(language=language, dilemmas=(dilemma,))))
    assert remark in between(text, "Dilemma: Casus", "Mag dit?")


@pytest.mark.parametrize(
    ("consent", "language", "remark"),
    [
        ("question", "nl", "Alleen de morele vraag uit de casus."),
        ("redacted", "nl", "Aangepaste tekst van de casus."),
        ("question", "en", "Only the moral question from the case."),
        ("full", "nl", ""),
    ],
)
def test_without_a_case_presenter_no_presenter_is_mentioned(consent, language, remark):
    # A case from the bank (a game, a short deliberation): nobody brought it in, nobody consented.
    dilemmas = (DilemmaSummary("Casus", "Mag dit?", consent), DilemmaSummary("Tweede", "En dit?", consent))
    text = all_text(render_pdf(sample_summary(language=language, dilemmas=dilemmas)))
    first = between(text, "Dilemma: Casus", "Mag dit?")
    assert first == f"Dilemma: Casus {remark} ".replace("  ", " ")
    for word in ("casusinbrenger", "presenter", "instemming", "consent", "verzoek", "request"):
        assert word not in between(text, "Dilemma: Casus", "1. Inleiding"), word


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
    assert evaluation.startswith("Wat kan beter? 2 resultaten worden pas getoond vanaf 3 antwoorden")
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
        "planned 90 min, actual 97 min", "14 points (78%)", "before 4 (67%) now 1 (17%)", "Distribution",
        "Average", "4.2",
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
    assert_fonts_embedded(pdf)


def test_metadata_is_deterministic_and_reveals_no_paths():
    summary = sample_summary()
    first, second = render_pdf(summary), render_pdf(summary)
    assert first == second
    info = reader(first).metadata
    assert info.title == "Het rapport moet ‘genuanceerder’"
    assert info.creator == "beraad" and info.author == "beraad"
    assert info.subject == "Verslag moreel beraad"
    # Neither the moment of rendering nor reportlab's invariant 1 January 2000: the session's day.
    assert info.creation_date.date().isoformat() == "2026-11-25"
    for key in ("/Author", "/Creator", "/Producer", "/Subject", "/Keywords"):
        assert "/" not in str(info.get(key, "")), key
    assert b"/home/" not in first and b"/work/" not in first and b"/usr/" not in first


def test_only_the_pdf_modules_import_reportlab():
    importers = [
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "beraad").rglob("*.py")
        if re.search(r"^\s*(import|from)\s+reportlab", path.read_text(encoding="utf-8"), re.MULTILINE)
    ]
    assert sorted(importers) == ["beraad/bank/cards.py", "beraad/pdftext.py", "beraad/summary/pdf.py"]


def test_falls_back_to_reportlabs_vera_fonts_without_dejavu():
    # Font registration happens once per process, so the fallback runs in a fresh interpreter.
    script = (
        "import sys; from pathlib import Path; import beraad.summary.pdf as pdf; "
        "from tests.data.summary_sample import sample_summary; "
        "import beraad.pdftext as pdftext; pdftext.DEJAVU_DIR = Path('/nonexistent'); "
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


# --- times, dates, numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "nl", "en"),
    [
        (0, "0 min 0 s", "0 min 0 s"),
        (20, "0 min 20 s", "0 min 20 s"),
        (120, "2 min 0 s", "2 min 0 s"),
        (160, "2 min 40 s", "2 min 40 s"),
        (599.4, "9 min 59 s", "9 min 59 s"),
        (600, "10 min", "10 min"),
        (87 * 60 + 29, "87 min", "87 min"),
        (87 * 60 + 30, "88 min", "88 min"),  # half a minute rounds up
        (119 * 60 + 30, "2 uur", "2 h"),
        (125 * 60, "2 uur 5 min", "2 h 5 min"),
    ],
)
def test_durations_read_as_people_say_them(seconds, nl, en):
    # Under ten minutes always both parts: a running timer changes its figures, never its words.
    assert (format_duration(seconds, "nl"), format_duration(seconds, "en")) == (nl, en)


def test_one_precision_per_summary():
    # A session under ten minutes gives every time to the second, a longer one in whole minutes.
    assert (format_duration(20, "nl", precise=False), format_duration(0, "nl", precise=False)) == (
        "0 min", "0 min",
    )  # fmt: skip
    assert format_duration(15 * 60 + 20, "nl", precise=True) == "15 min 20 s"


@pytest.mark.parametrize(
    ("value", "decimals", "nl", "en"),
    [(4.2, 1, "4,2", "4.2"), (4.0, 1, "4,0", "4.0"), (8.25, 1, "8,2", "8.2"), (1234, 0, "1.234", "1,234")],
)
def test_numbers_follow_the_summary_language(value, decimals, nl, en):
    assert (format_number(value, "nl", decimals), format_number(value, "en", decimals)) == (nl, en)


def test_both_languages_have_every_label_and_no_label_is_hidden_by_a_method():
    assert set(LABELS["nl"]) == set(LABELS["en"])
    # The print view reads `words.<name>`: Jinja tries an attribute before a key.
    assert not set(LABELS["nl"]) & set(dir(Words))


def test_actual_time_is_counted_in_seconds_per_step_and_in_total():
    # Eight steps of 20 seconds: 2 min 40 s. Rounding each step to minutes first gave "0 min" (or
    # "1 min" with other roundings) for the whole session.
    steps = tuple(
        StepSummary(position, f"Stap {position + 1}", None, 5, 0, "", actual_seconds=20)
        for position in range(8)
    )
    summary = sample_summary(steps=steps, planned_minutes=40, actual_minutes=3, actual_seconds=160)
    text = all_text(render_pdf(summary))
    assert "Tijd gepland 40 min, werkelijk 2 min 40 s" in text
    assert text.count("gepland 5 min, werkelijk 0 min 20 s") == 8
    assert "werkelijk 1 min" not in text and "werkelijk 3 min" not in text
    assert text.count("werkelijk 0 min") == 8  # only the steps' "0 min 20 s"
    english = all_text(render_pdf(replace(summary, language="en")))
    assert "Time planned 40 min, actual 2 min 40 s" in english


def test_a_summary_without_seconds_shows_its_minutes():
    # Archived before the seconds were kept (or made by hand): the rounded minutes are all there is.
    text = all_text(render_pdf(sample_summary()))
    assert "gepland 90 min, werkelijk 97 min" in text and "gepland 5 min, werkelijk 6 min Afspraken" in text


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, "Datum 25 november 2026 Methode"),  # never started: the day only
        ({"started_at": "2026-11-25T13:05", "status": "running"}, "25 november 2026, begonnen om 14:05"),
        (
            {"started_at": "2026-11-25T13:05", "closed_at": "2026-11-25T14:47"},
            "Datum 25 november 2026, 14:05–15:47 Methode",
        ),
        (  # summer time
            {"date": "2026-06-10", "started_at": "2026-06-10T12:00", "closed_at": "2026-06-10T13:30"},
            "Datum 10 juni 2026, 14:00–15:30 Methode",
        ),
        (  # another zone, over midnight: the day it started, and the end with its own day
            {"timezone": "Asia/Tokyo", "started_at": "2026-11-25T14:50", "closed_at": "2026-11-25T15:20"},
            "Datum 25 november 2026 23:50 – 26 november 2026 00:20 Methode",
        ),
        (  # the local day, not the UTC one
            {"timezone": "America/New_York", "date": "2026-11-26", "started_at": "2026-11-26T02:00",
             "closed_at": "2026-11-26T03:15"},
            "Datum 25 november 2026, 21:00–22:15 Methode",
        ),
        ({"closed_at": "2026-11-25T14:47"}, "Datum 25 november 2026, gesloten om 15:47 Methode"),
    ],
)  # fmt: skip
def test_start_and_end_are_shown_in_the_organisations_time_zone(changes, expected):
    assert expected in all_text(render_pdf(sample_summary(**changes)))


def test_start_and_end_in_english():
    summary = sample_summary(language="en", started_at="2026-11-25T13:05", closed_at="2026-11-25T14:47")
    assert "Date 25 November 2026, 14:05–15:47 Method" in all_text(render_pdf(summary))
    running = replace(summary, closed_at=None, status="running")
    assert "Date 25 November 2026, started at 14:05 Method" in all_text(render_pdf(running))


# --- organisation, metadata ------------------------------------------------------------------------


def test_organisation_in_the_title_block_and_every_header():
    summary = sample_summary(organisation="Gemeente Voorbeeld, team Integriteit")
    pdf = render_pdf(summary)
    texts = assert_numbered(pdf)
    assert len(texts) >= 2
    assert "Organisatie Gemeente Voorbeeld, team Integriteit Datum 25 november 2026" in texts[0]
    for text in page_texts(pdf):
        header = text.rstrip("\n").split("\n")[-2]  # the running header, drawn before the page number
        assert header == "Gemeente Voorbeeld, team Integriteit · Het rapport moet ‘genuanceerder’", header
    assert reader(pdf).metadata.subject == "Verslag moreel beraad · Gemeente Voorbeeld, team Integriteit"
    without = render_pdf(sample_summary())
    assert "Organisatie" not in all_text(without)
    assert page_texts(without)[0].rstrip("\n").split("\n")[-2] == "Het rapport moet ‘genuanceerder’"


@pytest.mark.parametrize(
    ("changes", "created"),
    [
        ({"started_at": "2026-11-25T13:05", "closed_at": "2026-11-25T14:47"}, "2026-11-25T15:47:00+01:00"),
        ({"started_at": "2026-06-10T12:00", "status": "running"}, "2026-06-10T14:00:00+02:00"),
        ({}, "2026-11-25T00:00:00+01:00"),  # never started: the day it was made
    ],
)
def test_metadata_carry_the_session_and_its_date(changes, created):
    summary = sample_summary(organisation="Gemeente Voorbeeld", language="en", **changes)
    pdf = render_pdf(summary)
    assert pdf == render_pdf(summary)  # still the same bytes for the same summary
    info = reader(pdf).metadata
    assert (info.title, info.author, info.creator) == ("Het rapport moet ‘genuanceerder’", "beraad", "beraad")
    assert info.subject == "Moral case deliberation summary · Gemeente Voorbeeld"
    assert info.creation_date.isoformat() == created
    assert info.modification_date == info.creation_date


# --- polls: per dilemma, never split --------------------------------------------------------------

GAME = ("Een kerstpakket van de leverancier", "Het rapport bijstellen", "Een mening op sociale media")


def game_polls(dilemmas=GAME, options: int = 3) -> tuple[PollSummary, ...]:
    """A dilemma game's polls: per dilemma 'Wat zou jij doen?' and the same again after the talk."""
    polls = []
    for number, title in enumerate(dilemmas):
        rows = tuple(
            ResultRow(chr(65 + n), f"Keuze {chr(65 + n)} bij dilemma {number + 1}", 2, 33)
            for n in range(options)
        )
        first = PollSummary(
            key="eigen-keuze", step_title="Kies voor jezelf", question="Wat zou jij doen?", type="choice",
            count=6, shown=True, rows=rows, dilemma_title=title,
        )  # fmt: skip
        polls.append(first)
        polls.append(
            replace(first, key="opnieuw-kiezen", step_title="Opnieuw kiezen", question="Wat zou jij nu doen?",
                    before=first)
        )  # fmt: skip
    return tuple(polls)


def test_in_a_game_each_poll_is_headed_by_its_dilemma():
    dilemmas = tuple(DilemmaSummary(title, f"Casus over {title}.", "full") for title in GAME)
    summary = sample_summary(method="Dilemmaspel", dilemmas=dilemmas, polls=game_polls())
    text = all_text(render_pdf(summary))
    polls = between(text, "Stemmingen", "Anonieme bijdragen")
    positions = [polls.index(f"Dilemma: {title} Wat zou jij doen? Dilemma: {title} · Stap: Kies voor jezelf")
                 for title in GAME]  # fmt: skip
    assert positions == sorted(positions)
    for title in GAME:
        assert polls.count(f"Dilemma: {title} Wat zou jij doen?") == 1  # one group heading per dilemma
        assert f"Wat zou jij nu doen? Dilemma: {title} · Stap: Opnieuw kiezen" in polls
    assert polls.count("Stap: Kies voor jezelf") == len(GAME)
    # A session on one dilemma has no group headings and no dilemma in its polls' lines.
    single = between(all_text(render_pdf(sample_summary())), "Stemmingen", "Anonieme bijdragen")
    assert "Dilemma" not in single


def test_polls_without_a_dilemma_in_a_game_come_under_general():
    closing = PollSummary("slot", "Afsluiting", "Wat neem je mee?", "text", 4, True, texts=("Veel",) * 4)
    summary = sample_summary(polls=(*game_polls(GAME[:2]), closing))
    polls = between(all_text(render_pdf(summary)), "Stemmingen", "Anonieme bijdragen")
    assert "Algemeen Wat neem je mee? Stap: Afsluiting · 4 antwoorden" in polls


def poll_pages(pdf: bytes) -> list[str]:
    return [flat(text) for text in body_texts(pdf)]


def page_of(pages: list[str], text: str) -> int:
    found = [number for number, page in enumerate(pages) if text in page]
    assert len(found) == 1, (text, found)
    return found[0]


def many_polls(count: int = 36) -> tuple[PollSummary, ...]:
    polls = []
    for number in range(count):
        options = 4 + number % 3  # 4, 5 or 6 options
        long = number % 2  # every other poll has labels too long to stand left of their bars
        rows = tuple(
            ResultRow(
                chr(65 + n),
                f"Optie {number:02d}-{chr(65 + n)}" + " met een toelichting te lang voor de kantlijn" * long,
                n + 1, round(100 * (n + 1) / sum(range(1, options + 1))),
            )
            for n in range(options)
        )  # fmt: skip
        polls.append(
            PollSummary(
                key=f"p{number}", step_title=f"Stap {number}", question=f"Vraag {number:02d}: wat doe je?",
                type="choice", count=sum(range(1, options + 1)), shown=True, rows=rows,
                before=polls[number - 3] if number % 6 == 3 else None,  # same options, 3 before
            )
        )  # fmt: skip
    return tuple(polls)


def test_no_poll_is_split_over_pages():
    polls = many_polls()
    pdf = render_pdf(sample_summary(polls=polls))
    pages = poll_pages(pdf)
    assert len(pages) >= 6  # page breaks fall among the polls
    spread = set()
    for poll in polls:
        first = page_of(pages, f"{poll.question} Stap: {poll.step_title} ·")  # the heading, not a 'before'
        assert page_of(pages, f"Optie {poll.key[1:].zfill(2)}-{poll.rows[-1].key}") == first, poll.question
        spread.add(first)
    assert len(spread) >= 5
    save_pngs("many-polls", pdf)


def test_group_headings_stay_with_their_first_poll():
    titles = tuple(f"Dilemma nummer {number}" for number in range(12))
    pdf = render_pdf(sample_summary(polls=game_polls(titles, options=6)))
    pages = poll_pages(pdf)
    for title in titles:
        heading = page_of(pages, f"Dilemma: {title} Wat zou jij doen?")  # the heading, then its first poll
        assert page_of(pages, f"Keuze F bij dilemma {titles.index(title) + 1} eerst") >= heading


def test_a_poll_taller_than_a_page_starts_on_a_page_with_its_heading():
    rows = tuple(ResultRow(f"{n:02d}", f"Een lange optie nummer {n:02d} " * 3, 1, 1) for n in range(70))
    tall = PollSummary("lang", "Lang", "Heel veel opties?", "choice", 70, True, rows=rows)
    pdf = render_pdf(sample_summary(polls=(sample_summary().polls[0], tall)))
    pages = poll_pages(pdf)
    heading = page_of(pages, "Heel veel opties?")
    assert "Een lange optie nummer 00" in pages[heading]  # never a heading alone at the foot of a page
    assert "Een lange optie nummer 69" in " ".join(pages[heading + 1 :])


# --- evaluation as a table ------------------------------------------------------------------------


def evaluation_items() -> tuple[PollSummary, ...]:
    def scale(key: str, question: str, counts: tuple[int, ...], mean: float, shown: bool = True):
        total = sum(counts)
        rows = tuple(
            ResultRow(str(n), str(n), c, round(100 * c / total)) for n, c in enumerate(counts, start=1)
        )
        if not shown:
            return PollSummary(key, "", question, "scale", total, False)
        return PollSummary(key, "", question, "scale", total, True, rows=rows, mean=mean)

    return (
        scale("herkenbaar", "De casus was herkenbaar voor mij.", (0, 1, 4, 3, 2), 3.6),
        scale("vrij-spreken", "Ik voelde me vrij om te zeggen wat ik dacht.", (0, 0, 1, 3, 6), 4.5),
        scale("focus", "De gespreksleider hield ons bij de morele vraag.", (0, 0, 2, 5, 3), 4.1),
        scale("waarden", "Ik zie nu beter welke waarden anderen belangrijk vinden.", (1, 1, 2, 4, 2), 3.5),
        scale("handelen", "Ik weet beter wat ik kan doen als ik zoiets meemaak.", (0, 2, 3, 3, 2), 3.5),
        scale("kijk", "Mijn kijk op de casus is door dit gesprek veranderd.", (1, 1), 1.5, shown=False),
        scale("cijfer", "Welk cijfer geef je deze bijeenkomst?", (0, 0, 0, 0, 0, 1, 3, 4, 2, 0), 7.7),
        scale("tempo", "Het tempo was goed.", (0, 1, 2, 5, 2), 3.8),
        PollSummary("verbeterpunt", "", "Wat kan er de volgende keer beter?", "text", 4, True,
                    texts=("Kortere inleiding", "Meer tijd voor de dialoog", "Minder schermtekst", "Pauze")),
    )  # fmt: skip


def test_the_evaluation_is_one_table_on_one_page():
    items = evaluation_items()
    assert len(items) == 9
    summary = sample_summary(evaluation=items)
    pdf = render_pdf(summary)
    pages = poll_pages(pdf)
    page = page_of(pages, "Evaluatie Vraag n Verdeling Gemiddelde")
    for item in items:
        assert item.question in pages[page], item.question
    table = between(pages[page], "Evaluatie Vraag n Verdeling Gemiddelde", "Kortere inleiding")
    # Question, n, then per scale point the count above the point, and the mean with a decimal comma.
    assert "De casus was herkenbaar voor mij. 10 0 1 1 2 4 3 3 4 2 5 3,6" in table
    assert "Welk cijfer geef je deze bijeenkomst? 10 0 1 0 2 0 3 0 4 0 5 1 6 3 7 4 8 2 9 0 10 7,7" in table
    # Below k: the n only, no distribution or mean.
    assert "Mijn kijk op de casus is door dit gesprek veranderd. 2 resultaten worden pas getoond vanaf 3 " \
           "antwoorden Welk cijfer" in table  # fmt: skip
    assert "%" not in table
    # The open question: its n in the table, its answers after it.
    assert "Wat kan er de volgende keer beter? 4 open vraag: de antwoorden staan hieronder" in table
    after = pages[page][pages[page].index("Kortere inleiding") - 60 :]
    assert "Wat kan er de volgende keer beter? 4 antwoorden • Kortere inleiding • Meer tijd" in after
    english = all_text(render_pdf(replace(summary, language="en")))
    assert "Evaluation Question n Distribution Average" in english and " 3.6 " in english
    save_pngs("evaluation", pdf)


def test_evaluation_table_starts_on_the_page_with_its_heading():
    # However much comes before it, the heading of the evaluation is never alone at the foot of a page.
    for contributions in range(0, 60, 3):
        pdf = render_pdf(
            sample_summary(evaluation=evaluation_items(), contributions=tuple(f"Bijdrage {n}" for n in
                                                                              range(contributions)))
        )  # fmt: skip
        pages = poll_pages(pdf)
        assert page_of(pages, "Evaluatie Vraag n Verdeling") == page_of(pages, "De casus was herkenbaar"), (
            contributions
        )


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
