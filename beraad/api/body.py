"""Read and check JSON request bodies and query parameters; problems are 400, 413, 415 or 422."""

from __future__ import annotations

import json
import re
from datetime import date

from flask import request

from ..inputs import storable_json
from .errors import ApiError

MAX_DEPTH = 10  # no request body nests deeper; deeper ones would only strain the parsers behind


def _check_depth(data) -> None:
    stack = [(data, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ApiError(422, "invalid", "The body is nested too deeply.")
        if isinstance(item, dict):
            stack.extend((key, depth + 1) for key in item)
            stack.extend((value, depth + 1) for value in item.values())
        elif isinstance(item, list):
            stack.extend((value, depth + 1) for value in item)


class Body:
    """A JSON object from the request, read field by field; unknown fields are refused."""

    def __init__(self, data: dict, allowed: tuple[str, ...]):
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            message = f"Unknown field(s): {', '.join(unknown)}. Allowed: {', '.join(allowed)}."
            raise ApiError(422, "unknown_field", message, field=unknown[0])
        self.data = data

    def __contains__(self, key: str) -> bool:
        return key in self.data

    @staticmethod
    def invalid(key: str, message: str) -> ApiError:
        return ApiError(422, "invalid", f"'{key}' {message}", field=key)

    def text(self, key: str, *, required: bool = False, max_length: int, min_length: int = 0,
             default: str | None = None) -> str | None:  # fmt: skip
        if key not in self.data or (self.data[key] is None and not required):
            if required:
                raise self.invalid(key, "is required")
            return default
        value = self.data[key]
        if not isinstance(value, str):
            raise self.invalid(key, "must be text")
        if len(value) > max_length:
            raise self.invalid(key, f"must be at most {max_length} characters")
        if len(value.strip()) < min_length:
            raise self.invalid(key, "must not be empty")
        return value

    def integer(self, key: str, *, minimum: int, maximum: int, required: bool = False,
                default: int | None = None) -> int | None:  # fmt: skip
        if key not in self.data:
            if required:
                raise self.invalid(key, "is required")
            return default
        value = self.data[key]
        if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
            raise self.invalid(key, f"must be a whole number from {minimum} to {maximum}")
        return value

    def boolean(self, key: str) -> bool | None:
        if key not in self.data:
            return None
        value = self.data[key]
        if not isinstance(value, bool):
            raise self.invalid(key, "must be true or false")
        return value

    def choice(self, key: str, choices: tuple[str, ...], *, required: bool = False,
               default: str | None = None) -> str | None:  # fmt: skip
        if key not in self.data:
            if required:
                raise self.invalid(key, "is required")
            return default
        value = self.data[key]
        if not isinstance(value, str) or value not in choices:
            raise self.invalid(key, f"must be one of: {', '.join(choices)}")
        return value

    def texts(self, key: str, *, max_items: int, max_length: int, required: bool = False) -> list[str] | None:
        if key not in self.data:
            if required:
                raise self.invalid(key, "is required")
            return None
        value = self.data[key]
        if (
            not isinstance(value, list)
            or not all(isinstance(item, str) and len(item) <= max_length for item in value)
            or len(value) > max_items
        ):
            raise self.invalid(key, f"must be a list of at most {max_items} texts")
        return value

    def date(self, key: str) -> date | None:
        value = self.data.get(key)
        if value is None:
            return None
        try:
            if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            raise self.invalid(key, "must be a date as YYYY-MM-DD") from None

    def raw(self, key: str, default=None):
        return self.data.get(key, default)


def json_body(allowed: tuple[str, ...]) -> Body:
    """The request's JSON object; 415 for another content type, 400 for broken JSON."""
    if request.mimetype != "application/json":
        raise ApiError(
            415, "unsupported_media_type", "Send a JSON body with 'Content-Type: application/json'."
        )
    raw = request.get_data(cache=True)  # 413 when larger than MAX_CONTENT_LENGTH
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError(400, "malformed", "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "malformed", "The body must be a JSON object.")
    _check_depth(data)
    return Body(storable_json(data), allowed)  # the one input policy (beraad/inputs.py)


def query_integer(name: str, default: int, minimum: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"\d{1,9}", raw) or not minimum <= int(raw) <= maximum:
        raise ApiError(
            422, "invalid", f"'{name}' must be a whole number from {minimum} to {maximum}", field=name
        )
    return int(raw)


def query_list(name: str, pattern: re.Pattern, max_items: int = 20) -> list[str]:
    """A repeatable query parameter whose values must all match pattern."""
    values = request.args.getlist(name)
    if len(values) > max_items or not all(pattern.fullmatch(value) for value in values):
        raise ApiError(422, "invalid", f"'{name}' has a malformed value", field=name)
    return values
