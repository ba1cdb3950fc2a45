"""docs/counter-api.openapi.json describes exactly the routes of the counter API."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.counter.helpers import api_headers

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


# --- the server answers what the document says -----------------------------------

API = "/counter/api"
JSON_TYPES = {"string": str, "array": list, "object": dict, "integer": int, "boolean": bool}


def operation(doc: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    return doc["paths"][path][method]


def resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def error_codes(response_doc: dict[str, Any]) -> set[str]:
    listed = response_doc["description"].partition("`error` is one of:")[2]
    return set(re.findall(r"`([a-z_]+)`", listed))


def assert_documented(doc: dict[str, Any], method: str, path: str, response) -> None:  # type: ignore[no-untyped-def]
    """The status is documented for the operation, and a JSON body matches its schema (required
    members present, members of the documented types, `error` one of those listed)."""
    responses = operation(doc, method, path)["responses"]
    assert str(response.status_code) in responses, (method, path, response.status_code)
    documented = resolve(doc, responses[str(response.status_code)])
    [(media_type, content)] = documented["content"].items()
    assert response.mimetype == media_type
    schema = resolve(doc, content["schema"])
    body = response.json
    assert set(schema.get("required", ())) <= set(body), body
    for name, value in body.items():
        expected = schema["properties"][name].get("type")
        assert expected is None or isinstance(value, JSON_TYPES[expected]), (name, value)
    if "error" in body:
        assert body["error"] in error_codes(documented), (body["error"], documented["description"])


def parameter_schema(doc: dict[str, Any], method: str, path: str, name: str) -> dict[str, Any]:
    [param] = [p for p in operation(doc, method, path)["parameters"] if p["name"] == name]
    return param["schema"]


@pytest.mark.parametrize("path", ["/counter/api/verifications", "/counter/api/organisation-checks"])
def test_an_empty_or_over_long_code_is_the_documented_400(app, client, cast, path):
    doc = document()
    schema = parameter_schema(doc, "get", path, "code")
    assert schema["minLength"] == 1  # the document says an empty code is not a code
    for code in ("", "x" * (schema["maxLength"] + 1)):
        response = client.get(path, query_string={"code": code}, headers=api_headers(app, cast.clerk))
        assert response.status_code == 400
        assert_documented(doc, "get", path, response)


@pytest.mark.parametrize("path", ["/counter/api/queue", "/counter/api/organisation-queue"])
@pytest.mark.parametrize("page", ["0", "-3"])
def test_page_zero_or_negative_is_the_documented_first_page(app, client, cast, path, page):
    doc = document()
    schema = parameter_schema(doc, "get", path, "page")
    assert schema["type"] == "integer" and "minimum" not in schema and "exclusiveMinimum" not in schema
    response = client.get(path, query_string={"page": page}, headers=api_headers(app, cast.supervisor))
    assert response.status_code == 200 and response.json["page"] == 1
    assert_documented(doc, "get", path, response)


def test_every_operation_documents_the_servers_414_and_the_outage_503():
    from idp.web.request_body import REQUEST_LINE_LIMIT

    doc = document()
    too_long = doc["components"]["responses"]["UriTooLong"]["description"]
    assert f"{REQUEST_LINE_LIMIT} bytes" in too_long
    for item in doc["paths"].values():
        for method, op in item.items():
            if method in METHODS:
                assert op["responses"]["414"] == {"$ref": "#/components/responses/UriTooLong"}
                assert op["responses"]["503"] == {"$ref": "#/components/responses/Unavailable"}


@pytest.mark.parametrize("method,path,url", [
    ("get", "/counter/api/verifications", f"{API}/verifications?code=7KQM-4XPA"),
    ("get", "/counter/api/me", f"{API}/me"),
    ("post", "/counter/api/verifications/{public_id}/submit", f"{API}/verifications/abc/submit"),
])
def test_an_outage_is_the_documented_503(app, client, cast, method, path, url):
    from tests.outage import outage

    doc = document()
    headers = api_headers(app, cast.clerk)
    with outage(app, "before_commit"):
        response = client.open(url, method=method.upper(), headers=headers, json={})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert_documented(doc, method, path, response)


def test_an_overlong_request_target_is_the_documented_414(app, client, cast):
    from idp.web.request_body import REQUEST_LINE_LIMIT

    doc = document()
    url = f"{API}/verifications?code=" + "A" * REQUEST_LINE_LIMIT
    response = client.get(url, headers=api_headers(app, cast.supervisor))
    assert response.status_code == 414
    assert response.json["error"] == "uri_too_long" and response.json["message"]
    assert_documented(doc, "get", "/counter/api/verifications", response)
    # Just under the limit is read as usual (an invalid code, not a refused request line).
    fits = client.get(f"{API}/me?x=" + "A" * (REQUEST_LINE_LIMIT - len(f"{API}/me?x=")),
                      headers=api_headers(app, cast.supervisor))
    assert fits.status_code == 200
