"""Every kind of interaction a check can ask for has its page, and an unknown kind is an error,
never a guess (least of all the consent page)."""

from __future__ import annotations

import pytest

from idp.oidc.interaction import Interaction, InteractionKind
from idp.web.oidc import interactions


def test_every_kind_of_interaction_has_a_page() -> None:
    assert set(interactions.PAGES) == set(InteractionKind)


def test_an_unknown_kind_fails_loudly() -> None:
    with pytest.raises(LookupError):
        interactions.ask(Interaction("consent"), ctx=None)  # type: ignore[arg-type]
