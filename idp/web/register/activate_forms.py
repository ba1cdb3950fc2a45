"""Activation forms (assisted registration, DESIGN §5). Every input is bounded here, before any
rule or hashing; the ID number's structure is checked here too (that reveals nothing)."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from idp.domain.errors import DomainError
from idp.domain.national_id import normalize_national_id


def _national_id_field() -> StringField:
    return StringField(
        _l("Personal ID number"),
        validators=[DataRequired(_l("Enter the 12-digit number on your citizen ID card.")),
                    Length(max=32, message=_l("An ID number has 12 digits."))],
        render_kw={"inputmode": "numeric", "autocomplete": "username", "spellcheck": "false",
                   "maxlength": 32},
    )


def _check_structure(field: StringField) -> None:
    try:
        normalize_national_id(field.data or "")
    except DomainError as exc:
        raise ValidationError(gettext(exc.message)) from None


class ActivateCodeForm(FlaskForm):
    national_id = _national_id_field()
    code = StringField(
        _l("Code from the SMS"),
        validators=[DataRequired(_l("Enter the 6-digit code from the SMS.")),
                    Length(max=16, message=_l("The code has 6 digits."))],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 16},
    )

    def validate_national_id(self, field: StringField) -> None:
        _check_structure(field)


class NewCodeForm(FlaskForm):
    national_id = _national_id_field()

    def validate_national_id(self, field: StringField) -> None:
        _check_structure(field)


class ChoosePasswordForm(FlaskForm):
    password = PasswordField(
        _l("Choose your password"),
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

    def validate_password_confirm(self, field: PasswordField) -> None:
        if self.password.data and field.data != self.password.data:
            raise ValidationError(_l("The two passwords are not the same."))
