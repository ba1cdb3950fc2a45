"""Counter console form for the check of an organisation, and the labels of its pages. Every
input is bounded here; the rules themselves are the domain's (idp.domain.business_check)."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from idp.domain.business_check import (
    LEGAL_REPRESENTATIVE,
    MAX_CERTIFICATE_NUMBER,
    MAX_POWER_OF_ATTORNEY_REF,
    MSG_CERTIFICATE_MISMATCH,
    POWER_OF_ATTORNEY,
    BusinessCheck,
    clean_certificate_number,
    clean_reference,
)
from idp.domain.document_check import PostalAddress
from idp.models import RejectReason
from idp.services.counter.organisation_decisions import REASON_LABELS
from idp.web.counter.check_forms import (
    DATE_HINT,
    DocumentCheckForm,
    ReasonForm,
    date_field,
    parse_date,
)
from idp.web.register.fields import check_date

AUTHORITY_LABELS = {
    LEGAL_REPRESENTATIVE: _l("Legal representative named on the certificate"),
    POWER_OF_ATTORNEY: _l("Holds a power of attorney from the legal representative"),
}
DONE_MESSAGES = {
    "submitted": _l("Submitted. A supervisor of this office must now approve it."),
    "rejected": _l("Rejected. The representative has been told by SMS."),
    "approved": _l("Approved: the organisation is now verified. The representative has been "
                   "told by SMS."),
    "revoked": _l("Revoked: nobody can act for this organisation any more. The representative "
                  "was told."),
}
WAITING_MESSAGES = {
    "submitted": _l("Waiting for a supervisor of this office who did not check the documents."),
    "approved": _l("This organisation is verified. Only a supervisor who did not check the "
                   "documents can revoke it."),
    "rejected": _l("This check was rejected. The representative can ask for a new code online."),
    "expired": _l("This code has expired. The representative can ask for a new one online."),
    "cancelled": _l("The representative cancelled this code."),
    "revoked": _l("This verification was revoked."),
}


def reason_label(reason: RejectReason | None) -> str:
    return gettext(REASON_LABELS[reason]) if reason else ""


class OrgReasonForm(ReasonForm):
    """Reject or revoke an organisation's check: the same codes, worded for organisations."""

    reason_labels = REASON_LABELS


class BusinessCheckForm(DocumentCheckForm):
    """The certificate, the representative's card (the citizens' fields, without an address)
    and the representative's authority."""

    match_groups = (("certificate.mismatch", MSG_CERTIFICATE_MISMATCH, ("certificate_match",)),
                    *DocumentCheckForm.match_groups)
    # The page (counter/org_check.html) shows the certificate first: its error summary too.
    page_order = ("certificate_number", "certificate_issued_on", "certificate_match",
                  "document_type", "document_number", "issued_on", "expires_on", "no_expiry",
                  "name_match", "birthdate_match", "sex_match", "photo_match", "authority",
                  "power_of_attorney_ref", "power_of_attorney_date")

    certificate_number = StringField(
        _l("Number of the registration certificate"),
        validators=[DataRequired(_l("Type the number of the business registration certificate.")),
                    Length(max=MAX_CERTIFICATE_NUMBER + 16,
                           message=_l("The certificate number has at most 32 characters."))],
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters",
                   "maxlength": MAX_CERTIFICATE_NUMBER + 16},
    )
    certificate_issued_on = date_field(_l("Date of issue of the certificate"), required=True)
    certificate_match = BooleanField(
        _l("The tax code, name and head office on the certificate are those registered"))
    authority = SelectField(
        _l("The representative at the counter is"),
        choices=[SelectChoice("", _l("Choose…"))] + [
            SelectChoice(value, label) for value, label in AUTHORITY_LABELS.items()],
        validators=[DataRequired(_l("Choose the representative's authority."))],
        validate_choice=False,  # checked below with a message that says what to do
    )
    power_of_attorney_ref = StringField(
        _l("Reference of the power of attorney"),
        validators=[Length(max=MAX_POWER_OF_ATTORNEY_REF,
                           message=_l("The reference has at most 64 characters."))],
        render_kw={"autocomplete": "off", "maxlength": MAX_POWER_OF_ATTORNEY_REF},
    )
    power_of_attorney_date = date_field(_l("Date of the power of attorney"))

    def validate_certificate_issued_on(self, field: StringField) -> None:
        check_date(field.data, DATE_HINT)

    def validate_authority(self, field: SelectField) -> None:
        if field.data not in AUTHORITY_LABELS:
            raise ValidationError(_l("Choose the representative's authority."))

    def validate_power_of_attorney_date(self, field: StringField) -> None:
        if field.data:
            check_date(field.data, DATE_HINT)

    def address(self) -> PostalAddress | None:
        return None  # an organisation's check records no postal address

    def business_check(self) -> BusinessCheck | None:
        """The check to submit, or None after adding field errors."""
        document = self.document_check()  # validates the whole form
        if document is None:
            return None
        issued = parse_date(self.certificate_issued_on.data)
        assert issued is not None  # validate_certificate_issued_on
        return BusinessCheck(
            certificate_number=clean_certificate_number(self.certificate_number.data),
            certificate_issued_on=issued, certificate_match=bool(self.certificate_match.data),
            document=document, authority=self.authority.data or "",
            power_of_attorney_ref=clean_reference(self.power_of_attorney_ref.data) or None,
            power_of_attorney_date=parse_date(self.power_of_attorney_date.data))
