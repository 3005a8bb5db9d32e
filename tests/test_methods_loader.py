"""The method loader (beraad.methods.loader): parsing, errors with file and line, round trips.

Pure unit tests: no database, no app. The last part checks the real method files in methods/.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from beraad.methods.loader import (
    EVALUATION_FILE,
    MAX_FILE_BYTES,
    Method,
    MethodFileError,
    MethodsError,
    Option,
    PollSpec,
    Scale,
    Step,
    Text,
    load_methods,
    parse_evaluation,
    parse_method,
)

REPO_DIR = Path(__file__).resolve().parent.parent
METHODS_DIR = REPO_DIR / "methods"
REAL_FILES = sorted(p for p in METHODS_DIR.glob("*.yaml") if not p.name.startswith("_"))
SHARED_EVALUATION = METHODS_DIR / EVALUATION_FILE
PATH = "methods/proef.yaml"

# Line numbers matter: the error tests below point at them.
VALID_LINES = [
    "key: proef",  # 1
    "name:",  # 2
    "  nl: Proefmethode",  # 3
    "  en: Trial method",  # 4
    "summary: {nl: Een korte proef., en: A short trial.}",  # 5
    "minutes: 55",  # 6
    "group_size: [3, 12]",  # 7
    "dilemmas: [2, 4]",  # 8
    "steps:",  # 9
    "  - key: kiezen",  # 10
    "    title: {nl: Kiezen, en: Choose}",  # 11
    "    minutes: 5",  # 12
    "    repeat: each_dilemma",  # 13
    '    prompt: {nl: "Wat zou jij doen?", en: "What would you do?"}',  # 14
    "    facilitator: {nl: Open de stemming., en: Open the vote.}",  # 15
    "    poll:",  # 16
    "      type: choice",  # 17
    "      question: {nl: Wat doe je, en: What do you do}",  # 18
    "      options: from_dilemma",  # 19
    "  - key: opnieuw",  # 20
    "    title: {nl: Opnieuw, en: Again}",  # 21
    "    minutes: 5",  # 22
    "    repeat: each_dilemma",  # 23
    "    prompt: {nl: Kies opnieuw., en: Choose again.}",  # 24
    "    facilitator: {nl: Toon de verschuiving., en: Show the shift.}",  # 25
    "    poll:",  # 26
    "      type: choice",  # 27
    "      question: {nl: En nu, en: And now}",  # 28
    "      options: from_dilemma",  # 29
    "      compare_with: kiezen",  # 30
    "  - key: stelling",  # 31
    "    title: {nl: Stelling, en: Statement}",  # 32
    "    minutes: 10",  # 33
    "    prompt: {nl: Kies A of B., en: Choose A or B.}",  # 34
    "    facilitator: {nl: Lees de stelling voor., en: Read the statement aloud.}",  # 35
    "    poll:",  # 36
    "      type: choice",  # 37
    "      question: {nl: Eens of oneens, en: Agree or disagree}",  # 38
    "      options:",  # 39
    "        - key: A",  # 40
    "          text: {nl: Eens, en: Agree}",  # 41
    "        - key: B",  # 42
    "          text: {nl: Oneens, en: Disagree}",  # 43
    "  - key: gevoel",  # 44
    "    title: {nl: Gevoel, en: Feeling}",  # 45
    "    minutes: 10",  # 46
    "    prompt: {nl: Hoe voel je je, en: How do you feel}",  # 47
    "    facilitator: {nl: Toon de spreiding., en: Show the spread.}",  # 48
    "    poll:",  # 49
    "      type: scale",  # 50
    "      question: {nl: Hoe gerust ben je, en: How at ease are you}",  # 51
    "      options:",  # 52
    "        min: 1",  # 53
    "        max: 5",  # 54
    "        labels:",  # 55
    "          min: {nl: Onrustig, en: Uneasy}",  # 56
    "          max: {nl: Gerust, en: At ease}",  # 57
    "  - key: waarden",  # 58
    "    title: {nl: Waarden, en: Values}",  # 59
    "    minutes: 10",  # 60
    "    prompt: {nl: Zet de waarden op volgorde., en: Rank the values.}",  # 61
    "    facilitator: {nl: Vraag naar de hoogste., en: Ask about the top one.}",  # 62
    "    poll:",  # 63
    "      type: ranking",  # 64
    "      question: {nl: Wat weegt het zwaarst, en: What weighs most}",  # 65
    "      options:",  # 66
    "        - {key: eerlijkheid, text: {nl: Eerlijkheid, en: Honesty}}",  # 67
    "        - {key: loyaliteit, text: {nl: Loyaliteit, en: Loyalty}}",  # 68
    "        - {key: zorg, text: {nl: Zorg, en: Care}}",  # 69
    "  - key: reactie",  # 70
    "    title: {nl: Reactie, en: Reaction}",  # 71
    "    minutes: 5",  # 72
    "    prompt: {nl: Schrijf je reactie op., en: Write down your reaction.}",  # 73
    "    facilitator: {nl: Lees de reacties voor., en: Read the reactions aloud.}",  # 74
    "    poll:",  # 75
    "      type: text",  # 76
    "      question: {nl: Wat neem je mee, en: What do you take away}",  # 77
    "      max_length: 500",  # 78
]
VALID_TEXT = "\n".join(VALID_LINES) + "\n"

# An evaluation list to append to VALID_LINES (its lines are 79 onwards).
OWN_EVALUATION_LINES = [
    "evaluation:",  # 79
    "  - key: nuttig",  # 80
    "    type: scale",  # 81
    "    question: {nl: Was het nuttig, en: Was it useful}",  # 82
    "    options: {min: 1, max: 5}",  # 83
    "  - key: opmerking",  # 84
    "    type: text",  # 85
    "    question: {nl: Opmerkingen, en: Remarks}",  # 86
]


def _text(nl: str, en: str) -> Text:
    return Text(nl=nl, en=en)


EXPECTED = Method(
    key="proef",
    name=_text("Proefmethode", "Trial method"),
    summary=_text("Een korte proef.", "A short trial."),
    minutes=55,
    group_size=(3, 12),
    dilemmas=(2, 4),
    steps=(
        Step(
            key="kiezen",
            title=_text("Kiezen", "Choose"),
            minutes=5,
            prompt=_text("Wat zou jij doen?", "What would you do?"),
            facilitator=_text("Open de stemming.", "Open the vote."),
            each_dilemma=True,
            poll=PollSpec(
                type="choice",
                question=_text("Wat doe je", "What do you do"),
                key="kiezen",
                from_dilemma=True,
            ),
        ),
        Step(
            key="opnieuw",
            title=_text("Opnieuw", "Again"),
            minutes=5,
            prompt=_text("Kies opnieuw.", "Choose again."),
            facilitator=_text("Toon de verschuiving.", "Show the shift."),
            each_dilemma=True,
            poll=PollSpec(
                type="choice",
                question=_text("En nu", "And now"),
                key="opnieuw",
                from_dilemma=True,
                compare_with="kiezen",
            ),
        ),
        Step(
            key="stelling",
            title=_text("Stelling", "Statement"),
            minutes=10,
            prompt=_text("Kies A of B.", "Choose A or B."),
            facilitator=_text("Lees de stelling voor.", "Read the statement aloud."),
            poll=PollSpec(
                type="choice",
                question=_text("Eens of oneens", "Agree or disagree"),
                key="stelling",
                options=(Option("A", _text("Eens", "Agree")), Option("B", _text("Oneens", "Disagree"))),
            ),
        ),
        Step(
            key="gevoel",
            title=_text("Gevoel", "Feeling"),
            minutes=10,
            prompt=_text("Hoe voel je je", "How do you feel"),
            facilitator=_text("Toon de spreiding.", "Show the spread."),
            poll=PollSpec(
                type="scale",
                question=_text("Hoe gerust ben je", "How at ease are you"),
                key="gevoel",
                scale=Scale(1, 5, _text("Onrustig", "Uneasy"), _text("Gerust", "At ease")),
            ),
        ),
        Step(
            key="waarden",
            title=_text("Waarden", "Values"),
            minutes=10,
            prompt=_text("Zet de waarden op volgorde.", "Rank the values."),
            facilitator=_text("Vraag naar de hoogste.", "Ask about the top one."),
            poll=PollSpec(
                type="ranking",
                question=_text("Wat weegt het zwaarst", "What weighs most"),
                key="waarden",
                options=(
                    Option("eerlijkheid", _text("Eerlijkheid", "Honesty")),
                    Option("loyaliteit", _text("Loyaliteit", "Loyalty")),
                    Option("zorg", _text("Zorg", "Care")),
                ),
            ),
        ),
        Step(
            key="reactie",
            title=_text("Reactie", "Reaction"),
            minutes=5,
            prompt=_text("Schrijf je reactie op.", "Write down your reaction."),
            facilitator=_text("Lees de reacties voor.", "Read the reactions aloud."),
            poll=PollSpec(
                type="text",
                question=_text("Wat neem je mee", "What do you take away"),
                key="reactie",
                max_length=500,
            ),
        ),
    ),
    evaluation=(),
    path=PATH,
)


def variant(*changes: tuple[int, list[str]], lines: list[str] | None = None) -> str:
    """VALID_LINES with line n (1-based) replaced by the given lines ([] deletes it).

    Changes are applied from the bottom up, so every n refers to the original numbering.
    """
    result = list(VALID_LINES if lines is None else lines)
    for line_no, replacement in sorted(changes, key=lambda change: change[0], reverse=True):
        result[line_no - 1 : line_no] = replacement
    return "\n".join(result) + "\n"


def after(line_no: int, *new_lines: str, lines: list[str] | None = None) -> tuple[int, list[str]]:
    """A change that keeps line n and inserts new_lines after it (they become n+1, n+2, …)."""
    source = VALID_LINES if lines is None else lines
    return (line_no, [source[line_no - 1], *new_lines])


def fails(text: str, line: int | None, *fragments: str, path: str = PATH) -> MethodFileError:
    """Parse text, expect a MethodFileError naming path and line, with the given message fragments."""
    with pytest.raises(MethodFileError) as caught:
        parse_method(text, path)
    error = caught.value
    assert error.path == path
    assert str(error).startswith(f"{path}:{line}: " if line else f"{path}: ")
    for fragment in fragments:
        assert fragment in error.message
    assert error.line == line, f"expected line {line}, got {error.line}: {error.message}"
    return error


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def method_text(key: str) -> str:
    return VALID_TEXT.replace("key: proef", f"key: {key}", 1)


# --- a valid file ------------------------------------------------------------------------------


def test_valid_method_parses_to_expected_method():
    assert parse_method(VALID_TEXT, PATH) == EXPECTED


def test_path_defaults_to_a_placeholder():
    assert parse_method(VALID_TEXT).path == "<text>"


def test_optional_method_keys_get_defaults():
    text = variant((7, []), (8, []), (13, []), (23, []), (6, ["minutes: 45"]))
    method = parse_method(text, PATH)
    assert method.group_size == (2, 20)
    assert method.dilemmas == (1, 1)
    assert method.minutes == 45
    assert not any(step.each_dilemma for step in method.steps)


def test_own_evaluation_is_parsed():
    method = parse_method("\n".join(VALID_LINES + OWN_EVALUATION_LINES) + "\n", PATH)
    assert method.evaluation == (
        PollSpec(
            type="scale", question=_text("Was het nuttig", "Was it useful"), key="nuttig", scale=Scale(1, 5)
        ),
        PollSpec(type="text", question=_text("Opmerkingen", "Remarks"), key="opmerking"),
    )


def test_multiline_texts_are_stripped_and_text_get_picks_the_language():
    text = variant(
        (5, ["summary:", "  nl: >-", "    Een korte", "    proef.  ", "  en: '  A short trial. '"])
    )
    method = parse_method(text, PATH)
    assert method.summary == _text("Een korte proef.", "A short trial.")
    assert method.summary.get("en") == "A short trial."
    assert method.summary.get("nl") == "Een korte proef."
    assert method.summary.get("de") == "Een korte proef."  # unknown interface language: Dutch


def test_utf8_bom_and_crlf_are_accepted(tmp_path):
    write(tmp_path, "proef.yaml", b"\xef\xbb\xbf" + VALID_TEXT.replace("\n", "\r\n").encode())
    [method] = load_methods(tmp_path)
    assert dataclasses.replace(method, path=PATH) == EXPECTED


def test_poll_may_name_its_own_key_for_compare_with():
    text = variant(after(18, "      key: eerste"), (30, ["      compare_with: eerste"]))
    method = parse_method(text, PATH)
    assert method.steps[0].poll.key == "eerste"
    assert method.steps[1].poll.compare_with == "eerste"


def test_compare_with_between_two_listed_option_sets_with_the_same_keys():
    extra = [
        "  - key: stelling-na",  # 79
        "    title: {nl: Stelling na, en: Statement after}",
        "    minutes: 5",
        "    prompt: {nl: Nog eens., en: Once more.}",
        "    facilitator: {nl: Toon de verschuiving., en: Show the shift.}",
        "    poll:",
        "      type: choice",
        "      question: {nl: Eens of oneens, en: Agree or disagree}",
        "      options:",
        "        - {key: B, text: {nl: Oneens, en: Disagree}}",
        "        - {key: A, text: {nl: Eens, en: Agree}}",
        "      compare_with: stelling",
    ]
    method = parse_method(variant((6, ["minutes: 60"]), after(78, *extra)), PATH)
    assert method.steps[-1].poll.compare_with == "stelling"


def test_minutes_count_repeated_steps_for_the_minimum_number_of_dilemmas():
    # 2 repeated steps of 5 minutes and 4 other steps of 35 minutes in all: 3 dilemmas → 3 × 10 + 35.
    method = parse_method(variant((8, ["dilemmas: [3, 6]"]), (6, ["minutes: 65"])), PATH)
    assert (method.minutes, method.dilemmas) == (65, (3, 6))


# --- errors: each names the file and the line ----------------------------------------------------


@pytest.mark.parametrize(
    ("line", "bad"),
    [
        (12, "    minutes: 5: 6"),  # a second colon
        (11, "    title: {nl: Kiezen, en: Choose}}"),  # a stray brace
        (14, "\tprompt: {nl: tab, en: tab}"),  # a tab as indentation
    ],
)
def test_broken_yaml(line, bad):
    fails(variant((line, [bad])), line, "broken YAML")


def test_broken_yaml_unclosed_quote_names_a_line_inside_the_file():
    # A double-quoted scalar may span lines: PyYAML notices the problem a few lines further on.
    with pytest.raises(MethodFileError) as caught:
        parse_method(variant((5, ['summary: "Een korte proef.'])), PATH)
    assert caught.value.path == PATH
    assert "broken YAML" in caught.value.message
    assert 5 <= caught.value.line <= len(VALID_LINES) + 1


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "\ufeff"])
def test_empty_file(text):
    fails(text, 1, "empty")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("- key: proef\n- name: x\n", 1),
        ("# comment\n\n- key: proef\n", 3),
        ("just words\n", 1),
        ("42\n", 1),
        ("---\n", 1),  # an empty document is null
        ("key: a\n---\nkey: b\n", 2),  # two documents: broken YAML
    ],
)
def test_top_level_not_a_mapping(text, line):
    fails(text, line, "must be a mapping" if "key: b" not in text else "broken YAML")


def test_unknown_top_level_key():
    fails(variant(after(8, "colour: red")), 9, "unknown key 'colour'", "the method")


def test_unknown_step_key():
    fails(variant(after(12, "    colour: red")), 13, "unknown key 'colour'", "a step")


def test_unknown_poll_key():
    fails(variant(after(18, "      colour: red")), 19, "unknown key 'colour'", "poll")


def test_unknown_scale_key():
    fails(variant(after(54, "        step: 1")), 55, "unknown key 'step'", "scale options")


@pytest.mark.parametrize(
    ("changes", "line", "missing"),
    [
        ([(1, [])], 1, "key"),  # the mapping now starts at 'name:' on line 1
        ([(2, []), (3, []), (4, [])], 1, "name"),
        ([(5, [])], 1, "summary"),
        ([(6, [])], 1, "minutes"),
        ([(9, [""])] + [(n, []) for n in range(10, 79)], 1, "steps"),
        ([(11, [])], 10, "title"),
        ([(12, [])], 10, "minutes"),
        ([(14, [])], 10, "prompt"),
        ([(15, [])], 10, "facilitator"),
        ([(17, [])], 17, "type"),  # the poll mapping now starts at its question, now line 17
        ([(18, [])], 17, "question"),
        ([(41, [])], 40, "text"),
        ([(54, [])], 53, "max"),
    ],
)
def test_missing_required_key(changes, line, missing):
    fails(variant(*changes), line, f"missing '{missing}'")


@pytest.mark.parametrize(
    ("change", "line", "missing"),
    [
        ((4, []), 2, "'en'"),  # name: only nl
        ((3, []), 2, "'nl'"),  # name: only en
        ((11, ["    title: {nl: Kiezen}"]), 11, "'en'"),
        ((14, ['    prompt: {nl: "Wat zou jij doen?", en: "   "}']), 14, "'en'"),
        ((15, ["    facilitator: {nl: ~, en: Open the vote.}"]), 15, "'nl'"),
        ((56, ["          min: {en: Uneasy}"]), 56, "'nl'"),
    ],
)
def test_missing_translation(change, line, missing):
    fails(variant(change), line, f"missing the {missing} translation")


def test_text_that_is_not_a_mapping_per_language():
    fails(variant((2, ["name: Proefmethode"]), (3, []), (4, [])), 2, "a text per language")


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (after(4, "  de: Probiermethode"), 5),
        ((11, ["    title: {nl: Kiezen, en: Choose, fr: Choisir}"]), 11),
    ],
)
def test_unknown_language(change, line):
    fails(variant(change), line, "unknown language")


@pytest.mark.parametrize("bad", ["vote", "Choice", "[choice]", "~"])
def test_poll_of_unknown_type(bad):
    fails(variant((17, [f"      type: {bad}"])), 17, "unknown poll type")


@pytest.mark.parametrize(("low", "high"), [(1, 1), (5, 1), (3, 2)])
def test_scale_min_not_below_max(low, high):
    fails(variant((53, [f"        min: {low}"]), (54, [f"        max: {high}"])), 54, "larger than 'min'")


@pytest.mark.parametrize(("low", "high", "line"), [(-1, 5, 53), (1, 11, 54), (1, "five", 54)])
def test_scale_bounds_out_of_range(low, high, line):
    fails(variant((53, [f"        min: {low}"]), (54, [f"        max: {high}"])), line, "whole number")


def test_choice_with_one_option():
    fails(variant((42, []), (43, [])), 39, "2 to 8")


def test_choice_without_options():
    fails(variant((19, [])), 17, "options must be a list")


def test_options_with_duplicate_keys_names_the_repeated_key():
    fails(variant((42, ["        - key: A"])), 42, "same key twice")


def test_options_with_duplicate_keys():
    with pytest.raises(MethodFileError) as caught:
        parse_method(variant((68, ["        - {key: eerlijkheid, text: {nl: Nog eens, en: Again}}"])), PATH)
    assert caught.value.path == PATH
    assert caught.value.line in (66, 68)  # the options line today; the repeated key once fixed
    assert "same key twice" in caught.value.message


@pytest.mark.parametrize("key", ["I", "a_b", "", "Zorg", "-a"])
def test_option_with_bad_key(key):
    fails(variant((40, [f"        - key: '{key}'"])), 40, "option key")


@pytest.mark.parametrize("options", ["[a, b]", "from_dilemma", "{min: 1, max: 5}"])
def test_text_poll_with_options(options):
    fails(variant(after(77, f"      options: {options}")), 78, "a text poll has no options")


def test_ranking_from_dilemma_is_an_error():
    fails(variant((66, ["      options: from_dilemma"]), (67, []), (68, []), (69, [])), 66, "2 to 8")


@pytest.mark.parametrize("length", [0, 19, 1001, "long", "true"])
def test_text_poll_max_length_out_of_range(length):
    fails(variant((78, [f"      max_length: {length}"])), 78, "'max_length'")


def test_compare_with_pointing_nowhere():
    fails(variant((30, ["      compare_with: bestaat-niet"])), 30, "not the key of an earlier poll")


def test_compare_with_pointing_to_a_later_step():
    fails(variant(after(19, "      compare_with: opnieuw")), 20, "not the key of an earlier poll")


def test_compare_with_pointing_to_itself():
    fails(variant(after(19, "      compare_with: kiezen")), 20, "not the key of an earlier poll")


def test_compare_with_between_listed_options_and_from_dilemma():
    fails(variant(after(43, "      compare_with: kiezen")), 44, "same options")


def test_compare_with_between_different_option_sets():
    extra = [
        "  - key: stelling-na",  # 79
        "    title: {nl: Stelling na, en: Statement after}",
        "    minutes: 5",
        "    prompt: {nl: Nog eens., en: Once more.}",
        "    facilitator: {nl: Toon de verschuiving., en: Show the shift.}",
        "    poll:",
        "      type: choice",
        "      question: {nl: Eens of oneens, en: Agree or disagree}",
        "      options:",
        "        - {key: A, text: {nl: Eens, en: Agree}}",
        "        - {key: C, text: {nl: Weet niet, en: Not sure}}",
        "      compare_with: stelling",  # 90
    ]
    fails(variant((6, ["minutes: 60"]), after(78, *extra)), 90, "same options")


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (after(57, "      compare_with: kiezen"), 58),  # a scale poll compared with a choice poll
        (after(69, "      compare_with: stelling"), 70),  # a ranking poll compared with a choice poll
    ],
)
def test_compare_with_on_a_non_choice_poll(change, line):
    fails(variant(change), line, "choice polls only")


def test_compare_with_a_non_choice_poll():
    extra = [
        "  - key: na-gevoel",  # 79
        "    title: {nl: Na, en: After}",
        "    minutes: 5",
        "    prompt: {nl: Nog eens., en: Once more.}",
        "    facilitator: {nl: Toon de verschuiving., en: Show the shift.}",
        "    poll:",
        "      type: choice",
        "      question: {nl: Eens of oneens, en: Agree or disagree}",
        "      options: from_dilemma",
        "      compare_with: gevoel",  # 88: a choice poll compared with a scale poll
    ]
    fails(variant((6, ["minutes: 60"]), after(78, *extra)), 88, "choice polls only")


@pytest.mark.parametrize("value", ["[kiezen]", "{kiezen: 1}"])
def test_compare_with_that_is_not_a_string(value):
    fails(variant((30, [f"      compare_with: {value}"])), 30, "compare_with")


def test_duplicate_step_key():
    fails(variant((20, ["  - key: kiezen"])), 20, "step key 'kiezen' appears twice")


def test_duplicate_poll_key():
    fails(variant(after(28, "      key: kiezen")), 26, "poll key 'kiezen' appears twice")


def test_poll_key_that_is_a_list():
    fails(variant(after(28, "      key: [eerste]")), 29, "key")


def test_poll_key_that_is_not_a_slug():
    fails(variant(after(28, "      key: Tweede Keuze")), 29, "key must be lowercase")


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (after(6, "minutes: 55"), 7),  # top level
        (after(12, "    minutes: 5"), 13),  # in a step
        ((11, ["    title: {nl: Kiezen, nl: Kies, en: Choose}"]), 11),  # in a flow mapping
        (after(53, "        min: 1"), 54),  # in the scale options
    ],
)
def test_duplicate_key_in_a_mapping(change, line):
    fails(variant(change), line, "appears twice")


@pytest.mark.parametrize(
    ("line", "template"),
    [(1, "key: {}"), (10, "  - key: {}"), (80, "  - key: {}")],
)
@pytest.mark.parametrize(
    "bad", ["Proef", "proef_methode", "-proef", "proef-", "proef--x", "pr oef", "''", "5", "~"]
)
def test_bad_key_slug(line, template, bad):
    lines = VALID_LINES + OWN_EVALUATION_LINES
    fails(variant((line, [template.format(bad)]), lines=lines), line, "key must be lowercase")


@pytest.mark.parametrize(("line", "bad"), [(1, 'key: "proef\\n"'), (44, '  - key: "gevoel\\n"')])
def test_key_slug_with_a_trailing_newline(line, bad):
    fails(variant((line, [bad])), line, "key must be lowercase")


@pytest.mark.parametrize(("line", "bad"), [(6, "minutes: 56"), (6, "minutes: 54"), (12, "    minutes: 6")])
def test_minutes_not_equal_to_sum_of_step_minutes(line, bad):
    fails(variant((line, [bad])), 6, "'minutes' is", "for 2 dilemmas")


def test_minutes_count_repeated_steps_once_per_minimum_dilemma():
    # Same steps, but the minimum is 1 dilemma: they add up to 45, not 55.
    error = fails(variant((8, ["dilemmas: [1, 4]"])), 6, "'minutes' is 55 but the steps add up to 45")
    assert "dilemmas" not in error.message


@pytest.mark.parametrize(
    ("line", "bad", "fragment"),
    [
        (6, "minutes: 4", "from 5 to 600"),
        (6, "minutes: 55.0", "whole number"),
        (12, "    minutes: 0", "from 1 to 240"),
        (12, "    minutes: true", "whole number"),
        (7, "group_size: [12, 3]", "'group_size' must be"),
        (7, "group_size: 12", "'group_size' must be"),
        (8, "dilemmas: [0, 4]", "'dilemmas' is [0, 0] (no case) or starts at 1"),
        (8, "dilemmas: [2, 21]", "'dilemmas' must be"),
    ],
)
def test_numbers_out_of_range(line, bad, fragment):
    fails(variant((line, [bad])), line, fragment)


@pytest.mark.parametrize("bad", ["twice", "true", "each-dilemma", "[each_dilemma]"])
def test_repeat_with_another_value(bad):
    fails(variant((13, [f"    repeat: {bad}"])), 13, "'repeat' can only be 'each_dilemma'")


def test_several_dilemmas_without_a_repeated_step():
    text = variant((8, ["dilemmas: [2, 6]"]), (13, []), (23, []), (6, ["minutes: 45"]))
    fails(text, 8, "repeat: each_dilemma")


def test_steps_must_be_a_non_empty_list():
    fails(variant((9, ["steps: []"]), *[(n, []) for n in range(10, 79)]), 9, "non-empty list")


def test_step_that_is_not_a_mapping_names_its_line():
    text = variant((6, ["minutes: 50"]), (70, ["  - reactie"]), *[(n, []) for n in range(71, 79)])
    fails(text, 70, "a step must be a mapping")


@pytest.mark.parametrize(
    ("lines", "line", "fragment"),
    [
        (
            [
                "  - key: kies",
                "    type: choice",
                "    question: {nl: Wat, en: What}",
                "    options: [{key: A, text: {nl: a, en: a}}, {key: B, text: {nl: b, en: b}}]",
            ],
            88,
            "evaluation items are scale or text",
        ),
        (
            [
                "  - key: kies",
                "    type: ranking",
                "    question: {nl: Wat, en: What}",
                "    options: [{key: A, text: {nl: a, en: a}}, {key: B, text: {nl: b, en: b}}]",
            ],
            88,
            "evaluation items are scale or text",
        ),
        (
            ["  - key: nuttig", "    type: text", "    question: {nl: Nog, en: More}"],
            87,
            "'nuttig' appears twice",
        ),
        (["  - type: text", "    question: {nl: Nog, en: More}"], 87, "missing 'key'"),
        (
            [
                "  - key: na",
                "    type: text",
                "    question: {nl: Nog, en: More}",
                "    compare_with: nuttig",
            ],
            90,
            "unknown key 'compare_with'",
        ),
    ],
)
def test_bad_evaluation_item_in_a_method(lines, line, fragment):
    fails("\n".join(VALID_LINES + OWN_EVALUATION_LINES + lines) + "\n", line, fragment)


def test_empty_evaluation_in_a_method():
    fails("\n".join(VALID_LINES + ["evaluation: []"]) + "\n", 79, "'evaluation' must be a list")


# --- errors in files: load_methods ---------------------------------------------------------------


def test_key_not_matching_file_name(tmp_path):
    path = write(tmp_path, "andere.yaml", VALID_TEXT)
    with pytest.raises(MethodsError) as caught:
        load_methods(tmp_path)
    [error] = caught.value.errors
    assert (error.path, error.line) == (str(path), 1)
    assert "does not match the file name" in error.message


def test_key_not_matching_file_name_names_the_key_line(tmp_path):
    path = write(tmp_path, "andere.yaml", "# Proef\n\n" + VALID_TEXT)
    with pytest.raises(MethodsError) as caught:
        load_methods(tmp_path)
    [error] = caught.value.errors
    assert error.path == str(path)
    assert error.line == 3


@pytest.mark.parametrize(("prefix", "line"), [(b"", 1), (b"# kop\n\n", 3)])
def test_non_utf8_file(tmp_path, prefix, line):
    data = prefix + b"key: pro\xe9f\n" + VALID_TEXT.encode().split(b"\n", 1)[1]
    path = write(tmp_path, "proef.yaml", data)
    with pytest.raises(MethodsError) as caught:
        load_methods(tmp_path)
    [error] = caught.value.errors
    assert (error.path, error.line) == (str(path), line)
    assert "UTF-8" in error.message
    assert str(error).startswith(f"{path}:{line}: ")


def test_file_over_size_limit(tmp_path):
    path = write(tmp_path, "proef.yaml", VALID_TEXT + "#" * MAX_FILE_BYTES)
    with pytest.raises(MethodsError) as caught:
        load_methods(tmp_path)
    [error] = caught.value.errors
    assert (error.path, error.line) == (str(path), None)
    assert "larger than" in error.message


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x7f", "\x9b"])
def test_control_character_is_a_method_file_error(char):
    fails(variant((34, [f"    prompt: {{nl: Kies A{char}., en: Choose A or B.}}"])), 34, "")


def test_control_character_is_collected_by_load_methods(tmp_path):
    write(tmp_path, "proef.yaml", VALID_TEXT.replace("Kies A of B.", "Kies A\x07"))
    write(tmp_path, "andere.yaml", VALID_TEXT)
    with pytest.raises(MethodsError) as caught:
        load_methods(tmp_path)
    assert len(caught.value.errors) == 2


def test_load_methods_collects_errors_from_several_files(tmp_path):
    good = write(tmp_path, "proef.yaml", VALID_TEXT)
    bad = {
        write(
            tmp_path,
            "a-kapot.yaml",
            method_text("a-kapot").replace("    minutes: 5\n", "    minutes: 5: 6\n", 1),
        ): 12,
        write(tmp_path, "b-taal.yaml", method_text("b-taal").replace("  en: Trial method\n", "")): 2,
        write(tmp_path, "c-naam.yaml", method_text("c-iets-anders")): 1,
        write(tmp_path, "d-leeg.yaml", ""): 1,
        write(tmp_path, "e-bytes.yaml", b"key: e-bytes\nname: \xff\n"): 2,
    }
    with pytest.raises(MethodsError) as caught:
        load_methods(tmp_path)
    errors = caught.value.errors
    assert [(error.path, error.line) for error in errors] == [(str(path), line) for path, line in bad.items()]
    message = str(caught.value)
    for error in errors:
        assert str(error) in message
    assert str(good) not in message
    assert len(message.splitlines()) == len(bad)


def test_folder_that_does_not_exist(tmp_path):
    missing = tmp_path / "nergens"
    with pytest.raises(MethodsError) as caught:
        load_methods(missing)
    [error] = caught.value.errors
    assert error.path == str(missing)
    assert "no such folder" in error.message


def test_a_file_is_not_a_folder(tmp_path):
    path = write(tmp_path, "proef.yaml", VALID_TEXT)
    with pytest.raises(MethodsError):
        load_methods(path)


def test_empty_folder_gives_no_methods(tmp_path):
    assert load_methods(tmp_path) == []


def test_underscore_files_are_not_methods(tmp_path):
    write(tmp_path, "proef.yaml", VALID_TEXT)
    write(tmp_path, "_concept.yaml", "this: [is not, a method\n")
    write(tmp_path, "_oud.yaml", method_text("_oud"))
    assert [method.key for method in load_methods(tmp_path)] == ["proef"]


def test_other_extensions_are_ignored(tmp_path):
    write(tmp_path, "proef.yaml", VALID_TEXT)
    write(tmp_path, "andere.yml.bak", "broken: [")
    write(tmp_path, "README.md", "# Methods\n")
    assert [method.key for method in load_methods(tmp_path)] == ["proef"]


def test_shared_evaluation_goes_to_methods_without_their_own(tmp_path):
    write(tmp_path, EVALUATION_FILE, SHARED_EVALUATION.read_text(encoding="utf-8"))
    write(tmp_path, "proef.yaml", VALID_TEXT)
    write(tmp_path, "eigen.yaml", method_text("eigen") + "\n".join(OWN_EVALUATION_LINES) + "\n")
    methods = {method.key: method for method in load_methods(tmp_path)}
    shared = parse_evaluation(SHARED_EVALUATION.read_text(encoding="utf-8"))
    assert shared
    assert methods["proef"].evaluation == shared
    assert [item.key for item in methods["eigen"].evaluation] == ["nuttig", "opmerking"]
    assert dataclasses.replace(methods["proef"], evaluation=(), path=PATH) == EXPECTED


def test_without_a_shared_evaluation_methods_have_none(tmp_path):
    write(tmp_path, "proef.yaml", VALID_TEXT)
    [method] = load_methods(tmp_path)
    assert method.evaluation == ()


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (
            "evaluation:\n  - key: kies\n    type: choice\n    question: {nl: Wat, en: What}\n"
            "    options: from_dilemma\n",
            3,
            "evaluation items are scale or text",
        ),
        (
            "evaluation:\n  - key: tekst\n    type: text\n    question: {nl: Wat, en: What}\n"
            "  - key: tekst\n    type: text\n    question: {nl: Nog, en: More}\n",
            5,
            "'tekst' appears twice",
        ),
        ("evaluation:\n  - key: tekst\n    type: text\n    question: {nl: Wat}\n", 4, "'en' translation"),
        ("evaluatie: []\n", 1, "unknown key 'evaluatie'"),
        ("evaluation: []\n", 1, "'evaluation' must be a list"),
    ],
)
def test_bad_shared_evaluation_is_collected_with_other_errors(tmp_path, text, line, fragment):
    shared = write(tmp_path, EVALUATION_FILE, text)
    bad = write(tmp_path, "proef.yaml", VALID_TEXT.replace("minutes: 55", "minutes: 50"))
    with pytest.raises(MethodsError) as caught:
        load_methods(tmp_path)
    first, second = caught.value.errors
    assert (first.path, first.line) == (str(shared), line)
    assert fragment in first.message
    assert (second.path, second.line) == (str(bad), 6)


# --- snapshots: to_dict / from_dict --------------------------------------------------------------


def _real_methods() -> list[Method]:
    return load_methods(METHODS_DIR)


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.stem)
def test_to_dict_from_dict_round_trips_every_real_method(path):
    [method] = [m for m in _real_methods() if m.key == path.stem]
    data = method.to_dict()
    assert "path" not in data
    assert Method.from_dict(data) == dataclasses.replace(method, path="")
    # The snapshot is stored as JSON: tuples come back as lists.
    assert Method.from_dict(json.loads(json.dumps(data))) == dataclasses.replace(method, path="")


def test_to_dict_from_dict_round_trips_the_fixture_with_own_evaluation():
    method = parse_method("\n".join(VALID_LINES + OWN_EVALUATION_LINES) + "\n", PATH)
    restored = Method.from_dict(json.loads(json.dumps(method.to_dict())))
    assert restored == dataclasses.replace(method, path="")
    assert restored.steps[3].poll.scale.min_label == _text("Onrustig", "Uneasy")
    assert restored.evaluation[0].scale.min_label is None


# --- fuzz: only MethodFileError or a Method, never another exception -----------------------------

# PyYAML's reader refuses these before parsing; see test_control_character_is_a_method_file_error.
_YAML_PRINTABLE = re.compile("[\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_yaml_ish_text = st.lists(
    st.one_of(
        st.characters().filter(lambda c: _YAML_PRINTABLE.fullmatch(c) is not None),
        st.sampled_from(list(":-{}[],#&*!|>'\"%@`? \n\t") + ["  ", "\n  - ", "key: ", "nl: ", "en: "]),
    ),
    max_size=200,
).map("".join)
_REAL_LINES = {path: path.read_text(encoding="utf-8").splitlines() for path in REAL_FILES}


def _check_outcome(text: str, path: str) -> None:
    try:
        result = parse_method(text, path)
    except MethodFileError as error:
        assert error.path == path
        assert error.line is None or 1 <= error.line <= text.count("\n") + 2
    else:
        assert isinstance(result, Method)
        assert Method.from_dict(result.to_dict()) == dataclasses.replace(result, path="")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_yaml_ish_text)
@example("")
@example("key: [")
@example("&a [*a]")
@example("? [a, b]\n: c\n")
@example("key: !!binary '%%%'\n")
@example("key: !!python/object:os.system {}\n")
@example("a: 1\n---\nb: 2\n")
@example("- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -\n")
def test_fuzz_arbitrary_text(text):
    _check_outcome(text, PATH)


@st.composite
def _mutated_real_file(draw):
    path = draw(st.sampled_from(REAL_FILES))
    lines = list(_REAL_LINES[path])
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(0, len(lines) - 1))
        operation = draw(st.sampled_from(["delete", "duplicate", "indent", "dedent", "tab"]))
        if operation == "delete":
            del lines[index]
        elif operation == "duplicate":
            lines.insert(index, lines[index])
        elif operation == "indent":
            lines[index] = " " * draw(st.integers(1, 4)) + lines[index]
        elif operation == "dedent":
            width = draw(st.integers(1, 4))
            stripped = lines[index].lstrip(" ")
            indent = len(lines[index]) - len(stripped)
            lines[index] = " " * max(0, indent - width) + stripped
        else:
            lines[index] = "\t" + lines[index]
        if not lines:
            break
    return str(path), "\n".join(lines) + "\n"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated_real_file())
def test_fuzz_mutations_of_real_files(case):
    path, text = case
    _check_outcome(text, path)


# --- the real method files -----------------------------------------------------------------------

EXPECTED_METHODS = {
    "dilemmamethode",
    "cura",
    "socratisch-gesprek",
    "nijmeegse-methode",
    "tien-stappen-afweging",
    "dilemmaspel",
    "crisissimulatie",
    "kort-beraad",
    "grote-bijeenkomst",
    "integriteitsdialoog",
    "zeven-vragen",
}


def _method(key: str) -> Method:
    [method] = [m for m in _real_methods() if m.key == key]
    return method


def _polls(method: Method) -> dict[str, PollSpec]:
    return {step.poll.key: step.poll for step in method.steps if step.poll}


def test_real_method_files_are_collected():
    assert {path.stem for path in REAL_FILES} >= EXPECTED_METHODS


def test_every_listed_method_exists_and_the_folder_loads():
    methods = _real_methods()
    assert {method.key for method in methods} >= EXPECTED_METHODS
    assert len(methods) == len(REAL_FILES)


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.stem)
def test_real_method_file(path):
    method = parse_method(path.read_text(encoding="utf-8"), str(path))
    assert method.key == path.stem
    assert method.path == str(path)
    planned = sum(step.minutes * (method.dilemmas[0] if step.each_dilemma else 1) for step in method.steps)
    assert planned == method.minutes
    assert len({step.key for step in method.steps}) == len(method.steps)
    for step in method.steps:
        for text in (step.title, step.prompt, step.facilitator):
            assert text.nl.strip() and text.en.strip(), step.key
        for text in (step.prompt, step.facilitator):
            assert text.nl != text.en, f"{step.key}: the English text is a copy of the Dutch"
        if step.poll:
            assert step.poll.question.nl.strip() and step.poll.question.en.strip()
    assert method.name.nl and method.name.en and method.summary.nl and method.summary.en
    # Every real method uses the shared evaluation, except the measure: its questions are its own.
    assert (method.evaluation == ()) == (method.key != "periodieke-meting")


def test_dilemmamethode():
    method = _method("dilemmamethode")
    # The method's ten steps; the individual judgement shows as two: the vote, then its reasons.
    assert len(method.steps) == 11
    keys = [step.key for step in method.steps]
    at = keys.index("eigen-afweging")
    judgement, why = method.steps[at], method.steps[at + 1]
    assert judgement.poll.type == "choice" and judgement.poll.from_dilemma
    assert why.poll.type == "text"
    after_polls = [step.poll for step in method.steps if step.poll and step.poll.compare_with]
    assert len(after_polls) == 1
    [after_poll] = after_polls
    before = _polls(method)[after_poll.compare_with]
    assert before.type == after_poll.type == "choice"
    keys = [step.key for step in method.steps]
    assert keys.index(before.key) < keys.index(after_poll.key)
    assert 60 <= method.minutes <= 120


def test_cura():
    method = _method("cura")
    assert 25 <= method.minutes <= 45
    assert len(method.steps) == 4
    assert {step.poll.type for step in method.steps if step.poll} >= {"text", "choice"}


def test_socratisch_gesprek():
    method = _method("socratisch-gesprek")
    assert 90 <= method.minutes <= 120
    assert 4 <= method.group_size[0] and method.group_size[1] <= 10
    assert "scale" in {step.poll.type for step in method.steps if step.poll}


def test_nijmeegse_methode():
    method = _method("nijmeegse-methode")
    assert {step.poll.type for step in method.steps if step.poll} >= {"ranking", "choice"}


def test_tien_stappen_afweging():
    method = _method("tien-stappen-afweging")
    assert len(method.steps) == 10
    polls = _polls(method)
    final = [poll for poll in polls.values() if poll.compare_with]
    assert len(final) == 1
    provisional = polls[final[0].compare_with]
    assert provisional.type == final[0].type == "choice"
    assert provisional.from_dilemma and final[0].from_dilemma
    assert "provisional" in provisional.question.en.lower() and "final" in final[0].question.en.lower()
    assert method.steps[-1].poll.type == "scale"  # how do I feel about it


def test_dilemmaspel():
    method = _method("dilemmaspel")
    assert method.dilemmas[1] > 1
    repeated = [step for step in method.steps if step.each_dilemma]
    assert len(repeated) >= 2
    assert any(step.poll and step.poll.from_dilemma for step in repeated)
    assert not method.steps[0].each_dilemma and not method.steps[-1].each_dilemma


def test_crisissimulatie_has_the_five_questions():
    method = _method("crisissimulatie")
    titles = [step.title.en.lower() for step in method.steps]
    questions = ["going on", "scenarios", "now", "need", "communicate"]
    positions = []
    for number, words in enumerate(questions, start=1):
        [index] = [i for i, title in enumerate(titles) if title.startswith(f"{number}.")]
        assert words in titles[index]
        positions.append(index)
    assert positions == sorted(positions)
    assert any("feedback" in title for title in titles[positions[-1] :])


def test_shared_evaluation():
    items = parse_evaluation(SHARED_EVALUATION.read_text(encoding="utf-8"), str(SHARED_EVALUATION))
    agreement = [i for i in items if i.type == "scale" and (i.scale.min, i.scale.max) == (1, 5)]
    grades = [i for i in items if i.type == "scale" and (i.scale.min, i.scale.max) == (1, 10)]
    texts = [i for i in items if i.type == "text"]
    assert 6 <= len(agreement) <= 8
    assert len(grades) == 1
    assert len(texts) == 1
    assert len(items) == len(agreement) + len(grades) + len(texts)
    assert all(i.scale.min_label and i.scale.max_label for i in agreement + grades)
    # Every method uses it, except the periodic measure, whose questionnaire is its own evaluation.
    assert all(m.evaluation == items for m in _real_methods() if m.key != "periodieke-meting")


def test_kort_beraad_fits_a_team_meeting_with_one_vote():
    method = _method("kort-beraad")
    assert 15 <= method.minutes <= 20
    assert [step.poll.type for step in method.steps if step.poll] == ["choice"]
    assert any(step.show_case for step in method.steps)


def test_grote_bijeenkomst_takes_a_hall_with_statements_and_questions():
    method = _method("grote-bijeenkomst")
    assert method.group_size[1] >= 1000
    statements = [s.poll for s in method.steps if s.poll and not s.poll.from_dilemma]
    assert len(statements) >= 2
    assert all([o.key for o in poll.options] == ["eens", "oneens", "weet-niet"] for poll in statements)
    texts = " ".join(step.prompt.nl + step.facilitator.nl for step in method.steps).lower()
    assert "neutra" in texts and "vragen" in texts


def test_integriteitsdialoog_plays_both_roles_with_an_actor():
    method = _method("integriteitsdialoog")
    texts = " ".join(step.title.nl + step.prompt.nl + step.facilitator.nl for step in method.steps).lower()
    for word in ("acteur", "time-out", "leidinggevende", "vertrouwenspersoon", "waarnemer"):
        assert word in texts, word


def test_zeven_vragen_ends_in_a_conclusion_vote_and_a_feeling():
    method = _method("zeven-vragen")
    assert method.minutes == 60
    assert [step.poll.type for step in method.steps if step.poll] == ["choice", "scale"]


def test_socratic_dialogue_lets_the_group_vote_on_the_question():
    method = _method("socratisch-gesprek")
    room_polls = [step.poll for step in method.steps if step.poll and step.poll.from_room]
    assert room_polls and room_polls[0].type == "choice"


@pytest.mark.parametrize("key", sorted(EXPECTED_METHODS))
def test_every_introduction_says_the_limits_of_confidentiality(key):
    intro = next(step for step in _method(key).steps if "vertrouwenspersoon" in step.prompt.nl.lower())
    text = (intro.prompt.nl + " " + intro.facilitator.nl).lower()
    assert "drie" in text  # results stay hidden below three votes
    assert _method(key).steps.index(intro) <= 1, "the promise comes at the start"


def test_the_evaluation_is_a_single_session_form_and_says_so():
    text = SHARED_EVALUATION.read_text(encoding="utf-8")
    [method] = [m for m in _real_methods() if m.key == "dilemmamethode"]
    items = {item.key: item for item in method.evaluation}
    assert any(item.type == "scale" and item.scale.max == 10 for item in items.values())  # a grade
    assert any(item.type == "text" for item in items.values())
    assert "NOT the Euro-MCD" in text


def test_a_method_without_a_case_may_not_show_one():
    text = (REPO_DIR / "methods" / "periodieke-meting.yaml").read_text(encoding="utf-8")
    assert parse_method(text, "periodieke-meting.yaml", "periodieke-meting").dilemmas == (0, 0)
    with pytest.raises(MethodFileError, match="step 'uitleg' uses a case, but the method has none") as error:
        parse_method(text.replace("    minutes: 3\n", "    minutes: 3\n    show_case: true\n", 1), "m.yaml")
    assert error.value.line == text.splitlines().index("dilemmas: [0, 0]") + 1
    with pytest.raises(MethodFileError, match=r"\[0, 0\] \(no case\) or starts at 1"):
        parse_method(text.replace("dilemmas: [0, 0]", "dilemmas: [0, 2]"), "m.yaml")
