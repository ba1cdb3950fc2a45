"""/metrics: who may read it, and that what happens in the application moves the right series
by exactly what happened (each test compares two scrapes: the registry lives as long as the
process, across tests)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from idp.extensions import db
from idp.models import AuditTag, LogoutDelivery
from idp.services.platform import audit, audit_seal, notify
from idp.settings import Settings, load_settings
from tests.conftest import csrf_token
from tests.factories import PASSWORD, active_citizen
from tests.metrics_scrape import TOKEN, moved, scrape, total, value
from tests.oidc.flow import registered_portal
from tests.web.mfa.test_totp_web import enrol, fresh_code, password_step, verify

ID = "001099012345"


@pytest.fixture
def watched(settings: Settings, make_app) -> Flask:  # type: ignore[no-untyped-def]
    return make_app(replace(settings, metrics_token=TOKEN))


@pytest.fixture
def client(watched: Flask) -> FlaskClient:
    return watched.test_client()


def login(client: FlaskClient, identifier: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"csrf_token": csrf_token(client), "identifier": identifier,
                                       "password": password})


def sign_ins(before, after) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return {dict(labels)["audience"] + ":" + dict(labels)["result"]: change
            for labels, change in moved(before, after, "postid_sign_ins_total").items()}


# --- who may read it ---------------------------------------------------------------------------

def test_without_a_token_configured_there_is_no_metrics_page(app):
    assert app.test_client().get("/metrics").status_code == 404


def test_development_without_a_token_serves_it_on_its_loopback_server(database_url, tmp_path, make_app):
    settings = load_settings("development", environ={}, database_url=database_url,
                             instance_path=str(tmp_path))
    response = make_app(settings).test_client().get("/metrics")
    assert response.status_code == 200
    assert "postid_http_requests_total" in response.get_data(as_text=True)


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer ", f"Basic {TOKEN}", f"Token {TOKEN}"])
def test_no_bearer_token_is_401_with_a_bearer_challenge(client, header):
    response = client.get("/metrics", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="postid-metrics"'
    assert "postid_" not in response.get_data(as_text=True)


@pytest.mark.parametrize("wrong", [TOKEN[:-1], TOKEN + "x", "x" * len(TOKEN), "ặ" * 10])
def test_a_wrong_token_is_401_invalid_token(client, wrong):
    response = client.get("/metrics", headers={"Authorization": f"Bearer {wrong}"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="postid-metrics", error="invalid_token"'
    assert "postid_" not in response.get_data(as_text=True)


def test_the_token_gets_the_text_format(client):
    response = client.get("/metrics", headers={"Authorization": f"bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert "# TYPE postid_http_request_duration_seconds histogram" in response.get_data(as_text=True)


def test_only_get_is_answered(client):
    assert client.post("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 405


# --- requests ----------------------------------------------------------------------------------

def test_requests_are_counted_by_route_pattern_never_by_path(client):
    secret = "Zq" + "7" * 40
    before = scrape(client)
    assert client.get(f"/recover/link/{secret}").status_code in (200, 400, 404)
    assert client.get(f"/no-such-page/{secret}").status_code == 404
    assert client.get("/.well-known/openid-configuration").status_code == 200  # the fast path
    after = scrape(client)
    requests = moved(before, after, "postid_http_requests_total")
    routes = {dict(labels)["route"] for labels in requests} - {"/metrics"}
    assert routes == {"/recover/link/<token>", "-", "/.well-known/openid-configuration"}
    assert requests[frozenset({("route", "-"), ("method", "GET"), ("status", "404")})] == 1
    assert value(after, "postid_http_request_duration_seconds_count", route="-", method="GET") - \
        value(before, "postid_http_request_duration_seconds_count", route="-", method="GET") == 1
    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).get_data(as_text=True)
    assert secret not in text


def test_an_unknown_method_is_one_label(client):
    before = scrape(client)
    client.open("/login", method="BREW")
    after = scrape(client)
    # A method the page does not take matches no route: "-".
    assert {"route": "-", "method": "other", "status": "405"} in [
        dict(labels) for labels in moved(before, after, "postid_http_requests_total")]


# --- sign-ins, throttles, second factor ---------------------------------------------------------

def test_a_sign_in_moves_the_success_count_by_one(watched, client):
    with watched.app_context():
        active_citizen()
    before = scrape(client)
    assert login(client, ID, PASSWORD).status_code == 302
    assert sign_ins(before, scrape(client)) == {"citizen:success": 1}


def test_failed_sign_ins_are_counted_by_what_failed(watched, client):
    with watched.app_context():
        active_citizen()
    before = scrape(client)
    assert login(client, ID, "not-the-password").status_code == 401
    assert login(client, "079203000123", PASSWORD).status_code == 401
    assert sign_ins(before, scrape(client)) == {"citizen:wrong_password": 1, "citizen:unknown_account": 1}


def test_a_throttled_sign_in_moves_the_throttle_count(watched, client, settings):
    with watched.app_context():
        active_citizen()
    for _ in range(settings.login_free_failures + 1):  # the last one takes a slot
        assert login(client, ID, "wrong").status_code == 401
    before = scrape(client)
    assert login(client, ID, PASSWORD).status_code == 429
    after = scrape(client)
    assert moved(before, after, "postid_throttled_total") == {
        frozenset({("limiter", "login_throttle"), ("endpoint", "auth.login")}): 1}
    assert sign_ins(before, after) == {"citizen:throttled": 1}


def test_the_per_address_limit_moves_the_rate_limit_count(settings, make_app):
    client = make_app(replace(settings, metrics_token=TOKEN, login_ip_limit="2 per 10 seconds")).test_client()
    for _ in range(2):
        assert login(client, ID, "wrong").status_code == 401
    before = scrape(client)
    assert login(client, ID, "wrong").status_code == 429
    assert moved(before, scrape(client), "postid_throttled_total") == {
        frozenset({("limiter", "rate_limit"), ("endpoint", "auth.login")}): 1}


def test_a_wrong_second_factor_code_is_an_mfa_failure(watched):
    with watched.app_context():
        citizen = active_citizen().id
    enrol(watched, citizen)
    client = watched.test_client()
    before = scrape(client)
    assert password_step(client).headers["Location"].startswith("/login/verify")
    right = fresh_code(watched, citizen)
    assert verify(client, f"{(int(right) + 500000) % 1000000:06d}").status_code == 401
    after = scrape(client)
    assert sign_ins(before, after) == {"citizen:second_factor_required": 1,
                                       "citizen:second_factor_failed": 1}
    assert moved(before, after, "postid_mfa_failures_total") == {
        frozenset({("audience", "citizen"), ("step", "sign_in"), ("method", "totp")}): 1}


# --- backlogs and the pool ------------------------------------------------------------------------

def test_the_backlogs_count_the_rows_waiting(settings, make_app):
    app = make_app(replace(settings, metrics_token=TOKEN, notifier="gateway",
                           sms_gateway_url="https://sms.example.vn/send", smtp_host="smtp.example.vn"))
    client = app.test_client()
    first = scrape(client)
    assert value(first, "postid_backlog_query_up") == 1
    assert value(first, "postid_outbox_backlog_messages") == 0
    assert value(first, "postid_backchannel_logout_backlog_notices") == 0
    assert value(first, "postid_audit_unsealed_backlog_events") == 0
    with app.app_context():
        notify.send_email("an@example.vn", "Chào", "Nội dung", template="account.created")
        notify.send_email("an@example.vn", "Chào", "Nội dung", template="account.created")
        portal = registered_portal(app)
        from idp.models import OAuthClient
        from idp.models.base import utcnow

        client_pk = db.session.query(OAuthClient.id).filter_by(client_id=portal.client_id).scalar()
        db.session.add(LogoutDelivery(client_pk=client_pk, uri="https://portal.example.vn/bc",
                                      logout_token="t", next_attempt_at=utcnow()))
        db.session.add(LogoutDelivery(client_pk=client_pk, uri="https://portal.example.vn/bc",
                                      logout_token="t", next_attempt_at=None))  # given up
        for _ in range(3):
            audit.record(AuditTag.ACCOUNT_LOGOUT, account_id=1)
        db.session.commit()
        unsealed = audit_seal.backlog().count
    waiting = scrape(client)
    assert value(waiting, "postid_outbox_backlog_messages") == 2
    assert value(waiting, "postid_backchannel_logout_backlog_notices") == 1
    assert value(waiting, "postid_audit_unsealed_backlog_events") == unsealed >= 3
    assert value(waiting, "postid_outbox_oldest_age_seconds") >= 0
    with app.app_context():
        audit_seal.seal_all()
    assert value(scrape(client), "postid_audit_unsealed_backlog_events") == 0


def test_the_outbox_twin_has_no_backlog(watched, client):
    with watched.app_context():
        notify.send_sms("+84912345678", "Mã 123456", template="account.created")
        db.session.commit()
    assert value(scrape(client), "postid_outbox_backlog_messages") == 0


def test_a_database_down_at_scrape_time_still_answers_the_rest(settings, make_app, tmp_path: Path):
    app = make_app(replace(settings, metrics_token=TOKEN,
                           database_url=f"sqlite:///{tmp_path / 'missing' / 'no.sqlite3'}"))
    samples = scrape(app.test_client())
    assert value(samples, "postid_backlog_query_up") == 0
    assert ("postid_outbox_backlog_messages", frozenset()) not in samples


def test_the_pool_gauges_report_its_size(client, database_url):
    samples = scrape(client)
    if database_url.startswith("sqlite"):
        assert total(samples, "postid_db_pool_size_connections") == 5  # SQLAlchemy's QueuePool
    else:
        assert total(samples, "postid_db_pool_size_connections") >= 1
    assert total(samples, "postid_db_pool_checked_out_connections") >= 0


def test_an_sms_over_its_limit_moves_the_sms_limit_count(settings, make_app):
    app = make_app(replace(settings, metrics_token=TOKEN, sms_per_number_limit="1 per hour"))
    client = app.test_client()
    before = scrape(client)
    with app.app_context():  # a command line's send: no request, so no endpoint
        sent = [notify.send_sms("+84912345678", "Mã 123456", template="recover.code")
                for _ in range(2)]
        db.session.commit()
    assert [message is not None for message in sent] == [True, False]
    assert moved(before, scrape(client), "postid_throttled_total") == {
        frozenset({("limiter", "sms_limit"), ("endpoint", "-")}): 1}
