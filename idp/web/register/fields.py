"""Form fields shared by the citizen's own forms (registration, activation, recovery) and the
counter's assisted registration: the same bounds, messages and parsing everywhere. Each helper
makes a new field, so a form's fields keep the order in which its class body calls them."""

from __future__ import annotations

import re
from datetime import MAXYEAR, MINYEAR, date
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, TelField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from idp.domain.errors import DomainError
from idp.domain.names import lacks_vietnamese_marks, normalize_name

# The date pattern as the page's language spells it (Vietnamese: ngày/tháng/năm).
DATE_PATTERN = _l("dd/mm/yyyy")
BIRTHDATE_HINT = _l("Enter the date as dd/mm/yyyy, for example 17/05/1999.")


NO_SUCH_DATE = _l("This date does not exist. Check the day and the month: February has 28 days "
                  "(29 in a leap year); April, June, September and November have 30.")

NO_SUCH_YEAR = _l("There is no year 0000. Check the year: four digits, for example 1999.")

# dd/mm/yyyy as printed on Vietnamese ID cards (dots too), or YYYY-MM-DD.
_DAY_MONTH_YEAR = re.compile(r"([0-9]{1,2})[/.]([0-9]{1,2})[/.]([0-9]{4})")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


def _date_parts(text: str) -> tuple[int, int, int] | None:
    """(year, month, day) of text shaped like a date, whether or not that day exists."""
    if match := _DAY_MONTH_YEAR.fullmatch(text):
        day, month, year = match.groups()
        return int(year), int(month), int(day)
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = match.groups()
        return int(year), int(month), int(day)
    return None


def check_date(value: str | None, format_hint: Any) -> date:
    """The date typed, or a ValidationError that tells a wrong shape (`format_hint`) from a
    well-formed day that does not exist: the year (0000: NO_SUCH_YEAR; four digits leave no other
    year out of range) or the day and month (31/02/2000: NO_SUCH_DATE)."""
    text = (value or "").strip()
    parts = _date_parts(text) if len(text) <= 10 else None
    if parts is None:
        raise ValidationError(format_hint)
    if not MINYEAR <= parts[0] <= MAXYEAR:
        raise ValidationError(NO_SUCH_YEAR)
    try:
        return date(*parts)
    except ValueError:  # day or month out of range
        raise ValidationError(NO_SUCH_DATE) from None


def parse_date(value: str | None) -> date | None:
    """The date typed as dd/mm/yyyy or YYYY-MM-DD; None when it is not one (see check_date)."""
    try:
        return check_date(value, BIRTHDATE_HINT)
    except ValidationError:
        return None


# --- citizen data ----------------------------------------------------------------------------

def national_id_field(label: Any, required: Any, **render_kw: Any) -> StringField:
    return StringField(
        label,
        validators=[DataRequired(required),
                    Length(max=32, message=_l("An ID number has 12 digits."))],
        render_kw={"inputmode": "numeric", "spellcheck": "false", "maxlength": 32, **render_kw},
    )


def full_name_field(label: Any, required: Any, autocomplete: str) -> StringField:
    return StringField(
        label,
        validators=[DataRequired(required),
                    Length(max=100, message=_l("The name can have at most 100 characters."))],
        render_kw={"autocomplete": autocomplete, "maxlength": 100},
    )


def birthdate_field(label: Any, required: Any, autocomplete: str) -> StringField:
    # Plain text, not type=date: the browser's date widget speaks the phone's language, not
    # the page's, and people copy the date as printed on the card.
    return StringField(
        label,
        validators=[DataRequired(required), Length(max=10, message=BIRTHDATE_HINT)],
        render_kw={"autocomplete": autocomplete, "inputmode": "numeric",
                   "placeholder": DATE_PATTERN, "maxlength": 10},
    )


def gender_field(label: Any) -> SelectField:
    return SelectField(
        label,
        choices=[SelectChoice("", _l("Choose…")), SelectChoice("female", _l("Female")),
                 SelectChoice("male", _l("Male"))],
        validators=[DataRequired(_l("Choose male or female."))],
        validate_choice=False,  # checked (with a field message) by the domain rule
    )


def phone_field(label: Any, required: Any, autocomplete: str) -> TelField:
    return TelField(
        label,
        validators=[DataRequired(required),
                    Length(max=32, message=_l("This is too long to be a phone number."))],
        render_kw={"autocomplete": autocomplete, "inputmode": "tel", "maxlength": 32},
    )


def email_field(autocomplete: str) -> EmailField:
    return EmailField(
        _l("E-mail address (optional)"),
        validators=[Optional(),
                    Length(max=254, message=_l("The e-mail address can have at most 254 characters."))],
        render_kw={"autocomplete": autocomplete, "spellcheck": "false", "maxlength": 254},
    )


class BirthdateMixin:
    """`validate_birthdate` for a form with a `birthdate` field (dd/mm/yyyy, not in the future)."""

    def validate_birthdate(self, field: StringField) -> None:
        parsed = check_date(field.data, BIRTHDATE_HINT)
        if parsed > date.today():
            raise ValidationError(_l("The date of birth cannot be in the future."))


def accept_terms_field() -> BooleanField:
    """The one checkbox for the terms of use and the privacy notice (idp.domain.terms); the
    template renders its label with links to both (register/_terms.html)."""
    return BooleanField(
        _l("I have read and accept the terms of use and the privacy notice."),
        validators=[DataRequired(_l("You need to accept the terms of use and the privacy "
                                    "notice to use a PostID account."))],
        default=False,
    )


# --- passwords and codes -----------------------------------------------------------------------

def password_field(label: Any, required: Any) -> PasswordField:
    return PasswordField(
        label,
        validators=[DataRequired(required),
                    Length(max=1024, message=_l("The password is too long."))],
        render_kw={"autocomplete": "new-password"},
    )


def new_password_fields(label: Any, again_label: Any) -> tuple[PasswordField, PasswordField]:
    """A new password and its confirmation, for `password, password_confirm = ...`."""
    return (password_field(label, _l("Choose a password.")),
            password_field(again_label, _l("Type the password again.")))


class PasswordConfirmMixin:
    """`validate_password_confirm` for a form with `password` and `password_confirm` fields."""

    password: PasswordField

    def validate_password_confirm(self, field: PasswordField) -> None:
        if self.password.data and field.data != self.password.data:
            raise ValidationError(_l("The two passwords are not the same."))


def sms_code_field() -> StringField:
    return StringField(
        _l("Code from the SMS"),
        validators=[DataRequired(_l("Enter the 6-digit code from the SMS.")),
                    Length(max=16, message=_l("The code has 6 digits."))],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 16},
    )


def name_lacks_marks(typed: str | None) -> bool:
    """The typed name is a valid name without any Vietnamese mark ("Nguyen Van An"): the
    registration and walk-in forms ask to confirm it rather than refuse it, as a few names are
    printed so on the card."""
    try:
        return lacks_vietnamese_marks(normalize_name(typed or ""))
    except DomainError:
        return False  # the domain rule reports what is wrong with the name


class NameMarksMixin:
    """For a form with `full_name` and a `name_without_marks` box: a name typed without any
    Vietnamese mark is confirmed with the box, not refused (name_lacks_marks). The form says
    how it asks for the accents, in its reader's voice (the citizen's, or the clerk's)."""

    full_name: StringField
    name_without_marks: BooleanField
    NAME_WITHOUT_MARKS_HINT: Any

    @property
    def name_lacks_marks(self) -> bool:
        return name_lacks_marks(self.full_name.data)

    def validate_full_name(self, field: StringField) -> None:
        if self.name_lacks_marks and not self.name_without_marks.data:
            raise ValidationError(self.NAME_WITHOUT_MARKS_HINT)
