"""The statements of a userinfo call, pinned: the busiest endpoint a portal calls. A person's
own token is read with its account, client and session in one statement and nothing else;
only a delegated sign-in's token may cost more (`act`, docs/architecture.md §14)."""

from __future__ import annotations

from tests.factories import active_citizen
from tests.ops import scenarios


def test_userinfo_of_a_persons_own_token_sends_one_statement(app):
    with app.app_context():
        national_id = active_citizen(password=scenarios.PASSWORD).national_id
    portal = scenarios.register_portal(app)
    recorder = scenarios.recorder_for(app)
    tokens = scenarios.signed_in_tokens(app, portal, national_id)
    client = app.test_client()
    scenarios.userinfo(client, tokens["access_token"])  # warm the per-process caches
    with recorder.recording() as recording:
        scenarios.userinfo(client, tokens["access_token"])
    # The token with its account, client and session (joined); no write, no commit.
    assert [(s.kind, s.sql.split()[0]) for s in recording.statements] == [("read", "SELECT")]
    assert "user_session" in recording.statements[0].sql
    assert recording.commits == 0
