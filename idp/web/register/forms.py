"""Registration forms. Every input is bounded here, before any domain rule or hashing."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField

from idp.web.register.fields import (
    BirthdateMixin,
    NameMarksMixin,
    PasswordConfirmMixin,
    accept_terms_field,
    birthdate_field,
    email_field,
    full_name_field,
    gender_field,
    national_id_field,
    new_password_fields,
    parse_date,
    phone_field,
    sms_code_field,
)


class RegisterForm(BirthdateMixin, NameMarksMixin, PasswordConfirmMixin, FlaskForm):
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
    # Shown (under the name) only when the name has no Vietnamese marks: see validate_full_name.
    name_without_marks = BooleanField(
        _l("My name is written exactly like this on my ID card, without accents."), default=False)
    accept_terms = accept_terms_field()

    NAME_WITHOUT_MARKS_HINT = _l(
        "This name has no Vietnamese accents. Type it with the accents, exactly as on your ID "
        "card (for example Nguyễn Văn An, not Nguyen Van An). If your card shows it without "
        "accents, tick the box below the name.")

    @property
    def birthdate_value(self) -> date | None:
        return parse_date(self.birthdate.data)


class ConfirmCodeForm(FlaskForm):
    code = sms_code_field()


class ResendForm(FlaskForm):
    """Only a CSRF token: sending a new code is a state change."""


class EmailConfirmForm(FlaskForm):
    """Only a CSRF token: the GET page never confirms anything."""
