"""Password recovery forms. Every input is bounded here, before any rule or hashing."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, ValidationError


class StartForm(FlaskForm):
    identifier = StringField(
        _l("ID number or phone number"),
        validators=[
            DataRequired(_l("Enter your 12-digit ID number or your phone number.")),
            Length(max=64, message=_l("This is too long to be an ID number or a phone number.")),
        ],
        render_kw={"autocomplete": "username", "inputmode": "tel", "autocapitalize": "off",
                   "spellcheck": "false", "maxlength": 64},
    )


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Choose a password.")),
                    Length(max=1024, message=_l("The password is too long."))],
        render_kw={"autocomplete": "new-password"},
    )
    password_confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(_l("Type the password again.")),
                    Length(max=1024, message=_l("The password is too long."))],
        render_kw={"autocomplete": "new-password"},
    )

    def validate_password_confirm(self, field: PasswordField) -> None:
        if self.password.data and field.data != self.password.data:
            raise ValidationError(_l("The two passwords are not the same."))


class CodeForm(NewPasswordForm):
    code = StringField(
        _l("Code from the SMS"),
        validators=[DataRequired(_l("Enter the 6-digit code from the SMS.")),
                    Length(max=16, message=_l("The code has 6 digits."))],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 16},
    )
