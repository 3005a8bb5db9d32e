"""Methods in the database: import from files, list, get. Flushes, never commits."""

from __future__ import annotations

import json

from sqlalchemy import select

from ..extensions import db
from ..models import MethodDefinition
from .loader import Method


def import_methods(methods: list[Method]) -> dict[str, list[str]]:
    """Create or update method definitions; return keys per outcome."""
    report: dict[str, list[str]] = {"created": [], "updated": [], "unchanged": []}
    existing = {m.key: m for m in db.session.scalars(select(MethodDefinition))}
    for method in methods:
        definition = json.loads(json.dumps(method.to_dict()))  # as the JSON column returns it
        row = existing.get(method.key)
        if row is None:
            db.session.add(MethodDefinition(key=method.key, definition=definition))
            report["created"].append(method.key)
        elif row.definition != definition:
            row.definition = definition
            report["updated"].append(method.key)
        else:
            report["unchanged"].append(method.key)
    db.session.flush()
    return report


def list_methods() -> list[Method]:
    rows = db.session.scalars(select(MethodDefinition).order_by(MethodDefinition.key))
    return sorted((Method.from_dict(row.definition) for row in rows), key=lambda m: m.minutes)


def get_method(key: str) -> Method | None:
    row = db.session.scalar(select(MethodDefinition).where(MethodDefinition.key == key))
    return Method.from_dict(row.definition) if row else None
