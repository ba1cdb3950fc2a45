"""The access log of `idp serve` holds route patterns, never a token, and one line per request.

Paths carry secrets (/recover/link/<token>) and waitress percent-decodes them, so a %0a in a
path wrote a line break, and a forged line, into the log.
"""

from __future__ import annotations

import re
import time

from tests.cli.served import raw_exchange, serving_idp, status_of

TOKEN = "Tk" + "q" * 40
# client "METHOD route" status seconds
ACCESS_LINE = re.compile(r'^\S+ "[A-Z]+ \S+" \d{3} \d+\.\d{3}s$')


def get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()


def test_access_log_holds_the_route_not_the_token_nor_a_forged_line(database_url, tmp_path):
    with serving_idp(database_url, tmp_path) as served:
        assert status_of(raw_exchange(served.port, get(f"/recover/link/{TOKEN}"))) == 404
        raw_exchange(served.port, get(f"/recover/link/{TOKEN}%0a127.0.0.1%20forged"))
        raw_exchange(served.port, get("/nowhere%0a127.0.0.1%20forged"))
        time.sleep(0.5)
        log = served.log_text()
    access = [line for line in log.splitlines() if '"GET ' in line]
    assert sum('"GET /recover/link/<token>" 404 ' in line for line in access) == 2
    assert sum('"GET -" 404 ' in line for line in access) == 1
    assert all(ACCESS_LINE.match(line) for line in access), access
    assert TOKEN not in log
    assert "forged" not in log
