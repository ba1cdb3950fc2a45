"""Activation forms (assisted registration, docs/architecture.md §8). Every input is bounded here, before any
rule or hashing; the ID number's structure is checked here too (that reveals nothing)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import ValidationError

from idp.domain.errors import DomainError
from idp.domain.national_id import normalize_national_id
from idp.domain.password_policy import SERVICE_WORDS, check_password
from idp.models import Account
from idp.web.register.fields import (
    PasswordConfirmMixin,
    accept_terms_field,
    national_id_field,
    new_password_fields,
    sms_code_field,
)


def _national_id_field() -> StringField:
    return national_id_field(
        _l("Personal ID number"), _l("Enter the 12-digit number on your ID card."),
        autocomplete="username")


def _check_structure(field: StringField) -> None:
    try:
        normalize_national_id(field.data or "")
    except DomainError as exc:
        raise ValidationError(gettext(exc.message)) from None


class ActivateCodeForm(FlaskForm):
    national_id = _national_id_field()
    code = sms_code_field()

    def validate_national_id(self, field: StringField) -> None:
        _check_structure(field)


class NewCodeForm(FlaskForm):
    national_id = _national_id_field()

    def validate_national_id(self, field: StringField) -> None:
        _check_structure(field)


class ChoosePasswordForm(PasswordConfirmMixin, FlaskForm):
    password, password_confirm = new_password_fields(_l("Choose your password"),
                                                     _l("Password again"))
    # The clerk registered the account; its owner accepts the terms here, before it is theirs.
    accept_terms = accept_terms_field()

    def __init__(self, *args: Any, owner: Account | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner

    def validate_password(self, field: PasswordField) -> None:
        # The policy (own name, ID number, phone) in the same round as the other fields' errors,
        # not only once they are fixed; the service applies it again before storing.
        if self.owner is None or not field.data:
            return
        try:
            check_password(field.data, personal_values=(self.owner.national_id,
                                                               self.owner.own_phone),
                           name=self.owner.full_name, service_words=SERVICE_WORDS)
        except DomainError as exc:
            raise ValidationError(gettext(exc.message)) from None
