"""Account page forms. Lengths are bounded here, before any hashing."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField, TelField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError


class ActionForm(FlaskForm):
    """Only a CSRF token (and an optional target id): a state change is a POST."""

    target = HiddenField()


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password.")),
                    Length(max=1024, message=_l("The password is too long."))],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Enter a new password.")),
                    Length(max=1024, message=_l("The password is too long."))],
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        _l("New password again"),
        validators=[DataRequired(_l("Enter the new password again.")),
                    EqualTo("new_password", message=_l("The two new passwords are not the same."))],
        render_kw={"autocomplete": "new-password"},
    )
    sign_out_others = BooleanField(_l("Sign out my other sessions"), default=True)


class DeleteAccountForm(FlaskForm):
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")),
                    Length(max=1024, message=_l("The password is too long."))],
        render_kw={"autocomplete": "current-password"},
    )
    confirm = BooleanField(
        _l("I understand that my account will be deleted and cannot be restored"),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )


def _current_password() -> PasswordField:
    return PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password.")),
                    Length(max=1024, message=_l("The password is too long."))],
        render_kw={"autocomplete": "current-password"},
    )


class PhoneChangeForm(FlaskForm):
    phone = TelField(
        _l("New mobile phone number"),
        validators=[DataRequired(_l("Enter your new mobile phone number.")),
                    Length(max=32, message=_l("This is too long to be a phone number."))],
        render_kw={"autocomplete": "tel", "inputmode": "tel", "maxlength": 32},
    )
    current_password = _current_password()


class PhoneCodeForm(FlaskForm):
    code = StringField(
        _l("Code from the SMS"),
        validators=[DataRequired(_l("Enter the 6-digit code from the SMS.")),
                    Length(max=16, message=_l("The code has 6 digits."))],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 16},
    )


class EmailChangeForm(FlaskForm):
    email = EmailField(
        _l("New e-mail address"),
        validators=[Length(max=254, message=_l("The e-mail address can have at most 254 characters."))],
        render_kw={"autocomplete": "email", "spellcheck": "false", "maxlength": 254},
    )
    remove = BooleanField(_l("Remove my e-mail address"), default=False)
    current_password = _current_password()

    def validate_email(self, field: EmailField) -> None:
        if not self.remove.data and not (field.data or "").strip():
            raise ValidationError(_l("Enter the new e-mail address, or tick the box to remove it."))
