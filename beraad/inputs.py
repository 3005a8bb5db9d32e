"""The one input policy, applied at the edge to every request: HTML forms, query strings, the
phones' JSON and the API alike.

Text that cannot be stored or shown is normalised, never refused, so nothing typed is lost: a
control character other than tab, line feed and carriage return (NUL among them, which
PostgreSQL cannot store, or an escape from a paste) is dropped, and a lone surrogate (only JSON
can carry one; UTF-8 cannot encode it) becomes U+FFFD. Lengths are checked where each field is
validated, against the same limits as the database columns.
"""

from __future__ import annotations

import re

from flask.json.provider import DefaultJSONProvider
from werkzeug.datastructures import ImmutableMultiDict

CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(text: str) -> str:
    """Text as it may be stored and shown: no stray control characters, no lone surrogates."""
    return LONE_SURROGATE.sub("\ufffd", CONTROL.sub("", text))


def storable_json(value):
    """Every string in a parsed JSON document (keys too) made storable."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, list):
        return [storable_json(item) for item in value]
    if isinstance(value, dict):
        return {storable(key): storable_json(item) for key, item in value.items()}
    return value


class StorableMultiDict(ImmutableMultiDict):
    """Query strings and form fields, made storable as they are parsed (files are left alone)."""

    def __init__(self, mapping=None):
        if mapping is not None and not isinstance(mapping, dict):  # pairs, as werkzeug's parsers give
            mapping = [
                (storable(key), storable(value) if isinstance(value, str) else value)
                for key, value in mapping
            ]
        super().__init__(mapping)


class StorableJSONProvider(DefaultJSONProvider):
    """Request bodies parsed as JSON come out storable (responses are unchanged)."""

    def loads(self, s, **kwargs):
        return storable_json(super().loads(s, **kwargs))
