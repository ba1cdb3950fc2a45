"""Response headers required on every page (docs/architecture.md §7)."""

from flask import Flask, Response

from idp.settings import current_settings

# Everything is served from our own origin: no CDN, no web fonts, no analytics.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        # No form-action: browsers apply it to the redirects that follow a form submission,
        # and sign-in and consent end in a redirect to the portal's own origin.
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)


# Set on every response that did not choose its own (setdefault semantics).
PAGE_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
HSTS = ("Strict-Transport-Security", "max-age=63072000; includeSubDomains")


def page_headers() -> tuple[tuple[str, str], ...]:
    """The headers every response carries, HSTS included in production; also used by the
    public documents' fast path (idp.web.oidc.documents), which answers before Flask."""
    return (*PAGE_HEADERS, HSTS) if current_settings().is_production else PAGE_HEADERS


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    for name, value in page_headers():
        headers.setdefault(name, value)
    # Pages carry personal data and one-time forms: never cache them. Only responses that
    # chose public caching (static assets, the public documents) keep their Cache-Control.
    if "Cache-Control" not in headers or response.status_code not in (200, 304):
        headers["Cache-Control"] = "no-store"
        headers.setdefault("Pragma", "no-cache")
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
