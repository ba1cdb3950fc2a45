"""Console sign-in forms. Lengths are bounded here, before any lookup or hashing."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from idp.services.staff import enrolment
from idp.services.staff.signin import MAX_CODE_LENGTH, MAX_PASSWORD_LENGTH, MAX_USERNAME_LENGTH


class StaffLoginForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(_l("Enter your staff username.")),
            Length(max=MAX_USERNAME_LENGTH, message=_l("This is too long to be a username.")),
        ],
        render_kw={"autocomplete": "username", "autocapitalize": "off", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Enter your password.")),
            Length(max=MAX_PASSWORD_LENGTH, message=_l("The password is too long.")),
        ],
        render_kw={"autocomplete": "current-password"},
    )


class StaffCodeForm(FlaskForm):
    code = StringField(
        _l("6-digit code from the app"),
        validators=[
            DataRequired(_l("Enter the 6-digit code shown in your authenticator app.")),
            Length(max=MAX_CODE_LENGTH, message=_l("This is too long to be a code.")),
        ],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric",
                   "autocapitalize": "off", "spellcheck": "false",
                   "maxlength": str(MAX_CODE_LENGTH)},
    )


class StaffSetupCodeForm(FlaskForm):
    """First sign-in: the one-time set-up code the supervisor handed over (not the password)."""

    code = StringField(
        _l("Set-up code from your supervisor"),
        validators=[
            DataRequired(_l("Enter the set-up code your supervisor gave you.")),
            Length(max=enrolment.MAX_CODE_LENGTH, message=_l("This is too long to be a code.")),
        ],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false",
                   "maxlength": str(enrolment.MAX_CODE_LENGTH)},
    )


class StaffLogoutForm(FlaskForm):
    """Only a CSRF token: signing out is a state change, so it is a POST."""
