"""Replacing the key-encryption key (docs/operations.md): with the new key current and the old
one as IDP_KEY_ENCRYPTION_KEY_PREVIOUS, `idp keys rewrap` re-seals every private key and TOTP
secret, after which the new key alone opens them all, through each owner's own code."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path

import pyotp
import pytest
from flask import Flask

from idp.cli import cli
from idp.services.identity import mfa
from idp.services.platform import audit_key
from idp.services.staff import enrolment as staff_enrolment
from idp.services.staff import signin as staff_signin
from idp.settings import Settings, SettingsError
from tests.conftest import make_settings
from tests.factories import active_citizen, second_citizen
from tests.ops import scenarios
from tests.staff_factories import STAFF_TOTP_SECRET, enrolled_clerk, new_clerk, post_office


def new_kek() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def rewrap(app: Flask) -> tuple[int, dict[str, dict[str, object]]]:
    result = app.test_cli_runner().invoke(cli, ["keys", "rewrap", "--json"])
    kinds = {kind["name"]: kind for kind in json.loads(result.stdout.splitlines()[0])["kinds"]}
    return result.exit_code, kinds


def sealed_under_old_key(app: Flask) -> tuple[scenarios.Portal, dict[str, object]]:
    """Token signing keys, the audit key, a citizen's TOTP, a set-up and a pending staff TOTP."""
    portal = scenarios.register_portal(app)
    with app.app_context():
        audit_key.ensure_key()
        citizen = active_citizen()
        secret = mfa.secret_of(mfa.begin_enrolment(citizen))
        mfa.confirm_enrolment(citizen, pyotp.TOTP(secret).now())
        office = post_office()
        clerk = enrolled_clerk(office)
        newcomer = new_clerk(office, username="clerk-new", national_id="001085000003")
        second_citizen()
        return portal, {"citizen": citizen.id, "clerk": clerk.id, "newcomer": newcomer.id,
                        "secret": secret}


def test_rewrap_moves_every_sealed_value_to_the_new_key(app: Flask, settings: Settings,
                                                        make_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    portal, ids = sealed_under_old_key(app)
    new = new_kek()
    both = make_app(make_settings(settings.database_url, tmp_path / "both", key_encryption_key=new,
                                  key_encryption_key_previous=settings.key_encryption_key))
    only_new = make_app(make_settings(settings.database_url, tmp_path / "new",
                                      key_encryption_key=new))

    code, kinds = rewrap(only_new)  # before: the new key alone opens nothing
    assert code == 1
    assert all(len(kind["unreadable_ids"]) == kind["sealed"] for kind in kinds.values())  # type: ignore[arg-type]

    code, kinds = rewrap(both)
    assert code == 0
    counts = {name: (kind["sealed"], kind["resealed"]) for name, kind in kinds.items()}
    assert counts == {"signing keys": (5, 5),  # RS256 and ES256 CURRENT and NEXT, audit key
                      "citizens' TOTP secrets": (1, 1), "staff TOTP secrets": (2, 2)}
    code, kinds = rewrap(both)  # again: nothing left to do
    assert code == 0 and all(kind["resealed"] == 0 for kind in kinds.values())

    code, kinds = rewrap(only_new)
    assert code == 0 and all(kind["unreadable_ids"] == [] for kind in kinds.values())
    with only_new.app_context():
        from idp.extensions import db
        from idp.models import StaffMember

        next_code = pyotp.TOTP(str(ids["secret"])).at(time.time() + 30)  # the first one is spent
        assert mfa.check_second_factor(int(ids["citizen"]), next_code)  # type: ignore[call-overload]
        assert staff_signin._secret(db.session.get(StaffMember, ids["clerk"])) == STAFF_TOTP_SECRET
        assert staff_enrolment.record_of(db.session.get(StaffMember, ids["newcomer"])) is not None
        assert audit_key.current_signer().private_key is not None
    tokens = scenarios.signed_in_tokens(only_new, portal, "079303001234")  # ID token signed
    assert tokens["id_token"]


@pytest.mark.parametrize("previous, message", [
    ("too-short", "IDP_KEY_ENCRYPTION_KEY_PREVIOUS must be 32 bytes"),
    (None, "IDP_KEY_ENCRYPTION_KEY_PREVIOUS must differ"),
])
def test_a_bad_previous_key_stops_the_start(tmp_path: Path, previous: str | None, message: str) -> None:
    current = new_kek()
    with pytest.raises(SettingsError, match=message):
        make_settings("sqlite://", tmp_path, key_encryption_key=current,
                      key_encryption_key_previous=previous or current)
