"""Forms of the organisation pages. They carry the CSRF token and the fields; every rule (tax
code, name, address, title, ID number, dates, lengths) is the service's, which audits each
refusal."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice

from idp.domain.admin_units import provinces_in_order
from idp.domain.document_check import MAX_STREET, MAX_WARD
from idp.models import MemberRole, RepresentativeTitle
from idp.web.business.labels import ROLE_LABELS, TITLE_LABELS
from idp.web.register.fields import DATE_PATTERN

DATE_KW = {"inputmode": "numeric", "placeholder": DATE_PATTERN, "maxlength": 10,
           "autocomplete": "off"}


def _text(label: object, max_length: int, **render_kw: object) -> StringField:
    # No validators: the service bounds and checks every value (and audits the refusal);
    # the request itself is bounded by MAX_CONTENT_LENGTH.
    return StringField(label, render_kw={"maxlength": max_length, **render_kw})


def _date(label: object) -> StringField:
    return StringField(label, render_kw=DATE_KW)


class RegisterOrganisationForm(FlaskForm):
    tax_code = _text(_l("Tax code"), 16, inputmode="numeric", autocomplete="off",
                     spellcheck="false")
    name = _text(_l("Name of the organisation, as on its registration certificate"), 200,
                 autocomplete="organization")
    province_code = SelectField(
        _l("Province or city of the head office"),
        choices=[SelectChoice("", _l("Choose…"))] + [
            SelectChoice(code, name) for code, name in provinces_in_order()],
        validate_choice=False)  # checked by the service, with its own message
    ward = _text(_l("Ward or commune"), MAX_WARD, autocomplete="off")
    street = _text(_l("House number, street, hamlet"), MAX_STREET, autocomplete="off")
    title = SelectField(
        _l("Your position"),
        choices=[SelectChoice("", _l("Choose…"))] + [
            SelectChoice(t.value, TITLE_LABELS[t]) for t in RepresentativeTitle],
        validate_choice=False)


class InviteForm(FlaskForm):
    national_id = _text(_l("Personal ID number of the person to invite"), 32,
                        inputmode="numeric", autocomplete="off", spellcheck="false")
    role = SelectField(_l("Role"), choices=[
        SelectChoice(MemberRole.MEMBER.value, ROLE_LABELS[MemberRole.MEMBER]),
        SelectChoice(MemberRole.ADMIN.value, ROLE_LABELS[MemberRole.ADMIN])],
        validate_choice=False)
    valid_from = _date(_l("First valid day (optional)"))
    valid_until = _date(_l("Last valid day (optional)"))


class MemberEditForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[
        SelectChoice(MemberRole.MEMBER.value, ROLE_LABELS[MemberRole.MEMBER]),
        SelectChoice(MemberRole.ADMIN.value, ROLE_LABELS[MemberRole.ADMIN])],
        validate_choice=False)
    valid_from = _date(_l("First valid day (optional)"))
    valid_until = _date(_l("Last valid day (optional)"))
