"""What the real APIs accept and answer, read from the discovery documents the client bundles.

The conformance tests hold every simulated endpoint to these documents
(``youtube.v3``, ``youtubereporting.v1``, ``youtubeAnalytics.v2`` from
google-api-python-client's ``discovery_cache``): the parameters a method
takes (required, repeated, enums, ranges) and the schema of what it answers.
This module only reads the documents and checks values against them; it
shares no code with the simulator, so a simulator bug cannot hide here.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import urlencode

from googleapiclient.discovery_cache import get_static_doc

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")


@cache
def document(service: str, version: str) -> dict[str, Any]:
    text = get_static_doc(service, version)
    assert text, f"no bundled discovery document for {service} {version}"
    return json.loads(text)


def method(service: str, version: str, name: str) -> dict[str, Any]:
    """The discovery entry of ``name`` (``channels.list``, ``jobs.reports.list``)."""
    node: dict[str, Any] = document(service, version)
    *resources, verb = name.split(".")
    for resource in resources:
        node = node["resources"][resource]
    return dict(node["methods"][verb])


def parameters(service: str, version: str, name: str) -> dict[str, dict[str, Any]]:
    return dict(method(service, version, name).get("parameters", {}))


def schema_parts(service: str, version: str, schema: str) -> list[str]:
    """The top-level properties of a resource that ``part`` may name (all but kind, etag)."""
    props = document(service, version)["schemas"][schema]["properties"]
    return sorted(p for p in props if p not in ("kind", "etag"))


def schema_problems(
    value: Any, schema: dict[str, Any] | str, service: str, version: str, path: str = "$"
) -> list[str]:
    """Where ``value`` breaks the discovery ``schema`` (a name or a schema dict); [] if nowhere."""
    schemas = document(service, version)["schemas"]
    if isinstance(schema, str):
        schema = schemas[schema]
    if "$ref" in schema:
        return schema_problems(value, schemas[schema["$ref"]], service, version, path)
    kind = schema.get("type")
    problems: list[str] = []
    if kind == "object" or "properties" in schema:
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {type(value).__name__}"]
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in props:
                problems += schema_problems(item, props[key], service, version, f"{path}.{key}")
            elif extra is not None:
                problems += schema_problems(item, extra, service, version, f"{path}.{key}")
            else:
                problems.append(f"{path}.{key}: not a property of the schema")
        return problems
    if kind == "array":
        if not isinstance(value, list):
            return [f"{path}: expected an array, got {type(value).__name__}"]
        for i, item in enumerate(value):
            problems += schema_problems(
                item, schema.get("items", {}), service, version, f"{path}[{i}]"
            )
        return problems
    return _scalar_problem(value, schema, path)


def _scalar_problem(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "any":
        return []
    if kind == "string":
        if not isinstance(value, str):
            return [f"{path}: expected a string, got {value!r}"]
        if fmt in ("int64", "uint64") and not re.fullmatch(r"-?\d+", value):
            return [f"{path}: expected a {fmt} string, got {value!r}"]
        if fmt in ("date-time", "google-datetime") and not _RFC3339.match(value):
            return [f"{path}: expected an RFC 3339 timestamp, got {value!r}"]
        if "enum" in schema and value not in schema["enum"]:
            return [f"{path}: {value!r} is not one of {schema['enum']}"]
        return []
    if kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected an integer, got {value!r}"]
    if kind == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected a number, got {value!r}"]
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{path}: expected a boolean, got {value!r}"]
    return [f"{path}: unknown schema type {kind!r}"]


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class Answer:
    """One HTTP answer: status, headers and the JSON body (None if not JSON)."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.raw = status, headers, body
        try:
            self.json: Any = json.loads(body) if body else None
        except ValueError:
            self.json = None

    @property
    def error(self) -> dict[str, Any]:
        """The first ``errors[]`` entry of a Google error body ({} if none)."""
        errors = (self.json or {}).get("error", {}).get("errors") or [{}]
        return dict(errors[0])

    def __repr__(self) -> str:
        return f"<{self.status} {self.raw[:300]!r}>"


def call(
    base_url: str,
    path: str,
    params: list[tuple[str, str]] | None = None,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> Answer:
    """One raw HTTP request (repeated parameters as given), whatever the status."""
    query = urlencode(params or [])
    url = base_url.rstrip("/") + "/" + path.lstrip("/") + (f"?{query}" if query else "")
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Answer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, dict(exc.headers), exc.read())
