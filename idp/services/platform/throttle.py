"""Login throttling (docs/architecture.md §7): progressive delay per account, never a long lockout.

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
that reports every outcome (`begin(..., wait=True)`, then `succeeded` or `finished`, the
latter in a `finally`) marks the attempt pending meanwhile; an attempt refused while others
are pending waits for them and tries again each time one ends, so concurrent right passwords
are not refused because they were counted, and concurrent wrong ones still are once their
failures count. A wait holds a server thread, so it is short and scarce: at most
PENDING_WAIT_SECONDS (about one password check), at most MAX_WAITERS per key (others are
refused at once), waiters only read the pending count (they never mark themselves, so they
cannot keep each other waiting), and the caller ends its database transaction first.

Pending marks are counted in 10-second buckets, each incremented only during its own 10 s
and kept for PENDING_EXPIRY_SECONDS after that, so a mark is always taken back from a bucket
that still holds it (one shared counter, whose expiry is set at its first increment, expired
under steady traffic while marks were out and went negative); a crashed request's mark
fades within PENDING_EXPIRY_SECONDS + 10 s.
State lives in the rate-limit store (memory in development, Redis in production).

What a wait tells (decided: accepted). While a key is throttled, a refusal comes at
once when no attempt on the key is pending and after up to PENDING_WAIT_SECONDS when one is,
so a prober who keeps a key throttled can tell that someone else is signing in on it at that
moment. Not closed by delaying every refusal by the same time: that would hold a server thread
for 0.8 s per refused guess, turning the cheapest request of a guessing run into the dearest
(a few clients could occupy every thread). What leaks is small: the key is the account's or
the typed identifier's, known or not (an unknown ID number has pending attempts too when
someone tries it), so it does not tell that an account exists; it tells only that an attempt
was in flight, which the owner's own browser does not feed (its device key is apart).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from idp.errors import Throttled
from idp.extensions import limiter
from idp.services.platform import metrics
from idp.settings import current_settings

WINDOW_SECONDS = 24 * 3600
HARD_LIMIT = 100
PENDING_WAIT_SECONDS = 0.8  # about one argon2id check at the default cost
MAX_WAITERS = 2
PENDING_EXPIRY_SECONDS = 30  # a crashed request cannot leave its attempt pending for long
BUCKET_SECONDS = 10
POLL_SECONDS = 0.02


@dataclass
class Attempt:
    """A permitted attempt on `key`; report its outcome with `succeeded` or leave it counted.
    `pending` is the store key of its pending mark while the outcome is unknown."""

    key: str
    pending: str | None = None


def _storage_key(key: str, kind: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"postid/login/{kind}/{digest}"


def _seconds_until(storage_key: str) -> int:
    expiry: float = limiter.storage.get_expiry(storage_key)
    return max(1, math.ceil(expiry - time.time()))


def delay_for(failures: int) -> int:
    """Seconds the slot taken by attempt number `failures` stays closed."""
    settings = current_settings()
    excess = failures - settings.login_free_failures
    if excess <= 0:
        return 0
    doubled: int = 2 ** min(excess - 1, 30)  # int ** int is typed Any (a negative power is a float)
    return min(doubled, settings.login_max_delay_seconds)


def _mark(key: str, kind: str) -> str:
    """+1 on the current bucket of `kind` ("pending" or "waiting"); returns that bucket."""
    bucket = _storage_key(key, f"{kind}:{int(time.time() // BUCKET_SECONDS)}")
    limiter.storage.incr(bucket, PENDING_EXPIRY_SECONDS + BUCKET_SECONDS)
    return bucket


def _unmark(bucket: str) -> None:
    if limiter.storage.incr(bucket, PENDING_EXPIRY_SECONDS + BUCKET_SECONDS, amount=-1) < 0:
        limiter.storage.clear(bucket)  # the request outlived its mark


def _marks(key: str, kind: str) -> int:
    now = int(time.time() // BUCKET_SECONDS)
    buckets = range(now - PENDING_EXPIRY_SECONDS // BUCKET_SECONDS, now + 1)
    return sum(max(0, limiter.storage.get(_storage_key(key, f"{kind}:{b}"))) for b in buckets)


def begin(key: str, *, wait: bool = False, before_waiting: Callable[[], None] | None = None,
          message: str | None = None) -> Attempt:
    """Count an attempt on `key` or raise Throttled (idp.errors; saying `message` when given).
    Call before checking the password. With `wait`, the caller must end the attempt with
    `succeeded` or `finished` (in a `finally`), and `before_waiting` is called before any
    wait (end the transaction)."""
    try:
        return _begin(key, wait=wait, before_waiting=before_waiting)
    except Throttled as refused:
        metrics.throttled("login_throttle")
        if message is None:
            raise
        raise Throttled(refused.retry_after, message) from None


def _begin(key: str, *, wait: bool, before_waiting: Callable[[], None] | None) -> Attempt:
    if not wait:
        _begin_once(key)
        return Attempt(key)
    try:
        return _begin_marked(key)
    except Throttled as refused:
        if _marks(key, "pending") == 0:
            raise  # nobody's outcome can open the door
        refusal = refused
    waiter = _mark(key, "waiting")
    try:
        if _marks(key, "waiting") > MAX_WAITERS:
            raise refusal
        if before_waiting is not None:
            before_waiting()
        return _wait_for_pending(key, refusal)
    finally:
        _unmark(waiter)


def _begin_marked(key: str) -> Attempt:
    pending = _mark(key, "pending")  # before counted: a concurrent refusal must see it
    try:
        _begin_once(key)
    except BaseException:
        _unmark(pending)
        raise
    return Attempt(key, pending=pending)


def _wait_for_pending(key: str, refusal: Throttled) -> Attempt:
    """Try again each time a pending attempt ends, until none is left or time is up."""
    deadline = time.monotonic() + PENDING_WAIT_SECONDS
    seen = _marks(key, "pending")
    while seen and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        pending = _marks(key, "pending")
        if pending < seen:
            try:
                return _begin_marked(key)
            except Throttled as refused:
                refusal = refused
                pending = _marks(key, "pending")
        seen = pending
    raise refusal


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
    if attempt.pending is not None:
        _unmark(attempt.pending)
        attempt.pending = None


def retry_after(key: str) -> int:
    """Seconds before `key` may try again (0 = now). For display and tests."""
    storage = limiter.storage
    for kind in ("failures", "slot"):
        storage_key = _storage_key(key, kind)
        count = storage.get(storage_key)
        if (kind == "failures" and count >= HARD_LIMIT) or (kind == "slot" and count > 0):
            return _seconds_until(storage_key)
    return 0
