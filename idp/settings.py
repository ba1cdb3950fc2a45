"""Typed, frozen settings: `config/<env>.toml`, then `IDP_*` environment variables.

Every setting is validated here, at start-up, so a bad value stops the server before it serves
a single request. Production never falls back to a literal secret: a missing secret is an
error. Development generates its secrets once and keeps them in the instance folder so that
sessions survive a restart; tests get fresh random secrets in memory.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args, get_type_hints
from urllib.parse import urlsplit

from flask import current_app

from idp.domain.checkpoint import check_key_name

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = ROOT / "config"
DEFAULT_INSTANCE_PATH = ROOT / "instance"

Environment = Literal["development", "test", "production"]
ENVIRONMENTS: tuple[str, ...] = get_args(Environment)
SECRET_FILE_NAME = "secrets.toml"
METRICS_TOKEN_RE = re.compile(r"[A-Za-z0-9\-._~+/]{32,}=*")
GENERATED_SECRETS = ("secret_key", "key_encryption_key", "pairwise_salt")


class SettingsError(Exception):
    """A setting is missing or invalid; the message names the setting, never its value."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    env: Environment = "development"
    issuer: str = "http://127.0.0.1:5000"
    # The audit log's origin (c2sp.org/tlog-checkpoint), also the name of its signing key:
    # empty = the issuer without its scheme, then "/audit" ("id.example.vn/audit"). It names
    # the log to witnesses; changing it starts a new log for them.
    audit_log_origin: str = ""
    # Seal the audit log in the web/CLI process itself, after each request or command that
    # stored events (docs/audit.md). On by default in development only (the embedded SQLite
    # of `make run` needs no sealer process); elsewhere run `idp audit seal --loop`.
    audit_seal_in_process: bool = False
    database_url: str = ""
    secret_key: str = ""
    # 32 bytes, URL-safe base64: wraps private signing keys and TOTP secrets (AES-GCM).
    key_encryption_key: str = ""
    # Only while the key-encryption key is being replaced (docs/operations.md): the old key,
    # still accepted to open what it sealed until `idp keys rewrap` has re-sealed everything
    # under key_encryption_key; nothing is ever sealed with it. Empty otherwise.
    key_encryption_key_previous: str = ""
    # Secret salt of pairwise subject identifiers (OIDC Core §8.1); changing it changes every
    # pairwise `sub`, so it is generated once and kept like the other secrets.
    pairwise_salt: str = ""
    # Empty = in-process rate-limit store (one node only); production needs Redis.
    redis_url: str = ""
    # Connect and read timeout of the Redis client: a Redis that hangs (rather than refusing
    # connections) must fail sign-ins and /readyz quickly instead of holding them.
    redis_timeout_ms: int = 1000
    instance_path: str = str(DEFAULT_INSTANCE_PATH)
    cookie_secure: bool = True
    log_level: str = "INFO"
    # "json": one JSON object per line (production; idp/logs.py), "text": for a person reading
    # a terminal (development's `make run`).
    log_format: str = "json"
    default_locale: str = "vi"
    # Password hashing (docs/architecture.md §7): argon2id; hashes are upgraded at login when these change.
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536
    argon2_parallelism: int = 4
    # Sessions (docs/architecture.md §7): idle and absolute timeouts for citizens.
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    # Counter staff (docs/architecture.md §8): a console left alone locks quickly, and
    # no staff session outlives a working shift.
    staff_idle_minutes: int = 15
    staff_absolute_hours: int = 9
    # Enrolment codes for counter verification stay valid this many days.
    enrolment_code_days: int = 30
    # Login throttling: free attempts, then a doubling wait capped at the maximum.
    login_free_failures: int = 5
    login_max_delay_seconds: int = 900
    login_ip_limit: str = "30 per minute"
    # SMS that strangers can cause (codes, warnings), counted in the rate-limit store; see
    # idp/services/platform/sms_limits.py for the reasoning. A code flow is at most 5 SMS (1 + 4 resends).
    sms_per_number_limit: str = "5 per hour;10 per day"
    sms_per_national_id_limit: str = "5 per hour;10 per day"
    # Every class of asker together, per number (sms_limits): the four classes' caps.
    sms_per_number_ceiling: str = "20 per hour;40 per day"
    sms_total_limit: str = "50000 per day"
    # OIDC lifetimes (docs/architecture.md §5).
    authorization_code_seconds: int = 60
    access_token_seconds: int = 600
    id_token_seconds: int = 600
    refresh_token_days: int = 30
    consent_text_version: str = "2026-11"
    # Self-service (docs/architecture.md §7): one-time codes, registration.
    otp_seconds: int = 600
    email_link_hours: int = 24
    registration_hours: int = 24
    # Retention (the privacy notice states these; `idp purge` enforces them): what was typed at
    # registration, finished or not, is deleted this many days after it was sent; SMS and
    # e-mail messages are deleted this many days after they were written.
    registration_retention_days: int = 30
    message_retention_days: int = 365
    # Notifications: "outbox" (development/test: stored and logged, readable by `idp outbox`)
    # or "gateway" (SMS over the HTTP gateway below, e-mail over SMTP).
    notifier: str = "outbox"
    sms_gateway_url: str = ""
    sms_gateway_token: str = ""
    sms_sender: str = "PostID"
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_from: str = "PostID <no-reply@postid.vn>"
    smtp_starttls: bool = True
    # Where people exercise their rights under Law 91/2025/QH15 (shown on /privacy and /terms).
    privacy_contact_email: str = "privacy@postid.vn"
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted (0 = none).
    trusted_proxies: int = 0
    # The bearer token Prometheus sends to /metrics (docs/deployment.md, "Metrics"): 32 or more
    # characters of RFC 6750's b64token. Empty = /metrics answers 404 (open in development).
    metrics_token: str = ""
    # How long a node serves its in-process snapshot of the signing keys before reading them
    # again (idp.services.portals.keys): a rotation made elsewhere reaches this node's JWKS
    # and signer within this time. At most 120: a demoted key may sign on other nodes this
    # long, which keys.EXPIRY_MARGIN (300 s) must cover with room for clock drift.
    key_cache_seconds: int = 60

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def ratelimit_storage_uri(self) -> str:
        return self.redis_url or "memory://"

    @property
    def key_encryption_key_bytes(self) -> bytes:
        return _kek_bytes(self.key_encryption_key)

    @property
    def previous_key_encryption_key_bytes(self) -> bytes | None:
        return _kek_bytes(self.key_encryption_key_previous) if self.key_encryption_key_previous else None


def _kek_bytes(value: str) -> bytes:
    padded = value + "=" * (-len(value) % 4)
    return base64.b64decode(padded, altchars=b"-_", validate=True)


def load_settings(
    env: str | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build and validate the settings for `env` (default: `IDP_ENV`, else development).

    Order: dataclass defaults < `config/<env>.toml` < `IDP_*` variables < `overrides`.
    Raises SettingsError when a value is missing, unknown or malformed.
    """
    environ = os.environ if environ is None else environ
    env = env or environ.get("IDP_ENV") or "development"
    if env not in ENVIRONMENTS:
        raise SettingsError(f"IDP_ENV must be one of {', '.join(ENVIRONMENTS)}")
    values: dict[str, Any] = {"env": env}
    values.update(_read_toml(Path(environ.get("IDP_CONFIG_DIR", CONFIG_DIR)) / f"{env}.toml"))
    values.update(_read_environ(environ))
    values.update(overrides)
    values["env"] = env
    if values.get("database_url"):
        values["database_url"] = normalize_database_url(values["database_url"])
    _fill_generated_values(values)
    if not values.get("audit_log_origin"):
        values["audit_log_origin"] = default_audit_log_origin(values.get("issuer", Settings.issuer))
    settings = Settings(**values)
    validate(settings)
    return settings


def current_settings() -> Settings:
    """The settings of the running application (create_app stores them in its config)."""
    settings: Settings = current_app.config["IDP_SETTINGS"]
    return settings


def default_audit_log_origin(issuer: str) -> str:
    """"<host>[:port][/path]/audit" of the issuer URL: a log origin is a schema-less URL."""
    parts = urlsplit(issuer)
    return f"{parts.netloc.rpartition('@')[2]}{parts.path.rstrip('/')}/audit"


def normalize_database_url(url: str) -> str:
    """PostgreSQL URLs always use psycopg 3 (the only PostgreSQL driver we install)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _fields() -> dict[str, type]:
    hints = get_type_hints(Settings)
    return {f.name: hints[f.name] for f in dataclasses.fields(Settings)}


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path.name} is not valid TOML: {exc}") from None
    fields = _fields()
    unknown = set(data) - set(fields)
    if unknown:
        raise SettingsError(f"{path.name}: unknown setting(s) {', '.join(sorted(unknown))}")
    for name, value in data.items():
        kind = fields[name]
        # bool is an int subclass: `time_cost = true` must not pass as 1.
        wrong = (not isinstance(value, bool)) if kind is bool else (
            isinstance(value, bool) or not isinstance(value, int) if kind is int
            else not isinstance(value, str))
        if wrong:
            raise SettingsError(f"{path.name}: {name} must be a {getattr(kind, '__name__', 'string')}")
    return data


def _read_environ(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, kind in _fields().items():
        raw = environ.get(f"IDP_{name.upper()}")
        if raw is None or name == "env":
            continue
        values[name] = _coerce(name, kind, raw)
    return values


def _coerce(name: str, kind: Any, raw: str) -> Any:
    if kind is bool:
        if raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.lower() in {"0", "false", "no", "off"}:
            return False
        raise SettingsError(f"IDP_{name.upper()} must be true or false")
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"IDP_{name.upper()} must be an integer") from None
    return raw


def _fill_generated_values(values: dict[str, Any]) -> None:
    """Development keeps generated secrets in the instance folder; tests use throwaway ones."""
    env = values["env"]
    instance = Path(values.get("instance_path") or DEFAULT_INSTANCE_PATH).resolve()
    values["instance_path"] = str(instance)
    if env == "development":
        values.setdefault("audit_seal_in_process", True)
        if not values.get("database_url"):
            values["database_url"] = f"sqlite:///{instance / 'idp.sqlite3'}"
        missing = [k for k in GENERATED_SECRETS if not values.get(k)]
        if missing:
            stored = _development_secrets(instance)
            for key in missing:
                values[key] = stored[key]
    elif env == "test":
        values.setdefault("database_url", "sqlite://")
        values.setdefault("secret_key", secrets.token_urlsafe(32))
        values.setdefault("key_encryption_key", _new_kek())
        values.setdefault("pairwise_salt", secrets.token_urlsafe(32))


def _new_kek() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def _new_secret(name: str) -> str:
    return _new_kek() if name == "key_encryption_key" else secrets.token_urlsafe(32)


def _development_secrets(instance: Path) -> dict[str, str]:
    """Secrets kept in instance/secrets.toml; ones added in later versions are appended."""
    path = instance / SECRET_FILE_NAME
    stored: dict[str, str] = {}
    if path.is_file():
        with path.open("rb") as fh:
            stored = tomllib.load(fh)
    missing = [name for name in GENERATED_SECRETS if name not in stored]
    if not missing:
        return stored
    instance.mkdir(parents=True, exist_ok=True)
    # Owner-only from the first byte: these keys sign sessions and wrap private keys.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as fh:
        if not stored:
            fh.write("# Generated for development; never use in production.\n")
        for name in missing:
            stored[name] = _new_secret(name)
            fh.write(f'{name} = "{stored[name]}"\n')
    return stored


def validate(settings: Settings) -> None:
    """Refuse settings a server must not start with."""
    for name in ("secret_key", "key_encryption_key", "pairwise_salt", "database_url"):
        if not getattr(settings, name):
            raise SettingsError(f"IDP_{name.upper()} is required in {settings.env}")
    if len(settings.secret_key) < 32:
        raise SettingsError("IDP_SECRET_KEY must be at least 32 characters")
    try:
        kek = settings.key_encryption_key_bytes
    except (ValueError, TypeError):  # binascii.Error is a ValueError
        kek = b""
    if len(kek) != 32:
        raise SettingsError("IDP_KEY_ENCRYPTION_KEY must be 32 bytes in URL-safe base64")
    if settings.key_encryption_key_previous:
        try:
            previous = settings.previous_key_encryption_key_bytes
        except (ValueError, TypeError):
            previous = b""
        if previous is None or len(previous) != 32:
            raise SettingsError("IDP_KEY_ENCRYPTION_KEY_PREVIOUS must be 32 bytes in URL-safe base64")
        if previous == kek:
            raise SettingsError("IDP_KEY_ENCRYPTION_KEY_PREVIOUS must differ from IDP_KEY_ENCRYPTION_KEY")
    issuer = urlsplit(settings.issuer)
    if issuer.scheme not in {"https", "http"} or not issuer.netloc or issuer.query or issuer.fragment:
        raise SettingsError("IDP_ISSUER must be an absolute URL without query or fragment")
    if settings.issuer.endswith("/"):
        raise SettingsError("IDP_ISSUER must not end with '/'")
    origin = settings.audit_log_origin
    try:
        check_key_name(origin)
        if not origin.isprintable():
            raise ValueError
    except ValueError:
        raise SettingsError("IDP_AUDIT_LOG_ORIGIN must be a key name: printable, "
                            "without spaces or '+'") from None
    if settings.is_production:
        if issuer.scheme != "https":
            raise SettingsError("IDP_ISSUER must use https in production")
        if not settings.redis_url:
            raise SettingsError("IDP_REDIS_URL is required in production (shared rate limits)")
        if not settings.cookie_secure:
            raise SettingsError("IDP_COOKIE_SECURE must be true in production")
    for name in ("argon2_time_cost", "argon2_memory_cost", "argon2_parallelism",
                 "session_idle_minutes", "session_absolute_hours", "login_max_delay_seconds",
                 "staff_idle_minutes", "staff_absolute_hours", "enrolment_code_days",
                 "authorization_code_seconds", "access_token_seconds", "id_token_seconds",
                 "refresh_token_days", "registration_retention_days", "message_retention_days"):
        if getattr(settings, name) < 1:
            raise SettingsError(f"IDP_{name.upper()} must be a positive integer")
    if settings.registration_retention_days * 24 < settings.registration_hours:
        raise SettingsError("IDP_REGISTRATION_RETENTION_DAYS must not end a registration that "
                            "can still be finished (IDP_REGISTRATION_HOURS)")
    if settings.argon2_memory_cost < 8 * settings.argon2_parallelism:
        raise SettingsError("IDP_ARGON2_MEMORY_COST must be at least 8 x parallelism (KiB)")
    if settings.default_locale not in {"vi", "en"}:
        raise SettingsError("IDP_DEFAULT_LOCALE must be vi or en")
    for name in ("login_free_failures", "trusted_proxies"):
        if getattr(settings, name) < 0:
            raise SettingsError(f"IDP_{name.upper()} must not be negative")
    if settings.log_format not in {"json", "text"}:
        raise SettingsError("IDP_LOG_FORMAT must be json or text")
    if not 1 <= settings.key_cache_seconds <= 120:
        raise SettingsError("IDP_KEY_CACHE_SECONDS must be between 1 and 120")
    if settings.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise SettingsError("IDP_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
    if settings.notifier not in {"outbox", "gateway"}:
        raise SettingsError("IDP_NOTIFIER must be outbox or gateway")
    if settings.notifier == "gateway" and not (settings.sms_gateway_url and settings.smtp_host):
        raise SettingsError("IDP_NOTIFIER=gateway needs IDP_SMS_GATEWAY_URL and IDP_SMTP_HOST")
    _validate_urls_and_limits(settings)
    if settings.metrics_token and not METRICS_TOKEN_RE.fullmatch(settings.metrics_token):
        raise SettingsError("IDP_METRICS_TOKEN must be at least 32 characters of letters, digits "
                            "and -._~+/ (RFC 6750 b64token)")


def _validate_urls_and_limits(settings: Settings) -> None:
    from limits import parse_many
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(settings.database_url)
    except ArgumentError:
        raise SettingsError("IDP_DATABASE_URL is not a database URL") from None
    if settings.redis_timeout_ms <= 0:
        raise SettingsError("IDP_REDIS_TIMEOUT_MS must be a positive number of milliseconds")
    if settings.redis_url and urlsplit(settings.redis_url).scheme not in {"redis", "rediss", "unix"}:
        raise SettingsError("IDP_REDIS_URL must be a redis://, rediss:// or unix:// URL")
    for name in ("login_ip_limit", "sms_per_number_limit", "sms_per_national_id_limit",
                 "sms_per_number_ceiling", "sms_total_limit"):
        try:
            if not parse_many(getattr(settings, name)):
                raise ValueError
        except ValueError:
            raise SettingsError(
                f"IDP_{name.upper()} must be a rate such as '30 per minute'") from None
