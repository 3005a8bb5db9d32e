"""Full-text search and filters over the bank: SQLite FTS5 or PostgreSQL full text, one function."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from sqlalchemy import Select, column, func, select, table, text

from ..extensions import db
from ..models import Dilemma, DilemmaTag

MAX_QUERY_TERMS = 12
# The same expression as the GIN index in the migrations, so PostgreSQL can use that index.
PG_DOCUMENT = "to_tsvector('dutch', coalesce(dilemma.title, '') || ' ' || coalesce(dilemma.body, ''))"


@dataclass(frozen=True)
class SearchPage:
    items: list[Dilemma]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def query_terms(query: str) -> list[str]:
    """Split a user's query into plain word terms (no operators reach the database)."""
    return re.findall(r"\w+", (query or "").lower())[:MAX_QUERY_TERMS]


def _match(statement: Select, dialect: str, terms: list[str]) -> tuple[Select, list]:
    """Restrict statement to dilemmas containing every term (as a prefix); rank best first."""
    if dialect == "sqlite":
        fts = table("dilemma_fts", column("rowid"), column("rank"))
        fts_query = " ".join(f'"{term}"*' for term in terms)
        # Materialised first, so SQLite runs the MATCH once instead of probing it per dilemma.
        hits = (
            select(fts.c.rowid.label("dilemma_id"), fts.c.rank.label("rank"))
            .where(text("dilemma_fts MATCH :fts_query").bindparams(fts_query=fts_query))
            .cte("hits")
            .prefix_with("MATERIALIZED")
        )
        statement = statement.join(hits, hits.c.dilemma_id == Dilemma.id)
        return statement, [hits.c.rank]
    if dialect == "postgresql":
        ts_query = " & ".join(f"{term}:*" for term in terms)
        statement = statement.where(
            text(f"{PG_DOCUMENT} @@ to_tsquery('dutch', :ts_query)").bindparams(ts_query=ts_query)
        )
        rank = text(f"ts_rank({PG_DOCUMENT}, to_tsquery('dutch', :ts_rank_query)) DESC").bindparams(
            ts_rank_query=ts_query
        )
        return statement, [rank]
    # Any other database: a plain substring match on every term.
    haystack = Dilemma.title + " " + Dilemma.body
    return statement.where(*[haystack.ilike(f"%{term}%") for term in terms]), []


def _tag_filter(statement: Select, kind: str, values: list[str]) -> Select:
    if not values:
        return statement
    return statement.where(
        Dilemma.id.in_(
            select(DilemmaTag.dilemma_id).where(DilemmaTag.kind == kind, DilemmaTag.value.in_(values))
        )
    )


def search_dilemmas(
    query: str = "",
    *,
    statuses: list[str] | None = None,
    themes: list[str] | None = None,
    levels: list[str] | None = None,
    roles: list[str] | None = None,
    page: int = 1,
    per_page: int = 20,
) -> SearchPage:
    """Return one page of dilemmas matching the words of query and every given filter.

    Within one filter any value matches (theme A or B); different filters all apply.
    """
    statement = select(Dilemma)
    order = [Dilemma.title]
    terms = query_terms(query)
    if terms:
        statement, rank = _match(statement, db.engine.dialect.name, terms)
        order = rank + order
    if statuses:
        statement = statement.where(Dilemma.status.in_(statuses))
    statement = _tag_filter(statement, "theme", themes or [])
    statement = _tag_filter(statement, "level", levels or [])
    statement = _tag_filter(statement, "role", roles or [])

    total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
    page = max(1, page)
    items = list(db.session.scalars(statement.order_by(*order).limit(per_page).offset((page - 1) * per_page)))
    return SearchPage(items=items, total=total, page=page, per_page=per_page)


def tag_values(statuses: list[str] | None = None) -> dict[str, list[tuple[str, int]]]:
    """Return, per tag kind, the values in use with how many dilemmas carry them."""
    statement = select(DilemmaTag.kind, DilemmaTag.value, func.count()).group_by(
        DilemmaTag.kind, DilemmaTag.value
    )
    if statuses:
        statement = statement.join(Dilemma).where(Dilemma.status.in_(statuses))
    result: dict[str, list[tuple[str, int]]] = {"theme": [], "level": [], "role": []}
    for kind, value, count in db.session.execute(statement.order_by(DilemmaTag.value)):
        result.setdefault(kind, []).append((value, count))
    return result
