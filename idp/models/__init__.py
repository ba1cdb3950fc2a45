"""SQLAlchemy 2.0 typed models. Importing this package registers every table on the metadata."""

from idp.models.account import Account, AccountStatus
from idp.models.audit import AuditEvent, AuditTag
from idp.models.base import Base
from idp.models.client import ClientAuthMethod, OAuthClient
from idp.models.credentials import PasswordCredential
from idp.models.notification import Channel, OutboxMessage
from idp.models.session import UserSession

__all__ = [
    "Account",
    "AccountStatus",
    "AuditEvent",
    "AuditTag",
    "Base",
    "Channel",
    "ClientAuthMethod",
    "OAuthClient",
    "OutboxMessage",
    "PasswordCredential",
    "UserSession",
]
