"""Choosing a team's next dilemma: published dilemmas it has not discussed, rotating over themes.

Ranking, in order of weight:
1. a dilemma whose levels include the team's level comes before one without it;
2. a dilemma whose themes the team discussed longest ago (or never) comes first; a dilemma is as
   fresh as its most recently discussed theme;
3. themes rotate: once a suggestion is picked, its themes count as just discussed for the rest of
   the list, so one theme does not fill the top of it;
4. then by title.
Plain Python on plain data, so it is tested directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Candidate:
    slug: str
    title: str
    themes: tuple[str, ...]
    levels: tuple[str, ...]


@dataclass(frozen=True)
class ThemeSeen:
    theme: str
    last: date | None  # the last day the team discussed it; None: never


@dataclass(frozen=True)
class Suggestion:
    slug: str
    title: str
    fits_level: bool
    themes: tuple[ThemeSeen, ...]


def rank(
    candidates: Iterable[Candidate],
    discussed: set[str],
    last_discussed: Mapping[str, date],
    level: str,
    limit: int | None = None,
) -> list[Suggestion]:
    remaining = [c for c in candidates if c.slug not in discussed]
    picked_order: dict[str, int] = {}  # themes of suggestions already picked, in the order picked

    def freshness(theme: str) -> tuple:
        if theme in picked_order:
            return (2, picked_order[theme])
        if theme in last_discussed:
            return (1, last_discussed[theme].toordinal())
        return (0, 0)

    def key(candidate: Candidate) -> tuple:
        fits = bool(level) and level in candidate.levels
        newest = max((freshness(theme) for theme in candidate.themes), default=(0, 0))
        return (not fits, newest, candidate.title.casefold(), candidate.slug)

    result: list[Suggestion] = []
    while remaining and (limit is None or len(result) < limit):
        best = min(remaining, key=key)
        remaining.remove(best)
        result.append(
            Suggestion(
                slug=best.slug,
                title=best.title,
                fits_level=bool(level) and level in best.levels,
                themes=tuple(ThemeSeen(theme, last_discussed.get(theme)) for theme in best.themes),
            )
        )
        for theme in best.themes:
            picked_order.setdefault(theme, len(picked_order))
    return result
