"""docs/counter-api.openapi.json describes exactly the routes of the counter API."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "counter-api.openapi.json"
METHODS = {"get", "post", "put", "patch", "delete"}


def document() -> dict[str, Any]:
    return json.loads(DOCUMENT.read_text(encoding="utf-8"))


def registered_routes(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("counter_api."):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            routes |= {(method.lower(), path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def documented_routes(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method, path) for path, item in doc["paths"].items()
            for method in item if method in METHODS}


def test_document_is_openapi_31_with_the_bearer_scheme():
    doc = document()
    assert doc["openapi"].startswith("3.1.")
    scheme = doc["components"]["securitySchemes"]["staffBearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert doc["security"] == [{"staffBearer": []}]
    assert set(doc["components"]["schemas"]["Error"]["required"]) == {"error", "message"}


def test_every_route_of_the_counter_api_is_documented_and_nothing_else(app):
    assert documented_routes(document()) == registered_routes(app)


def test_only_sign_in_is_open_and_every_operation_documents_its_errors():
    doc = document()
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            is_sign_in = (method, path) == ("post", "/counter/api/sessions")
            assert ("security" in operation) is is_sign_in, (method, path)
            if is_sign_in:
                assert operation["security"] == []
            else:
                assert "401" in operation["responses"], (method, path)
            assert operation["operationId"] and operation["summary"]


def test_every_reference_resolves():
    doc = document()
    text = DOCUMENT.read_text(encoding="utf-8")
    for ref in set(re.findall(r'"\$ref": "#/([^"]+)"', text)):
        node: Any = doc
        for part in ref.split("/"):
            assert part in node, ref
            node = node[part]
