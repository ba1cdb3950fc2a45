"""Counter console forms for the document check and the decisions. Every input is bounded
here; the rules themselves (number, dates, matches, address) are the domain's."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from idp.domain.admin_units import provinces_in_order
from idp.domain.document_check import (
    MAX_STREET,
    MAX_WARD,
    MSG_MISMATCH,
    DocumentCheck,
    PostalAddress,
    address_problems,
    check_address,
)
from idp.domain.enrolment_code import MAX_INPUT
from idp.domain.errors import DomainError
from idp.models import DocumentType, RejectReason, VerificationStatus
from idp.services.counter.decisions import REASON_LABELS
from idp.web.register.fields import (  # dd/mm/yyyy, as on the card
    DATE_PATTERN,
    check_date,
    parse_date,
)

DATE_HINT = _l("Enter the date as dd/mm/yyyy, for example 15/07/2024.")
DOCUMENT_LABELS = {
    DocumentType.CAN_CUOC: _l("Identity card (thẻ căn cước)"),
    DocumentType.CCCD: _l("Citizen identity card (thẻ căn cước công dân)"),
    DocumentType.PASSPORT: _l("Vietnamese passport"),
}
MAX_NUMBER = 12
STATUS_LABELS = {
    VerificationStatus.PENDING: _l("Waiting for the document check"),
    VerificationStatus.SUBMITTED: _l("Waiting for approval"),
    VerificationStatus.APPROVED: _l("Approved"),
    VerificationStatus.REJECTED: _l("Rejected"),
    VerificationStatus.EXPIRED: _l("Expired"),
    VerificationStatus.CANCELLED: _l("Cancelled by the citizen"),
    VerificationStatus.REVOKED: _l("Revoked"),
}
DONE_MESSAGES = {
    "submitted": _l("Submitted. A supervisor of this office must now approve it."),
    "rejected": _l("Rejected. The citizen has been told by SMS."),
    "approved": _l("Approved: the identity is now verified. The citizen has been told by SMS."),
    "revoked": _l("Revoked. The account was signed out everywhere and the citizen was told."),
}
# Shown when the staff member can do nothing (more) on the record.
WAITING_MESSAGES = {
    "submitted": _l("Waiting for a supervisor of this office who did not check the document."),
    "approved": _l("This identity is verified. Only a supervisor who did not check the "
                   "document can revoke it."),
    "rejected": _l("This check was rejected. The citizen can ask for a new code online."),
    "expired": _l("This code has expired. The citizen can ask for a new one online."),
    "cancelled": _l("The citizen cancelled this code."),
    "revoked": _l("This verification was revoked."),
}


def reason_choices(labels: dict[RejectReason, Any] = REASON_LABELS) -> list[SelectChoice]:
    return [SelectChoice("", _l("Choose a reason…"))] + [
        SelectChoice(r.value, gettext(labels[r])) for r in RejectReason]


def reason_label(reason: RejectReason | None) -> str:
    return gettext(REASON_LABELS[reason]) if reason else ""


def clean_number(raw: str | None) -> str:
    """The number as printed, without the spaces people put in (full-width digits folded)."""
    return "".join(unicodedata.normalize("NFKC", raw or "").split())


def date_field(label: object, *, required: bool = False) -> StringField:
    """A date typed dd/mm/yyyy, as printed on the documents (checked by the form's validator)."""
    validators = [DataRequired(DATE_HINT)] if required else []
    return StringField(label, validators=[*validators, Length(max=10, message=DATE_HINT)],
                       render_kw={"inputmode": "numeric", "placeholder": DATE_PATTERN,
                                  "maxlength": 10, "autocomplete": "off"})


class LookupForm(FlaskForm):
    # Autofocused: a USB QR scanner "types" POSTID:XXXXXXXX and Enter into it.
    code = StringField(
        _l("Enrolment code"),
        validators=[DataRequired(_l("Type the 8-character code, or scan its QR code.")),
                    Length(max=MAX_INPUT, message=_l("An enrolment code has 8 characters."))],
        render_kw={"autofocus": True, "autocomplete": "off", "autocapitalize": "characters",
                   "spellcheck": "false", "maxlength": MAX_INPUT, "placeholder": "XXXX-XXXX"},
    )


# Where a problem the service found (idp.domain.document_check / business_check codes) is
# shown: next to the input it is about, so the error summary links to it. "*.mismatch" goes to
# the first box of its group left unticked (see DocumentCheckForm.unticked_boxes).
PROBLEM_FIELDS = {
    "document.type": "document_type", "document.number_mismatch": "document_number",
    "document.issued_future": "issued_on", "document.issued_before_birth": "issued_on",
    "document.expiry_before_issue": "expires_on", "document.expired": "expires_on",
    "certificate.number_missing": "certificate_number",
    "certificate.number_format": "certificate_number",
    "certificate.issued_future": "certificate_issued_on",
    "authority.invalid": "authority", "authority.power_of_attorney_required": "authority",
    "power_of_attorney.unexpected": "power_of_attorney_ref",
    "power_of_attorney.reference_missing": "power_of_attorney_ref",
    "power_of_attorney.reference_format": "power_of_attorney_ref",
    "power_of_attorney.date_missing": "power_of_attorney_date",
    "power_of_attorney.date_future": "power_of_attorney_date",
    "power_of_attorney.date_before_certificate": "power_of_attorney_date",
}


class DocumentCheckForm(FlaskForm):
    # Boxes the clerk ticks when an item matches, by group: the problem code the domain gives
    # when one of the group is unticked, with its message.
    match_groups: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
        ("document.mismatch", MSG_MISMATCH,
         ("name_match", "birthdate_match", "sex_match", "photo_match")),
    )
    document_type = SelectField(
        _l("Document shown"),
        choices=[SelectChoice("", _l("Choose…"))] + [
            SelectChoice(t.value, label) for t, label in DOCUMENT_LABELS.items()],
        validators=[DataRequired(_l("Choose the type of document."))],
        validate_choice=False,  # checked below with a message that says what to do
    )
    document_number = StringField(
        _l("Personal ID number on the document"),
        validators=[DataRequired(_l("Type the 12-digit number printed on the document.")),
                    Length(max=32, message=_l("An ID number has 12 digits."))],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 32},
    )
    issued_on = date_field(_l("Date of issue"), required=True)
    expires_on = date_field(_l("Valid until"))  # required unless valid for life
    no_expiry = BooleanField(_l("The document has no expiry date (valid for life)"))
    name_match = BooleanField(_l("The full name matches the declared name"))
    birthdate_match = BooleanField(_l("The date of birth matches"))
    sex_match = BooleanField(_l("The sex matches"))
    photo_match = BooleanField(_l("The photo matches the person at the counter"))
    province_code = SelectField(
        _l("Province or city"),
        choices=[SelectChoice("", _l("No address recorded"))] + [
            SelectChoice(code, name) for code, name in provinces_in_order()],
        validate_choice=False,  # checked, with its own message, by the domain rule
    )
    ward = StringField(_l("Ward or commune"),
                       validators=[Length(max=MAX_WARD + 50, message=_l("This is too long."))],
                       render_kw={"maxlength": MAX_WARD, "autocomplete": "off"})
    street = StringField(_l("House number, street, hamlet"),
                         validators=[Length(max=MAX_STREET + 50, message=_l("This is too long."))],
                         render_kw={"maxlength": MAX_STREET, "autocomplete": "off"})

    def validate_document_type(self, field: SelectField) -> None:
        if field.data not in {t.value for t in DocumentType}:
            raise ValidationError(_l("Choose the type of document."))

    def validate_document_number(self, field: StringField) -> None:
        number = clean_number(field.data)
        if not (number.isascii() and number.isdigit()) or len(number) > MAX_NUMBER:
            raise ValidationError(_l("Type the number as printed: digits only."))

    def validate_issued_on(self, field: StringField) -> None:
        check_date(field.data, DATE_HINT)

    def validate_expires_on(self, field: StringField) -> None:
        if self.no_expiry.data:
            if field.data:
                raise ValidationError(_l("Leave this empty for a document valid for life."))
        elif not field.data:
            raise ValidationError(_l("Enter the expiry date, or tick “valid for life”."))
        else:
            check_date(field.data, DATE_HINT)

    def address(self) -> PostalAddress | None:
        """The verified address, if one is entered; a field error (False) if it is incomplete."""
        if not (self.province_code.data or (self.ward.data or "").strip()
                or (self.street.data or "").strip()):
            return None
        street, ward = self.street.data or "", self.ward.data or ""
        problems = address_problems(street, ward, self.province_code.data or "")
        for error in problems:  # every part at once, not one per submit
            field = {"address.province": self.province_code, "address.ward": self.ward}.get(
                error.code, self.street)
            field.errors = [*field.errors, gettext(error.message)]
        if problems:
            raise problems[0]
        return check_address(street, ward, self.province_code.data or "")

    def unticked_boxes(self, code: str | None = None) -> list[BooleanField]:
        """The match boxes on this form left unticked (of the group of problem `code`)."""
        return [box for group, _, names in self.match_groups if code in (None, group)
                for name in names if (box := getattr(self, name, None)) is not None
                and not box.data]

    def flag_unticked(self) -> None:
        """After a submit with other errors: the unticked boxes in the same round,
        the group's message on its first one (the summary links there; the page marks the
        others, see counter/_check_parts.html)."""
        for code, message, _ in self.match_groups:
            unticked = self.unticked_boxes(code)
            if unticked and not unticked[0].errors:
                unticked[0].errors = [*unticked[0].errors, gettext(message)]

    def flagged_boxes(self) -> set[str]:
        """Names of the unticked boxes of every group whose message is shown."""
        names: set[str] = set()
        for code, _, _ in self.match_groups:
            unticked = self.unticked_boxes(code)
            if unticked and unticked[0].errors:
                names.update(box.name for box in unticked)
        return names

    def attach_problems(self, problems: list[DomainError]) -> None:
        """The problems the service found, each next to its input (else above the form)."""
        for problem in problems:
            if problem.code.endswith(".mismatch") and self.unticked_boxes(problem.code):
                self.flag_unticked()
                continue
            field = getattr(self, PROBLEM_FIELDS.get(problem.code, ""), None)
            if field is None:
                self.form_errors.append(gettext(problem.message))
            elif gettext(problem.message) not in field.errors:
                field.errors = [*field.errors, gettext(problem.message)]

    def document_check(self) -> DocumentCheck | None:
        """The check to submit, or None after adding field errors."""
        valid = self.validate_on_submit()
        try:
            address = self.address()
        except DomainError:
            valid = False
        if not valid:
            self.flag_unticked()
            return None
        issued = parse_date(self.issued_on.data)
        assert issued is not None  # validate_issued_on
        expires: date | None = None if self.no_expiry.data else parse_date(self.expires_on.data)
        return DocumentCheck(
            document_type=self.document_type.data or "", document_number=clean_number(
                self.document_number.data), issued_on=issued, expires_on=expires,
            name_match=bool(self.name_match.data), birthdate_match=bool(self.birthdate_match.data),
            sex_match=bool(self.sex_match.data), photo_match=bool(self.photo_match.data),
            address=address)


class ReasonForm(FlaskForm):
    """Reject or revoke: a reason code is required."""

    reason_labels = REASON_LABELS  # how each reason code reads in the list
    reason = SelectField(_l("Reason"), validators=[DataRequired(_l("Choose a reason."))],
                         validate_choice=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.reason.choices = reason_choices(self.reason_labels)

    def validate_reason(self, field: SelectField) -> None:
        if field.data not in {r.value for r in RejectReason}:
            raise ValidationError(_l("Choose a reason."))


class ApproveForm(FlaskForm):
    """Only a CSRF token: approving is a state change, so it is a POST."""
