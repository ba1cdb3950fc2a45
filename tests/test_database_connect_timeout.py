"""Opening a PostgreSQL connection gives up after POSTGRES_CONNECT_TIMEOUT seconds.

Without it libpq waits as long as the server does not answer, and the request thread with it.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time

from idp import POSTGRES_CONNECT_TIMEOUT

# A PostgreSQL URL whose server accepts the TCP connection and then never answers.
CONNECT = """
import sys
from sqlalchemy import text
from idp import create_app
from idp.extensions import db
from tests.conftest import make_settings
from pathlib import Path
app = create_app(make_settings(sys.argv[1], Path(sys.argv[2])))
with app.app_context():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:
        print(type(error).__name__)
"""


def test_connection_to_a_silent_database_fails_within_the_timeout(tmp_path):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshake; nobody ever answers
        url = f"postgresql://postgres@127.0.0.1:{silent.getsockname()[1]}/idp"
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-c", CONNECT, url, str(tmp_path)],
                                capture_output=True, text=True, timeout=POSTGRES_CONNECT_TIMEOUT + 15)
    assert result.stdout.strip() == "OperationalError", result.stderr[-2000:]
    assert time.monotonic() - started < POSTGRES_CONNECT_TIMEOUT + 10
