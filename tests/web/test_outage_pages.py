"""The outage page for people tells the truth about their data: "nothing changed"
only when nothing was committed, "we could not tell" once a commit was attempted."""

from __future__ import annotations

from idp.web import error_pages
from tests.conftest import csrf_token
from tests.oidc.flow import auth_request, citizen, consent_action, registered_portal, sign_in
from tests.outage import outage


def consent_form(app, client):  # type: ignore[no-untyped-def]
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    request = auth_request(portal)
    page = client.get(request.url).get_data(as_text=True)
    return consent_action(page), csrf_token(client, request.url)


def hints(app) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    with app.test_request_context():
        return str(error_pages.ERROR_HINTS[503]), str(error_pages.UNCERTAIN_HINT)


def test_a_lost_commit_answer_does_not_claim_nothing_changed(app, client):
    action, token = consent_form(app, client)
    nothing_changed, uncertain = hints(app)
    with outage(app, "answer_lost"):
        response = client.post(action, data={"csrf_token": token, "decision": "allow"})
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and response.mimetype == "text/html"
    assert uncertain in page and nothing_changed not in page


def test_a_failure_before_any_commit_says_nothing_changed(app, client):
    action, token = consent_form(app, client)
    nothing_changed, uncertain = hints(app)
    with outage(app, "before_commit"):
        response = client.post(action, data={"csrf_token": token, "decision": "allow"})
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert nothing_changed in page and uncertain not in page
