"""Vietnamese by default, English on request; errors as HTML for people and JSON for programs."""

from __future__ import annotations

from flask import Flask

from tests.conftest import csrf_token


def test_vietnamese_is_the_default(client):
    body = client.get("/login").get_data(as_text=True)
    assert '<html lang="vi">' in body
    assert "Đăng nhập PostID" in body


def test_accept_language_does_not_override_the_default(client):
    body = client.get("/login", headers={"Accept-Language": "en-US,en"}).get_data(as_text=True)
    assert "Đăng nhập PostID" in body


def test_language_switch_sets_english_and_returns_to_the_page(client):
    response = client.post("/language", data={"csrf_token": csrf_token(client), "lang": "en",
                                              "next": "/login?next=/account"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/account"
    body = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in body
    assert "Sign in to PostID" in body


def test_language_switch_ignores_unknown_languages_and_foreign_targets(client):
    response = client.post("/language", data={"csrf_token": csrf_token(client), "lang": "fr",
                                              "next": "//evil.example/"})
    assert response.headers["Location"] == "/"
    assert "postid_lang" not in response.headers.get("Set-Cookie", "")


def test_ui_locales_parameter_applies_to_that_request(client):
    assert "Sign in to PostID" in client.get("/login?ui_locales=en-GB%20vi").get_data(as_text=True)


def test_not_found_is_a_page_in_vietnamese(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Không tìm thấy trang" in response.get_data(as_text=True)


def test_not_found_is_json_for_programs(client):
    response = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json == {"error": "not_found", "error_description": "Không tìm thấy trang"}


def test_wrong_method_says_which_are_allowed(client):
    response = client.delete("/login")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_oversized_body_is_413_not_500(client):
    response = client.post("/login", data={"identifier": "x" * 200_000})
    assert response.status_code == 413


def test_unexpected_exception_is_a_plain_500_page(app: Flask):
    @app.get("/boom")
    def boom():  # pragma: no cover - body raises
        raise RuntimeError("secret detail 0123")

    response = app.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "secret detail" not in body and "Traceback" not in body
    assert "Hệ thống gặp sự cố" in body


def test_health_checks(client):
    assert client.get("/healthz").json == {"status": "ok"}
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok", "schema": "ok"}}


def test_malformed_utf8_and_control_characters_in_query_do_not_500(client):
    assert client.get("/login?next=%ff%fe%0d%0a").status_code == 200
    assert client.get("/login?ui_locales=%00%ff").status_code == 200


def test_database_down_is_503_not_500(settings, make_app, tmp_path):
    from dataclasses import replace

    broken = make_app(replace(settings, database_url=f"sqlite:///{tmp_path}/missing/dir/x.sqlite3"))
    client = broken.test_client()
    health = client.get("/readyz")
    assert health.status_code == 503
    assert health.json["error"] == "temporarily_unavailable"
    assert health.headers["Retry-After"] == "30"
    client.set_cookie("postid_session", "abc")
    page = client.get("/account")  # needs the session, so the database
    assert page.status_code == 503
    assert "Dịch vụ tạm thời gián đoạn" in page.get_data(as_text=True)
