"""Input of a child's registration under a guardian (docs/architecture.md §14): the console form
and the API's JSON body. Both only bound and parse; the rules are the service's
(idp.services.counter.guardians.child_errors)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length

from idp.domain.document_check import PostalAddress
from idp.services.counter.child_details import MAX_CERTIFICATE_NUMBER, BirthCertificate, ChildDetails
from idp.services.counter.guardians import GUARDIAN_WORDING
from idp.web.counter.assisted_forms import TEXT_LIMITS, JsonInput
from idp.web.counter.check_forms import DATE_HINT, DocumentCheckForm, date_field
from idp.web.register.fields import (  # dd/mm/yyyy dates, as on the certificate
    BIRTHDATE_HINT,
    BirthdateMixin,
    NameMarksMixin,
    birthdate_field,
    check_date,
    full_name_field,
    gender_field,
    national_id_field,
    parse_date,
)


class ChildForm(BirthdateMixin, NameMarksMixin, DocumentCheckForm):
    """The parent's ID-card check exactly as in a verification (DocumentCheckForm, without the
    postal address), then the child and the birth certificate."""

    page_order = ("guardian_national_id", "document_type", "document_number", "issued_on",
                  "expires_on", "no_expiry", "name_match", "birthdate_match", "sex_match",
                  "photo_match", "national_id", "full_name", "name_without_marks",
                  "birthdate", "gender", "certificate_number", "certificate_issued_on",
                  "certificate_matches")
    match_groups = (("document.mismatch", GUARDIAN_WORDING["document.mismatch"],
                     ("name_match", "birthdate_match", "sex_match", "photo_match")),)
    province_code = None  # no address is recorded with a link
    ward = None
    street = None

    guardian_national_id = national_id_field(
        _l("The parent's personal ID number"),
        _l("Type the 12-digit number on the parent's ID card."), autocomplete="off",
        autofocus=True)
    national_id = national_id_field(
        _l("The child's personal ID number"),
        _l("Type the child's 12-digit personal ID number."), autocomplete="off")
    full_name = full_name_field(_l("The child's full name, as on the birth certificate"),
                                _l("Type the child's full name."), autocomplete="off")
    name_without_marks = BooleanField(
        _l("The birth certificate shows this name exactly like this, without accents."),
        default=False)
    birthdate = birthdate_field(_l("Date of birth"), BIRTHDATE_HINT, autocomplete="off")
    gender = gender_field(_l("Sex"))
    certificate_number = StringField(
        _l("Birth certificate number"),
        validators=[DataRequired(_l("Type the number of the birth certificate.")),
                    Length(max=MAX_CERTIFICATE_NUMBER, message=_l("This is too long."))],
        render_kw={"autocomplete": "off", "maxlength": MAX_CERTIFICATE_NUMBER})
    certificate_issued_on = date_field(_l("Birth certificate issued on"), required=True)
    certificate_matches = BooleanField(
        _l("The birth certificate shows the child's details above and names this parent"))

    NAME_WITHOUT_MARKS_HINT = _l(
        "This name has no Vietnamese accents. Type it with the accents, exactly as printed on "
        "the birth certificate. If the certificate shows it without accents, tick the box "
        "below the name.")

    def validate_certificate_issued_on(self, field: StringField) -> None:
        check_date(field.data, DATE_HINT)

    def address(self) -> PostalAddress | None:
        return None

    def guardian(self) -> str:
        return self.guardian_national_id.data or ""

    def child(self) -> ChildDetails:
        return ChildDetails(national_id=self.national_id.data or "",
                            full_name=self.full_name.data or "",
                            birthdate=parse_date(self.birthdate.data),
                            gender=self.gender.data or "")

    def certificate(self) -> BirthCertificate:
        return BirthCertificate(number=self.certificate_number.data or "",
                                issued_on=parse_date(self.certificate_issued_on.data),
                                matches=bool(self.certificate_matches.data))


class ParentCodeForm(FlaskForm):
    """The code the parent received, typed at the counter (mandate_forms.CodeForm's rules)."""

    code = StringField(
        _l("Code from the parent's SMS"),
        validators=[DataRequired(_l("Type the 6-digit code the parent received.")),
                    Length(max=16, message=_l("The code has 6 digits."))],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 16,
                   "spellcheck": "false"},
    )


class ChildInput(JsonInput):
    limits = {**TEXT_LIMITS, "guardian_national_id": 32,
              "certificate_number": MAX_CERTIFICATE_NUMBER}


def parse_child_body(body: dict[str, Any]) -> tuple[str, ChildDetails, BirthCertificate,
                                                     JsonInput]:
    """The API body as the service takes it; the reader's `errors` hold what could not be read."""
    read = ChildInput(body)
    guardian = read.text("guardian_national_id")
    child = ChildDetails(national_id=read.text("national_id"), full_name=read.text("full_name"),
                         birthdate=read.iso_date("birthdate"), gender=read.text("gender"))
    certificate = BirthCertificate(number=read.text("certificate_number"),
                                   issued_on=read.iso_date("certificate_issued_on"),
                                   matches=read.boolean("certificate_matches"))
    return guardian, child, certificate, read
