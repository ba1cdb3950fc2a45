"""Which text of the terms of use and privacy notice a person accepted.

One version names both texts (/terms and /privacy): they are accepted together, with one
checkbox, at registration (/register) and at walk-in activation (/activate). Change this
constant in the same commit as any change of substance to either text; the account keeps
the version it accepted and when (account.terms_version, account.terms_accepted_at).
"""

from __future__ import annotations

TERMS_VERSION = "2026-12-07"
