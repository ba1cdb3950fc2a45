"""Check-and-count for the SMS gate (sms_limits) in ONE atomic step on the rate-limit store.

Every window of every budget is read and, only when none is full, every one is incremented
(and the totals with them); all or nothing, and the same store operations whatever the
outcome, so a refused SMS takes as long as an admitted one (a refusal that skipped
the increments answered measurably sooner, a timing oracle through another flow).

* Redis (production, shared by the nodes): one Lua script, one round trip. Redis runs a
  script alone, so two nodes cannot both pass the reading, and there is no undo step that
  could leave a counter below zero when a key expires in between. A read timeout is raised
  (the request fails, the outbox row is rolled back); the script may have counted that SMS in
  every window or in none, never in some.
* Memory (development and tests, one process): the same logic under one lock, with the same
  calls on the store for an admitted and a refused message (a refused one adds 0).

Windows are fixed: a window starts at its first count and its key expires after the window's
length (the limits library's own counters work the same way).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from idp.extensions import limiter

# KEYS: the limited keys, then the counted-only keys (totals).
# ARGV: the number of limited keys; then amount and expiry of each limited key; then the
# expiry of each counted-only key. Returns {index of the first full limited key or 0,
# count of each counted-only key after the step}.
_SCRIPT = """
local limited = tonumber(ARGV[1])
local full = 0
for i = 1, limited do
  local count = tonumber(redis.call('GET', KEYS[i]) or '0')
  if full == 0 and count >= tonumber(ARGV[2 * i]) then full = i end
end
local delta = 1
if full > 0 then delta = 0 end
local counts = {full}
for i = 1, #KEYS do
  local expiry
  if i <= limited then expiry = ARGV[2 * i + 1] else expiry = ARGV[2 * limited + 1 + i - limited] end
  if delta == 1 then
    local count = redis.call('INCRBY', KEYS[i], 1)
    if count == 1 then redis.call('EXPIRE', KEYS[i], expiry) end
    if i > limited then counts[#counts + 1] = count end
  elseif i > limited then
    counts[#counts + 1] = tonumber(redis.call('GET', KEYS[i]) or '0')
  end
end
return counts
"""

_scripts: WeakKeyDictionary[Any, Any] = WeakKeyDictionary()
_memory_lock = threading.Lock()


@dataclass(frozen=True)
class Window:
    key: str
    amount: int  # 0 for a counted-only key (a total)
    expiry: int  # seconds


def check_and_count(limited: list[Window], counted: list[Window]) -> tuple[int | None, list[int]]:
    """Count one SMS in every window unless one of `limited` is full. Returns the index of
    the first full window of `limited` (None when admitted) and the counts of `counted`
    after the step (unchanged when refused)."""
    storage = limiter.storage
    if hasattr(storage, "get_connection") and hasattr(storage, "prefixed_key"):
        return _redis(storage, limited, counted)
    return _memory(storage, limited, counted)


def _redis(storage: Any, limited: list[Window], counted: list[Window]
           ) -> tuple[int | None, list[int]]:
    script = _scripts.get(storage)
    if script is None:
        script = _scripts[storage] = storage.get_connection().register_script(_SCRIPT)
    keys = [storage.prefixed_key(w.key) for w in limited + counted]
    args: list[int] = [len(limited)]
    for window in limited:
        args += [window.amount, window.expiry]
    args += [window.expiry for window in counted]
    result = [int(value) for value in script(keys=keys, args=args)]
    return (result[0] - 1 if result[0] else None), result[1:]


def _memory(storage: Any, limited: list[Window], counted: list[Window]
            ) -> tuple[int | None, list[int]]:
    with _memory_lock:
        full = [i for i, window in enumerate(limited) if storage.get(window.key) >= window.amount]
        delta = 0 if full else 1
        counts = [storage.incr(window.key, window.expiry, amount=delta)
                  for window in limited + counted]
    return (full[0] if full else None), counts[len(limited):]
