"""Registration forms. Every input is bounded here, before any domain rule or hashing."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms.validators import DataRequired

from idp.web.register.fields import (
    BirthdateMixin,
    PasswordConfirmMixin,
    birthdate_field,
    email_field,
    full_name_field,
    gender_field,
    national_id_field,
    new_password_fields,
    phone_field,
    sms_code_field,
)
from idp.web.register.fields import parse_date as _parse_date  # also the counter's forms'


class RegisterForm(BirthdateMixin, PasswordConfirmMixin, FlaskForm):
    national_id = national_id_field(
        _l("Personal ID number"), _l("Enter the 12-digit number on your ID card."),
        autocomplete="off")
    full_name = full_name_field(_l("Full name as on your ID card"), _l("Enter your full name."),
                                autocomplete="name")
    birthdate = birthdate_field(_l("Date of birth"), _l("Enter your date of birth."),
                                autocomplete="bday")
    gender = gender_field(_l("Sex (as on your ID card)"))
    phone = phone_field(_l("Mobile phone number"), _l("Enter your mobile phone number."),
                        autocomplete="tel")
    email = email_field(autocomplete="email")
    password, password_confirm = new_password_fields(_l("Password"), _l("Password again"))
    accept_terms = BooleanField(
        _l("I have read and accept the terms of use and the privacy notice."),
        validators=[DataRequired(_l("You need to accept the terms to create an account."))],
        default=False,
    )

    @property
    def birthdate_value(self) -> date | None:
        return _parse_date(self.birthdate.data)


class ConfirmCodeForm(FlaskForm):
    code = sms_code_field()


class ResendForm(FlaskForm):
    """Only a CSRF token: sending a new code is a state change."""


class EmailConfirmForm(FlaskForm):
    """Only a CSRF token: the GET page never confirms anything."""
