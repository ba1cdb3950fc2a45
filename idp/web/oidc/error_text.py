"""What the error page of /authorize tells a portal's developer about a request that cannot
even be answered at its redirect_uri (RFC 6749 §4.1.2.1: unknown client, unregistered or
missing redirect_uri, unreadable parameters): which parameter is wrong, in the page's language.

The protocol's `error_description` stays English (it is for programs, sent in the redirect
or JSON). Descriptions whose text is ours, or Authlib's fixed text, are translated here;
another Authlib text is shown as it is (escaped by the template, at most DESCRIPTION_MAX
characters). No translation repeats a value from the request: only parameter names, which
come from our own fixed lists.
"""

from __future__ import annotations

import re

from authlib.oauth2 import OAuth2Error
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

DESCRIPTION_MAX = 200

# Exact descriptions: Authlib's fixed texts and ours (idp.oidc.grants, idp.web.oidc.views).
_FIXED = {
    "Missing 'client_id' parameter.": _l("The request has no client_id."),
    "The client does not exist on this server.": _l(
        "No portal with this client_id is registered with PostID, or it is switched off."),
    "Missing 'redirect_uri' in request.": _l("The request has no redirect_uri."),
    "The redirect_uri is not registered for this client.": _l(
        "This redirect_uri is not registered for this portal. It must match one of the "
        "portal's registered addresses exactly."),
    "Parameters must not contain NUL or unpaired surrogates.": _l(
        "A parameter contains characters that are not allowed."),
    "Malformed request parameters.": _l("The request's parameters cannot be read."),
    "Missing consent decision.": _l("The form did not say whether you allow or not."),
}
# Descriptions that name a parameter (the name only, from our fixed lists: \w+ never matches
# markup).
_REPEATED = re.compile(r"(?:Parameter|Multiple) '(\w+)' (?:is repeated|in request)\.\Z")
_TOO_LONG = re.compile(r"Parameter '(\w+)' is too long\.\Z")


def explain(error: OAuth2Error) -> str | None:
    """The description to show on the error page, translated where the text is known."""
    if error.error == "unsupported_response_type":
        # Authlib puts the response_type sent (any text) where the description goes.
        return gettext("This response_type is not supported: PostID supports only “code”.")
    description = error.description
    if not description:
        return None
    fixed = _FIXED.get(description)
    if fixed is not None:
        return str(fixed)
    if match := _REPEATED.match(description):
        return gettext("The parameter %(name)s is sent more than once.", name=match.group(1))
    if match := _TOO_LONG.match(description):
        return gettext("The parameter %(name)s is too long.", name=match.group(1))
    return description[:DESCRIPTION_MAX]
