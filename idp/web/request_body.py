"""What the app refuses before a view reads a request: an overlong request line, unreadable bodies.

The request class: a form body the app cannot read is the client's error (400), not ours.

werkzeug's multipart parser keeps a part whose Content-Disposition has no `name` under the key
None; Flask-WTF's CSRF check (and any view) then fails on `None.endswith` with a 500 on every
form. RFC 7578 §4.2 requires the name, so such a body is refused as malformed.

An invalid chunked body (`Transfer-Encoding: chunked`, chunk size `ZZ`) is refused with 400 by
`idp serve` itself (waitress decodes chunks before the app runs). gunicorn's own parser raised a
plain Exception from the body stream while the app read it, hence the 500 it gave; the OSError
of werkzeug's development server is already a 400 (werkzeug's LimitedStream).
"""

from __future__ import annotations

from typing import IO, Any

from flask import Request, request
from werkzeug.exceptions import BadRequest, RequestURITooLarge
from werkzeug.formparser import FormDataParser

# The largest request body the app accepts (Flask's MAX_CONTENT_LENGTH; also what `idp serve`
# and deploy/haproxy.cfg hold back): the largest form or JSON body is a few kB.
MAX_BODY_BYTES = 64 * 1024


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


# The longest request target (path and query) served: more than an /authorize URL with a
# sizeable `claims` request needs. waitress itself only bounds all headers together (32 KiB,
# 431), so the app answers 414 in its own error shape (docs/counter-api.openapi.json).
REQUEST_LINE_LIMIT = 8190


def refuse_overlong_request_line() -> None:
    environ = request.environ
    target = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    if target is None:
        query = environ.get("QUERY_STRING", "")
        target = environ.get("PATH_INFO", "") + ("?" + query if query else "")
    if len(target) > REQUEST_LINE_LIMIT:
        raise RequestURITooLarge()
