"""Form submissions (the requests that may hash a password) run on a bounded share of a worker's
threads; the protocol endpoints and page views always have the rest (idp.cli.waitress_lanes).

First the server of `idp serve` in this process, with an application whose form submission
blocks until the test releases it; then `idp serve` itself, with a password hash slow enough
to see who is answered first.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from waitress import wasyncore

from idp.cli.waitress_lanes import form_submission_predicate, form_threads_for
from idp.cli.waitress_server import create_guarded_server
from tests.cli.served import free_port, server_env, start, stop, wait_for_health


class BlockingForms:
    """POST /login blocks until released; anything else answers at once."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.running = 0
        self.most_running = 0
        self.order: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["REQUEST_METHOD"] == "POST":
            with self.lock:
                self.running += 1
                self.most_running = max(self.most_running, self.running)
                self.order.append(environ["QUERY_STRING"])
            self.release.wait(10)
            with self.lock:
                self.running -= 1
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]


def is_form(method: str, path: str) -> bool:
    return method == "POST" and path == "/login"


@contextmanager
def serving(app: Any, **options: Any) -> Iterator[tuple[str, int]]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    socket_map: dict[int, Any] = {}
    [server] = create_guarded_server(app, socket_map, [listener], asyncore_use_poll=True,
                                     **options)
    done = threading.Event()

    def loop() -> None:
        while not done.is_set():
            wasyncore.loop(timeout=0.05, map=socket_map, use_poll=True, count=1)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()
    finally:
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        done.set()
        thread.join(5)
        wasyncore.close_all(socket_map)


def request(address: tuple[str, int], method: str, path: str, timeout: float = 10) -> bytes:
    with socket.create_connection(address, timeout=timeout) as client:
        client.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                       f"Connection: close\r\n\r\n".encode())
        answer = b""
        while chunk := client.recv(4096):
            answer += chunk
        return answer


def wait_until(condition: Any, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_form_submissions_never_take_the_threads_the_other_requests_need():
    app = BlockingForms()
    with serving(app, threads=2, form_lane=(is_form, 1)) as address, \
            ThreadPoolExecutor(3) as pool:
        posts = [pool.submit(request, address, "POST", f"/login?{n}") for n in range(3)]
        wait_until(lambda: app.running == 1)
        time.sleep(0.2)  # the queued submissions had every chance to take the second thread
        assert app.running == 1
        # Both threads would be blocked by now with one queue; here a page answers at once.
        assert request(address, "GET", "/userinfo", timeout=2).startswith(b"HTTP/1.1 200")
        assert not any(post.done() for post in posts)
        app.release.set()
        assert all(post.result().startswith(b"HTTP/1.1 200") for post in posts)
    assert app.most_running == 1
    assert sorted(app.order) == ["0", "1", "2"]


def test_without_the_lane_the_same_submissions_hold_every_thread():
    """The control: waitress's own dispatcher, same load, and the page waits."""
    app = BlockingForms()
    with serving(app, threads=2) as address, ThreadPoolExecutor(3) as pool:
        posts = [pool.submit(request, address, "POST", f"/login?{n}") for n in range(3)]
        wait_until(lambda: app.running == 2)
        with pytest.raises(TimeoutError):
            request(address, "GET", "/userinfo", timeout=1)
        app.release.set()
        assert all(post.result().startswith(b"HTTP/1.1 200") for post in posts)


def test_what_counts_as_a_form_submission(app):
    is_form_submission = form_submission_predicate(app)
    assert (form_threads_for(4), form_threads_for(3), form_threads_for(1)) == (2, 1, 1)
    for method, path in [("POST", "/login"), ("POST", "/register"), ("POST", "/account/password"),
                         ("POST", "/counter/api/sessions"),
                         ("DELETE", "/counter/api/sessions/current"), ("POST", "/recover")]:
        assert is_form_submission(method, path), (method, path)
    for method, path in [("GET", "/login"), ("HEAD", "/login"), ("POST", "/token"),
                         ("POST", "/userinfo"), ("POST", "/token/introspect"),
                         ("POST", "/token/revoke"), ("POST", "/authorize"),
                         ("POST", "/authorize/consent"), ("POST", "/session/end"),
                         ("GET", "/userinfo")]:
        assert not is_form_submission(method, path), (method, path)


def test_idp_serve_answers_a_page_while_sign_ins_hash(database_url, tmp_path):
    """Two staff sign-ins with a ~1 s hash on a worker of two threads: a page is answered
    well before either sign-in, which only holds if the sign-ins share one thread."""
    port = free_port()
    env = {**server_env(database_url, tmp_path), "IDP_ARGON2_TIME_COST": "24",
           "IDP_ARGON2_MEMORY_COST": "65536", "IDP_ARGON2_PARALLELISM": "1"}
    server = start([sys.executable, "-m", "idp", "serve", "--port", str(port), "--workers", "1",
                    "--threads", "2"], env)
    answered: dict[str, float] = {}

    def sign_in() -> int:
        body = json.dumps({"username": "nobody", "password": "wrong", "totp": "000000"})
        call = urllib.request.Request(f"http://127.0.0.1:{port}/counter/api/sessions",
                                      data=body.encode(), method="POST",
                                      headers={"Content-Type": "application/json"})
        try:
            urllib.request.urlopen(call, timeout=30)
        except urllib.error.HTTPError as exc:
            answered.setdefault("sign-in", time.monotonic())
            return exc.code
        return 200

    try:
        wait_for_health(server, port, seconds=60)
        with ThreadPoolExecutor(2) as pool:
            sign_ins = [pool.submit(sign_in) for _ in range(2)]
            time.sleep(0.3)
            with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/.well-known/openid-configuration",
                    timeout=30) as page:
                assert page.status == 200
                answered["page"] = time.monotonic()
            assert [s.result() for s in sign_ins] == [401, 401]
    finally:
        stop(server)
    # With one queue the page waits for a sign-in's thread and is answered just after it.
    assert answered["page"] + 0.3 < answered["sign-in"], answered
