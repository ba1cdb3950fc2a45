"""SMS limits (issue 11): one gate every SMS passes before it is written to the outbox.

What is counted. Every SMS that a stranger can cause - codes (registration, activation,
recovery, new phone number) and warnings (a registration with someone's details, an
organisation's invitation) - counts against three budgets, all in the rate-limit store
(Redis in production, so every node shares them; memory in development):

* per destination number: `sms_per_number_limit`, default 5 an hour and 10 a day. One full
  code flow is 1 code + 4 resends (otp.MAX_SENDS), so an hour lets one flow through and a day
  two, with room for mistakes. SMS pumping to one number drops from 43,200 a day to 10.
* per ID number (the registration's, or the account's): `sms_per_national_id_limit`, same
  defaults, so rotating phone numbers under one ID number does not reset the count.
* in total: `sms_total_limit`, default 50,000 a day, a circuit breaker against pumping spread
  over many numbers and addresses. Set it above the real daily peak; reaching it is logged
  as a warning for the operators.

Security notices that follow an action the owner (or counter staff) completed - password
changed or reset, phone or e-mail changed, account created or activated, counter decisions -
are never limited or counted: a stranger cannot cause them without the password or a code,
and they are how the owner learns of a take-over. Templates not listed as notices are
limited, so a new message type is safe by default.

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
from limits.strategies import FixedWindowRateLimiter

from idp.extensions import limiter

log = logging.getLogger("idp.notify")

NOTICES = frozenset({
    "account.created", "account.password_changed", "account.phone_changed",
    "account.email_changed", "activate.done", "recover.done",
})
NOTICE_PREFIXES = ("counter.",)  # decisions of counter staff on a verification


def is_limited(template: str) -> bool:
    return template not in NOTICES and not template.startswith(NOTICE_PREFIXES)


def _budgets(phone: str, national_id: str | None) -> list[tuple[str, list[RateLimitItem], str]]:
    from idp.services.otp import secret_hash

    settings = current_app.config["IDP_SETTINGS"]
    budgets = [("number", parse_many(settings.sms_per_number_limit),
                "number/" + secret_hash("sms-number:" + phone)[:40])]
    if national_id:
        budgets.append(("national_id", parse_many(settings.sms_per_national_id_limit),
                        "national_id/" + secret_hash("sms-national-id:" + national_id)[:40]))
    budgets.append(("total", parse_many(settings.sms_total_limit), "total"))
    return budgets


def admit(phone: str, *, template: str, national_id: str | None = None) -> str | None:
    """Count one SMS to `phone`; None when it may be sent, else the budget that refused it
    ("number", "national_id" or "total"). Notices are always admitted and not counted.

    Every budget is tested before any is counted, so a message refused by one budget does
    not use up the others; two concurrent requests may both pass a test, and the atomic
    count that follows then refuses the one that went over.
    """
    if not is_limited(template):
        return None
    strategy = FixedWindowRateLimiter(limiter.storage)
    budgets = _budgets(phone, national_id)
    for name, items, key in budgets:
        if not all(strategy.test(item, "postid/sms", key) for item in items):
            return _refused(name, template)
    for name, items, key in budgets:
        if not all([strategy.hit(item, "postid/sms", key) for item in items]):
            return _refused(name, template)
    return None


def _refused(budget: str, template: str) -> str:
    level = logging.WARNING if budget == "total" else logging.INFO
    log.log(level, "SMS (%s) suppressed: the %s limit is reached", template, budget)
    return budget
