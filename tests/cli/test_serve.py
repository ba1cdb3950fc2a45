"""`idp serve` runs gunicorn (waitress workers) in the foreground and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

from tests.cli.served import free_port


def test_serve_answers_then_stops_on_sigterm(app, database_url, tmp_path):
    port = free_port()
    env = {**os.environ, "IDP_ENV": "test", "IDP_DATABASE_URL": database_url,
           "IDP_INSTANCE_PATH": str(tmp_path)}
    server = subprocess.Popen(
        [sys.executable, "-m", "idp", "serve", "--port", str(port), "--workers", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "server did not come up"
                time.sleep(0.2)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        output = server.stdout.read() if server.stdout else ""
        assert "Handling signal: term" in output
        assert "Shutting down: Master" in output
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        if server.stdout:
            server.stdout.close()


def test_serve_refuses_bad_configuration(tmp_path):
    env = {**os.environ, "IDP_ENV": "production"}
    for name in ("IDP_SECRET_KEY", "IDP_DATABASE_URL", "IDP_KEY_ENCRYPTION_KEY"):
        env.pop(name, None)
    result = subprocess.run([sys.executable, "-m", "idp", "serve", "--port", str(free_port())],
                            env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: invalid configuration: IDP_")
