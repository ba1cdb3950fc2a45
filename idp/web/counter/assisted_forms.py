"""Input of an assisted registration (docs/architecture.md §8): the console form and the API's JSON body.
Both only bound and parse; the rules are the services' (assisted_registration.walk_in_errors).

The clerk types the name, birth date and sex from the card itself, so those three match the
document by construction; only the photo needs the clerk's judgement.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField

from idp.domain.document_check import DocumentCheck, PostalAddress, check_address
from idp.domain.errors import N_, DomainError
from idp.services.identity.accounts import CitizenDetails
from idp.web.counter.check_forms import DocumentCheckForm, clean_number
from idp.web.register.fields import (  # dd/mm/yyyy dates, as on the card
    BIRTHDATE_HINT,
    BirthdateMixin,
    NameMarksMixin,
    birthdate_field,
    email_field,
    full_name_field,
    gender_field,
    national_id_field,
    parse_date,
    phone_field,
)


class WalkInForm(BirthdateMixin, NameMarksMixin, DocumentCheckForm):
    """The card data, then the document check (DocumentCheckForm) without the name, birth date
    and sex ticks: they are typed from the card, so they match it by construction."""

    name_match = None
    birthdate_match = None
    sex_match = None
    # The page (counter/assisted.html) asks for the card data first: its error summary too.
    page_order = ("national_id", "full_name", "name_without_marks", "birthdate", "gender", "phone", "email",
                  "document_type", "document_number", "issued_on", "expires_on", "no_expiry",
                  "photo_match", "province_code", "ward", "street")

    national_id = national_id_field(
        _l("Personal ID number"), _l("Type the 12-digit number printed on the card."),
        autocomplete="off", autofocus=True)
    full_name = full_name_field(_l("Full name, as on the card"),
                                _l("Type the full name printed on the card."), autocomplete="off")
    birthdate = birthdate_field(_l("Date of birth, as on the card"), BIRTHDATE_HINT,
                                autocomplete="off")
    gender = gender_field(_l("Sex, as on the card"))
    phone = phone_field(_l("The citizen's own mobile phone number"),
                        _l("Type the citizen's mobile phone number."), autocomplete="off")
    email = email_field(autocomplete="off")
    # Shown (under the name) only when the name has no Vietnamese marks: see validate_full_name.
    name_without_marks = BooleanField(
        _l("The card shows this name exactly like this, without accents."), default=False)

    NAME_WITHOUT_MARKS_HINT = _l(
        "This name has no Vietnamese accents. Type it with the accents, exactly as printed on "
        "the card (for example Nguyễn Văn An, not Nguyen Van An). If the card shows it without "
        "accents, tick the box below the name.")

    def details(self) -> CitizenDetails:
        return CitizenDetails(
            national_id=self.national_id.data or "", full_name=self.full_name.data or "",
            birthdate=parse_date(self.birthdate.data),  # type: ignore[arg-type]  # None: form error
            gender=self.gender.data or "", phone=self.phone.data or "",
            email=(self.email.data or "").strip() or None)

    def walk_in_check(self, address: PostalAddress | None, *,
                      lenient: bool = False) -> DocumentCheck | None:
        """The document check as typed, or None when its dates cannot be read. `lenient`
        (for showing every problem at once, never for storing): an unreadable date stands in
        as "no date" so the other items are still checked; its field already has an error."""
        issued = parse_date(self.issued_on.data)
        expires = None if self.no_expiry.data else parse_date(self.expires_on.data)
        if lenient:
            issued = issued or date.min
        elif issued is None or (expires is None and not self.no_expiry.data):
            return None
        return DocumentCheck(
            document_type=self.document_type.data or "",
            document_number=clean_number(self.document_number.data), issued_on=issued,
            expires_on=expires, name_match=True, birthdate_match=True, sex_match=True,
            photo_match=bool(self.photo_match.data), address=address)


# --- the API's JSON body ---------------------------------------------------------------------

MSG_REQUIRED = N_("This field is required.")
MSG_TEXT = N_("This must be a text of at most %(max)s characters.")
MSG_ISO_DATE = N_("Give the date as YYYY-MM-DD.")
MSG_EXPIRES = N_("Give the expiry date as YYYY-MM-DD, or null for a document valid for life.")
MSG_BOOLEAN = N_("This must be true or false.")
MSG_ADDRESS = N_("The address must be an object with province_code, ward and street, or null.")
TEXT_LIMITS = {"national_id": 32, "full_name": 100, "gender": 16, "phone": 32, "email": 254,
               "document_type": 32, "document_number": 32}
ADDRESS_FIELDS = {"address.province": "address.province_code", "address.ward": "address.ward",
                  "address.street": "address.street"}


class JsonInput:
    """Reads a JSON object field by field, keeping one message per bad field."""

    limits = TEXT_LIMITS  # a text field's name -> its longest accepted length

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.errors: dict[str, tuple[str, dict[str, Any]]] = {}

    def text(self, name: str, *, required: bool = True) -> str:
        value = self.body.get(name)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or len(value) > self.limits[name] or \
                (required and not value.strip()):
            if value is None or value == "":
                self.errors[name] = (MSG_REQUIRED, {})
            else:
                self.errors[name] = (MSG_TEXT, {"max": self.limits[name]})
            return ""
        return value

    def iso_date(self, name: str, *, nullable: bool = False) -> date | None:
        if name not in self.body:
            self.errors[name] = (MSG_EXPIRES if nullable else MSG_REQUIRED, {})
            return None
        value = self.body[name]
        if value is None and nullable:
            return None
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            self.errors[name] = (MSG_EXPIRES if nullable else MSG_ISO_DATE, {})
            return None

    def boolean(self, name: str) -> bool:
        value = self.body.get(name)
        if not isinstance(value, bool):
            self.errors[name] = (MSG_BOOLEAN, {})
            return False
        return value

    def address(self) -> PostalAddress | None:
        value = self.body.get("address")
        if value is None:
            return None
        if not isinstance(value, dict) or not all(
                isinstance(value.get(key), str) for key in ("province_code", "ward", "street")):
            self.errors["address"] = (MSG_ADDRESS, {})
            return None
        try:
            return check_address(value["street"][:1000], value["ward"][:1000],
                                 value["province_code"][:8])
        except DomainError as error:
            self.errors[ADDRESS_FIELDS.get(error.code, "address")] = (error.message, {})
            return None


def parse_body(body: dict[str, Any]) -> tuple[CitizenDetails, DocumentCheck | None, JsonInput]:
    """Details and check from the API body; the reader's `errors` hold what could not be read
    (a field with such an error gets no second message from the rules)."""
    read = JsonInput(body)
    birthdate = read.iso_date("birthdate")
    details = CitizenDetails(
        national_id=read.text("national_id"), full_name=read.text("full_name"),
        birthdate=birthdate,  # type: ignore[arg-type]  # None: reported above
        gender=read.text("gender"), phone=read.text("phone"),
        email=read.text("email", required=False).strip() or None)
    document_type = read.text("document_type")
    number = read.text("document_number")
    issued = read.iso_date("issued_on")
    expires = read.iso_date("expires_on", nullable=True)
    photo = read.boolean("photo_match")
    address = read.address()
    check = None
    if issued is not None and "expires_on" not in read.errors:
        check = DocumentCheck(document_type=document_type, document_number=clean_number(number),
                              issued_on=issued, expires_on=expires, name_match=True,
                              birthdate_match=True, sex_match=True, photo_match=photo,
                              address=address)
    return details, check, read
