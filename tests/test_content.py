"""The content is our own: no 8 words in a row of any dilemma or method appear in the source
articles (../shared/seeds/) or the methods reference they were drawn from."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
RUN = 8


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def runs(text: str) -> set[tuple[str, ...]]:
    tokens = words(text)
    return {tuple(tokens[i : i + RUN]) for i in range(len(tokens) - RUN + 1)}


def strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []


def our_texts() -> list[tuple[str, str]]:
    texts = [
        (path.name, path.read_text(encoding="utf-8")) for path in sorted((ROOT / "dilemma_bank").glob("*.md"))
    ]
    for path in sorted((ROOT / "methods").glob("*.yaml")):
        texts.append((path.name, "\n".join(strings(yaml.safe_load(path.read_text(encoding="utf-8"))))))
    return texts


@pytest.fixture(scope="module")
def source_runs() -> set[tuple[str, ...]]:
    sources = sorted((SHARED / "seeds").glob("*.txt")) + [SHARED / "methods-reference.md"]
    sources = [path for path in sources if path.exists()]
    if not sources:
        pytest.skip(f"the source articles are not next to the project ({SHARED} is missing)")
    found: set[tuple[str, ...]] = set()
    for path in sources:
        found |= runs(path.read_text(encoding="utf-8"))
    return found


def test_no_dilemma_or_method_copies_eight_words_in_a_row_from_the_sources(source_runs):
    copied = {}
    for name, text in our_texts():
        shared = runs(text) & source_runs
        if shared:
            copied[name] = sorted(" ".join(run) for run in shared)[:3]
    assert copied == {}


def test_the_copy_check_would_see_a_copied_sentence(source_runs):
    sentence = " ".join(next(iter(source_runs)))
    assert runs(f"Een casus die begint met {sentence} en verder gaat.") & source_runs
