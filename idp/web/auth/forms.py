"""Sign-in forms. Lengths are bounded here, before any lookup or hashing."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    identifier = StringField(
        _l("ID number or phone number"),
        validators=[
            DataRequired(_l("Enter your 12-digit ID number or your phone number.")),
            Length(max=64, message=_l("This is too long to be an ID number or a phone number.")),
        ],
        # "webauthn": the browser may offer passkeys in this field's autofill (conditional
        # mediation, idp/static/js/passkeys.js).
        render_kw={"autocomplete": "username webauthn", "inputmode": "tel", "autocapitalize": "off",
                   "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Enter your password.")),
            Length(max=1024, message=_l("The password is too long.")),
        ],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class LogoutForm(FlaskForm):
    """Only a CSRF token: signing out is a state change, so it is a POST."""


class LanguageForm(FlaskForm):
    lang = HiddenField()
    next = HiddenField()
