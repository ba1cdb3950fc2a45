"""The JSON plumbing of the passkey ceremonies (idp/static/js/passkeys.js): the request body, the
answers. A ceremony's pages post JSON with the CSRF token in the X-CSRFToken header."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import gettext
from werkzeug.wrappers import Response

from idp.errors import Refusal


def body() -> dict[str, Any]:
    """The JSON object sent, or an empty one (a missing field is then refused by the service)."""
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def options(handle: str, public_key: dict[str, object]) -> Response:
    return jsonify(ceremony=handle, publicKey=public_key)


def done(redirect_to: str) -> Response:
    return jsonify(redirect=redirect_to)


def refused(refusal: Refusal) -> tuple[Response, int]:
    return jsonify(error=refusal.code, message=gettext(refusal.message)), refusal.status
