"""The log of `idp serve`: one JSON object per line, gunicorn's own lines included; one access
line per request with its id, route pattern (never the path: paths carry tokens), method,
status, duration and the portal a protocol request names; no forged line.

Paths carry secrets (/recover/link/<token>) and waitress percent-decodes them, so a %0a in a
path wrote a line break, and a forged line, into the log.
"""

from __future__ import annotations

import base64
import json
import re
import time

from tests.cli.served import raw_exchange, serving_idp, status_of

TOKEN = "Tk" + "q" * 40
GENERATED_ID = re.compile(r"[0-9a-f]{32}")
# text: time level logger [request id]: request name=value...
TEXT_ACCESS_LINE = re.compile(r"^\S+ \S+ INFO gunicorn\.access \[[0-9a-f]{32}\]: request "
                              r"remote_addr=\S+ method=[A-Z]+ route=\S+ status=\d{3} "
                              r"duration_ms=\d+\.\d$")


def get(path: str, *headers: str) -> bytes:
    extra = "".join(f"{header}\r\n" for header in headers)
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}Connection: close\r\n\r\n".encode()


def post(path: str, body: str, *headers: str) -> bytes:
    extra = "".join(f"{header}\r\n" for header in headers)
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}Connection: close\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}").encode()


def header(answer: bytes, name: str) -> str:
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    [value] = [line.split(":", 1)[1].strip() for line in head.split("\r\n")
               if line.lower().startswith(name.lower() + ":")]
    return value


def json_lines(text: str) -> list[dict]:
    """Every line of the log, each of which must be one JSON object."""
    entries = [json.loads(line) for line in text.splitlines()]
    assert all(isinstance(entry, dict) and {"ts", "level", "logger", "message"} <= entry.keys()
               for entry in entries)
    return entries


def access(entries: list[dict]) -> list[dict]:
    return [entry for entry in entries if entry["logger"] == "gunicorn.access"]


def test_every_line_is_json_and_the_access_log_holds_the_route_not_the_token(database_url,
                                                                              tmp_path):
    with serving_idp(database_url, tmp_path) as served:
        assert status_of(raw_exchange(served.port, get(f"/recover/link/{TOKEN}"))) == 404
        raw_exchange(served.port, get(f"/recover/link/{TOKEN}%0a127.0.0.1%20forged"))
        raw_exchange(served.port, get("/nowhere%0a127.0.0.1%20forged"))
        raw_exchange(served.port, get(f"/login?login_hint=0912345678&state={TOKEN}"))
        time.sleep(0.5)
        log = served.log_text()
    entries = json_lines(log)  # gunicorn's master lines too
    assert any(entry["message"].startswith("Booting worker") for entry in entries)
    lines = [entry for entry in access(entries) if entry["route"] != "/readyz"]
    assert [(entry["method"], entry["route"], entry["status"]) for entry in lines] == [
        ("GET", "/recover/link/<token>", 404), ("GET", "/recover/link/<token>", 404),
        ("GET", "-", 404), ("GET", "/login", 200)]
    for entry in lines:
        assert set(entry) == {"ts", "level", "logger", "request_id", "remote_addr", "method",
                              "route", "status", "duration_ms", "client_id", "message"}
        assert (entry["level"], entry["remote_addr"], entry["client_id"]) == ("info", "127.0.0.1",
                                                                              None)
        assert GENERATED_ID.fullmatch(entry["request_id"])
        assert isinstance(entry["duration_ms"], float) and entry["duration_ms"] >= 0
    assert len({entry["request_id"] for entry in lines}) == 4
    assert TOKEN not in log
    assert "forged" not in log
    assert "0912345678" not in log and "login_hint" not in log


def test_a_sane_request_id_is_kept_and_answered_an_unsafe_one_replaced(database_url, tmp_path):
    with serving_idp(database_url, tmp_path) as served:
        kept = raw_exchange(served.port, get("/login", "X-Request-ID: lb-7f3a.2:9_Z"))
        answers = [raw_exchange(served.port, get("/login", f"X-Request-ID: {unsafe}"))
                   for unsafe in ("a b", "x" * 65, "ngoc@example.vn", '"}{"forged":1')]
        fresh = raw_exchange(served.port, get("/login"))
        time.sleep(0.5)
        log = served.log_text()
    assert header(kept, "X-Request-ID") == "lb-7f3a.2:9_Z"
    replaced = [header(answer, "X-Request-ID") for answer in answers]
    assert all(GENERATED_ID.fullmatch(value) for value in [*replaced, header(fresh, "X-Request-ID")])
    logged = [entry["request_id"] for entry in access(json_lines(log)) if entry["route"] == "/login"]
    assert logged == ["lb-7f3a.2:9_Z", *replaced, header(fresh, "X-Request-ID")]
    assert "example.vn" not in log and "forged" not in log


def test_a_protocol_request_logs_the_portal_it_names(database_url, tmp_path):
    basic = base64.b64encode(b"portal-a:its-secret").decode()
    with serving_idp(database_url, tmp_path) as served:
        raw_exchange(served.port, get("/authorize?client_id=portal-q&response_type=code"))
        raw_exchange(served.port, post("/token", "grant_type=authorization_code&code=c0de"
                                       "&client_id=portal-f&client_secret=its-secret"))
        raw_exchange(served.port, post("/token/introspect", "token=t0ken",
                                       f"Authorization: Basic {basic}"))
        raw_exchange(served.port, get("/authorize?client_id=no%20such%0aid"))
        raw_exchange(served.port, get("/login?client_id=portal-q"))  # not a protocol endpoint
        time.sleep(0.5)
        log = served.log_text()
    named = [(entry["route"], entry["client_id"]) for entry in access(json_lines(log))
             if entry["route"] != "/readyz"]
    assert named == [("/authorize", "portal-q"), ("/token", "portal-f"),
                     ("/token/introspect", "portal-a"), ("/authorize", None), ("/login", None)]
    assert "its-secret" not in log and "c0de" not in log and "t0ken" not in log


def test_text_lines_for_a_terminal_are_escaped_too(database_url, tmp_path):
    with serving_idp(database_url, tmp_path, env={"IDP_LOG_FORMAT": "text"}) as served:
        raw_exchange(served.port, get(f"/recover/link/{TOKEN}%0a127.0.0.1%20forged"))
        raw_exchange(served.port, get("/nowhere%0a127.0.0.1%20forged"))
        time.sleep(0.5)
        log = served.log_text()
    lines = [line for line in log.splitlines() if " gunicorn.access " in line]
    assert len(lines) == 3  # the probe's and the two above
    assert all(TEXT_ACCESS_LINE.match(line) for line in lines), lines
    assert sum(" route=/recover/link/<token> status=404 " in line for line in lines) == 1
    assert TOKEN not in log and "forged" not in log
