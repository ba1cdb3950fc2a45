"""Addresses a partner portal registers: redirect URIs, jwks_uri, back-channel logout URI.

Redirect URIs are later compared by exact string match (RFC 9700 §2.1, OIDC Core §3.1.2.1),
so nothing here normalises: an address is accepted exactly as given or refused. Rules:
absolute, no fragment (RFC 6749 §3.1.2, OIDC Back-Channel Logout §2.2), no userinfo
(RFC 9700 §4.1.1 lists it among open-redirect tricks), no wildcards, `https` - or `http` only on
a loopback host for development clients (RFC 8252 §7.3, docs/architecture.md §5).
"""

from __future__ import annotations

import ipaddress
import re

from idp.domain.errors import N_, DomainError

MAX_LENGTH = 2048
# A local `next` path PostID carries through its own pages: an authorization request of up to
# 4096 characters (idp/oidc/checks.py), nested once as the `next` of /login, still fits.
MAX_NEXT_LENGTH = 8192
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})

MSG_FORMAT = N_("Enter an absolute address, for example https://portal.example.vn/callback.")
MSG_WILDCARD = N_("Wildcards are not allowed: register every address exactly.")
MSG_FRAGMENT = N_("The address must not contain a fragment (#).")
MSG_SCHEME = N_("The address must use https (http only for 127.0.0.1, [::1] or localhost).")
MSG_USERINFO = N_("The address must not contain a user name or password.")
MSG_TOO_LONG = N_("The address is too long (at most 2048 characters).")
MSG_SECTOR = N_(
    "For pairwise subjects all redirect URIs must use the same host "
    "(a sector_identifier_uri is not supported yet)."
)

# Only the characters RFC 3986 §2 allows in a URI: this refuses whitespace (surrounding or
# inside), control characters, non-ASCII (an IRI could match several ways), backslash and "<>".
_URI_CHARS = re.compile(r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
# "//" authority then path, query (RFC 3986 §3); brackets only around an IPv6 host.
_HIER_PART = re.compile(r"//(?P<authority>[^/?#]*)[^\[\]]*")
_HOST_PORT = re.compile(
    r"(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9.-]+))(?::(?P<port>[0-9]{1,5}))?"
)
# A DNS name (RFC 1123 labels); dotted IPv4 addresses match it too.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DNS_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")


def _host(raw: str) -> str:
    """The lower-case host of an absolute http(s) URI (IPv6 without brackets), or refuse."""
    hier = _HIER_PART.fullmatch(raw.partition(":")[2])
    if hier is None:
        raise DomainError("uri.format", MSG_FORMAT)
    if "@" in hier["authority"]:
        raise DomainError("uri.userinfo", MSG_USERINFO)
    parts = _HOST_PORT.fullmatch(hier["authority"])
    if parts is None or (parts["port"] and int(parts["port"]) > 65535):
        raise DomainError("uri.format", MSG_FORMAT)
    if parts["ipv6"]:
        try:
            ipaddress.IPv6Address(parts["ipv6"])
        except ValueError:
            raise DomainError("uri.format", MSG_FORMAT) from None
        return parts["ipv6"].lower()
    host = parts["name"].lower()
    if len(host) > 253 or not _DNS_NAME.fullmatch(host):
        raise DomainError("uri.format", MSG_FORMAT)
    return host


def check_https_uri(raw: str) -> str:
    """Return `raw` unchanged if it is an acceptable https (or loopback http) address.

    Used for jwks_uri and backchannel_logout_uri, and for redirect URIs (same rules).
    Codes: ``uri.too_long``, ``uri.format`` (not an absolute URI, bad characters or host,
    wildcard), ``uri.scheme``, ``uri.fragment``, ``uri.userinfo``.
    """
    if len(raw) > MAX_LENGTH:
        raise DomainError("uri.too_long", MSG_TOO_LONG)
    if not _URI_CHARS.fullmatch(raw):
        raise DomainError("uri.format", MSG_FORMAT)
    if "*" in raw:
        raise DomainError("uri.format", MSG_WILDCARD)
    scheme, sep, _ = raw.partition(":")
    if not sep or not _SCHEME.fullmatch(scheme):
        raise DomainError("uri.format", MSG_FORMAT)  # relative reference
    # Lower case only: RFC 3986 allows "HTTPS" but exact matching later makes it a trap.
    if scheme not in ("https", "http"):
        raise DomainError("uri.scheme", MSG_SCHEME)  # javascript:, data:, custom schemes...
    if "#" in raw:  # even an empty fragment ("...#")
        raise DomainError("uri.fragment", MSG_FRAGMENT)
    host = _host(raw)
    if scheme == "http" and host not in LOOPBACK_HOSTS:
        raise DomainError("uri.scheme", MSG_SCHEME)
    return raw


def check_redirect_uri(raw: str) -> str:
    """Return `raw` unchanged if it may be registered as a (post-logout) redirect URI.

    Same rules and codes as `check_https_uri`; kept as its own name because redirect URIs
    are where RFC 9700 §2.1 and §4.1 apply, and the two may diverge (native-app schemes).
    """
    return check_https_uri(raw)


def sector_identifier(redirect_uris: list[str]) -> str:
    """The host shared by every (already checked) redirect URI: the pairwise sector.

    OIDC Core §8.1: with redirect URIs on several hosts a sector_identifier_uri is required,
    which is not supported yet: code ``uri.sector``.
    """
    hosts = {_host(uri) for uri in redirect_uris}
    if len(hosts) != 1:
        raise DomainError("uri.sector", MSG_SECTOR)
    return hosts.pop()
