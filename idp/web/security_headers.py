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


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    # Pages carry personal data and one-time forms: never cache them. Static assets may be.
    if "Cache-Control" not in headers or response.status_code not in (200, 304):
        # Pages carry personal data; only responses that chose public caching keep it.
        headers["Cache-Control"] = "no-store"
        headers.setdefault("Pragma", "no-cache")
    if current_settings().is_production:
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
