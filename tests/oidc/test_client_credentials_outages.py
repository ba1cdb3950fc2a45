"""A database failure around the commit of a client_credentials request: the token and its
audit event are stored together or not at all, and the answer never claims more than is known
(docs/portal-integration.md: the back end simply asks again)."""

from __future__ import annotations

from tests.oidc.test_client_credentials import ask, issued_events, service_portal, stored_tokens
from tests.oidc.test_token_outages import assert_json_503, hints
from tests.outage import outage


def test_a_failure_before_any_commit_stores_nothing_and_says_so(app, client):
    backend = service_portal(app)
    nothing_changed, uncertain = hints(app)
    with outage(app, "before_commit"):
        response = ask(client, backend)
    body = assert_json_503(response)
    assert nothing_changed in body["error_description"]
    assert uncertain not in body["error_description"]
    assert stored_tokens(app) == [] and issued_events(app) == []
    assert ask(client, backend).status_code == 200


def test_a_lost_commit_answer_stored_the_token_with_its_event(app, client):
    backend = service_portal(app)
    nothing_changed, uncertain = hints(app)
    with outage(app, "answer_lost"):
        response = ask(client, backend)
    body = assert_json_503(response)
    assert uncertain in body["error_description"]
    assert nothing_changed not in body["error_description"]
    assert len(stored_tokens(app)) == len(issued_events(app)) == 1
    # Asking again gives a new token; the one never received expires unused.
    assert ask(client, backend).status_code == 200
    assert len(stored_tokens(app)) == len(issued_events(app)) == 2


def test_a_failure_after_the_commit_still_answers_the_token(app, client):
    backend = service_portal(app)
    with outage(app, "after_commit"):
        response = ask(client, backend)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert set(response.json) == {"access_token", "token_type", "expires_in", "scope"}
    assert len(stored_tokens(app)) == len(issued_events(app)) == 1
