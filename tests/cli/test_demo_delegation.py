"""`idp demo seed` registers the demo portal as accepting delegated sign-in (an agent under a
mandate, a guardian), also over a demo portal seeded by an earlier version."""

from __future__ import annotations

from sqlalchemy import select

from idp.cli import cli
from idp.extensions import db
from idp.models import OAuthClient


def test_the_demo_portal_accepts_delegation_for_social_insurance(app, runner):
    assert runner.invoke(cli, ["demo", "seed"]).exit_code == 0
    with app.app_context():
        portal = db.session.scalar(select(OAuthClient))
        assert portal.accepts_delegation is True and portal.procedures == ["social_insurance"]
        portal.accepts_delegation, portal.procedures = False, []  # as an older seed left it
        db.session.commit()
    assert runner.invoke(cli, ["demo", "seed"]).exit_code == 0
    with app.app_context():
        portal = db.session.scalar(select(OAuthClient))
        assert portal.accepts_delegation is True and portal.procedures == ["social_insurance"]
