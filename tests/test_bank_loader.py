"""The dilemma file loader (beraad.bank.loader): parsing, errors with file and line, round trips.

Pure unit tests: no database, no app. The last part checks the real bank in dilemma_bank/.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from beraad.bank import loader
from beraad.bank.loader import (
    DEFAULT_MAX_BYTES,
    LANGUAGES,
    LEVELS,
    OPTION_KEYS,
    STATUSES,
    BankError,
    DilemmaData,
    DilemmaFileError,
    DilemmaOption,
    dump_dilemma,
    load_bank,
    parse_dilemma,
    read_dilemma_file,
)

REPO_DIR = Path(__file__).resolve().parent.parent
BANK_DIR = REPO_DIR / "dilemma_bank"
REAL_FILES = sorted(p for p in BANK_DIR.glob("*.md") if p.name.lower() != "readme.md")

BODY = (
    'Je leidinggevende vraagt je de conclusies van een evaluatie "genuanceerder" te maken.\n'
    "De cijfers zijn volgens jou helder.\n"
    "\n"
    "**Pas je de conclusies aan?**"
)

# Line numbers matter: the error tests below point at them.
VALID_LINES = [
    "---",  # 1
    "id: rapport-afzwakken",  # 2
    'title: Het rapport moet "genuanceerder"',  # 3
    "language: nl",  # 4
    "themes: [tegenspraak, politieke-druk, onderzoek]",  # 5
    "levels: [rijk, provincie, gemeente]",  # 6
    "roles: [beleidsmedewerker, leidinggevende]",  # 7
    "status: published",  # 8
    "options:",  # 9
    "  - key: A",  # 10
    "    text: Je past de conclusies aan zoals gevraagd.",  # 11
    "  - key: B",  # 12
    "    text: Je weigert en legt je bezwaar vast.",  # 13
    "  - key: C",  # 14
    "    text: Je vraagt eerst om een gesprek met de directeur.",  # 15
    "  - key: D",  # 16
    "    text: Je meldt het bij de vertrouwenspersoon.",  # 17
    'sources: ["WODC-affaire, 2017"]',  # 18
    "---",  # 19
]
BODY_LINE = len(VALID_LINES) + 1  # 20
VALID_TEXT = "\n".join(VALID_LINES) + "\n" + BODY + "\n"

EXPECTED = DilemmaData(
    id="rapport-afzwakken",
    title='Het rapport moet "genuanceerder"',
    body=BODY,
    language="nl",
    status="published",
    themes=("tegenspraak", "politieke-druk", "onderzoek"),
    levels=("rijk", "provincie", "gemeente"),
    roles=("beleidsmedewerker", "leidinggevende"),
    options=(
        DilemmaOption("A", "Je past de conclusies aan zoals gevraagd."),
        DilemmaOption("B", "Je weigert en legt je bezwaar vast."),
        DilemmaOption("C", "Je vraagt eerst om een gesprek met de directeur."),
        DilemmaOption("D", "Je meldt het bij de vertrouwenspersoon."),
    ),
    sources=("WODC-affaire, 2017",),
)


def variant(
    replace: dict[int, str | None] | None = None, insert: dict[int, str] | None = None, body: str = BODY
) -> str:
    """The valid file with line N (1-based) replaced (None = removed) or a line inserted before N."""
    replace, insert = replace or {}, insert or {}
    out = []
    for number, line in enumerate(VALID_LINES, start=1):
        if number in insert:
            out.append(insert[number])
        if number in replace:
            if replace[number] is not None:
                out.append(replace[number])
        else:
            out.append(line)
    return "\n".join(out) + "\n" + body + "\n"


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def assert_located(error: DilemmaFileError, path: Path | str, line: int | None, *fragments: str) -> None:
    """The error names the file and (when given) the line, in its attributes and its message."""
    assert error.path == str(path)
    assert error.line == line, f"expected line {line}, got {error.line}: {error}"
    prefix = f"{path}:{line}: " if line else f"{path}: "
    assert str(error).startswith(prefix), str(error)
    for fragment in fragments:
        assert fragment.lower() in error.message.lower(), error.message


def read_error(tmp_path: Path, text: str | bytes, name: str = "rapport-afzwakken.md", **kwargs):
    path = write(tmp_path, name, text)
    with pytest.raises(DilemmaFileError) as info:
        read_dilemma_file(path, **kwargs)
    return path, info.value


# --- valid files --------------------------------------------------------------------------------


def test_valid_file_parses_to_expected_data(tmp_path):
    path = write(tmp_path, "rapport-afzwakken.md", VALID_TEXT)
    data = read_dilemma_file(path)
    assert data == EXPECTED
    # Field by field as well, so a failure says which one.
    for name in ("id", "title", "body", "language", "status", "themes", "levels", "roles", "sources"):
        assert getattr(data, name) == getattr(EXPECTED, name), name
    assert [(o.key, o.text) for o in data.options] == [
        ("A", "Je past de conclusies aan zoals gevraagd."),
        ("B", "Je weigert en legt je bezwaar vast."),
        ("C", "Je vraagt eerst om een gesprek met de directeur."),
        ("D", "Je meldt het bij de vertrouwenspersoon."),
    ]
    assert data.path == str(path)
    assert isinstance(data.themes, tuple) and isinstance(data.options, tuple)


def test_missing_optional_keys_get_defaults():
    data = parse_dilemma("---\nid: kaal\ntitle: Alleen een titel\n---\nDe casus.\n", "kaal.md")
    assert data == DilemmaData(id="kaal", title="Alleen een titel", body="De casus.")
    assert data.language == "nl"
    assert data.status == "draft"
    assert data.themes == data.levels == data.roles == data.sources == ()
    assert data.options == ()
    assert data.path == "kaal.md"


def test_values_are_stripped_and_empty_lists_allowed():
    text = (
        "---\nid: '  spaties  '\ntitle: '  Titel met spaties  '\nthemes: []\nlevels:\nroles: [ a-b ]\n"
        "options:\n---\n\n\nDe casus.\n\n\n"
    )
    data = parse_dilemma(text, "spaties.md")
    assert (data.id, data.title, data.body) == ("spaties", "Titel met spaties", "De casus.")
    assert data.themes == data.levels == () and data.roles == ("a-b",) and data.options == ()


def test_options_may_run_up_to_f():
    options = "".join(f"  - key: {k}\n    text: Optie {k}\n" for k in OPTION_KEYS)
    data = parse_dilemma(f"---\nid: zes\ntitle: Zes\noptions:\n{options}---\nTekst\n")
    assert [o.key for o in data.options] == list("ABCDEF")


def test_to_dict_and_from_dict_round_trip():
    assert DilemmaData.from_dict(EXPECTED.to_dict()) == EXPECTED
    assert "path" not in EXPECTED.to_dict()
    assert EXPECTED.to_dict()["options"][0] == {
        "key": "A",
        "text": "Je past de conclusies aan zoals gevraagd.",
    }


def test_utf8_bom_is_accepted(tmp_path):
    path = write(tmp_path, "rapport-afzwakken.md", b"\xef\xbb\xbf" + VALID_TEXT.encode("utf-8"))
    assert read_dilemma_file(path) == EXPECTED


def test_crlf_line_endings_are_accepted(tmp_path):
    path = write(tmp_path, "rapport-afzwakken.md", VALID_TEXT.replace("\n", "\r\n"))
    data = read_dilemma_file(path)
    assert data == EXPECTED
    assert "\r" not in data.body


def test_crlf_error_lines_still_count_lines(tmp_path):
    text = variant(replace={8: "status: concept"}).replace("\n", "\r\n")
    path, error = read_error(tmp_path, text)
    assert_located(error, path, 8, "concept")


# --- errors: one case each, with file and line ---------------------------------------------------


@pytest.mark.parametrize(
    ("line", "bad"),
    [
        (8, "status: published: ja"),  # mapping values are not allowed here
        (7, "roles: [beleidsmedewerker, leidinggevende]]"),  # stray bracket
        (5, "themes: [tegenspraak, *onbekend]"),  # undefined alias
        (4, "\tlanguage: nl"),  # tab as indentation
    ],
)
def test_broken_yaml_names_file_and_line_of_the_problem(tmp_path, line, bad):
    path, error = read_error(tmp_path, variant(replace={line: bad}))
    assert_located(error, path, line, "broken YAML")


def test_missing_title(tmp_path):
    path, error = read_error(tmp_path, variant(replace={3: None}))
    assert_located(error, path, 2, "title")  # no title line: the front matter's first line


def test_empty_title_names_its_line(tmp_path):
    path, error = read_error(tmp_path, variant(replace={3: 'title: "   "'}))
    assert_located(error, path, 3, "title")


@pytest.mark.parametrize("empty", ["id:", 'id: ""', "id: '   '"])
def test_empty_id_names_its_line(tmp_path, empty):
    # Put the id after the title so "line 2" cannot be right by accident.
    text = variant(replace={2: 'title: Het rapport moet "genuanceerder"', 3: empty})
    path, error = read_error(tmp_path, text)
    assert_located(error, path, 3, "id")


def test_unknown_key_names_its_line(tmp_path):
    path, error = read_error(tmp_path, variant(insert={9: "auteur: Piet"}))
    assert_located(error, path, 9, "unknown key", "auteur")


def test_misspelled_key_names_its_line(tmp_path):
    path, error = read_error(tmp_path, variant(replace={6: "level: [rijk]"}))
    assert_located(error, path, 6, "unknown key", "level")


def test_unknown_status_names_its_line(tmp_path):
    path, error = read_error(tmp_path, variant(replace={8: "status: concept"}))
    assert_located(error, path, 8, "unknown status", "concept")


def test_unknown_level_names_its_line(tmp_path):
    path, error = read_error(tmp_path, variant(replace={6: "levels: [rijk, ministerie]"}))
    assert_located(error, path, 6, "unknown level", "ministerie")


def test_waterschap_and_uitvoering_are_levels_of_their_own():
    text = variant(replace={6: "levels: [waterschap, uitvoering]"})
    assert parse_dilemma(text, "rapport-afzwakken.md").levels == ("waterschap", "uitvoering")


def test_unknown_language_names_its_line(tmp_path):
    path, error = read_error(tmp_path, variant(replace={4: "language: de"}))
    assert_located(error, path, 4, "language")


@pytest.mark.parametrize(
    "slug",
    [
        "Rapport-Afzwakken",
        "rapport_afzwakken",
        "rapport--afzwakken",
        "-rapport",
        "rapport afzwakken",
        "rapport-é",
        "a" * 101,
    ],
)
def test_bad_slug_id_names_its_line(tmp_path, slug):
    path, error = read_error(tmp_path, variant(replace={2: f"id: '{slug}'"}), name="bad-slug.md")
    assert_located(error, path, 2, "id")


def test_id_not_matching_file_name(tmp_path):
    path, error = read_error(tmp_path, VALID_TEXT, name="ander-bestand.md")
    assert_located(error, path, 2, "rapport-afzwakken", "ander-bestand.md")


def test_id_not_matching_file_name_names_the_id_line(tmp_path):
    text = variant(replace={2: 'title: Het rapport moet "genuanceerder"', 3: "id: rapport-afzwakken"})
    path, error = read_error(tmp_path, text, name="ander-bestand.md")
    assert_located(error, path, 3, "ander-bestand.md")


def test_two_files_cannot_share_an_id_because_the_id_is_the_file_name(tmp_path):
    write(tmp_path, "rapport-afzwakken.md", VALID_TEXT)
    write(tmp_path, "kopie.md", VALID_TEXT)
    with pytest.raises(BankError) as info:
        load_bank(tmp_path)
    [error] = info.value.errors
    assert_located(error, tmp_path / "kopie.md", 2, "does not match")


def test_duplicate_id_across_two_files(tmp_path, monkeypatch):
    # With the id == file name rule two files in one folder cannot share an id; take that rule away
    # so load_bank's own duplicate check is exercised.
    monkeypatch.setattr(
        loader, "read_dilemma_file", lambda path, max_bytes: parse_dilemma(path.read_text("utf-8"), str(path))
    )
    first = write(tmp_path, "a-eerste.md", VALID_TEXT)
    second = write(tmp_path, "b-tweede.md", VALID_TEXT)
    with pytest.raises(BankError) as info:
        load_bank(tmp_path)
    [error] = info.value.errors
    assert_located(error, second, 2, "duplicate id", "rapport-afzwakken")
    assert str(first) in error.message
    assert str(second) in str(info.value)


def test_non_utf8_file_names_line_of_bad_byte(tmp_path):
    raw = VALID_TEXT.encode("utf-8").replace(b"Je weigert", b"Je w\xe9igert")  # Latin-1 é on line 13
    path, error = read_error(tmp_path, raw)
    assert_located(error, path, 13, "UTF-8")


def test_non_utf8_byte_in_body_names_its_line(tmp_path):
    raw = VALID_TEXT.encode("utf-8") + b"\nregel 22 met \xff\n"
    path, error = read_error(tmp_path, raw)
    assert_located(error, path, BODY_LINE + len(BODY.split("\n")) + 1, "UTF-8")


def test_body_over_size_limit(tmp_path):
    big = "woord " * (DEFAULT_MAX_BYTES // 6 + 10)
    path, error = read_error(tmp_path, variant(body=big))
    assert_located(error, path, None, str(DEFAULT_MAX_BYTES))


def test_size_limit_counts_bytes_and_is_configurable(tmp_path):
    path = write(tmp_path, "rapport-afzwakken.md", VALID_TEXT)
    size = len(VALID_TEXT.encode("utf-8"))
    assert read_dilemma_file(path, max_bytes=size) == EXPECTED
    with pytest.raises(DilemmaFileError) as info:
        read_dilemma_file(path, max_bytes=size - 1)
    assert_located(info.value, path, None, "larger")
    # Multi-byte characters count as bytes, not characters.
    text = "---\nid: x\ntitle: t\n---\n" + "€" * 100 + "\n"
    with pytest.raises(DilemmaFileError):
        parse_dilemma(text, "x.md", max_bytes=len(text) + 10)


@pytest.mark.parametrize(
    "text",
    ["id: x\ntitle: t\n---\nTekst\n", "\n---\nid: x\ntitle: t\n---\nTekst\n", "# Alleen Markdown\n", ""],
)
def test_missing_front_matter(tmp_path, text):
    path, error = read_error(tmp_path, text, name="x.md")
    assert_located(error, path, 1, "---")


def test_unclosed_front_matter(tmp_path):
    text = "\n".join(VALID_LINES[:-1]) + "\n" + BODY + "\n"
    path, error = read_error(tmp_path, text)
    assert_located(error, path, 1, "not closed")


@pytest.mark.parametrize("body", ["", "\n\n", "   \n\t\n  "])
def test_empty_body_names_line_after_front_matter(tmp_path, body):
    path, error = read_error(tmp_path, variant(body=body))
    assert_located(error, path, BODY_LINE, "body")


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (["  - key: A", "    text: Een", "  - key: C", "    text: Drie"], "in order"),
        (["  - key: B", "    text: Twee", "  - key: C", "    text: Drie"], "in order"),
        (["  - key: B", "    text: Twee", "  - key: A", "    text: Een"], "in order"),
        (["  - key: A", "    text: Een"], "at least two"),
        (["  - key: A", "    text: Een", "    extra: x", "  - key: B", "    text: Twee"], "key and text"),
        (["  - key: A", "  - key: B", "    text: Twee"], "key and text"),
        (["  - key: A", "    text: ''", "  - key: B", "    text: Twee"], "needs a text"),
        (["  - key: G", "    text: Zeven", "  - key: B", "    text: Twee"], "A-F"),
        (["  - Een", "  - Twee"], "key and text"),
        (["    key: A"], "list"),
    ],
)
def test_bad_options_name_the_options_line(tmp_path, options, fragment):
    lines = VALID_LINES[:9] + options + VALID_LINES[17:]
    path, error = read_error(tmp_path, "\n".join(lines) + "\n" + BODY + "\n")
    assert_located(error, path, 9, fragment)


@pytest.mark.parametrize(
    ("line", "bad", "fragment"),
    [
        (5, "themes: tegenspraak", "themes"),
        (5, "themes: {a: b}", "themes"),
        (5, "themes: [1, 2]", "themes"),
        (5, "themes: [Tegen Spraak]", "themes"),
        (5, "themes: [tegenspraak, tegenspraak]", "twice"),
        (6, "levels: rijk", "levels"),
        (7, "roles: beleidsmedewerker", "roles"),
        (18, "sources: WODC", "sources"),
    ],
)
def test_lists_that_are_not_lists_name_their_line(tmp_path, line, bad, fragment):
    path, error = read_error(tmp_path, variant(replace={line: bad}))
    assert_located(error, path, line, fragment)


def test_front_matter_that_is_not_a_mapping(tmp_path):
    path, error = read_error(tmp_path, "---\n- id\n- title\n---\nTekst\n", name="x.md")
    assert_located(error, path, 2, "mapping")


def test_control_character_in_front_matter_names_its_line(tmp_path):
    path, error = read_error(tmp_path, variant(replace={7: "roles: [beleids\x0bmedewerker]"}))
    assert_located(error, path, 7)


def test_unknown_non_string_key_names_its_line(tmp_path):
    path, error = read_error(tmp_path, variant(insert={9: "yes: 1"}))
    assert_located(error, path, 9, "unknown key")


# --- load_bank ----------------------------------------------------------------------------------


def good_text(slug: str) -> str:
    return VALID_TEXT.replace("id: rapport-afzwakken", f"id: {slug}")


def test_load_bank_loads_a_folder_sorted(tmp_path):
    for slug in ("c-derde", "a-eerste", "b-tweede"):
        write(tmp_path, f"{slug}.md", good_text(slug))
    write(tmp_path, "notities.txt", "geen dilemma")
    dilemmas = load_bank(tmp_path)
    assert [d.id for d in dilemmas] == ["a-eerste", "b-tweede", "c-derde"]
    assert all(d == dataclasses.replace(EXPECTED, id=d.id) for d in dilemmas)


def test_load_bank_is_all_or_nothing_and_lists_every_bad_file(tmp_path):
    for slug in ("a-goed", "c-goed", "e-goed"):
        write(tmp_path, f"{slug}.md", good_text(slug))
    bad_status = write(tmp_path, "b-fout.md", good_text("b-fout").replace("status: published", "status: x"))
    bad_yaml = write(tmp_path, "d-fout.md", good_text("d-fout").replace("levels: [", "levels: [[["))
    result = None
    with pytest.raises(BankError) as info:
        result = load_bank(tmp_path)
    assert result is None
    errors = info.value.errors
    assert [e.path for e in errors] == [str(bad_status), str(bad_yaml)]
    assert errors[0].line == 8
    assert all(isinstance(e, DilemmaFileError) for e in errors)
    message = str(info.value)
    assert f"{bad_status}:8:" in message and str(bad_yaml) in message
    assert "a-goed" not in message and "e-goed" not in message


def test_load_bank_ignores_readme(tmp_path):
    write(tmp_path, "README.md", "# Dilemmabank\n\nHoe je een dilemma schrijft.\n")
    write(tmp_path, "rapport-afzwakken.md", VALID_TEXT)
    assert load_bank(tmp_path) == [EXPECTED]


def test_load_bank_ignores_readme_in_any_case(tmp_path):
    write(tmp_path, "readme.md", "geen front matter")
    assert load_bank(tmp_path) == []


def test_load_bank_accepts_a_single_file(tmp_path):
    path = write(tmp_path, "rapport-afzwakken.md", VALID_TEXT)
    assert load_bank(path) == [EXPECTED]


def test_load_bank_missing_folder(tmp_path):
    with pytest.raises(BankError) as info:
        load_bank(tmp_path / "bestaat-niet")
    assert str(tmp_path / "bestaat-niet") in str(info.value)


def test_load_bank_passes_the_size_limit_on(tmp_path):
    write(tmp_path, "rapport-afzwakken.md", VALID_TEXT)
    with pytest.raises(BankError) as info:
        load_bank(tmp_path, max_bytes=100)
    assert "100 bytes" in str(info.value)


# --- dump and parse round trip ------------------------------------------------------------------


TRICKY = DilemmaData(
    id="citaten-en-tekens",
    title='Het rapport moet "genuanceerder": “echt” of ‘niet’? # geen commentaar — café 🙂',
    body=(
        "## Situatie\n\n"
        'Marloes (beleidsmedewerker) krijgt de vraag: *kan het "zachter"?*\n\n'
        "- punt één: ‘enkel’ & “dubbel”\n"
        "- punt twee: 'rechte' quotes, een # hekje en een dubbele punt:\n\n"
        "---\n\n"
        "> citaat met `code: ja`\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "**Wat doe je? 🤔**"
    ),
    language="en",
    status="review",
    themes=("tegenspraak", "politieke-druk"),
    levels=("gemeente",),
    roles=("beleidsmedewerker",),
    options=(
        DilemmaOption("A", 'Ja: ik pas het aan, "zoals gevraagd".'),
        DilemmaOption("B", "Nee — ik zeg ‘nee’ en leg het vast: #1 prioriteit."),
        DilemmaOption("C", "- begint met een streepje"),
    ),
    sources=("WODC-affaire, 2017", "“Citaat”: bron — geen kopie", "null", "yes", "123", "2017-01-01"),
)


def test_dump_then_parse_round_trips_exactly():
    text = dump_dilemma(TRICKY)
    parsed = parse_dilemma(text, "x.md")
    assert parsed == TRICKY
    assert parsed.to_dict() == TRICKY.to_dict()
    assert dump_dilemma(parsed) == text
    assert "“echt”" in text and "🙂" in text  # written as UTF-8, not as \u escapes


def test_dump_of_the_example_file_round_trips(tmp_path):
    data = parse_dilemma(VALID_TEXT)
    path = write(tmp_path, "rapport-afzwakken.md", dump_dilemma(data))
    assert read_dilemma_file(path) == data == EXPECTED


def test_dump_without_options_writes_no_options_key():
    data = DilemmaData(id="x", title="t", body="b")
    text = dump_dilemma(data)
    assert "options" not in text
    assert parse_dilemma(text) == data


@pytest.mark.parametrize(
    "data",
    [
        DilemmaData(id="x", title="a" * 100 + " ---", body="Tekst"),
        DilemmaData(
            id="x",
            title="t",
            body="Tekst",
            options=(DilemmaOption("A", "een\n---\ntwee"), DilemmaOption("B", "drie")),
        ),
    ],
    ids=["folded-title", "multiline-option"],
)
def test_dump_parse_round_trip_with_dashes_line_in_a_value(data):
    assert parse_dilemma(dump_dilemma(data)) == data


# --- Hypothesis: round trip property and fuzz ---------------------------------------------------

slugs = st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,3}", fullmatch=True)
# Printable Unicode: no control characters, surrogates or line/paragraph separators.
printable = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp"))
yaml_specials = st.sampled_from(list(":\"'#-&*!|>{}[]%@`?,“”‘’ "))


def one_line_text(min_size: int = 1, max_size: int = 80):
    return (
        st.text(st.one_of(printable, yaml_specials), min_size=min_size, max_size=max_size)
        .map(str.strip)
        .filter(bool)
    )


# A title ending in " ---" that YAML folds onto its own line is the known bug tested above.
titles = one_line_text(max_size=200).filter(lambda t: not t.endswith("---"))
markdown_lines = st.one_of(
    st.text(st.one_of(printable, yaml_specials), max_size=60),
    st.sampled_from(["", "---", "# Kop", "- item", "1. een", "> citaat", "**Vraag?**", "```", "| a |"]),
)
bodies = st.lists(markdown_lines, min_size=1, max_size=15).map(lambda ls: "\n".join(ls).strip()).filter(bool)


def make_options(texts: list[str]) -> tuple[DilemmaOption, ...]:
    return tuple(DilemmaOption(key, text) for key, text in zip(OPTION_KEYS[: len(texts)], texts, strict=True))


option_sets = st.sampled_from([0, 2, 3, 4, 5, 6]).flatmap(
    lambda n: st.lists(one_line_text(), min_size=n, max_size=n).map(make_options)
)
dilemmas = st.builds(
    DilemmaData,
    id=slugs,
    title=titles,
    body=bodies,
    language=st.sampled_from(LANGUAGES),
    status=st.sampled_from(STATUSES),
    themes=st.lists(slugs, unique=True, max_size=5).map(tuple),
    levels=st.lists(st.sampled_from(LEVELS), unique=True).map(tuple),
    roles=st.lists(slugs, unique=True, max_size=4).map(tuple),
    options=option_sets,
    sources=st.lists(one_line_text(), unique=True, max_size=3).map(tuple),
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dilemmas)
def test_property_dump_then_parse_gives_the_same_data(data):
    text = dump_dilemma(data)
    parsed = parse_dilemma(text, "prop.md")
    assert parsed == data
    assert dump_dilemma(parsed) == text


def parse_or_file_error(text: str) -> None:
    try:
        result = parse_dilemma(text, "fuzz.md")
    except DilemmaFileError as error:
        assert error.path == "fuzz.md"
        assert error.line is None or error.line >= 1
        assert str(error).startswith("fuzz.md")
    else:
        assert isinstance(result, DilemmaData)
        assert result.body.strip() and result.title.strip()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_fuzz_arbitrary_text_returns_data_or_file_error(text):
    parse_or_file_error(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.text(max_size=100))
def test_fuzz_arbitrary_front_matter_returns_data_or_file_error(front, body):
    parse_or_file_error(f"---\n{front}\n---\n{body}")


YAMLISH_LINES = [
    "id: x",
    "id: Foo",
    "id: ''",
    "id: [a]",
    "id:",
    "title: t",
    "title:",
    "title: {a: b}",
    "title: 'q''",
    'title: "a: b"',
    "title: |",
    "title: >-",
    "  vervolg",
    "language: nl",
    "language: fr",
    "language: 1",
    "status: published",
    "status: [draft]",
    "status: ~",
    "themes: [a, b]",
    "themes: a",
    "themes: [a, a]",
    "themes: [A B]",
    "themes: [1]",
    "levels: [rijk]",
    "levels: [zee]",
    "levels: {a: 1}",
    "roles: []",
    "options:",
    "  - key: A",
    "    text: x",
    "  - key: B",
    "    text: y",
    "  - key: C",
    "    text:",
    "  - {key: A, text: x, extra: 1}",
    "  - A",
    "options: [{key: A, text: a}, {key: B, text: b}]",
    "sources: ['x']",
    "sources: [1, 2]",
    "sources: {}",
    "onbekend: 1",
    "yes: no",
    "1: 2",
    "~: x",
    "? complex",
    ": value",
    "a: &anker [1, 2]",
    "b: *anker",
    "c: *missing",
    "!!str d: e",
    "e: !!set {a}",
    "f: !!binary aGFsbG8=",
    "g: !!binary ???",
    "h: !!python/object:os.system ls",
    "- lijst",
    "[",
    "]",
    "{",
    "}",
    "'",
    '"',
    "|",
    ">",
    "%YAML 1.1",
    "...",
    "---",
    " ---",
    "--- x",
    "\t",
    "    ",
    "",
    "key: value: other",
    "x: 'unterminated",
    "- - - a",
    "@reserved",
    "`backtick",
    "é: ü",
    "“a”: ‘b’",
]
yamlish_front = st.lists(st.one_of(st.sampled_from(YAMLISH_LINES), st.text(max_size=15)), max_size=12)


@settings(max_examples=300, deadline=None)
@given(yamlish_front, st.sampled_from(["---", " ---", "--- ", ""]), st.text(max_size=40))
@example(["id: x", "title: t"], "---", "Tekst")
@example(["id: x", "title: t", "c: *missing"], "---", "Tekst")
def test_fuzz_yamlish_front_matter_returns_data_or_file_error(lines, closing, body):
    parse_or_file_error("---\n" + "\n".join(lines) + f"\n{closing}\n{body}")


@pytest.mark.parametrize(
    "value",
    [
        "sources: [2024-02-30]",  # implicit timestamp with an impossible date -> ValueError
        "sources: [0000-01-01]",  # year 0 -> ValueError
        "sources: [!!int twaalf]",  # ValueError
        "sources: [!!float x]",  # ValueError
        "sources: [!!bool misschien]",  # KeyError
        "sources: [!!timestamp gisteren]",  # AttributeError
    ],
)
def test_yaml_constructor_errors_become_file_errors(value):
    with pytest.raises(DilemmaFileError) as info:
        parse_dilemma(f"---\nid: x\ntitle: t\n{value}\n---\nTekst\n", "x.md")
    assert_located(info.value, "x.md", 4)


def test_deeply_nested_yaml_is_a_file_error():
    with pytest.raises(DilemmaFileError) as info:
        parse_dilemma("---\nid: x\ntitle: t\nsources: " + "[" * 2000 + "\n---\nTekst\n", "x.md")
    assert info.value.path == "x.md" and info.value.line


def test_lone_surrogate_is_a_file_error():
    with pytest.raises(DilemmaFileError):
        parse_dilemma("---\nid: x\ntitle: t\udcff\n---\nTekst\n", "x.md")


# --- the real bank (dilemma_bank/) --------------------------------------------------------------


@pytest.mark.parametrize("path", REAL_FILES, ids=[p.name for p in REAL_FILES])
def test_real_dilemma_file(path):
    """Every shipped file, drafts included, passes the gate a dilemma meets when it is published
    (beraad/bank/quality.py: words, closing question, options, themes, level)."""
    from beraad.bank.quality import publication_problems

    data = read_dilemma_file(path)
    assert data.id == path.stem
    assert data.title.strip()
    assert publication_problems(data) == [], path.name
    assert parse_dilemma(dump_dilemma(data), str(path)) == data


def test_real_bank_is_big_enough_and_covers_option_sets():
    dilemmas = load_bank(BANK_DIR)
    published = [d for d in dilemmas if d.status == "published"]
    assert len(published) >= 24, f"only {len(published)} published dilemmas"
    four_options = [d.id for d in published if [o.key for o in d.options][:4] == list("ABCD")]
    assert len(four_options) >= 5, f"only {len(four_options)} published dilemmas with options A-D"


@pytest.mark.parametrize(("line", "key"), [(5, "themes"), (7, "roles")])
def test_a_tag_longer_than_its_column_names_file_and_line(tmp_path, line, key):
    """61 characters: SQLite would store it, PostgreSQL (varchar(60)) refuses it at import."""
    long = "a" + "-b" * 30
    path, error = read_error(tmp_path, variant(replace={line: f"{key}: [onderzoek, {long}]"}))
    assert_located(error, path, line, key, "longer than 60")


def test_a_tag_of_sixty_characters_is_fine():
    text = variant(replace={5: "themes: [" + "a" * 60 + "]"})
    assert parse_dilemma(text, "rapport-afzwakken.md").themes == ("a" * 60,)
