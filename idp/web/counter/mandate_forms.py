"""Counter console forms of mandates (docs/architecture.md §14): the citizen's ID number, the
mandate itself (the ID-card check of a verification, the scope and the duration), the code the
citizen types, and the buttons that change a mandate. Every input is bounded here; the rules
are the services' and the domain's."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from idp.domain.document_check import PostalAddress
from idp.domain.mandates import MAX_MONTHS, Status
from idp.domain.procedures import Procedure
from idp.models import OAuthClient
from idp.services.counter.mandate_scope import MSG_SCOPE_REQUIRED, PROCEDURE_LABELS
from idp.services.counter.mandates import MANDATE_WORDING
from idp.web.counter.check_forms import DocumentCheckForm

MAX_ID_INPUT = 32
STATUS_LABELS = {
    Status.PENDING: _l("Waiting for the citizen's confirmation"),
    Status.ACTIVE: _l("Active"),
    Status.EXPIRED: _l("Expired"),
    Status.REVOKED: _l("Ended"),
}
DONE_MESSAGES = {
    "created": _l("The mandate is recorded. It grants nothing until the citizen confirms it."),
    "sent": _l("A code was sent by SMS to the citizen's phone. Ask them to type it below."),
    "confirmed": _l("Confirmed by the citizen: the mandate is active."),
    "ended": _l("The mandate has ended. Sessions opened under it were signed out."),
}


def duration_choices() -> list[SelectChoice]:
    return [SelectChoice("0", gettext("This visit only (until the end of today)"))] + [
        SelectChoice(str(n), ngettext("%(num)d month", "%(num)d months", n))
        for n in range(1, MAX_MONTHS + 1)]


def procedure_label(kind: str) -> str:
    try:
        return gettext(PROCEDURE_LABELS[Procedure(kind)])
    except ValueError:  # a kind retired from the list
        return kind


class MultiCheckboxField(SelectMultipleField):
    """One checkbox per choice (the error summary links to the first, idp.web.error_summary)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CitizenLookupForm(FlaskForm):
    national_id = StringField(
        _l("Personal ID number of the citizen"),
        validators=[DataRequired(_l("Type the 12-digit personal ID number on the citizen's card.")),
                    Length(max=MAX_ID_INPUT, message=_l("An ID number has 12 digits."))],
        render_kw={"autofocus": True, "inputmode": "numeric", "autocomplete": "off",
                   "maxlength": MAX_ID_INPUT, "spellcheck": "false"},
    )


class MandateForm(DocumentCheckForm):
    """The ID-card check exactly as in a verification (DocumentCheckForm, without the postal
    address), then what the mandate covers and for how long."""

    match_groups = (("document.mismatch", MANDATE_WORDING["document.mismatch"],
                     ("name_match", "birthdate_match", "sex_match", "photo_match")),)
    province_code = None  # no address is recorded with a mandate
    ward = None
    street = None
    national_id = HiddenField(validators=[DataRequired(), Length(max=MAX_ID_INPUT)])
    kinds = MultiCheckboxField(_l("Kinds of procedure"), validate_choice=False)
    portals = MultiCheckboxField(_l("Portals"), validate_choice=False)
    months = SelectField(_l("For how long"), validate_choice=False, default="0")

    def __init__(self, *args: Any, portals: list[OAuthClient], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kinds.choices = [SelectChoice(p.value, gettext(PROCEDURE_LABELS[p]))
                              for p in Procedure]
        self.portals.choices = [SelectChoice(p.client_id, p.name) for p in portals]
        self.months.choices = duration_choices()

    def address(self) -> PostalAddress | None:
        return None

    def validate_kinds(self, field: SelectMultipleField) -> None:
        if not field.data and not self.portals.data:
            raise ValidationError(gettext(MSG_SCOPE_REQUIRED))

    def validate_months(self, field: SelectField) -> None:
        if field.data not in {str(n) for n in range(MAX_MONTHS + 1)}:
            raise ValidationError(_l("Choose how long the mandate lasts."))


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code from the citizen's SMS"),
        validators=[DataRequired(_l("Type the 6-digit code the citizen received.")),
                    Length(max=16, message=_l("The code has 6 digits."))],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 16,
                   "spellcheck": "false"},
    )


class ButtonForm(FlaskForm):
    """Only a CSRF token: sending a code and ending a mandate are state changes (POST)."""
