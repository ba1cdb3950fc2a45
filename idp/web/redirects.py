"""Where a local `next` parameter may send the browser: only paths on this site."""

from urllib.parse import urlsplit

from flask import request

from idp.domain.uris import MAX_NEXT_LENGTH
from idp.web.oidc.interactions import authorize_url, original_params


def safe_next(target: str | None, default: str) -> str:
    """Return `target` if it is a same-site path, else `default` (no open redirect).

    Long enough for a whole authorization request to resume (checks.MAX_REQUEST_LENGTH), even
    nested once as the `next` of /login."""
    if not target or len(target) > MAX_NEXT_LENGTH or "\\" in target or any(ord(c) < 0x20 for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def next_param() -> str | None:
    """The flow's `next` query parameter (e.g. a portal's authorization request to resume),
    if it is a same-site path: carried along a multi-page flow in each page's URL."""
    return safe_next(request.args.get("next"), "") or None


def language_return() -> str:
    """Where the language switch sends the browser back to: the page being shown.

    For a POST (a form sent back with errors) that is the URL the form was shown at, when the
    same path answers GET: forms of a flow post to the URL they were shown at, query included
    (/login?next=..., /register?next=...), so the flow and its `next` survive the switch. The
    values typed into the form are lost (they were never stored; asking for them again is
    acceptable), the flow is not. A POST-only path falls back to the start page unless its
    view names a page (`language_next`).

    The authorization endpoints are the exception: a portal may POST its request to
    /authorize (OIDC Core §3.1.2.1), and the query of such a page is empty, so the way back is
    the GET form of the original request (our own form fields left out), validated again from
    scratch there like every way back to /authorize."""
    if (request.endpoint or "").startswith("oidc.authorize"):
        return safe_next(authorize_url(original_params()), "")
    rule = request.url_rule
    if request.method == "GET" or (rule is not None and "GET" in (rule.methods or ())):
        return safe_next(request.full_path.rstrip("?"), "")
    return ""
