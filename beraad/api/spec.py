"""The OpenAPI description (openapi.yaml, the one source) and what the docs page shows of it."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

SPEC_FILE = Path(__file__).with_name("openapi.yaml")
HTTP_METHODS = ("get", "put", "post", "patch", "delete")


@cache
def load() -> dict:
    """The OpenAPI document as data (read once per process)."""
    return yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))


def _resolve(document: dict, item: dict) -> dict:
    while "$ref" in item:
        node = document
        for part in item["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        item = node
    return item


def schema_name(schema: dict | None) -> str:
    """A short name for a schema: its component name, 'array of X', or its type."""
    if not schema:
        return ""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return f"array of {schema_name(schema.get('items'))}"
    if "oneOf" in schema or "anyOf" in schema:
        return " | ".join(schema_name(s) for s in schema.get("oneOf") or schema.get("anyOf"))
    kind = schema.get("type", "object")
    name = " | ".join(kind) if isinstance(kind, list) else (schema.get("format") or kind)
    return f"{name}: {', '.join(map(str, schema['enum']))}" if "enum" in schema else name


def _content(document: dict, node: dict) -> list[dict]:
    return [
        {"media_type": media_type, "schema": schema_name(body.get("schema"))}
        for media_type, body in (node.get("content") or {}).items()
    ]


def operations(document: dict) -> list[dict]:
    """Every operation, in file order, ready for the docs page."""
    result = []
    for path, item in document["paths"].items():
        shared = item.get("parameters", [])
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            parameters = []
            for parameter in [*shared, *operation.get("parameters", [])]:
                parameter = _resolve(document, parameter)
                parameters.append(
                    {
                        "name": parameter["name"],
                        "in": parameter["in"],
                        "required": parameter.get("required", False),
                        "schema": schema_name(parameter.get("schema")),
                        "description": parameter.get("description", ""),
                    }
                )
            request_body = operation.get("requestBody")
            responses = [
                {
                    "status": str(status),
                    "description": _resolve(document, response).get("description", ""),
                    "content": _content(document, _resolve(document, response)),
                }
                for status, response in operation.get("responses", {}).items()
            ]
            result.append(
                {
                    "id": operation.get("operationId", f"{method}-{path}"),
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "tag": (operation.get("tags") or ["other"])[0],
                    "public": operation.get("security") == [],
                    "parameters": parameters,
                    "request": _content(document, _resolve(document, request_body)) if request_body else [],
                    "responses": responses,
                }
            )
    return result


def operations_by_tag(document: dict) -> list[dict]:
    """Operations grouped under the document's tags, in the order the tags are listed."""
    tags = document.get("tags", [])
    groups = {tag["name"]: {**tag, "operations": []} for tag in tags}
    for operation in operations(document):
        groups.setdefault(operation["tag"], {"name": operation["tag"], "operations": []})
        groups[operation["tag"]]["operations"].append(operation)
    return [group for group in groups.values() if group["operations"]]


def schema_summaries(document: dict) -> list[dict]:
    """Each component schema with its fields (name, type, required, description)."""
    summaries = []
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        required = set(schema.get("required", []))
        fields = [
            {
                "name": field,
                "schema": schema_name(definition),
                "required": field in required,
                "description": definition.get("description", ""),
            }
            for field, definition in (schema.get("properties") or {}).items()
        ]
        summaries.append(
            {
                "name": name,
                "description": schema.get("description", ""),
                "type": schema_name({k: v for k, v in schema.items() if k != "properties"}),
                "fields": fields,
            }
        )
    return summaries
