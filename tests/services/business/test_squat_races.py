"""Races around replacing a stale registration (PostgreSQL; IDP_TEST_DATABASE_URL): the row
being replaced may be deleted by a concurrent winner; the loser gets the refusal a sequential
request would get (organisation.duplicate, organisation.not_found, or the counter's
not_found/cancelled/conflict), never a crash (reviewer's M3)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from idp.extensions import db
from idp.models import Account, Organisation, OrganisationVerification, StaffMember
from idp.models.base import utcnow
from idp.services.business import enrolment, organisations
from idp.services.business.organisations import RegistrationInput
from idp.services.business.refusals import OrganisationRefusal
from idp.services.counter import organisation_checks
from idp.services.counter.checks import CounterRefusal
from tests.business.helpers import counter_verified
from tests.conftest import TEST_DATABASE_URL
from tests.counter.org_cast import good_business_check
from tests.factories import active_citizen, second_citizen
from tests.organisation_factories import pending_organisation_check, registered_organisation
from tests.staff_factories import enrolled_clerk, post_office

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not TEST_DATABASE_URL or "postgres" not in TEST_DATABASE_URL,
                       reason="concurrency needs PostgreSQL (IDP_TEST_DATABASE_URL)"),
]
DETAILS = RegistrationInput(tax_code="0100233488", name="Công ty TNHH Sen Vàng", title="director",
                            province_code="01", ward="Phường Hoàn Kiếm", street="35 Ngô Quyền")


def run_all(app: Flask, calls: list[Callable[[], Any]]) -> list[tuple[str, Any]]:
    """Run the calls in threads released together: ("ok", result) or ("refused", code) each;
    anything else is re-raised by the test."""
    barrier = threading.Barrier(len(calls))
    out: list[tuple[str, Any]] = [("crash", None)] * len(calls)

    def go(i: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                out[i] = ("ok", calls[i]())
            except (OrganisationRefusal, CounterRefusal) as exc:
                out[i] = ("refused", exc.code)
            except Exception as exc:  # noqa: BLE001 - reported by the assertion
                out[i] = ("crash", repr(exc) + __import__("traceback").format_exc()[-1500:])
            finally:
                db.session.remove()

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return out


def _stale(organisation: Organisation) -> None:
    db.session.execute(update(Organisation).where(Organisation.id == organisation.id)
                       .values(created_at=utcnow() - timedelta(days=31)))
    db.session.commit()


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _third() -> Account:
    return active_citizen(national_id="001088009999", full_name="Phạm Văn Cường",
                          birthdate=date(1988, 1, 1), gender="male", phone="0987111222", email=None)


@pytest.mark.parametrize("round_", range(5))
def test_two_people_replace_one_stale_registration(app: Flask, round_: int) -> None:
    with app.app_context():
        organisation = registered_organisation(active_citizen())
        pending_organisation_check(organisation)
        _stale(organisation)
        ids = (counter_verified(second_citizen()).id, counter_verified(_third()).id)

    def register(i: int) -> Callable[[], str]:
        return lambda: organisations.register(db.session.get(Account, ids[i]), DETAILS).public_id

    out = run_all(app, [register(0), register(1)])
    assert sorted(kind for kind, _ in out) == ["ok", "refused"], out
    assert ("refused", "organisation.duplicate") in out
    with app.app_context():
        assert _count(Organisation) == 1


@pytest.mark.parametrize("round_", range(5))
def test_a_replacement_and_a_clerk_submitting_its_code(app: Flask, round_: int) -> None:
    with app.app_context():
        squatter = second_citizen()
        clerk = enrolled_clerk(post_office())
        organisation = registered_organisation(squatter)
        verification = pending_organisation_check(organisation)
        _stale(organisation)
        check = good_business_check(squatter)
        ids = (counter_verified(active_citizen()).id, clerk.id, verification.public_id)

    out = run_all(app, [
        lambda: organisations.register(db.session.get(Account, ids[0]), DETAILS).public_id,
        lambda: organisation_checks.submit(db.session.get(StaffMember, ids[1]), ids[2],
                                             check).status,
    ])
    assert [kind for kind, _ in out].count("ok") == 1, out
    assert all(kind in ("ok", "refused") for kind, _ in out), out
    if out[0][0] == "ok":  # replaced: the clerk was told the code is gone or cancelled
        assert out[1][1] in ("not_found", "cancelled"), out
    else:
        assert out[0][1] == "organisation.duplicate", out


@pytest.mark.parametrize("round_", range(5))
def test_a_replacement_and_a_code_request(app: Flask, round_: int) -> None:
    with app.app_context():
        squatter = second_citizen()
        organisation = registered_organisation(squatter)
        _stale(organisation)
        ids = (counter_verified(active_citizen()).id, squatter.id, organisation.public_id)

    out = run_all(app, [
        lambda: organisations.register(db.session.get(Account, ids[0]), DETAILS).public_id,
        lambda: enrolment.request_code(db.session.get(Account, ids[1]),
                                                    ids[2]).public_id,
    ])
    assert all(kind in ("ok", "refused") for kind, _ in out), out
    with app.app_context():
        assert _count(Organisation) == 1
        live = db.session.scalars(select(OrganisationVerification)).all()
    if out[0][0] == "ok":  # replaced: the old registration's code went with it
        assert out[1] == ("refused", "organisation.not_found") or out[1][0] == "ok", out
        assert live == []
    else:
        assert out[0][1] == "organisation.duplicate" and out[1][0] == "ok", out
