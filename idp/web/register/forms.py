"""Registration forms. Every input is bounded here, before any domain rule or hashing."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, TelField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError


def _parse_date(value: str | None) -> date | None:
    """dd/mm/yyyy (as printed on Vietnamese ID cards) or YYYY-MM-DD."""
    text = (value or "").strip()
    try:
        if "/" in text or "." in text:
            day, month, year = text.replace(".", "/").split("/")
            return date(int(year), int(month), int(day)) if len(year) == 4 else None
        return date.fromisoformat(text)
    except ValueError:
        return None


class RegisterForm(FlaskForm):
    national_id = StringField(
        _l("Personal ID number"),
        validators=[DataRequired(_l("Enter the 12-digit number on your citizen ID card.")),
                    Length(max=32, message=_l("An ID number has 12 digits."))],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false",
                   "maxlength": 32},
    )
    full_name = StringField(
        _l("Full name as on your ID card"),
        validators=[DataRequired(_l("Enter your full name.")),
                    Length(max=100, message=_l("The name can have at most 100 characters."))],
        render_kw={"autocomplete": "name", "maxlength": 100},
    )
    birthdate = StringField(
        _l("Date of birth"),
        validators=[DataRequired(_l("Enter your date of birth.")),
                    Length(max=10, message=_l("Enter the date as dd/mm/yyyy, for example 17/05/1999."))],
        # Plain text, not type=date: the browser's date widget speaks the phone's language, not
        # the page's, and people copy the date as printed on the card.
        render_kw={"autocomplete": "bday", "inputmode": "numeric", "placeholder": "dd/mm/yyyy",
                   "maxlength": 10},
    )
    gender = SelectField(
        _l("Sex (as on your ID card)"),
        choices=[SelectChoice("", _l("Choose…")), SelectChoice("female", _l("Female")),
                 SelectChoice("male", _l("Male"))],
        validators=[DataRequired(_l("Choose male or female."))],
        validate_choice=False,  # checked (with a field message) by the domain rule
    )
    phone = TelField(
        _l("Mobile phone number"),
        validators=[DataRequired(_l("Enter your mobile phone number.")),
                    Length(max=32, message=_l("This is too long to be a phone number."))],
        render_kw={"autocomplete": "tel", "inputmode": "tel", "maxlength": 32},
    )
    email = EmailField(
        _l("E-mail address (optional)"),
        validators=[Optional(),
                    Length(max=254, message=_l("The e-mail address can have at most 254 characters."))],
        render_kw={"autocomplete": "email", "spellcheck": "false", "maxlength": 254},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Choose a password.")),
                    Length(max=1024, message=_l("The password is too long."))],
        render_kw={"autocomplete": "new-password"},
    )
    password_confirm = PasswordField(
        _l("Password again"),
        validators=[DataRequired(_l("Type the password again.")),
                    Length(max=1024, message=_l("The password is too long."))],
        render_kw={"autocomplete": "new-password"},
    )
    accept_terms = BooleanField(
        _l("I have read and accept the terms of use and the privacy notice."),
        validators=[DataRequired(_l("You need to accept the terms to create an account."))],
        default=False,
    )

    def validate_birthdate(self, field: StringField) -> None:
        parsed = _parse_date(field.data)
        if parsed is None:
            raise ValidationError(_l("Enter the date as dd/mm/yyyy, for example 17/05/1999."))
        if parsed > date.today():
            raise ValidationError(_l("The date of birth cannot be in the future."))

    def validate_password_confirm(self, field: PasswordField) -> None:
        if self.password.data and field.data != self.password.data:
            raise ValidationError(_l("The two passwords are not the same."))

    @property
    def birthdate_value(self) -> date | None:
        return _parse_date(self.birthdate.data)


class ConfirmCodeForm(FlaskForm):
    code = StringField(
        _l("Code from the SMS"),
        validators=[DataRequired(_l("Enter the 6-digit code from the SMS.")),
                    Length(max=16, message=_l("The code has 6 digits."))],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 16},
    )


class ResendForm(FlaskForm):
    """Only a CSRF token: sending a new code is a state change."""


class EmailConfirmForm(FlaskForm):
    """Only a CSRF token: the GET page never confirms anything."""
