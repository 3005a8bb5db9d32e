"""The quality gate a dilemma passes when it is published (drafts and reviews stay free).

What a team lead relies on when picking a case from the bank: a case of 150–400 words, ending
in one moral question in bold; a short version of 60–120 words for game cards and the projector;
either no options or all four (A–D), as the dilemma game needs; at least two themes and one
level, all from the bank's vocabulary, so the filters find it; and a protagonist whose name no
other published case uses, so a team that plays several cases never mixes two people up.

The gate runs when a dilemma is published, when a published dilemma is edited, and when files
are imported with status `published` (`bank_problems`, which names file and line).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping

from .loader import DilemmaData, DilemmaFileError
from .vocabulary import KNOWN

MIN_WORDS, MAX_WORDS = 150, 400
MIN_SHORT_WORDS, MAX_SHORT_WORDS = 60, 120
BOLD_QUESTION = re.compile(r"^(\*\*|__)\S.*\?\s*(\*\*|__)$")
WORD = re.compile(r"\w[\w'’-]*")


def word_count(text: str) -> int:
    return len(WORD.findall(text))


PROBLEMS = {  # code -> English text (the API's); the bank's page translates the codes
    "words": "the case has {words} words; a published case has 150–400",
    "question": "the case does not end in one moral question in bold (**…?**)",
    "options": "options {keys}: give all four (A–D) or none",
    "themes": "give at least two themes",
    "levels": "give at least one level",
    "short": "the short version has {words} words; give one of 60–120",
    "tags": "unknown {kind}: {tags} (use the bank's vocabulary)",
    "protagonist": "name the protagonist, the person whose choice the case is about",
    "protagonist_taken": "the protagonist {name} is already in the published case {slug}",
}


def protagonist_key(name: str) -> str:
    return " ".join(name.casefold().split())


def protagonist_index(named: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """protagonist_key -> the slugs (sorted) of the published cases with that protagonist,
    from (protagonist, slug) pairs of published cases."""
    index: dict[str, list[str]] = defaultdict(list)
    for name, slug in sorted(named, key=lambda pair: pair[1]):
        if name and name.strip():
            index[protagonist_key(name)].append(slug)
    return index


def publication_problems(
    data: DilemmaData, protagonists: Mapping[str, list[str]] | None = None
) -> list[tuple[str, dict]]:
    """What keeps this dilemma from being published, as (code, details) (empty: it may be).

    `protagonists` is a protagonist_index of the published cases (this one may be among them).
    """
    problems = []
    words = word_count(data.body)
    if not MIN_WORDS <= words <= MAX_WORDS:
        problems.append(("words", {"words": words}))
    lines = [line.strip() for line in data.body.strip().splitlines() if line.strip()]
    if not lines or not BOLD_QUESTION.match(lines[-1]):
        problems.append(("question", {}))
    keys = [option.key for option in data.options]
    if keys and keys != list("ABCD"):
        problems.append(("options", {"keys": ", ".join(keys)}))
    if len(data.themes) < 2:
        problems.append(("themes", {}))
    if not data.levels:
        problems.append(("levels", {}))
    short_words = word_count(data.short)
    if not MIN_SHORT_WORDS <= short_words <= MAX_SHORT_WORDS:
        problems.append(("short", {"words": short_words}))
    for kind, known in KNOWN.items():
        unknown = [tag for tag in getattr(data, kind) if tag not in known]
        if unknown:
            problems.append(("tags", {"kind": kind, "tags": ", ".join(unknown)}))
    if not data.protagonist.strip():
        problems.append(("protagonist", {}))
    else:
        others = (protagonists or {}).get(protagonist_key(data.protagonist), ())
        other = next((slug for slug in others if slug != data.id), None)
        if other:
            problems.append(("protagonist_taken", {"name": data.protagonist.strip(), "slug": other}))
    return problems


def bank_problems(items: list[DilemmaData], stored: Iterable[DilemmaData] = ()) -> list[DilemmaFileError]:
    """Every published item that fails the gate, as an error naming its file (for an import).

    `stored` are the dilemmas already in the bank; an item replaces the stored one with its id.
    Two published files with one protagonist are both named.
    """
    incoming = {d.id for d in items}
    bank = [*(d for d in stored if d.id not in incoming), *items]
    protagonists = protagonist_index((d.protagonist, d.id) for d in bank if d.status == "published")
    errors = []
    for data in items:
        if data.status != "published":
            continue
        problems = publication_problems(data, protagonists)
        if problems:
            message = "not ready to publish: " + "; ".join(describe(p) for p in problems)
            errors.append(DilemmaFileError(data.path or data.id, data.id_line, message))
    return errors


def describe(problem: tuple[str, dict]) -> str:
    code, details = problem
    return PROBLEMS[code].format(**details)
