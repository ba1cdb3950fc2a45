"""`idp users create-citizen` through Click's test runner: exit codes, messages, no partial writes."""

from __future__ import annotations

import json
import unicodedata

import pytest
from sqlalchemy import func, select

from idp.cli import cli
from idp.extensions import db
from idp.models import Account, AuditEvent, OutboxMessage, PasswordCredential

ARGS = [
    "users", "create-citizen",
    "--national-id", "001099012345",
    "--full-name", "Nguyễn Văn An",
    "--birthdate", "1999-05-17",
    "--gender", "male",
    "--phone", "0912345678",
    "--email", "an@example.vn",
    "--password-stdin",
]
PASSWORD = "correct horse battery staple\n"


def replace(args: list[str], option: str, value: str) -> list[str]:
    args = list(args)
    args[args.index(option) + 1] = value
    return args


def counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(  # type: ignore[return-value]
            db.session.scalar(select(func.count()).select_from(m))
            for m in (Account, PasswordCredential, OutboxMessage)
        )


def test_create_citizen_json(app, runner):
    result = runner.invoke(cli, [*ARGS, "--json"], input=PASSWORD)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["national_id"] == "001099012345"
    assert data["phone"] == "+84912345678"
    assert len(data["sub"]) >= 32 and "001099012345" not in data["sub"]
    with app.app_context():
        account = db.session.get(Account, data["id"])
        assert account.full_name == "Nguyễn Văn An"
        assert account.name_search_key == "nguyen van an"
        assert account.password.hash.startswith("$argon2id$")
        tag = db.session.scalar(select(AuditEvent.tag).where(AuditEvent.account_id == account.id))
        assert tag == "account.create"
        sms = db.session.scalar(select(OutboxMessage))
        assert sms.recipient == "+84912345678" and "PostID" in sms.body


def test_create_citizen_plain_output(runner):
    result = runner.invoke(cli, ARGS, input=PASSWORD)
    assert result.exit_code == 0
    assert result.stdout.startswith("Created citizen account ")


def test_password_keeps_inner_spaces_and_only_the_line_ending_is_dropped(app, runner):
    from idp.services.platform import passwords

    result = runner.invoke(cli, [*ARGS, "--json"], input="  spaced pass phrase \r\n")
    assert result.exit_code == 0
    with app.app_context():
        account = db.session.get(Account, json.loads(result.stdout)["id"])
        assert passwords.verify_password(account.password.hash, "  spaced pass phrase ")


REFUSED = [
    ("--national-id", "00109901234", "national_id.format"),
    ("--national-id", "123456789", "national_id.legacy_cmnd"),
    ("--national-id", "003099012345", "national_id.unknown_prefix"),
    ("--national-id", "001199012345", "national_id.gender_mismatch"),
    ("--national-id", "001098012345", "national_id.birth_year_mismatch"),
    ("--national-id", "001299012345", "national_id.birth_year_mismatch"),
    ("--phone", "01623456789", "phone.format"),
    ("--phone", "+1 202 555 0100", "phone.not_vietnamese"),
    ("--full-name", "Nguyen 123", "name.characters"),
    ("--email", "not-an-email", "email.format"),
]


@pytest.mark.parametrize("option, value, code", REFUSED)
def test_refused_data_exits_1_with_one_line_and_writes_nothing(app, runner, option, value, code):
    result = runner.invoke(cli, replace(ARGS, option, value), input=PASSWORD)
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and f"[{code}]" in lines[0]
    assert counts(app) == (0, 0, 0)


@pytest.mark.parametrize(
    "password, code",
    [("short\n", "password.too_short"), ("password123\n", "password.common"),
     ("001099012345\n", "password.personal"), ("0912345678\n", "password.personal"),
     ("0912 345 678\n", "password.personal"), ("my-001099012345-pw\n", "password.personal"),
     ("+84912345678\n", "password.personal")],
)
def test_weak_password_is_refused(app, runner, password, code):
    result = runner.invoke(cli, ARGS, input=password)
    assert result.exit_code == 1 and f"[{code}]" in result.stderr
    assert counts(app) == (0, 0, 0)


def test_future_birthdate_is_refused(runner):
    args = replace(replace(ARGS, "--birthdate", "2099-01-01"), "--national-id", "001299012345")
    result = runner.invoke(cli, args, input=PASSWORD)
    assert result.exit_code == 1 and "(birthdate) [birthdate.future]" in result.stderr


@pytest.mark.parametrize(
    "args, stdin",
    [
        ([a for a in ARGS if a != "--password-stdin"], PASSWORD),   # no password source
        (ARGS, ""),                                                # empty stdin
        (ARGS, "\n"),                                              # empty line
        (replace(ARGS, "--birthdate", "17/05/1999"), PASSWORD),     # wrong date format
        (replace(ARGS, "--gender", "other"), PASSWORD),            # not a choice
        (ARGS[:-3], PASSWORD),                                     # missing required options
    ],
)
def test_usage_errors_exit_2_and_write_nothing(app, runner, args, stdin):
    result = runner.invoke(cli, args, input=stdin)
    assert result.exit_code == 2
    assert "Error" in result.stderr
    assert counts(app) == (0, 0, 0)


def test_duplicate_national_id_even_in_decomposed_unicode(app, runner):
    assert runner.invoke(cli, ARGS, input=PASSWORD).exit_code == 0
    decomposed = replace(replace(ARGS, "--full-name", unicodedata.normalize("NFD", "Nguyễn Văn An")),
                         "--phone", "0987654321")
    result = runner.invoke(cli, decomposed, input=PASSWORD)
    assert result.exit_code == 1 and "[account.duplicate_national_id]" in result.stderr
    spaced = replace(replace(ARGS, "--national-id", "001 099 012 345"), "--phone", "0987654321")
    assert "[account.duplicate_national_id]" in runner.invoke(cli, spaced, input=PASSWORD).stderr
    assert counts(app) == (1, 1, 1)


def test_duplicate_phone_in_another_format(app, runner):
    assert runner.invoke(cli, ARGS, input=PASSWORD).exit_code == 0
    other = replace(replace(ARGS, "--national-id", "079303001234"), "--phone", "+84 912 345 678")
    other = replace(replace(other, "--gender", "female"), "--birthdate", "2003-02-01")
    result = runner.invoke(cli, other, input=PASSWORD)
    assert result.exit_code == 1 and "[account.duplicate_phone]" in result.stderr
    assert counts(app) == (1, 1, 1)


def test_decomposed_name_is_stored_composed(app, runner):
    args = replace(ARGS, "--full-name", unicodedata.normalize("NFD", "Nguyễn Văn An"))
    result = runner.invoke(cli, [*args, "--json"], input=PASSWORD)
    assert json.loads(result.stdout)["full_name"] == unicodedata.normalize("NFC", "Nguyễn Văn An")


@pytest.mark.parametrize(
    "command", [[], ["users"], ["users", "create-citizen"], ["db"], ["serve"], ["demo", "seed"]]
)
def test_every_command_has_help(runner, command):
    result = runner.invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.stdout
