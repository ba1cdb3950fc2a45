"""Where a local `next` parameter may send the browser: only paths on this site."""

from urllib.parse import urlsplit


def safe_next(target: str | None, default: str) -> str:
    """Return `target` if it is a same-site path, else `default` (no open redirect)."""
    if not target or len(target) > 2048 or "\\" in target or any(ord(c) < 0x20 for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target
