"""What a Google API method accepts, read from the discovery documents the client bundles.

The simulators validate every request against the same documents the stock
google-api-python-client is built from (``googleapiclient/discovery_cache``):
a required parameter that is missing, a value outside an enum or a
``minimum``/``maximum`` range, a non-integer where an integer is due. A
repeated parameter keeps every value it is given, as Google does: ``part=a&part=b``
equals ``part=a,b`` (:func:`values`).

:func:`select_fields` applies a ``fields`` partial-response selector
(``items(id,snippet/title),nextPageToken``; Google's syntax: ``,`` between
selections, ``/`` into an object, ``(...)`` for several sub-fields, ``*`` for
all) to an answer, after checking each name against the response schema.

Errors are raised as :class:`ParameterProblem` with what was wrong and where;
each simulator renders it in its API's error body.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from googleapiclient.discovery_cache import get_static_doc


@dataclass(frozen=True)
class ParameterProblem(Exception):
    """A request parameter the method refuses: ``kind`` is required | enum | range | integer |
    boolean | fields; ``name`` the parameter; ``message`` Google's wording."""

    kind: str
    name: str
    message: str

    def __str__(self) -> str:
        return f"{self.name}: {self.message}"


@cache
def document(service: str, version: str) -> dict[str, Any]:
    """The bundled discovery document of ``service`` ``version`` (e.g. ``youtube``, ``v3``)."""
    text = get_static_doc(service, version)
    if not text:
        raise LookupError(
            f"google-api-python-client bundles no discovery document {service} {version}"
        )
    return dict(json.loads(text))


@dataclass(frozen=True)
class Method:
    """One method of a discovery document (``channels.list``, ``jobs.reports.list``)."""

    service: str
    version: str
    name: str
    spec: dict[str, Any]

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        return dict(self.spec.get("parameters", {}))

    @property
    def response_schema(self) -> str | None:
        ref = self.spec.get("response", {}).get("$ref")
        return str(ref) if ref else None


@cache
def method(service: str, version: str, name: str) -> Method:
    node: dict[str, Any] = document(service, version)
    *resources, verb = name.split(".")
    for resource in resources:
        node = node["resources"][resource]
    return Method(service, version, name, node["methods"][verb])


def values(query: dict[str, list[str]], name: str) -> list[str]:
    """Every value of a parameter: repeated occurrences and comma-separated lists, in order."""
    return [v.strip() for raw in query.get(name, []) for v in raw.split(",") if v.strip()]


def check_parameters(
    target: Method, query: dict[str, list[str]], *, also_required: tuple[str, ...] = ()
) -> None:
    """Raise :class:`ParameterProblem` for the first query parameter ``target`` refuses.

    ``also_required`` names parameters the API's reference documents as required
    where the discovery document does not say so (the Analytics API's ``ids``,
    ``metrics``, ``startDate``, ``endDate``).
    """
    for name, spec in target.parameters.items():
        if spec.get("location") != "query":
            continue
        given = [v for v in query.get(name, []) if v != ""]
        if not given:
            if spec.get("required") or name in also_required:
                raise ParameterProblem("required", name, f"Required parameter: {name}")
            continue
        for value in values(query, name) if spec.get("repeated") else given[-1:]:
            _check_value(name, spec, value)


def _check_value(name: str, spec: dict[str, Any], value: str) -> None:
    kind = spec.get("type")
    if kind == "integer":
        try:
            number = int(value)
        except ValueError:
            raise ParameterProblem(
                "integer", name, f"Invalid value '{value}'. Values must be integers."
            ) from None
        low, high = spec.get("minimum"), spec.get("maximum")
        if low is None:  # the Analytics document says it in the description
            found = re.search(r"minValue: (-?\d+)", spec.get("description", ""))
            low = found[1] if found else None
        if (low is not None and number < int(low)) or (high is not None and number > int(high)):
            if low is not None and high is not None:
                rule = f"Values must be within the range: [{low}, {high}]"
            else:
                rule = f"Values must be at least {low}" if low is not None else f"at most {high}"
            raise ParameterProblem("range", name, f"Invalid value '{value}'. {rule}")
    elif kind == "boolean" and value.lower() not in ("true", "false"):
        raise ParameterProblem("boolean", name, f"Invalid boolean value: '{value}'.")
    elif "enum" in spec and value not in spec["enum"]:
        allowed = ", ".join(spec["enum"])
        raise ParameterProblem(
            "enum", name, f"Invalid string value: '{value}'. Allowed values: [{allowed}]"
        )


# --- fields ---------------------------------------------------------------------------------

Selection = dict[str, "Selection | None"]  # name -> sub-selection (None: the whole value)


def parse_fields(text: str) -> Selection:
    """Parse a ``fields`` selector into a tree; raise ValueError if it is malformed."""
    selection, rest = _parse_list(text.replace(" ", ""), 0)
    if rest != len(text.replace(" ", "")):
        raise ValueError(f"Invalid field selection {text}")
    return selection


def _parse_list(text: str, at: int) -> tuple[Selection, int]:
    out: Selection = {}
    while True:
        path, at = _parse_path(text, at)
        sub: Selection | None = None
        if at < len(text) and text[at] == "(":
            sub, at = _parse_list(text, at + 1)
            if at >= len(text) or text[at] != ")":
                raise ValueError(f"Invalid field selection {text}")
            at += 1
        _merge(out, path, sub)
        if at < len(text) and text[at] == ",":
            at += 1
            continue
        return out, at


def _parse_path(text: str, at: int) -> tuple[list[str], int]:
    names, start = [], at
    while at <= len(text):
        if at == len(text) or text[at] in "/,()":
            name = text[start:at]
            if not name:
                raise ValueError(f"Invalid field selection {text}")
            names.append(name)
            if at < len(text) and text[at] == "/":
                at += 1
                start = at
                continue
            return names, at
        at += 1
    raise ValueError(f"Invalid field selection {text}")


def _merge(tree: Selection, path: list[str], leaf: Selection | None) -> None:
    head, *tail = path
    if head in tree and tree[head] is None:
        return  # already selected whole
    if tail:
        sub = tree.setdefault(head, {})
        assert sub is not None
        _merge(sub, tail, leaf)
    elif leaf is None:
        tree[head] = None
    else:
        merged = tree.setdefault(head, {})
        assert merged is not None
        merged.update(leaf)


def check_fields(selection: Selection, service: str, version: str, schema: str) -> None:
    """Raise :class:`ParameterProblem` if ``selection`` names what ``schema`` does not hold."""
    schemas = document(service, version)["schemas"]

    def walk(tree: Selection, node: dict[str, Any], prefix: str) -> None:
        while "$ref" in node or node.get("type") == "array":
            node = schemas[node["$ref"]] if "$ref" in node else node.get("items", {})
        props = node.get("properties")
        for name, sub in tree.items():
            if name == "*":
                continue
            if props is None or name not in props:
                if props is None and node.get("additionalProperties") is not None:
                    continue
                raise ParameterProblem(
                    "fields", "fields", f"Invalid field selection {prefix}{name}"
                )
            if sub:
                walk(sub, props[name], f"{prefix}{name}/")

    walk(selection, schemas[schema], "")


def select_fields(value: Any, selection: Selection | None) -> Any:
    """``value`` reduced to ``selection`` (arrays are reduced item by item)."""
    if selection is None or "*" in selection:
        return value
    if isinstance(value, list):
        return [select_fields(item, selection) for item in value]
    if not isinstance(value, dict):
        return value
    return {k: select_fields(value[k], sub) for k, sub in selection.items() if k in value}
