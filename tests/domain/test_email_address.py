"""mask_email: how an e-mail address is shown in an SMS to the phone of its account."""

from __future__ import annotations

import pytest

from idp.domain.email_address import mask_email


@pytest.mark.parametrize("email,masked", [
    ("an.nguyen@example.vn", "an***@example.vn"),
    ("anhh@example.vn", "a***@example.vn"),
    ("ab@example.vn", "a***@example.vn"),
    ("a@example.vn", "a***@example.vn"),
])
def test_a_masked_address_never_shows_a_short_local_part_whole(email: str, masked: str) -> None:
    assert mask_email(email) == masked
