"""Login throttling (DESIGN §6): progressive delay per account, never a long lockout.

Keys (chosen by the caller, see authentication.throttle_key). Sign-in attempts are counted per
*account* when the identifier names one (every spelling of an ID number or phone, and the ID
number and the phone, share one count: alternating them gives no extra guesses) and per
canonical identifier otherwise, so an unknown ID number is throttled exactly like a known one.
A browser that has already signed in to the account carries a signed device cookie and is
counted on its own key: a stranger's failures never throttle the owner's own browser.

Policy. The first `login_free_failures` attempts after the last success are free; after that
an attempt needs a free *slot*, and taking attempt n's slot closes the door for
2^(n-free-1) seconds, capped at `login_max_delay_seconds` (15 min). So a stranger gets about
100 guesses a day at most, and can delay the owner on a new browser by at most the cap.
After HARD_LIMIT failures within the counting window a key is refused until the window ends.

Atomicity. The attempt is counted *before* the password is checked (one atomic increment in
the shared store), so concurrent guesses cannot all slip through while argon2 runs. A caller
that reports every outcome (`begin(..., wait=True)`, then `succeeded` or `finished`) marks the
attempt pending meanwhile; an attempt refused only while others are pending waits for them
(up to PENDING_WAIT_SECONDS) and tries again, so concurrent right passwords are not refused
because they were counted, and concurrent wrong ones still are once their failures count.
State lives in the rate-limit store (memory in development, Redis in production).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from flask import current_app

from idp.extensions import limiter

WINDOW_SECONDS = 24 * 3600
HARD_LIMIT = 100
PENDING_WAIT_SECONDS = 3.0
PENDING_EXPIRY_SECONDS = 30  # a crashed request cannot leave its attempt pending for long
POLL_SECONDS = 0.02


@dataclass
class Attempt:
    """A permitted attempt on `key`; report its outcome with `succeeded` or leave it counted."""

    key: str
    pending: bool = False


class Throttled(Exception):
    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


def _storage_key(key: str, kind: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"postid/login/{kind}/{digest}"


def _seconds_until(storage_key: str) -> int:
    return max(1, math.ceil(limiter.storage.get_expiry(storage_key) - time.time()))


def delay_for(failures: int) -> int:
    """Seconds the slot taken by attempt number `failures` stays closed."""
    settings = current_app.config["IDP_SETTINGS"]
    excess = failures - settings.login_free_failures
    if excess <= 0:
        return 0
    return min(2 ** min(excess - 1, 30), settings.login_max_delay_seconds)


def begin(key: str, *, wait: bool = False) -> Attempt:
    """Count an attempt on `key` or raise Throttled. Call before checking the password.
    With `wait`, the caller must end the attempt with `succeeded` or `finished`."""
    deadline = time.monotonic() + PENDING_WAIT_SECONDS
    pending_key = _storage_key(key, "pending")
    storage = limiter.storage
    while True:
        if wait:  # pending before counted: a concurrent refusal must see it and wait
            storage.incr(pending_key, PENDING_EXPIRY_SECONDS)
        try:
            _begin_once(key)
            return Attempt(key, pending=wait)
        except Throttled:
            if not wait:
                raise
            others = storage.incr(pending_key, PENDING_EXPIRY_SECONDS, amount=-1)
            if others <= 0 or time.monotonic() >= deadline:
                raise
            time.sleep(POLL_SECONDS)


def _begin_once(key: str) -> None:
    storage = limiter.storage
    failures_key = _storage_key(key, "failures")
    slot_key = _storage_key(key, "slot")
    if storage.get(failures_key) >= HARD_LIMIT:
        raise Throttled(_seconds_until(failures_key))
    if storage.get(slot_key) > 0:
        raise Throttled(_seconds_until(slot_key))
    failures = storage.incr(failures_key, WINDOW_SECONDS)
    delay = delay_for(failures)
    if delay and storage.incr(slot_key, delay) > 1:
        # Another request took this slot between our check and our increment.
        storage.incr(failures_key, WINDOW_SECONDS, amount=-1)
        raise Throttled(_seconds_until(slot_key))


def succeeded(attempt: Attempt) -> None:
    storage = limiter.storage
    storage.clear(_storage_key(attempt.key, "failures"))
    storage.clear(_storage_key(attempt.key, "slot"))
    finished(attempt)


def finished(attempt: Attempt) -> None:
    """The outcome of a pending attempt is known (a failure stays counted); idempotent."""
    if attempt.pending:
        limiter.storage.incr(_storage_key(attempt.key, "pending"), PENDING_EXPIRY_SECONDS,
                             amount=-1)
        attempt.pending = False


def retry_after(key: str) -> int:
    """Seconds before `key` may try again (0 = now). For display and tests."""
    storage = limiter.storage
    for kind in ("failures", "slot"):
        storage_key = _storage_key(key, kind)
        count = storage.get(storage_key)
        if (kind == "failures" and count >= HARD_LIMIT) or (kind == "slot" and count > 0):
            return _seconds_until(storage_key)
    return 0
