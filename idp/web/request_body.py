"""The request class: a form body the app cannot read is the client's error (400), not ours.

werkzeug's multipart parser keeps a part whose Content-Disposition has no `name` under the key
None; Flask-WTF's CSRF check (and any view) then fails on `None.endswith` with a 500 on every
form (issue 11). RFC 7578 §4.2 requires the name, so such a body is refused as malformed.

An invalid chunked body (`Transfer-Encoding: chunked`, chunk size `ZZ`) is refused with 400 by
`idp serve` itself (waitress decodes chunks before the app runs). gunicorn's own parser raised a
plain Exception from the body stream while the app read it, hence the 500 it gave; the OSError
of werkzeug's development server is already a 400 (werkzeug's LimitedStream).
"""

from __future__ import annotations

from typing import IO, Any

from flask import Request
from werkzeug.exceptions import BadRequest
from werkzeug.formparser import FormDataParser


class NamedPartsFormDataParser(FormDataParser):
    def _parse_multipart(self, stream: IO[bytes], mimetype: str, content_length: int | None,
                         options: dict[str, str]) -> Any:
        parsed = super()._parse_multipart(stream, mimetype, content_length, options)
        _, form, files = parsed
        # Raised as BadRequest, not ValueError: the parser silently drops a ValueError.
        if None in form or None in files:
            raise BadRequest("A multipart part has no name (RFC 7578 §4.2).")
        return parsed


class IdpRequest(Request):
    form_data_parser_class = NamedPartsFormDataParser
