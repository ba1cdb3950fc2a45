"""What the authorization endpoint knows about a request while its checks run, and what a
check asks the person to do before a code can be issued.

The checks (idp.oidc.checks, idp.oidc.organisation_choice) fill in the context and return an
Interaction; the web layer (idp.web.oidc.interactions) shows the page of its kind.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from idp.models import Account, OAuthClient, OrganisationMember, UserSession
from idp.oidc.acr import AcrRequest


@dataclass
class AuthorizationContext:
    grant: Any
    client: OAuthClient
    session: UserSession | None
    params: Any  # werkzeug MultiDict of the request parameters
    # The person's answer on our consent page: "allow" or "deny"; None when no page was shown.
    decision: str | None = None
    prompts: set[str] = field(default_factory=set)
    claims_request: dict[str, Any] | None = None
    acr: AcrRequest = AcrRequest(required=1, preferred=None)
    # Scope `organization`: what the person may act for now, and the membership they act
    # through (None: as themselves); set by idp.oidc.organisation_choice.
    choices: list[OrganisationMember] = field(default_factory=list)
    membership: OrganisationMember | None = None

    @property
    def account(self) -> Account | None:
        return self.session.account if self.session else None

    @property
    def scopes(self) -> list[str]:
        return self.grant.request.scope.split()


class InteractionKind(enum.Enum):
    LOGIN = "login"  # sign in (again)
    UNMET = "unmet"  # get the identity verified at a counter
    STEP_UP = "step_up"  # pass (or set up) a second factor
    PASSKEY = "passkey"  # prove (or add) a passkey: phishing resistance
    CHOOSE_ORGANISATION = "choose_organisation"  # who the person acts as
    NO_ORGANISATION = "no_organisation"  # they act for none, and the portal wants one
    CONSENT = "consent"


@dataclass(frozen=True)
class Interaction:
    kind: InteractionKind
    login_hint: str | None = None
    optional: bool = False  # a step-up for a voluntary level: the person may skip it
