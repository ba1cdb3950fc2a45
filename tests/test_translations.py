"""Every user-facing string has a Vietnamese translation (Vietnamese is the default UI)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent


def test_vietnamese_catalogue_covers_every_extracted_string(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "_l", "-k", "N_", "-k", "lazy_gettext", "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with pot.open("rb") as fh:
        wanted = {m.id for m in read_po(fh) if m.id}
    with (ROOT / "idp/translations/vi/LC_MESSAGES/messages.po").open("rb") as fh:
        catalogue = read_po(fh, locale="vi")
    translated = {m.id for m in catalogue if m.id and m.string and not m.fuzzy}
    assert sorted(wanted - translated) == []


# --- One wording per idea (docs/glossary.md) ---------------------------------------------------
# Each rule names the glossary entry it pins; a failure lists every offending entry with it.

def _catalogue_texts():
    """(msgid, msgstr) of every live entry, plural forms one by one."""
    with (ROOT / "idp/translations/vi/LC_MESSAGES/messages.po").open("rb") as fh:
        catalogue = read_po(fh, locale="vi")
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, (list, tuple)) else (message.id,)
        strings = message.string if isinstance(message.string, (list, tuple)) else (message.string,)
        for msgstr in strings:
            yield ids[0], msgstr or ""
        for plural_id in ids[1:]:
            yield plural_id, strings[-1] or ""


# Placeholders (%(email)s, %s) and HTML tags are code, not wording: their quotes and names are
# not checked.
_CODE = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|<[^>]*>")


def _prose(text: str) -> str:
    return _CODE.sub(" ", text)


# "xác thực" (authentication) is allowed only in these phrases; checking a person's identity or
# an organisation at a counter is "xác minh".
AUTHENTICATION_PHRASES = ("xác thực hai bước", "ứng dụng xác thực", "mã xác thực",
                          "yếu tố xác thực", "không xác thực bằng client secret",
                          # the official title of Decree 69/2024/NĐ-CP, quoted in the terms of use
                          "định danh và xác thực điện tử")

# New-style tone placement on a syllable-final oa, oe, uy (hoà, khoẻ, thuỷ, uỷ); "qu" + y is a
# consonant plus vowel, so "quý" is right. Traditional: hòa, khỏe, thủy, ủy.
_NEW_STYLE_TONE = re.compile(r"(?<![qQ])(?:[oO][àáảãạèéẻẽẹÀÁẢÃẠÈÉẺẼẸ]|[uU][ỳýỷỹỵỲÝỶỸỴ])(?!\w)")


def _without_authentication_phrases(text: str) -> str:
    lowered = text.lower()
    for phrase in AUTHENTICATION_PHRASES:
        lowered = lowered.replace(phrase, " ")
    return lowered


VIETNAMESE_RULES = {  # id: (glossary rule, broken(msgstr prose, msgid))
    "two-step": ("two-step verification is “xác thực hai bước”",
                 lambda s, i: re.search(r"(?i)xác minh (hai|2) bước|xác thực 2 bước|\b2FA\b", s)),
    "verification": ("identity verification at a counter is “xác minh”; “xác thực” (authentication) "
                     "only in " + ", ".join(AUTHENTICATION_PHRASES),
                     lambda s, i: "xác thực" in _without_authentication_phrases(s)),
    "e-mail": ("e-mail is “e-mail” (not “thư điện tử”, “email”)",
               lambda s, i: re.search(r"(?i)thư điện tử|\bemail\b|\be mail\b", s)),
    "post-office": ("post office is “bưu cục” (not “bưu điện”)",
                    lambda s, i: re.search(r"(?i)bưu điện", s)),
    "id-card": ("ID card is “thẻ căn cước” (“thẻ căn cước công dân” only names that document type)",
                lambda s, i: "thẻ căn cước công dân" in s.lower() and "thẻ căn cước công dân" not in i),
    "online": ("online is “trực tuyến” (not “qua mạng”)", lambda s, i: "qua mạng" in s),
    "level": ("level n is “mức n” (not “mức độ n”)", lambda s, i: re.search(r"(?i)mức độ \d", s)),
    "tone-marks": ("traditional tone marks on a final oa/oe/uy (hòa, khỏe, thủy, xóa; not hoà, khoẻ, "
                   "thuỷ, xoá)", lambda s, i: _NEW_STYLE_TONE.search(s)),
    "quotes": ("typographic quotes “ ” (no ASCII \" or ' in Vietnamese text)",
               lambda s, i: re.search(r"[\"']", s)),
    # PostID itself may be “dịch vụ này (PostID)”; a relying party is always a “cổng dịch vụ”.
    "portal": ("a portal is “cổng dịch vụ” (not “dịch vụ này”, “dịch vụ đó”, “Dịch vụ đã kết nối”)",
               lambda s, i: re.search(r"(?i)(?<!cổng )dịch vụ (?:này(?! \(PostID\))|đó|đã kết nối)",
                                      s)),
    "withdraw": ("“rút lại” only for an invitation (lời mời); access and consent are “thu hồi”",
                 lambda s, i: "rút lại" in s.lower() and "invitation" not in i.lower()),
}

ENGLISH_RULES = {  # id: (glossary rule, broken(msgid prose))
    "e-mail": ("e-mail is “e-mail” (not “email”)", lambda i: re.search(r"(?i:\bemail\b)|E-Mail", i)),
    "sign-in": ("“sign in” / “sign out” (not “log in”, “login”, “log out”)",
                lambda i: re.search(r"(?i)\blog[ -]?(in|out|on)\b", i)),
    "two-step": ("two-step verification (not “second factor”, “two-factor”, “2FA”)",
                 lambda i: re.search(r"(?i)second factor|two-factor|2FA|two-step authentication|2-step",
                                     i)),
    "id-card": ("“ID card” (not “citizen ID card”)", lambda i: re.search(r"(?i)citizen ID card", i)),
    "spelling": ("British spelling: enrolment, organisation, authorised",
                 lambda i: re.search(r"(?i)enrollment|organization(?! claim)|authoriz", i)),
    "quotes": ("typographic quotes “ ” (no ASCII \" and no ' used as a quotation mark)",
               lambda i: re.search(r"\"|(?<!\w)'", i)),
    "portal": ("a relying party is a “portal” (not “this service”, “the service's”, “Connected "
               "services”)",
               lambda i: re.search(r"(?i)\b(?:this|that) service\b(?! \(PostID\))|\bthe service's"
                                   r"|connected services|\bto the service\b", i)),
}


@pytest.mark.parametrize("rule_id", list(VIETNAMESE_RULES))
def test_vietnamese_translations_follow_the_glossary(rule_id):
    rule, broken = VIETNAMESE_RULES[rule_id]
    offending = [f"  msgid {msgid!r}\n  msgstr {msgstr!r}" for msgid, msgstr in _catalogue_texts()
                 if msgstr and broken(_prose(msgstr), msgid)]
    assert not offending, (f"messages.po breaks the glossary rule “{rule}” (docs/glossary.md):\n"
                           + "\n".join(offending))


@pytest.mark.parametrize("rule_id", list(ENGLISH_RULES))
def test_english_source_strings_follow_the_glossary(rule_id):
    rule, broken = ENGLISH_RULES[rule_id]
    offending = sorted({f"  msgid {msgid!r}" for msgid, _ in _catalogue_texts()
                        if broken(_prose(msgid))})
    assert not offending, (f"English source strings break the glossary rule “{rule}” "
                           "(docs/glossary.md); change the _() string and the msgid together:\n"
                           + "\n".join(offending))


# The rules themselves: each catches its variants and spares the right forms.
@pytest.mark.parametrize(("rule_id", "text", "broken"), [
    ("two-step", "Bật xác minh hai bước", True),
    ("two-step", "Bật xác thực hai bước", False),
    ("verification", "Danh tính đã được xác thực tại bưu cục", True),
    ("verification", "Mã đăng ký xác thực", True),
    ("verification", "Danh tính đã được xác minh; mã từ ứng dụng xác thực", False),
    ("e-mail", "Địa chỉ thư điện tử", True),
    ("e-mail", "Địa chỉ email", True),
    ("e-mail", "Địa chỉ e-mail của bạn: %(email)s", False),
    ("post-office", "Bưu điện đã thu hồi", True),
    ("online", "không thể hủy qua mạng", True),
    ("level", "(mức độ 2)", True),
    ("level", "Mức độ tin cậy (mức 2)", False),
    ("tone-marks", "Xoá tài khoản", True),
    ("tone-marks", "sức khoẻ", True),
    ("tone-marks", "thuỷ, uỷ quyền", True),
    ("tone-marks", "Xóa, hòa, khỏe, thủy, ủy quyền, hoàn tất, khuyến, huỳnh, quý, thuở", False),
    ("quotes", "hãy chọn 'người được ủy quyền'", True),
    ("quotes", 'trường "reason"', True),
    ("quotes", "hãy chọn “người được ủy quyền”", False),
    ("portal", "Nếu bạn đồng ý, dịch vụ này sẽ nhận được:", True),
    ("portal", "Dịch vụ đã kết nối", True),
    ("portal", "Cổng dịch vụ này nhận được; tên của dịch vụ này (PostID); các dịch vụ công", False),
])
def test_each_vietnamese_rule_catches_its_variants(rule_id, text, broken):
    assert bool(VIETNAMESE_RULES[rule_id][1](_prose(text), "")) is broken


@pytest.mark.parametrize(("rule_id", "text", "broken"), [
    ("e-mail", "Your email address", True),
    ("e-mail", "Your e-mail address is now %(email)s.", False),
    ("sign-in", "Log in to PostID", True),
    ("sign-in", "Sign in to PostID", False),
    ("two-step", "a second factor", True),
    ("id-card", "your citizen ID card", True),
    ("id-card", "Citizen identity card (thẻ căn cước công dân)", False),
    ("spelling", "the organization you chose", True),
    ("spelling", "From the organization claim: the organisation you chose", False),
    ("quotes", "choose 'authorised person'", True),
    ("quotes", 'the text field "reason"', True),
    ("quotes", "the representative's ID card; the members' council; choose “authorised person”", False),
    ("portal", "If you allow, this service will receive:", True),
    ("portal", "For the service's developers", True),
    ("portal", "Connected services", True),
    ("portal", "This portal receives; the name of this service (PostID); public services", False),
])
def test_each_english_rule_catches_its_variants(rule_id, text, broken):
    assert bool(ENGLISH_RULES[rule_id][1](_prose(text))) is broken


@pytest.mark.parametrize(("msgid", "msgstr", "broken"), [
    ("You can withdraw it later from your account.", "Bạn có thể rút lại sau.", True),
    ("Withdrew an invitation to %(organisation)s", "Đã rút lại lời mời", False),
])
def test_the_withdraw_rule_spares_only_invitations(msgid, msgstr, broken):
    assert bool(VIETNAMESE_RULES["withdraw"][1](_prose(msgstr), msgid)) is broken
