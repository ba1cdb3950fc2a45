"""Valid Vietnamese citizens in bulk, written with INSERT ... SELECT over generate_series straight
into the models' tables (no ORM, no argon2 per row): bench/seed_accounts.py seeds millions with
it, tests/ops/test_hot_query_plans.py a few thousand. Row i (from 0) gets an account, its
password (one shared hash), a session, a redeemed code, an access/refresh token pair and a
consent for one portal; `identity(i)` gives its ID number, phone, birth date and sex, and its
session cookie, access and refresh token values are `seed-session-<i>`, `seed-access-<i>`,
`seed-refresh-<i>` (valid 30 days; benchmark data, never real secrets).

The data are valid by the rules of idp/domain:
- ID numbers: a birth-registration prefix of idp.domain.provinces, the century-and-sex digit,
  the birth year's two digits (birth dates 1940-2005, agreeing with them), six digits that make
  the number unique;
- phones: Vietnamese mobile numbers (E.164, prefixes of the four networks), unique;
- names: Vietnamese family, middle and given names by sex (NFC), with their accent-free key.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from idp.domain.gender import Gender
from idp.domain.names import normalize_name, search_key
from idp.domain.national_id import check_national_id
from idp.domain.phone import normalize_phone
from idp.domain.provinces import ID_PREFIXES
from idp.domain.terms import TERMS_VERSION

PASSWORD = "correct horse battery staple"
CLIENT_ID = "seed-portal"
SECRET = "seed-portal-secret-0123456789abcdef"  # the portal's client secret (benchmarks only)
REDIRECT_URI = "https://portal.example.vn/callback"
SCOPE = "openid profile email phone offline_access"
# The benchmarks' key-encryption key (never a real one): the signing keys made here must open
# in bench/latency.py and bench/explain_hot_queries.py.
SEED_KEK = "c2VlZC1vbmx5LWtleS1lbmNyeXB0aW9uLWtleS0zMmI"

PREFIXES = sorted(ID_PREFIXES)
# Mobile prefixes after 0 / +84 (Viettel 32-39, 86, 96-98; VinaPhone 81-85, 88, 91, 94;
# MobiFone 70, 76-79, 90, 93).
MOBILE = ["32", "33", "34", "35", "36", "37", "38", "39", "70", "76", "77", "78", "79", "81",
          "82", "83", "84", "85", "86", "88", "90", "91", "93", "94", "96", "97", "98"]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
          "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE = {"male": ["Văn", "Minh", "Đức", "Thanh", "Hữu", "Quang", "Xuân"],
          "female": ["Thị", "Ngọc", "Thu", "Thanh", "Minh", "Xuân"]}
GIVEN = {"male": ["An", "Bình", "Dũng", "Giang", "Hải", "Hòa", "Hùng", "Khánh", "Long", "Nam",
                  "Phúc", "Quân", "Sơn", "Tuấn"],
         "female": ["An", "Chi", "Giang", "Hà", "Hạnh", "Hòa", "Hương", "Lan", "Linh", "Mai",
                    "Ngọc", "Thảo", "Trang", "Vy"]}
NAMES = {sex: [normalize_name(f"{f} {m} {g}") for f in FAMILY for m in MIDDLE[sex] for g in GIVEN[sex]]
         for sex in ("male", "female")}
KEYS = {sex: [search_key(name) for name in names] for sex, names in NAMES.items()}

# Row i's values, as SQL over `i` (the generate_series column), agreeing with identity(i).
P, K = len(PREFIXES), len(MOBILE)
YEAR = "(1940 + (i * 7919) % 66)"
SEX = f"((i / {P}) % 2)"
NATIONAL_ID = (f"(%(prefixes)s::text[])[1 + i % {P}] || (CASE WHEN {YEAR} >= 2000 THEN 2 ELSE 0 END + {SEX})"
               f" || lpad(({YEAR} % 100)::text, 2, '0') || lpad((i / {2 * P})::text, 6, '0')")
PHONE = f"'+84' || (%(mobile)s::text[])[1 + i % {K}] || lpad((i / {K})::text, 7, '0')"


def sha_hex(prefix: str) -> str:
    return f"encode(sha256(convert_to('{prefix}' || i, 'UTF8')), 'hex')"


def b64(prefix: str) -> str:
    """43 URL-safe characters from SHA-256 (like secrets.token_urlsafe(32)), salted per run."""
    return (f"translate(rtrim(encode(sha256(convert_to(%(salt)s || '{prefix}' || i, 'UTF8')), "
            f"'base64'), '='), '+/', '-_')")


def identity(i: int) -> tuple[str, str, date, Gender]:
    """Row i's ID number, phone (E.164), birth date and sex, as the SQL above makes them."""
    year = 1940 + (i * 7919) % 66
    sex = (i // P) % 2
    digit = (2 if year >= 2000 else 0) + sex
    national_id = f"{PREFIXES[i % P]}{digit}{year % 100:02d}{i // (2 * P):06d}"
    phone = f"+84{MOBILE[i % K]}{i // K:07d}"
    return national_id, phone, date(year, 1 + i % 12, 1 + i % 28), Gender.FEMALE if sex else Gender.MALE


STATEMENTS = {
    "account": f"""
        INSERT INTO account (id, sub, national_id, full_name, name_search_key, birthdate, gender,
            phone, phone_verified_at, email, email_verified_at, status, identity_loa, locale,
            terms_version, terms_accepted_at, created_at, updated_at)
        SELECT %(base)s + i, {b64('sub')}, {NATIONAL_ID},
            CASE WHEN {SEX} = 1 THEN (%(names_f)s::text[])[1 + i % %(n_f)s]
                 ELSE (%(names_m)s::text[])[1 + i % %(n_m)s] END,
            CASE WHEN {SEX} = 1 THEN (%(keys_f)s::text[])[1 + i % %(n_f)s]
                 ELSE (%(keys_m)s::text[])[1 + i % %(n_m)s] END,
            make_date({YEAR}::int, (1 + i % 12)::int, (1 + i % 28)::int),
            CASE WHEN {SEX} = 1 THEN 'female' ELSE 'male' END,
            {PHONE}, now(), CASE WHEN i % 2 = 0 THEN 'cd' || i || '@example.vn' END,
            CASE WHEN i % 2 = 0 THEN now() END, 'active', 1, 'vi', %(terms)s, now(), now(), now()
        FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS i""",
    "password_credential": """
        INSERT INTO password_credential (account_id, hash, created_at, changed_at)
        SELECT %(base)s + i, %(hash)s, now(), now() FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS i""",
    "user_session": f"""
        INSERT INTO user_session (id, token_hash, sid, account_id, authenticated_at, last_seen_at,
            expires_at, amr, loa, user_agent)
        SELECT %(session_base)s + i, {sha_hex('seed-session-')}, {b64('sid')}, %(base)s + i,
            now(), now(), now() + interval '12 hours', 'pwd', 1, 'Mozilla/5.0'
        FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS i""",
    "authorization_code": f"""
        INSERT INTO authorization_code (id, code_hash, client_pk, account_id, session_id,
            redirect_uri, scope, nonce, code_challenge, code_challenge_method, claims, auth_time,
            acr, amr, created_at, expires_at, redeemed_at)
        SELECT %(code_base)s + i, {sha_hex('seed-code-')}, %(client_pk)s, %(base)s + i,
            %(session_base)s + i, '{REDIRECT_URI}', '{SCOPE}', 'n' || i, {b64('pkce')}, 'S256',
            'null', now() - interval '1 hour', 'urn:vn:postid:loa:1', 'pwd',
            now() - interval '1 hour', now() - interval '59 minutes', now() - interval '1 hour'
        FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS i""",
    "oauth_token": f"""
        INSERT INTO oauth_token (client_pk, account_id, session_id, authorization_code_id,
            family_id, access_token_hash, access_expires_at, refresh_token_hash,
            refresh_expires_at, scope, claims, auth_time, acr, amr, issued_at)
        SELECT %(client_pk)s, %(base)s + i, %(session_base)s + i, %(code_base)s + i,
            {b64('family')}, {sha_hex('seed-access-')}, now() + interval '30 days',
            {sha_hex('seed-refresh-')}, now() + interval '30 days', '{SCOPE}', 'null',
            now() - interval '1 hour', 'urn:vn:postid:loa:1', 'pwd', now()
        FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS i""",
    "consent": f"""
        INSERT INTO consent (account_id, client_pk, scope, text_version, locale, granted_at)
        SELECT %(base)s + i, %(client_pk)s, '{SCOPE}', %(consent_version)s, 'vi', now()
        FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS i""",
}



def seed_rows(conn: Any, count: int, *, client_pk: int, consent_version: str, password_hash: str,
              chunk: int = 100_000, progress: bool = False) -> int:
    """Insert `count` rows of each table through `conn` (a psycopg connection, committed per
    chunk) and return the first account id (row i is account `base + i`)."""
    bases = conn.execute(
        "SELECT (SELECT coalesce(max(id), 0) FROM account), "
        "(SELECT coalesce(max(id), 0) FROM user_session), "
        "(SELECT coalesce(max(id), 0) FROM authorization_code)").fetchone()
    params = {"base": bases[0] + 1, "session_base": bases[1] + 1, "code_base": bases[2] + 1,
              "prefixes": PREFIXES, "mobile": MOBILE,
              "names_m": NAMES["male"], "keys_m": KEYS["male"], "n_m": len(NAMES["male"]),
              "names_f": NAMES["female"], "keys_f": KEYS["female"], "n_f": len(NAMES["female"]),
              "terms": TERMS_VERSION, "hash": password_hash, "client_pk": client_pk,
              "consent_version": consent_version, "salt": str(time.time_ns())}
    for table, statement in STATEMENTS.items():
        started = time.perf_counter()
        for lo in range(0, count, chunk):
            # a literal % (modulo) is %% next to psycopg's placeholders
            conn.execute(statement.replace("% ", "%% "), {**params, "lo": lo, "hi": min(lo + chunk, count) - 1})
            conn.commit()
        if progress:
            print(f"{table}: {count:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
    for table in ("account", "user_session", "authorization_code"):
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    conn.commit()
    return int(params["base"])


def check_sample(conn: Any, base: int, count: int, size: int = 2000) -> int:
    """Read back `size` random seeded rows and run the domain's own validators on them."""
    rows = conn.execute(
        "SELECT id, national_id, phone, birthdate, gender FROM account "
        "WHERE id BETWEEN %s AND %s ORDER BY random() LIMIT %s", (base, base + count - 1, size)).fetchall()
    for row_id, national_id, phone, birthdate, gender in rows:
        check_national_id(national_id, birthdate=birthdate, gender=Gender(gender))
        assert normalize_phone(phone) == phone, phone
        assert (national_id, phone, birthdate) == identity(row_id - base)[:3], row_id
    conn.commit()
    return len(rows)
