"""Password recovery forms. Every input is bounded here, before any rule or hashing."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from idp.web.register.fields import PasswordConfirmMixin, new_password_fields, sms_code_field


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


class NewPasswordForm(PasswordConfirmMixin, FlaskForm):
    password, password_confirm = new_password_fields(_l("New password"), _l("New password again"))


class CodeForm(NewPasswordForm):
    code = sms_code_field()
