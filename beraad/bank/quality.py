"""The quality gate a dilemma passes when it is published (drafts and reviews stay free).

What a team lead relies on when picking a case from the bank: a case of 150–400 words, ending
in one moral question in bold; either no options or all four (A–D), as the dilemma game needs;
at least two themes and one level, so the filters find it.
"""

from __future__ import annotations

import re

from .loader import DilemmaData

MIN_WORDS, MAX_WORDS = 150, 400
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
}


def publication_problems(data: DilemmaData) -> list[tuple[str, dict]]:
    """What keeps this dilemma from being published, as (code, details) (empty: it may be)."""
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
    return problems


def describe(problem: tuple[str, dict]) -> str:
    code, details = problem
    return PROBLEMS[code].format(**details)
