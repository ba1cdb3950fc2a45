"""SMS limits (issue 11): one gate every SMS passes before it is written to the outbox.

What is counted. Every SMS that someone other than the signed-in owner can cause - codes
(registration, activation, recovery) and warnings (a registration with someone's details, an
organisation's invitation) - counts against two budgets in the rate-limit store (Redis in
production, so every node shares them; memory in development):

* per destination number: `sms_per_number_limit`, default 5 an hour and 10 a day. One full
  code flow is 1 code + 4 resends (otp.MAX_SENDS), so an hour lets one flow through and a day
  two, with room for mistakes. SMS pumping to one number drops from 43,200 a day to 10.
* per ID number (the registration's, or the account's): `sms_per_national_id_limit`, same
  defaults, so rotating phone numbers under one ID number does not reset the count.

Two flow classes, two sets of budgets. "stranger" flows can be started by anyone who types an
ID number or phone (registration, activation, recovery); "owner" flows only by someone who
proved the password in this session (the code to a new phone number). Each class counts in
its own key namespace, so strangers spending a well-known ID number's budget cannot hold back
the owner's own phone change; the owner class keeps its own per-number and per-ID caps, so a
password holder still cannot pump one number.

The nationwide total is an alarm, not a stop. `sms_total_limit` (default 50,000 a day) counts
every SMS actually written; when it is passed, a warning is logged and one audit event
(NOTIFY_SMS_TOTAL_REACHED) is written per window, and sending goes on. A silent nationwide stop
would let anyone who can cause 50,000 codes (spread over numbers and addresses) switch off
every registration, recovery and activation code in the country for a day; the per-number
and per-ID caps already bound pumping to any one number, and the operators decide what a
spread attack deserves. Recovery's stand-ins (nothing is sent) count a shadow total with the
same store operations, so they neither move the total nor differ in work from a real send.

Security notices that follow an action the owner (or counter staff) completed - password
changed or reset, phone or e-mail changed, account created, activated or deleted, counter
decisions - are never limited or counted: a stranger cannot cause them without the password or
a code, and they are how the owner learns of a take-over. Templates not listed as notices are
limited, so a new message type is safe by default (tests/services/test_sms_templates.py makes
every template in the code be classified).

What happens at a limit. The SMS is silently not written; the suppression is logged and
audited (template and which budget, never the number or ID number). The person sees exactly
what they would have seen had it been sent. Why not tell "too many codes to this number"?
Any answer computed from these counts is an oracle: the counts grow differently depending on
whether an account exists (recovery sends to a known number only; a registration with a taken
ID number warns the owner's phone instead of the typed one), so an attacker could run one
flow and read the answer of another to learn that a number or ID number has an account, or
that a number belongs to an ID number. Visible "try later" answers therefore come only from
counts of what the asker typed, kept by each flow the same way for known and unknown
identifiers (recovery and activation throttles, the resend back-off); this gate stays silent.
Keys are HMACs of the number or ID number: the store never holds them in clear.
"""

from __future__ import annotations

import logging

from flask import current_app
from limits import RateLimitItem, parse_many

from idp.extensions import limiter

log = logging.getLogger("idp.notify")

NOTICES = frozenset({
    "account.created", "account.password_changed", "account.phone_changed",
    "account.email_changed", "account.deleted", "activate.done", "recover.done",
})
NOTICE_PREFIXES = ("counter.",)  # decisions of counter staff on a verification
# Sent only to someone who proved the account's password in this session.
OWNER_STARTED = frozenset({"account.change_phone_code"})
NAMESPACE = "postid/sms"

Window = tuple[RateLimitItem, str]  # a limit and its key in the store


def is_limited(template: str) -> bool:
    return template not in NOTICES and not template.startswith(NOTICE_PREFIXES)


def flow_class(template: str) -> str:
    return "owner" if template in OWNER_STARTED else "stranger"


def _windows(limits: str, key: str) -> list[Window]:
    return [(item, item.key_for(NAMESPACE, key)) for item in parse_many(limits)]


def _budgets(phone: str, national_id: str | None, flow: str) -> list[tuple[str, list[Window]]]:
    from idp.services.otp import secret_hash

    settings = current_app.config["IDP_SETTINGS"]
    budgets = [("number", _windows(settings.sms_per_number_limit,
                                   f"{flow}/number/" + secret_hash("sms-number:" + phone)[:40]))]
    if national_id:
        budgets.append(("national_id", _windows(
            settings.sms_per_national_id_limit,
            f"{flow}/national_id/" + secret_hash("sms-national-id:" + national_id)[:40])))
    return budgets


def admit(phone: str, *, template: str, national_id: str | None = None,
          stand_in: bool = False) -> str | None:
    """Count one SMS to `phone`; None when it may be sent, else the budget that refused it
    ("number" or "national_id"). Notices are always admitted and not counted. A `stand_in`
    (recovery for nobody: nothing is sent) does the same store operations as a real SMS but
    counts a shadow total.

    All or nothing: every window of every budget is read first and nothing is counted when
    one is full; two concurrent requests may both pass the reading, so a count that goes over
    is undone on every window, and a refused SMS never uses up any budget.
    """
    if not is_limited(template):
        return None
    storage = limiter.storage
    budgets = _budgets(phone, national_id, flow_class(template))
    full = [name for name, windows in budgets
            for item, key in windows if storage.get(key) >= item.amount]
    if full:
        return _refused(full[0], template)
    counted: list[Window] = []
    for name, windows in budgets:
        for item, key in windows:
            counted.append((item, key))
            if storage.incr(key, item.get_expiry()) > item.amount:
                for undo_item, undo_key in counted:
                    storage.incr(undo_key, undo_item.get_expiry(), amount=-1)
                return _refused(name, template)
    _count_total(stand_in)
    return None


def _count_total(stand_in: bool) -> None:
    settings = current_app.config["IDP_SETTINGS"]
    for item, key in _windows(settings.sms_total_limit, "shadow" if stand_in else "total"):
        if limiter.storage.incr(key, item.get_expiry()) == item.amount + 1 and not stand_in:
            _total_reached(item)


def _total_reached(item: RateLimitItem) -> None:
    """Once per window: the first SMS past the nationwide total (sent all the same)."""
    from idp.models import AuditTag
    from idp.services import audit

    log.warning("SMS total passed: more than %s; sending goes on (see sms_limits)", item)
    audit.record(AuditTag.NOTIFY_SMS_TOTAL_REACHED, limit=str(item))


def _refused(budget: str, template: str) -> str:
    log.info("SMS (%s) suppressed: the %s limit is reached", template, budget)
    return budget
