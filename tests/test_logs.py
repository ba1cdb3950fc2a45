"""idp.logs: JSON lines (production, tests) or text (development), and the request id on
every line written while a request is served (idp.web.request_id)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import replace

import pytest

from idp.logs import FIELDS, JsonFormatter, TextFormatter, current_request_id
from idp.settings import SettingsError, load_settings


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """What the `idp` loggers write, through the JSON formatter."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("idp")
    logger.addHandler(handler)
    try:
        yield out
    finally:
        logger.removeHandler(handler)
        current_request_id.set(None)


def test_a_line_written_while_a_request_is_served_carries_its_id(settings, make_app, lines):
    app = make_app(replace(settings, redis_url="redis://127.0.0.1:1/0"))  # nothing listens
    response = app.test_client().get("/readyz", headers={"X-Request-ID": "probe-7.b"})
    assert response.status_code == 503
    assert response.headers["X-Request-ID"] == "probe-7.b"
    [entry] = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert entry["request_id"] == "probe-7.b"
    assert (entry["level"], entry["logger"], entry["message"]) == (
        "warning", "idp.web.health", "readiness check: Redis unavailable")


def test_every_response_has_a_request_id_and_an_unsafe_one_is_replaced(client):
    ids = [client.get("/healthz", headers=headers).headers["X-Request-ID"]
           for headers in ({}, {}, {"X-Request-ID": "a\u00e9b"}, {"X-Request-ID": "x" * 65})]
    assert all(len(value) == 32 and int(value, 16) >= 0 for value in ids)
    assert len(set(ids)) == 4


def test_json_lines_escape_what_could_break_a_line_and_keep_tracebacks_on_it():
    record = logging.LogRecord("idp.x", logging.ERROR, __file__, 1, 'a\n{"forged": "%s"}',
                               ("Ngọc",), None)
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line and line.isascii()
    entry = json.loads(line)
    assert entry["message"] == 'a\n{"forged": "Ngọc"}'
    assert "ValueError: boom" in entry["exception"]


def test_text_lines_escape_their_fields():
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "request", (), None)
    setattr(record, FIELDS, {"route": "-", "method": 'G"E\nT', "client_id": None})
    line = TextFormatter().format(record)
    assert line.endswith(' request route=- method=G\\"E\\nT') and "\n" not in line


def test_json_by_default_text_in_development_and_nothing_else(tmp_path):
    assert load_settings("test", environ={}).log_format == "json"
    assert load_settings("development", environ={},
                         instance_path=str(tmp_path)).log_format == "text"
    assert load_settings("test", environ={"IDP_LOG_FORMAT": "text"}).log_format == "text"
    with pytest.raises(SettingsError, match="IDP_LOG_FORMAT must be json or text"):
        load_settings("test", environ={"IDP_LOG_FORMAT": "yaml"})
