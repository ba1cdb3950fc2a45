"""Malformed bodies sent as raw bytes to the real server: 400, never 500.

The same bodies through the test client: tests/web/test_unreadable_bodies.py.
"""

from __future__ import annotations

import json

import pytest

from idp.web.request_body import MAX_BODY_BYTES
from tests.cli.served import raw_exchange, running_idp, status_of


@pytest.fixture(scope="module")
def port(database_url, tmp_path_factory):
    with running_idp(database_url, tmp_path_factory.mktemp("served")) as port:
        yield port


def post(path: str, headers: str, body: bytes) -> bytes:
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{headers}\r\n"
            .encode())
    return head + body


def chunked(path: str) -> bytes:
    return post(path, "Content-Type: application/x-www-form-urlencoded\r\n"
                      "Transfer-Encoding: chunked\r\n", b"ZZ\r\ngrant_type=x\r\n0\r\n\r\n")


def nameless_part(path: str) -> bytes:
    body = b"--B\r\nContent-Disposition: form-data\r\n\r\nx\r\n--B--\r\n"
    return post(path, f"Content-Type: multipart/form-data; boundary=B\r\n"
                      f"Content-Length: {len(body)}\r\n", body)


@pytest.mark.parametrize("path", ["/login", "/token"])
def test_invalid_chunk_size_is_refused(port, path):
    assert status_of(raw_exchange(port, chunked(path))) == 400


def test_multipart_part_without_a_name_is_refused_on_a_form(port):
    answer = raw_exchange(port, nameless_part("/login"))
    assert status_of(answer) == 400
    assert b"text/html" in answer.partition(b"\r\n\r\n")[0]


def test_multipart_part_without_a_name_is_refused_on_token(port):
    answer = raw_exchange(port, nameless_part("/token"))
    assert status_of(answer) == 400
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["error"] == "invalid_request"


def test_the_server_still_answers_afterwards(port):
    answer = raw_exchange(port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert status_of(answer) == 200


def form_of_size(size: int) -> bytes:
    body = (b"grant_type=x&pad=" + b"x" * size)[:size]
    return post("/token", f"Content-Type: application/x-www-form-urlencoded\r\n"
                          f"Content-Length: {size}\r\n", body)


def test_body_of_exactly_the_app_limit_reaches_the_app(port):
    # waitress refuses a body of max_request_body_size bytes or more; the app takes 64 KiB.
    answer = raw_exchange(port, form_of_size(MAX_BODY_BYTES))
    assert status_of(answer) == 400
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["error"] == "unsupported_grant_type"


def test_body_over_the_app_limit_is_refused(port):
    assert status_of(raw_exchange(port, form_of_size(MAX_BODY_BYTES + 1))) == 413
