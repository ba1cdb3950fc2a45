"""`idp clients ...` through Click's test runner: exit codes, secrets shown once, no partial writes."""

from __future__ import annotations

import hashlib
import json

import pytest
from joserfc.jwk import ECKey
from sqlalchemy import func, select

from idp.cli import cli
from idp.extensions import db
from idp.models import AuditEvent, OAuthClient
from idp.services.portals.clients import check_client_secret, get_client

CREATE = ["clients", "create", "--name", "Cổng dịch vụ công Hà Nội",
          "--redirect-uri", "https://portal.example.vn/callback"]


def count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OAuthClient)) or 0


def create(runner, *extra: str) -> dict:
    result = runner.invoke(cli, [*CREATE, *extra, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def assert_refused(result, code: str) -> None:
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and f"[{code}]" in lines[0], result.stderr


def test_create_json(app, runner):
    data = create(runner, "--redirect-uri", "https://portal.example.vn:8443/cb",
                  "--post-logout-redirect-uri", "https://portal.example.vn/",
                  "--backchannel-logout-uri", "https://portal.example.vn/logout",
                  "--scope", "openid profile email offline_access", "--subject-type", "pairwise",
                  "--id-token-alg", "ES256", "--auth-method", "client_secret_post")
    assert set(data) == {
        "client_id", "client_secret", "name", "redirect_uris", "post_logout_redirect_uris",
        "backchannel_logout_uri", "scope", "token_endpoint_auth_method", "grant_types",
        "subject_type", "id_token_signed_response_alg", "jwks_uri", "min_acr",
        "min_phishing_resistant", "claims_profile", "service_scope", "accepts_delegation",
        "procedures",
    }
    assert data["min_phishing_resistant"] is False  # the default: a TOTP code will do
    assert data["service_scope"] == ""  # the default: no client_credentials grant
    assert data["min_acr"] == "urn:vn:postid:loa:1"  # the default: any level
    assert data["claims_profile"] == "standard"
    assert data["redirect_uris"] == ["https://portal.example.vn/callback", "https://portal.example.vn:8443/cb"]
    assert data["token_endpoint_auth_method"] == "client_secret_post"
    assert data["grant_types"] == ["authorization_code", "refresh_token"]
    assert data["subject_type"] == "pairwise" and data["id_token_signed_response_alg"] == "ES256"
    assert data["name"] == "Cổng dịch vụ công Hà Nội" and data["jwks_uri"] is None
    with app.app_context():
        client = get_client(data["client_id"])
        assert client.sector_identifier == "portal.example.vn"
        assert client.post_logout_redirect_uris == ["https://portal.example.vn/"]
        assert client.backchannel_logout_uri == "https://portal.example.vn/logout"
        assert client.scope == "openid profile email offline_access"
        assert client.client_secret_hash == hashlib.sha256(data["client_secret"].encode()).hexdigest()
        assert check_client_secret(client, data["client_secret"])


def test_create_plain_prints_id_and_secret_once(app, runner):
    result = runner.invoke(cli, CREATE)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    client_id = next(line.split()[1] for line in lines if line.strip().startswith("client_id"))
    secret = next(line.split()[1] for line in lines if line.strip().startswith("client_secret "))
    assert "only this once" in result.stdout
    with app.app_context():
        assert check_client_secret(get_client(client_id), secret)


def test_public_client_has_no_secret(runner):
    data = create(runner, "--auth-method", "none", "--redirect-uri", "http://127.0.0.1:8080/cb")
    assert data["client_secret"] is None and data["token_endpoint_auth_method"] == "none"
    plain = runner.invoke(cli, [*CREATE, "--auth-method", "none"])
    assert plain.exit_code == 0 and "client_secret" not in plain.stdout


def test_private_key_jwt_from_a_jwks_file(app, runner, tmp_path):
    public = ECKey.generate_key("P-256").as_dict(private=False)
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [public]}))
    data = create(runner, "--auth-method", "private_key_jwt", "--jwks-file", str(path))
    assert data["client_secret"] is None
    with app.app_context():
        assert get_client(data["client_id"]).jwks == {"keys": [public]}


def test_private_key_in_jwks_file_refused(app, runner, tmp_path):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [ECKey.generate_key("P-256").as_dict(private=True)]}))
    result = runner.invoke(cli, [*CREATE, "--auth-method", "private_key_jwt", "--jwks-file", str(path)])
    assert_refused(result, "client.jwks_private")
    assert count(app) == 0


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe", b" " * (64 * 1024 + 1)])
def test_unreadable_jwks_file_refused(app, runner, tmp_path, content):
    path = tmp_path / "jwks.json"
    path.write_bytes(content)
    result = runner.invoke(cli, [*CREATE, "--auth-method", "private_key_jwt", "--jwks-file", str(path)])
    assert result.exit_code == 1 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "JWKS file" in result.stderr
    assert count(app) == 0


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        (["--redirect-uri", "http://example.com/cb"], "uri.scheme"),
        (["--redirect-uri", "https://portal.example.vn/cb#frag"], "uri.fragment"),
        (["--redirect-uri", "javascript:alert(1)"], "uri.scheme"),
        (["--redirect-uri", "https://user@portal.example.vn/cb"], "uri.userinfo"),
        (["--redirect-uri", "/relative"], "uri.format"),
        (["--post-logout-redirect-uri", "http://portal.example.vn/"], "uri.scheme"),
        (["--scope", "profile"], "client.scope_openid"),
        (["--scope", "openid admin"], "client.scope_unsupported"),
        (["--auth-method", "private_key_jwt"], "client.keys_required"),
        (["--jwks-uri", "https://portal.example.vn/jwks"], "client.keys_not_allowed"),
        (["--subject-type", "pairwise", "--redirect-uri", "https://other.example.vn/cb"], "uri.sector"),
    ],
)
def test_refused_data_exits_1_and_writes_nothing(app, runner, extra, code):
    assert_refused(runner.invoke(cli, [*CREATE, *extra]), code)
    assert count(app) == 0


def test_name_too_long_refused(app, runner):
    args = list(CREATE)
    args[args.index("--name") + 1] = "x" * 101
    assert_refused(runner.invoke(cli, args), "client.name")
    assert count(app) == 0


@pytest.mark.parametrize(
    "args",
    [
        ["clients", "create", "--redirect-uri", "https://portal.example.vn/cb"],  # no --name
        ["clients", "create", "--name", "Portal"],                                # no --redirect-uri
        [*CREATE, "--auth-method", "client_secret_jwt"],
        [*CREATE, "--subject-type", "secret"],
        [*CREATE, "--id-token-alg", "HS256"],
        [*CREATE, "--jwks-file", "/nonexistent/jwks.json"],
        [*CREATE, "--min-acr", "LoA4"],
        [*CREATE, "--min-acr", "urn:vn:postid:loa:9"],
        [*CREATE, "--min-acr", ""],
        ["clients", "show"],
        ["clients", "set-min-acr", "some-client"],
        ["clients", "rotate-secret"],
        ["clients", "disable"],
        ["clients", "bogus"],
    ],
)
def test_usage_errors_exit_2_and_write_nothing(app, runner, args):
    result = runner.invoke(cli, args)
    assert result.exit_code == 2
    assert "Error" in result.stderr
    assert count(app) == 0


def test_show_and_list_never_print_a_secret_or_hash(app, runner):
    data = create(runner)
    with app.app_context():
        digest = get_client(data["client_id"]).client_secret_hash
    outputs = [runner.invoke(cli, ["clients", "show", data["client_id"]]),
               runner.invoke(cli, ["clients", "show", data["client_id"], "--json"]),
               runner.invoke(cli, ["clients", "list"]),
               runner.invoke(cli, ["clients", "list", "--json"])]
    for result in outputs:
        assert result.exit_code == 0, result.output
        assert data["client_id"] in result.stdout
        assert data["client_secret"] not in result.stdout and digest not in result.stdout
        assert "secret_hash" not in result.stdout
    shown = json.loads(outputs[1].stdout)
    assert shown["active"] is True and shown["redirect_uris"] == ["https://portal.example.vn/callback"]
    assert [c["client_id"] for c in json.loads(outputs[3].stdout)] == [data["client_id"]]


def test_list_when_empty(runner):
    result = runner.invoke(cli, ["clients", "list"])
    assert result.exit_code == 0 and result.stdout == "No clients registered.\n"
    assert json.loads(runner.invoke(cli, ["clients", "list", "--json"]).stdout) == []


def test_rotate_secret_prints_a_new_one_and_the_old_stops_working(app, runner):
    data = create(runner)
    result = runner.invoke(cli, ["clients", "rotate-secret", data["client_id"], "--json"])
    assert result.exit_code == 0, result.output
    rotated = json.loads(result.stdout)
    assert rotated["client_id"] == data["client_id"] and rotated["client_secret"] != data["client_secret"]
    with app.app_context():
        client = get_client(data["client_id"])
        assert check_client_secret(client, rotated["client_secret"])
        assert not check_client_secret(client, data["client_secret"])
        assert client.secret_rotated_at is not None
    plain = runner.invoke(cli, ["clients", "rotate-secret", data["client_id"]])
    assert plain.exit_code == 0 and "only this once" in plain.stdout


def test_rotate_secret_of_a_public_client_refused(app, runner):
    data = create(runner, "--auth-method", "none")
    assert_refused(runner.invoke(cli, ["clients", "rotate-secret", data["client_id"]]), "client.no_secret")
    with app.app_context():
        assert get_client(data["client_id"]).client_secret_hash is None


def test_disable_is_idempotent(app, runner):
    data = create(runner)
    first = runner.invoke(cli, ["clients", "disable", data["client_id"]])
    second = runner.invoke(cli, ["clients", "disable", data["client_id"]])
    assert first.exit_code == second.exit_code == 0
    assert first.stdout == second.stdout and "is disabled" in first.stdout
    with app.app_context():
        client = get_client(data["client_id"])
        assert client.disabled_at is not None
        assert not check_client_secret(client, data["client_secret"])
    shown = json.loads(runner.invoke(cli, ["clients", "show", data["client_id"], "--json"]).stdout)
    assert shown["active"] is False and shown["disabled_at"] is not None
    assert "disabled" in runner.invoke(cli, ["clients", "list"]).stdout
    assert_refused(runner.invoke(cli, ["clients", "rotate-secret", data["client_id"]]), "client.disabled")


@pytest.mark.parametrize("command", ["show", "rotate-secret", "disable"])
def test_unknown_client_exits_1_with_one_line(app, runner, command):
    assert_refused(runner.invoke(cli, ["clients", command, "no-such-client"]), "client.not_found")
    assert count(app) == 0


@pytest.mark.parametrize(
    "command",
    [["clients"], ["clients", "create"], ["clients", "list"], ["clients", "show"],
     ["clients", "rotate-secret"], ["clients", "disable"], ["clients", "set-min-acr"]],
)
def test_every_command_has_help(runner, command):
    result = runner.invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.stdout


@pytest.mark.parametrize("spelling, level", [("LoA2", 2), ("loa2", 2), ("LOA3", 3),
                                             ("urn:vn:postid:loa:3", 3), ("LoA1", 1)])
def test_create_with_a_minimum_level(app, runner, spelling, level):
    data = create(runner, "--min-acr", spelling)
    assert data["min_acr"] == f"urn:vn:postid:loa:{level}"
    with app.app_context():
        assert get_client(data["client_id"]).min_loa == level
    shown = json.loads(runner.invoke(cli, ["clients", "show", data["client_id"], "--json"]).stdout)
    assert shown["min_acr"] == f"urn:vn:postid:loa:{level}"
    plain = runner.invoke(cli, ["clients", "show", data["client_id"]]).stdout
    assert f"min_acr                       urn:vn:postid:loa:{level}" in plain
    assert f"LoA{level}+" in runner.invoke(cli, ["clients", "list"]).stdout
    listed = json.loads(runner.invoke(cli, ["clients", "list", "--json"]).stdout)
    assert listed[0]["min_acr"] == f"urn:vn:postid:loa:{level}"


def test_set_min_acr_changes_the_level_and_is_audited(app, runner):
    data = create(runner)
    result = runner.invoke(cli, ["clients", "set-min-acr", data["client_id"], "LoA2"])
    assert result.exit_code == 0, result.output
    assert "LoA2" in result.stdout and "urn:vn:postid:loa:2" in result.stdout
    again = runner.invoke(cli, ["clients", "set-min-acr", data["client_id"], "urn:vn:postid:loa:2"])
    assert again.exit_code == 0  # the same level again: nothing to change, not an error
    with app.app_context():
        assert get_client(data["client_id"]).min_loa == 2
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.tag == "client.update")).all()
        assert [(e.channel, e.data) for e in events] == [
            ("cli", {"client": data["client_id"], "min_loa": 2, "previous_min_loa": 1})]


def test_set_min_acr_refuses_an_unknown_level(app, runner):
    data = create(runner)
    result = runner.invoke(cli, ["clients", "set-min-acr", data["client_id"], "LoA9"])
    assert result.exit_code == 2 and "LoA9" in result.stderr
    with app.app_context():
        assert get_client(data["client_id"]).min_loa == 1
    unknown = runner.invoke(cli, ["clients", "set-min-acr", "no-such-client", "LoA2"])
    assert_refused(unknown, "client.not_found")
