"""Login throttling per identifier (DESIGN §6).

Counted per *identifier typed*, not per account row, so an unknown ID number is throttled
exactly like a known one and the response never tells which exists. State lives in the rate-limit
store (memory in development, Redis in production) so every node sees the same counts.

Policy: the first `login_free_failures` failures cost nothing; each further failure blocks the
identifier for 2^(n-free) seconds, capped at `login_max_delay_seconds` (15 minutes by default).
A stranger can therefore delay a citizen by at most that cap, never lock them out; at the cap,
100 consecutive failures take about a day. After HARD_LIMIT failures within the counting window,
attempts are refused until the window (24 h from the first failure) ends.
"""

from __future__ import annotations

import hashlib
import math
import time

from flask import current_app

from idp.extensions import limiter

WINDOW_SECONDS = 24 * 3600
HARD_LIMIT = 100


def _key(identifier: str, kind: str) -> str:
    digest = hashlib.sha256(identifier.encode()).hexdigest()[:32]
    return f"postid/login/{kind}/{digest}"


def retry_after(identifier: str) -> int:
    """Seconds the identifier must wait before its next attempt (0 = may try now)."""
    storage = limiter.storage
    if storage.get(_key(identifier, "failures")) >= HARD_LIMIT:
        return max(1, math.ceil(storage.get_expiry(_key(identifier, "failures")) - time.time()))
    if storage.get(_key(identifier, "blocked")) > 0:
        return max(1, math.ceil(storage.get_expiry(_key(identifier, "blocked")) - time.time()))
    return 0


def record_failure(identifier: str) -> int:
    """Count one failure; return the delay (seconds) it imposes on the next attempt."""
    settings = current_app.config["IDP_SETTINGS"]
    storage = limiter.storage
    failures = storage.incr(_key(identifier, "failures"), WINDOW_SECONDS)
    excess = failures - settings.login_free_failures
    if excess <= 0:
        return 0
    delay = min(2 ** min(excess - 1, 30), settings.login_max_delay_seconds)
    storage.clear(_key(identifier, "blocked"))
    storage.incr(_key(identifier, "blocked"), delay)
    return delay


def record_success(identifier: str) -> None:
    storage = limiter.storage
    storage.clear(_key(identifier, "failures"))
    storage.clear(_key(identifier, "blocked"))
