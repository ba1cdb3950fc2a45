"""The `dvcqg` claims profile (docs/architecture.md §5, docs/claims-dvcqg.md): National Public Service Portal
claim names for what the granted scopes already release, for a person and for an organisation,
with real rows from the factories."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import combinations

import pytest
from flask import Flask

from idp.domain.tax_code import TaxCodeKind
from idp.extensions import db
from idp.models import Account, MemberRole, OrganisationMember
from idp.oidc.claims import scope_claims
from idp.oidc.dvcqg import DVCQG_CLAIMS, dvcqg_claims, levels_met, national_phone
from idp.services.standing.organisation_access import organization_claim
from tests.factories import active_citizen, second_citizen
from tests.oidc.assurance import ADDRESS
from tests.organisation_factories import (
    OTHER_TAX_CODE,
    active_member,
    representative_membership,
    verified_organisation,
)

LOA1, LOA2, LOA3 = "urn:vn:postid:loa:1", "urn:vn:postid:loa:2", "urn:vn:postid:loa:3"
ALL_SCOPES = ["openid", "profile", "email", "phone", "address", "national_id", "organization"]
OPTIONAL_SCOPES = ALL_SCOPES[1:]
# Each dvcqg name and the standard claim it spells differently: it may appear only with it.
STANDARD_TWIN = {
    "HoVaTen": "name", "NgayThangNamSinh": "birthdate", "GioiTinh": "gender",
    "SoDinhDanh": "national_id", "SoDienThoai": "phone_number", "ThuDienTu": "email",
    "DiaChi": "address", "MaSoThue": "organization", "TenDoanhNghiep": "organization",
    "MaSoDoanhNghiep": "organization",
}


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


def verified_with_address(account: Account) -> Account:
    """What an approved counter check with an address leaves behind."""
    account.identity_loa = 2
    account.postal_address = dict(ADDRESS)
    account.address_verified_at = datetime.now(UTC)
    db.session.commit()
    return account


def acting_member(**organisation: object) -> OrganisationMember:
    """A member (not the representative) of a verified organisation."""
    representative = second_citizen()
    member = active_citizen()
    return active_member(verified_organisation(representative, **organisation), member,
                         role=MemberRole.ADMIN)


def test_a_person_with_every_scope(ctx):
    account = verified_with_address(active_citizen())
    assert dvcqg_claims(account, ALL_SCOPES, None, LOA2) == {
        "LoaiTaiKhoan": "1",
        "loAs": ["LoA1", "LoA2"],
        "HoVaTen": "Nguyễn Văn An",
        "NgayThangNamSinh": "17/05/1999",
        "GioiTinh": "1",
        "SoDinhDanh": "001099012345",
        "SoDienThoai": "0912345678",
        "ThuDienTu": "an@example.vn",
        "DiaChi": "Số 6 Đinh Lễ, Phường Hoàn Kiếm, Hà Nội",
    }


def test_an_organisation_with_every_scope(ctx):
    membership = acting_member()
    account = membership.account
    claims = dvcqg_claims(account, ALL_SCOPES, membership, LOA1)
    assert claims["LoaiTaiKhoan"] == "2" and claims["loAs"] == ["LoA1"]
    assert claims["MaSoThue"] == claims["MaSoDoanhNghiep"] == "0100233488"
    assert claims["TenDoanhNghiep"] == "Công ty TNHH Sen Vàng"
    # The person is still who signed in: their own data, not the organisation's or its head's.
    assert claims["HoVaTen"] == "Nguyễn Văn An" and claims["SoDinhDanh"] == "001099012345"
    assert "DiaChi" not in claims  # no verified address of the person; never the head office


def test_the_representative_acts_like_any_member(ctx):
    organisation = verified_organisation(active_citizen())
    claims = dvcqg_claims(organisation.representative, ["openid", "organization"],
                          representative_membership(organisation), LOA2)
    assert claims == {"LoaiTaiKhoan": "2", "loAs": ["LoA1", "LoA2"], "MaSoThue": "0100233488",
                      "MaSoDoanhNghiep": "0100233488", "TenDoanhNghiep": "Công ty TNHH Sen Vàng"}


def test_openid_alone_says_only_who_kind_of_account_and_level(ctx):
    account = verified_with_address(active_citizen())
    assert dvcqg_claims(account, ["openid"], None, LOA3) == {
        "LoaiTaiKhoan": "1", "loAs": ["LoA1", "LoA2", "LoA3"]}


@pytest.mark.parametrize("scope, names", [
    ("profile", {"HoVaTen", "NgayThangNamSinh", "GioiTinh"}),
    ("email", {"ThuDienTu"}),
    ("phone", {"SoDienThoai"}),
    ("address", {"DiaChi"}),
    ("national_id", {"SoDinhDanh"}),
    ("organization", set()),  # nothing without an organisation chosen
])
def test_each_scope_releases_only_its_own_names(ctx, scope, names):
    account = verified_with_address(active_citizen())
    claims = dvcqg_claims(account, ["openid", scope], None, LOA2)
    assert set(claims) == {"LoaiTaiKhoan", "loAs"} | names


@pytest.mark.parametrize("granted", [
    list(chosen) for size in range(len(OPTIONAL_SCOPES) + 1)
    for chosen in combinations(OPTIONAL_SCOPES, size)])
def test_never_more_than_the_standard_claims_of_the_same_scopes(ctx, granted):
    membership = acting_member()
    account = verified_with_address(membership.account)
    scopes = ["openid", *granted]
    standard = scope_claims(account, scopes)
    if "organization" in scopes:
        standard["organization"] = organization_claim(membership)
    claims = dvcqg_claims(account, scopes, membership, LOA2)
    assert set(claims) <= set(DVCQG_CLAIMS)
    for name in claims:
        if name in STANDARD_TWIN:
            assert STANDARD_TWIN[name] in standard, (name, scopes)
    assert claims["LoaiTaiKhoan"] == ("2" if "organization" in scopes else "1")
    assert None not in claims.values()


def test_a_woman_without_an_email_address(ctx):
    account = second_citizen()
    claims = dvcqg_claims(account, ALL_SCOPES, None, LOA1)
    assert claims["GioiTinh"] == "2" and claims["NgayThangNamSinh"] == "01/02/2003"
    assert claims["SoDienThoai"] == "0983456789" and claims["HoVaTen"] == "Trần Thị Bích Ngọc"
    assert "ThuDienTu" not in claims  # omitted, never null or empty


def test_a_gender_other_than_male_or_female_is_omitted(ctx):
    account = active_citizen()
    db.session.refresh(account)
    db.session.expunge(account)  # the column holds only male/female: never written back
    account.gender = "other"  # type: ignore[assignment]
    claims = dvcqg_claims(account, ["openid", "profile"], None, LOA1)
    assert "GioiTinh" not in claims and claims["HoVaTen"] == "Nguyễn Văn An"


def test_a_declared_or_revoked_address_is_no_diachi(ctx):
    account = active_citizen()
    account.postal_address = dict(ADDRESS)  # declared, never checked at a counter
    db.session.commit()
    assert "DiaChi" not in dvcqg_claims(account, ["openid", "address"], None, LOA1)
    account.address_verified_at = datetime.now(UTC)  # checked once, identity since revoked
    db.session.commit()
    assert "DiaChi" not in dvcqg_claims(account, ["openid", "address"], None, LOA1)
    verified_with_address(account)
    assert dvcqg_claims(account, ["openid", "address"], None, LOA2)["DiaChi"] == \
        "Số 6 Đinh Lễ, Phường Hoàn Kiếm, Hà Nội"


def test_a_household_business_has_no_enterprise_code(ctx):
    membership = acting_member(tax_code="079303001234", tax_code_kind=TaxCodeKind.HOUSEHOLD,
                               name="Hộ kinh doanh Bích Ngọc")
    claims = dvcqg_claims(membership.account, ["openid", "organization"], membership, LOA1)
    assert claims == {"LoaiTaiKhoan": "2", "loAs": ["LoA1"], "MaSoThue": "079303001234",
                      "TenDoanhNghiep": "Hộ kinh doanh Bích Ngọc"}


def test_a_dependent_unit_keeps_its_suffix(ctx):
    membership = acting_member(tax_code=OTHER_TAX_CODE + "-002",
                               tax_code_kind=TaxCodeKind.DEPENDENT_UNIT,
                               name="Chi nhánh Công ty TNHH Sen Vàng tại TP Hồ Chí Minh")
    claims = dvcqg_claims(membership.account, ["openid", "organization"], membership, LOA1)
    assert claims["MaSoThue"] == claims["MaSoDoanhNghiep"] == "0314409058-002"


def test_a_membership_without_the_organization_scope_is_a_person(ctx):
    membership = acting_member()
    claims = dvcqg_claims(membership.account, ["openid", "profile"], membership, LOA1)
    assert claims["LoaiTaiKhoan"] == "1"
    assert not {"MaSoThue", "MaSoDoanhNghiep", "TenDoanhNghiep"} & set(claims)


@pytest.mark.parametrize("acr, expected", [
    (LOA1, ["LoA1"]), (LOA2, ["LoA1", "LoA2"]), (LOA3, ["LoA1", "LoA2", "LoA3"]),
    ("LoA2", ["LoA1", "LoA2"]), ("urn:vn:postid:loa:4", []), ("", []),
])
def test_levels_met(acr, expected):
    assert levels_met(acr) == expected


def test_an_unknown_acr_gives_no_loas(ctx):
    claims = dvcqg_claims(active_citizen(), ["openid"], None, "urn:example:other")
    assert claims == {"LoaiTaiKhoan": "1"}


@pytest.mark.parametrize("e164, national", [
    ("+84912345678", "0912345678"), ("+84383456789", "0383456789"),
    ("+8491234567", None), ("+33612345678", None), ("0912345678", None), ("", None),
])
def test_national_phone(e164, national):
    assert national_phone(e164) == national


def test_discovery_lists_the_organization_and_dvcqg_claims(app, client):
    meta = client.get("/.well-known/openid-configuration").json
    assert "organization" in meta["claims_supported"] and "organization" in meta["scopes_supported"]
    assert set(DVCQG_CLAIMS) <= set(meta["claims_supported"])
    assert len(meta["claims_supported"]) == len(set(meta["claims_supported"]))  # each once
    assert {"sub", "acr", "name", "national_id", "address"} <= set(meta["claims_supported"])
