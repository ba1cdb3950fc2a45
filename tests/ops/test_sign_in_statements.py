"""The statements a sign-in sends, pinned: each is a round trip to the database on every
sign-in of every citizen (docs/operations.md, "Database work per operation")."""

from __future__ import annotations

from tests.factories import active_citizen
from tests.ops import scenarios


def test_the_sign_in_post_sends_five_statements_and_nothing_after_its_commit(app):
    with app.app_context():
        citizen = active_citizen(password=scenarios.PASSWORD)
        national_id = citizen.national_id
    portal = scenarios.register_portal(app)
    recorder = scenarios.recorder_for(app)
    steps = scenarios.Steps(app.test_client(), portal, national_id)
    steps.authorize()
    steps.login_page()
    with recorder.recording() as login:
        steps.login_post()
    # The account by ID number, its password, its second factor; the session and the audit
    # event in one commit. Reading anything after the commit (the account and password it
    # expired, for the device cookie) would be two more statements and a rollback.
    assert [(s.kind, s.sql.split()[0]) for s in login.statements] == [
        ("read", "SELECT"), ("read", "SELECT"), ("read", "SELECT"),
        ("write", "INSERT"), ("write", "INSERT")]
    assert (login.commits, login.rollbacks) == (1, 0)
    steps.authorize_again()
    steps.consent()
    steps.token()
    assert steps.tokens["access_token"]
