"""SMS limits: one gate every SMS passes before it is written to the outbox.

What is counted. Every SMS that someone other than the signed-in owner can cause - codes
(registration, activation, recovery) and warnings (a registration with someone's details, an
organisation's invitation) - counts against two budgets in the rate-limit store (Redis in
production, so every node shares them; memory in development):

* per destination number: `sms_per_number_limit`, default 5 an hour and 10 a day. One full
  code flow is 1 code + 4 resends (otp.MAX_SENDS), so an hour lets one flow through and a day
  two, with room for mistakes. SMS pumping to one number drops from 43,200 a day to 10.
* per ID number (the registration's, or the account's): `sms_per_national_id_limit`, same
  defaults, so rotating phone numbers under one ID number does not reset the count.

Budgets by who asks (ten requests by a stranger - /recover or /register with
someone's ID number, an invitation - used to hold back that person's own recovery and
activation codes for a day). Each class counts per number and per ID number in its own key
namespace, with the same limits:

* "stranger": anyone who types an ID number or phone (registration, recovery, activation,
  invitations). On top, one source - the client's network (extensions.client_network: the
  IPv4 address or the IPv6 /64) - may use only half of a person's longest (daily) stranger
  window, so a single attacker cannot drain it alone; the shorter (hourly) window is left
  whole, so a person retrying from home is not held back by the share.
* "device": a browser holding the account's known-device cookie (services.devices: it has
  signed in to that account before), e.g. the owner's own recovery. Strangers cannot spend it.
* "counter": codes sent on the action of counter staff (assisted registration), so a
  citizen at the counter gets the code whatever strangers did.
* "owner": sent only to someone who proved the password in this session (the code to a new
  phone number); the template decides (OWNER_STARTED).

Against pumping, every class also counts in one ceiling per destination number,
`sms_per_number_ceiling` (default 20 an hour, 40 a day: the four classes' caps together), so
no mix of classes sends one number more than that.

The nationwide total is an alarm, not a stop. `sms_total_limit` (default 50,000 a day) counts
every SMS actually written; when it is passed, a warning is logged and one audit event
(NOTIFY_SMS_TOTAL_REACHED) is written per window, and sending goes on. A silent nationwide stop
would let anyone who can cause 50,000 codes (spread over numbers and addresses) switch off
every registration, recovery and activation code in the country for a day; the per-number
and per-ID caps already bound pumping to any one number, and the operators decide what a
spread attack deserves. Recovery's stand-ins (nothing is sent) count a shadow total with the
same store operations, so they neither move the total nor differ in work from a real send.

Security notices that follow an action the owner (or counter staff) completed - password
changed or reset, phone or e-mail changed, e-mail confirmed, account created, activated or
deleted, counter decisions - are never limited or counted: a stranger cannot cause them without
the password, a code or the mailbox's one-time link, and they are how the owner learns of a
take-over. Templates not listed as notices are
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

from flask import has_request_context
from limits import RateLimitItem, parse_many

from idp.services.platform import metrics
from idp.services.platform.sms_counter import Window, check_and_count
from idp.settings import current_settings

log = logging.getLogger("idp.notify")

NOTICES = frozenset({
    "account.created", "account.password_changed", "account.phone_changed",
    "account.email_changed", "account.email_confirmed", "account.deleted", "activate.done",
    "recover.done",
    # Acting for another person (§14): the citizen hears of every use of their mandate, a
    # parent of every guardian linked to their child, whoever caused it.
    "mandate.use", "guardian.linked", "guardian.other_linked", "guardian.link_ended",
})
NOTICE_PREFIXES = ("counter.",)  # decisions of counter staff on a verification
# Sent only to someone who proved the account's password in this session.
OWNER_STARTED = frozenset({"account.change_phone_code"})
ASKERS = frozenset({"stranger", "device", "counter"})  # who caused a send (see above)
SOURCE_SHARE = 2  # one source may use 1/2 of a person's daily stranger window
NAMESPACE = "postid/sms"


def is_limited(template: str) -> bool:
    return template not in NOTICES and not template.startswith(NOTICE_PREFIXES)


def flow_class(template: str, asker: str = "stranger") -> str:
    if asker not in ASKERS:
        raise ValueError(f"unknown SMS asker {asker!r}")
    return "owner" if template in OWNER_STARTED else asker


def _items(limits: str) -> list[RateLimitItem]:
    return list(parse_many(limits))


def _window(item: RateLimitItem, key: str, amount: int | None = None) -> Window:
    return Window(item.key_for(NAMESPACE, key), item.amount if amount is None else amount,
                  item.get_expiry())


def _source() -> str | None:
    """The asker's network, when there is a request (a command line has no source)."""
    from idp.extensions import client_network

    return client_network() if has_request_context() else None


def _windows(phone: str, national_id: str | None, flow: str
             ) -> list[tuple[str, Window]]:
    """Every limited window of one SMS, each with the budget name a refusal reports."""
    from idp.services.platform.otp import secret_hash

    settings = current_settings()
    number = secret_hash("sms-number:" + phone)[:40]
    budgets = [("number", settings.sms_per_number_limit, number)]
    if national_id:
        budgets.append(("national_id", settings.sms_per_national_id_limit,
                        secret_hash("sms-national-id:" + national_id)[:40]))
    windows = [(name, _window(item, f"{flow}/{name}/{digest}"))
               for name, limits, digest in budgets for item in _items(limits)]
    source = _source() if flow == "stranger" else None
    if source is not None:
        source_digest = secret_hash("sms-source:" + source)[:24]
        for name, limits, digest in budgets:
            daily = max(_items(limits), key=lambda item: item.get_expiry())
            windows.append(("source", _window(daily, f"source/{name}/{digest}/{source_digest}",
                                              max(1, daily.amount // SOURCE_SHARE))))
    windows += [("ceiling", _window(item, f"all/number/{number}"))
                for item in _items(settings.sms_per_number_ceiling)]
    return windows


def admit(phone: str, *, template: str, national_id: str | None = None,
          stand_in: bool = False, asker: str = "stranger") -> str | None:
    """Count one SMS to `phone`; None when it may be sent, else the budget that refused it
    ("number", "national_id", "source" (this network's share) or "ceiling"). `asker` says
    who caused it: "stranger", "device" (the account's known device) or "counter" (counter
    staff). Notices are always admitted and not counted. A `stand_in` (recovery for nobody:
    nothing is sent) does the same store operations as a real SMS but counts a shadow total.

    One atomic step on the store, the same whatever the outcome (sms_counter): every window
    is read and, only when none is full, every one is counted, with the total.
    """
    if not is_limited(template):
        return None
    settings = current_settings()
    limited = _windows(phone, national_id, flow_class(template, asker))
    totals = _items(settings.sms_total_limit)
    total_key = "shadow" if stand_in else "total"
    full, counts = check_and_count([window for _name, window in limited],
                                   [_window(item, total_key, 0) for item in totals])
    if full is not None:
        return _refused(limited[full][0], template)
    for item, count in zip(totals, counts, strict=True):
        if count == item.amount + 1 and not stand_in:
            _total_reached(item)
    return None


def _total_reached(item: RateLimitItem) -> None:
    """Once per window: the first SMS past the nationwide total (sent all the same)."""
    from idp.models import AuditTag
    from idp.services.platform import audit

    log.warning("SMS total passed: more than %s; sending goes on (see sms_limits)", item)
    audit.record(AuditTag.NOTIFY_SMS_TOTAL_REACHED, limit=str(item))


def _refused(budget: str, template: str) -> str:
    log.info("SMS (%s) suppressed: the %s limit is reached", template, budget)
    metrics.throttled("sms_limit")
    return budget
