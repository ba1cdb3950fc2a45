"""A body the app cannot read is a 400 on every endpoint that reads one, never a 500.

Through the test client; tests/cli/test_serve_bad_bodies.py sends the same bytes to the real
server.
"""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select
from werkzeug.serving import DechunkedInput

from idp.extensions import db
from idp.models import UserSession
from tests.factories import active_citizen

FORMS = ["/login", "/register", "/logout", "/language"]
NAMELESS_PART = (b"--B\r\nContent-Disposition: form-data\r\n\r\n001099012345\r\n"
                 b"--B\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nx\r\n--B--\r\n")
MULTIPART = {"Content-Type": "multipart/form-data; boundary=B"}
BAD_CHUNK = b"ZZ\r\nidentifier=001099012345\r\n0\r\n\r\n"


@pytest.mark.parametrize("path", FORMS)
def test_multipart_part_without_a_name_is_refused_on_forms(app, client, path):
    with app.app_context():
        active_citizen()
    response = client.post(path, data=NAMELESS_PART, headers=MULTIPART)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0


def test_multipart_part_without_a_name_is_refused_on_token(client):
    response = client.post("/token", data=NAMELESS_PART, headers=MULTIPART)
    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"


def test_named_multipart_parts_are_still_read(client):
    # The CSRF check reads the multipart form: without a token it is the usual 400 form error.
    body = b"--B\r\nContent-Disposition: form-data; name=\"identifier\"\r\n\r\n001099012345\r\n--B--\r\n"
    response = client.post("/login", data=body, headers=MULTIPART)
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", [*FORMS, "/token", "/counter/api/sessions"])
def test_invalid_chunk_size_from_a_lazily_decoding_server_is_refused(client, path):
    # A server that decodes chunks while the app reads (werkzeug's) raises OSError there;
    # werkzeug's LimitedStream makes it a 400, and the request class must keep that.
    # (`idp serve` refuses the bytes itself: tests/cli/test_serve_bad_bodies.py.)
    response = client.post(path, headers={"Transfer-Encoding": "chunked",
                                          "Content-Type": "application/x-www-form-urlencoded"},
                           environ_overrides={"wsgi.input": DechunkedInput(io.BytesIO(BAD_CHUNK)),
                                              "wsgi.input_terminated": True})
    assert response.status_code == 400
