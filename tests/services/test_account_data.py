"""Account data service: page parsing, placeholders, password policy context checks."""

from __future__ import annotations

import pytest

from idp.domain.errors import DomainError
from idp.domain.password_policy import SERVICE_WORDS, check_password
from idp.services import account_data


@pytest.mark.parametrize("raw,page", [(None, 1), ("", 1), ("0", 1), ("abc", 1), ("-3", 1),
                                      ("2", 2), ("9" * 30, 1)])
def test_parse_page(raw: str | None, page: int) -> None:
    assert account_data.parse_page(raw) == page


def test_placeholders_fit_and_are_not_identifiers() -> None:
    for account_id in (1, 99_999_999_999):
        national_id = account_data.placeholder_national_id(account_id)
        assert len(national_id) == 12
        assert not national_id.isdigit()  # ID numbers are 12 digits
        phone = account_data.placeholder_phone(account_id)
        assert len(phone) <= 16 and not phone.startswith("+")


@pytest.mark.parametrize("password,code", [
    ("MyPostID-pass", "password.service_name"),
    ("nguyenvanan!", "password.name"),
    ("Nguyễn rất vui", "password.name"),
])
def test_context_specific_passwords_refused(password: str, code: str) -> None:
    with pytest.raises(DomainError) as raised:
        check_password(password, name="Nguyễn Văn An", service_words=SERVICE_WORDS)
    assert raised.value.code == code


def test_context_checks_are_opt_in() -> None:
    check_password("Hoa-sen-demo-2026", name="Nguyễn Văn An", service_words=SERVICE_WORDS)  # demo password
    check_password("an toàn tuyệt đối", name="Nguyễn Văn An", service_words=SERVICE_WORDS)


def test_ending_another_session_is_audited_once_and_revokes_it(app) -> None:
    from sqlalchemy import func, select

    from idp.extensions import db
    from idp.models import AuditEvent, UserSession
    from idp.services import sessions
    from tests.factories import active_citizen

    with app.app_context():
        account = active_citizen()
        current = sessions.open_session(account).session
        other = sessions.open_session(account).session
        db.session.commit()
        assert account_data.end_other_session(account.id, other.id, current_session_id=current.id) == []
        tags = db.session.scalars(select(AuditEvent.tag).where(AuditEvent.tag.in_(
            ["account.session.revoke", "account.logout"]))).all()
        assert tags == ["account.session.revoke"]
        assert db.session.get(UserSession, other.id).revoke_reason == "user_signout"
        assert db.session.scalar(select(func.count()).select_from(UserSession)
                                 .where(UserSession.revoked_at.is_(None))) == 1
