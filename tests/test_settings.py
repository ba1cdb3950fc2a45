"""Settings: file, then environment, validated at start-up."""

from __future__ import annotations

import base64
import os
import stat

import pytest

from idp.settings import SettingsError, load_settings

KEK = base64.urlsafe_b64encode(b"k" * 32).decode()
PRODUCTION = {
    "IDP_ENV": "production",
    "IDP_ISSUER": "https://id.example.vn",
    "IDP_DATABASE_URL": "postgresql://postgres@127.0.0.1/idp",
    "IDP_SECRET_KEY": "s" * 40,
    "IDP_KEY_ENCRYPTION_KEY": KEK,
    "IDP_REDIS_URL": "redis://127.0.0.1:6379/0",
    "IDP_PAIRWISE_SALT": "p" * 40,
}


def test_production_starts_with_all_its_secrets():
    settings = load_settings(environ=PRODUCTION)
    assert settings.is_production
    assert settings.cookie_secure is True
    assert settings.argon2_memory_cost == 65536  # from config/production.toml
    assert settings.database_url == "postgresql+psycopg://postgres@127.0.0.1/idp"
    assert settings.key_encryption_key_bytes == b"k" * 32


@pytest.mark.parametrize(
    "missing",
    ["IDP_SECRET_KEY", "IDP_KEY_ENCRYPTION_KEY", "IDP_PAIRWISE_SALT", "IDP_DATABASE_URL", "IDP_REDIS_URL"],
)
def test_production_refuses_to_start_without_a_secret(missing):
    environ = {k: v for k, v in PRODUCTION.items() if k != missing}
    with pytest.raises(SettingsError, match=missing):
        load_settings(environ=environ)


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("IDP_ISSUER", "http://id.example.vn", "https"),
        ("IDP_ISSUER", "https://id.example.vn/", "must not end"),
        ("IDP_ISSUER", "id.example.vn", "absolute URL"),
        ("IDP_SECRET_KEY", "short", "at least 32"),
        ("IDP_KEY_ENCRYPTION_KEY", "not-base64-!!", "32 bytes"),
        ("IDP_KEY_ENCRYPTION_KEY", base64.urlsafe_b64encode(b"k" * 16).decode(), "32 bytes"),
        ("IDP_COOKIE_SECURE", "false", "COOKIE_SECURE"),
        ("IDP_COOKIE_SECURE", "maybe", "true or false"),
        ("IDP_ARGON2_TIME_COST", "three", "integer"),
        ("IDP_ARGON2_TIME_COST", "0", "positive"),
    ],
)
def test_bad_values_are_refused_with_the_setting_named(name, value, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(environ={**PRODUCTION, name: value})


def test_a_metrics_token_is_optional_and_kept_as_given():
    assert load_settings(environ=PRODUCTION).metrics_token == ""
    token = "Ab-._~+/" * 5 + "=="
    assert load_settings(environ={**PRODUCTION, "IDP_METRICS_TOKEN": token}).metrics_token == token


def test_secret_values_never_appear_in_errors():
    with pytest.raises(SettingsError) as info:
        load_settings(environ={**PRODUCTION, "IDP_SECRET_KEY": "tiny-secret"})
    assert "tiny-secret" not in str(info.value)


def test_unknown_environment_is_refused():
    with pytest.raises(SettingsError, match="IDP_ENV"):
        load_settings(environ={"IDP_ENV": "staging"})


def test_development_generates_secrets_once_and_keeps_them(tmp_path):
    first = load_settings("development", environ={}, instance_path=str(tmp_path))
    second = load_settings("development", environ={}, instance_path=str(tmp_path))
    assert first.secret_key == second.secret_key and len(first.secret_key) >= 32
    assert first.key_encryption_key == second.key_encryption_key
    assert first.pairwise_salt == second.pairwise_salt and len(first.pairwise_salt) >= 32
    assert first.database_url == f"sqlite:///{tmp_path / 'idp.sqlite3'}"
    mode = stat.S_IMODE(os.stat(tmp_path / "secrets.toml").st_mode)
    assert mode == 0o600


def test_environment_overrides_the_file(tmp_path):
    settings = load_settings("development", environ={"IDP_ARGON2_TIME_COST": "5",
                                                     "IDP_ISSUER": "http://localhost:8000"},
                             instance_path=str(tmp_path))
    assert settings.argon2_time_cost == 5
    assert settings.issuer == "http://localhost:8000"


def test_settings_are_frozen(tmp_path):
    settings = load_settings("test", environ={})
    with pytest.raises(AttributeError):
        settings.secret_key = "x"  # type: ignore[misc]


def test_unknown_key_in_a_config_file_is_refused(tmp_path):
    (tmp_path / "development.toml").write_text('issuer = "http://127.0.0.1:5000"\nsecert_key = "x"\n')
    with pytest.raises(SettingsError, match="secert_key"):
        load_settings("development", environ={"IDP_CONFIG_DIR": str(tmp_path)},
                      instance_path=str(tmp_path))


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("IDP_LOGIN_IP_LIMIT", "banana", "rate"),
        ("IDP_LOG_LEVEL", "verbose", "LOG_LEVEL"),
        ("IDP_TRUSTED_PROXIES", "-1", "negative"),
        ("IDP_KEY_CACHE_SECONDS", "0", "between 1 and 120"),
        ("IDP_KEY_CACHE_SECONDS", "121", "between 1 and 120"),
        ("IDP_LOGIN_FREE_FAILURES", "-3", "negative"),
        ("IDP_DATABASE_URL", "not a url", "database URL"),
        ("IDP_REDIS_URL", "http://127.0.0.1:6379", "redis://"),
        ("IDP_KEY_ENCRYPTION_KEY", "!!!!" + "A" * 43, "32 bytes"),
        ("IDP_METRICS_TOKEN", "t" * 31, "METRICS_TOKEN"),
        ("IDP_METRICS_TOKEN", "t" * 31 + " x", "METRICS_TOKEN"),
        ("IDP_METRICS_TOKEN", "t" * 40 + "\n", "METRICS_TOKEN"),
        ("IDP_METRICS_TOKEN", "ặ" * 40, "METRICS_TOKEN"),
    ],
)
def test_more_bad_values(name, value, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(environ={**PRODUCTION, name: value})


@pytest.mark.parametrize(
    "line, message",
    [
        ('argon2_time_cost = "3"', "argon2_time_cost must be a int"),
        ('cookie_secure = "false"', "cookie_secure must be a bool"),
        ("argon2_time_cost = true", "argon2_time_cost must be a int"),
        ("issuer = 3", "issuer must be a str"),
        ("issuer = [", "not valid TOML"),
    ],
)
def test_config_file_values_are_type_checked(tmp_path, line, message):
    (tmp_path / "development.toml").write_text(line + "\n")
    with pytest.raises(SettingsError, match=message):
        load_settings("development", environ={"IDP_CONFIG_DIR": str(tmp_path)},
                      instance_path=str(tmp_path))


def test_relative_instance_path_becomes_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings("development", environ={}, instance_path="inst")
    assert settings.instance_path == str(tmp_path / "inst")


def test_secrets_added_later_are_appended_to_an_older_secrets_file(tmp_path):
    (tmp_path / "secrets.toml").write_text(f'secret_key = "{"s" * 40}"\nkey_encryption_key = "{KEK}"\n')
    settings = load_settings("development", environ={}, instance_path=str(tmp_path))
    assert settings.secret_key == "s" * 40 and settings.pairwise_salt
    again = load_settings("development", environ={}, instance_path=str(tmp_path))
    assert again.pairwise_salt == settings.pairwise_salt
