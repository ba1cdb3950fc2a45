"""Two-step verification forms. Lengths are bounded here, before any lookup or hashing."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from idp.models.passkey import MAX_PASSKEY_NAME
from idp.services.identity.mfa import MAX_CODE_LENGTH


def _code_field(label: str, hint_required: str) -> StringField:
    return StringField(
        label,
        validators=[
            DataRequired(hint_required),
            Length(max=MAX_CODE_LENGTH, message=_l("This is too long to be a code.")),
        ],
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "off",
                   "spellcheck": "false", "maxlength": str(MAX_CODE_LENGTH)},
    )


class SetupForm(FlaskForm):
    """Only a CSRF token: creating a secret is a state change, so it is a POST."""


class ConfirmForm(FlaskForm):
    code = _code_field(_l("6-digit code from the app"),
                       _l("Enter the 6-digit code shown in your authenticator app."))


class VerifyForm(FlaskForm):
    code = _code_field(_l("Code"), _l("Enter the 6-digit code or a recovery code."))


class RemoveForm(FlaskForm):
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Enter your password.")),
            Length(max=1024, message=_l("The password is too long.")),
        ],
        render_kw={"autocomplete": "current-password"},
    )
    code = _code_field(_l("Code from the app, or a recovery code"),
                       _l("Enter the 6-digit code or a recovery code."))


class PasskeyRemoveForm(FlaskForm):
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Enter your password.")),
            Length(max=1024, message=_l("The password is too long.")),
        ],
        render_kw={"autocomplete": "current-password"},
    )


class PasskeyNameForm(FlaskForm):
    name = StringField(
        _l("Name of the passkey"),
        validators=[DataRequired(_l("Enter a name.")),
                    Length(max=MAX_PASSKEY_NAME, message=_l("The name is too long."))],
        render_kw={"maxlength": str(MAX_PASSKEY_NAME), "autocomplete": "off"},
    )
