"""What a relying party asks for as level of assurance (docs/architecture.md §9).

Three sources, two strengths (OIDC Core §3.1.2.1, §5.5.1.1):
- `acr_values` (space-separated, in order of preference) is voluntary: best effort, and the
  real level is returned. Unknown values are ignored.
- An essential `acr` in the `claims` parameter's `id_token` member (`value` or `values`) and
  the client's registered minimum (`min_loa`, and `min_phishing_resistant`, which asks what an
  essential PHISHING_RESISTANT asks) must be met. Levels are ordered: a higher level meets a
  lower requirement, so the requirement is the lowest level named. An essential request that
  names only unknown values cannot be met by anybody.

Malformed `acr` members are `invalid_request`; nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749 import InvalidRequestError

from idp.oidc.claims import PHISHING_RESISTANT, level_of

UNREACHABLE = 4  # above LoA3: what an essential request of unknown values asks for
MAX_ACR_VALUES = 16


@dataclass(frozen=True)
class AcrRequest:
    required: int  # 1-3, or UNREACHABLE
    preferred: int | None  # the voluntary level (first known acr_values entry), if any
    # An essential acr naming PHISHING_RESISTANT: a passkey must be proven in this session.
    phishing_resistant: bool = False


def voluntary_level(acr_values: str | None) -> int | None:
    """The most preferred known level in `acr_values`, or None."""
    if not acr_values:
        return None
    for value in acr_values.split()[:MAX_ACR_VALUES]:
        level = level_of(value)
        if level is not None:
            return level
    return None


def acr_member(claims_request: dict[str, Any] | None) -> tuple[bool, list[str]]:
    """(essential, values) of the `acr` claim request in the `id_token` member.

    Raises InvalidRequestError for a malformed member (OIDC Core §5.5.1: `essential` is a
    boolean, `value` a string, `values` an array of strings)."""
    member = (claims_request or {}).get("id_token", {}).get("acr")
    if member is None:
        return False, []  # "acr": null asks for the claim in the default manner: it always comes
    if not isinstance(member, dict):
        raise InvalidRequestError("The acr member of the claims parameter must be an object.")
    essential = member.get("essential", False)
    if not isinstance(essential, bool):
        raise InvalidRequestError("The acr member's 'essential' must be true or false.")
    if "value" in member and "values" in member:
        raise InvalidRequestError("The acr member has both 'value' and 'values'.")
    values = [member["value"]] if "value" in member else member.get("values", [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values) \
            or len(values) > MAX_ACR_VALUES:
        raise InvalidRequestError("The acr member's values must be a short list of strings.")
    return essential, values


def parse(params: Any, claims_request: dict[str, Any] | None, client_min_loa: int,
          client_phishing_resistant: bool = False) -> AcrRequest:
    """Combine `acr_values`, the `acr` claim request and the client's minimum.

    An essential `acr` without values asks only that the claim be returned (it always is).
    A voluntary one with values counts as a preference when `acr_values` names none."""
    essential, values = acr_member(claims_request)
    levels = [level for level in map(level_of, values) if level is not None]
    phishing_resistant = essential and PHISHING_RESISTANT in values
    required = 1
    if essential and values and not phishing_resistant:
        required = min(levels) if levels else UNREACHABLE
    elif essential and levels:
        # With PHISHING_RESISTANT, the levels named with it are what is asked besides.
        required = min(levels)
    preferred = voluntary_level(params.get("acr_values"))
    if preferred is None and not essential and levels:
        preferred = levels[0]
    return AcrRequest(required=max(required, client_min_loa or 1), preferred=preferred,
                      phishing_resistant=phishing_resistant or client_phishing_resistant)
