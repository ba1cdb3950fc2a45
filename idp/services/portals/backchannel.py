"""Back-channel logout (OpenID Connect Back-Channel Logout 1.0).

`enqueue_for_session` writes one delivery per portal that received tokens in the session,
in the caller's transaction (so a logout and its notices commit together). `deliver_due`
posts them and retries with exponential back-off; `idp logout deliver` runs it from cron or
in a loop, and the logout request itself makes the first attempt right after it commits.
"""

from __future__ import annotations

import logging
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta

from sqlalchemy import func, select

from idp.extensions import db
from idp.models import AuthorizationCode, LogoutDelivery, OAuthClient, UserSession
from idp.models.base import utcnow
from idp.services.platform.metrics import BACKLOG_CAP, Backlog
from idp.services.portals import keys
from idp.services.portals.subjects import subject_for
from idp.settings import current_settings

log = logging.getLogger(__name__)
EVENT = "http://schemas.openid.net/event/backchannel-logout"
MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
TIMEOUT_SECONDS = 3


def portals_of_session(session: UserSession) -> list[OAuthClient]:
    """Portals that were issued a code in this session (indexed by session_id)."""
    client_ids = select(AuthorizationCode.client_pk).where(AuthorizationCode.session_id == session.id)
    query = select(OAuthClient).where(OAuthClient.id.in_(client_ids.scalar_subquery()))
    return list(db.session.scalars(query))


def logout_token(client: OAuthClient, session: UserSession) -> str:
    """§2.4: iss, aud, iat, exp, jti, sub and sid, the event, and no nonce; typ logout+jwt."""
    now = int(time.time())
    claims = {
        "iss": current_settings().issuer,
        "aud": client.client_id,
        "iat": now,
        "exp": now + 120,
        "jti": secrets.token_urlsafe(16),
        "sub": subject_for(session.account, client),
        "sid": session.sid,
        "events": {EVENT: {}},
    }
    return keys.sign_jwt(claims, alg=client.id_token_signed_response_alg, typ="logout+jwt")


def enqueue_for_session(session: UserSession) -> list[LogoutDelivery]:
    deliveries = []
    for client in portals_of_session(session):
        if client.backchannel_logout_uri and client.is_active:
            delivery = LogoutDelivery(client_pk=client.id, uri=client.backchannel_logout_uri,
                                      logout_token=logout_token(client, session),
                                      next_attempt_at=utcnow())
            db.session.add(delivery)
            deliveries.append(delivery)
    return deliveries


def _post(uri: str, token: str) -> str | None:
    """None on success (200 or 204, §2.8), else a short reason."""
    body = urllib.parse.urlencode({"logout_token": token}).encode()
    request = urllib.request.Request(uri, data=body, method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - registered https/loopback URI
            return None if response.status in (200, 204) else f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return type(exc).__name__


def deliver(ids: list[int] | None = None, *, now: datetime | None = None, limit: int = 100) -> int:
    """Post due deliveries (or the given ones); one commit per delivery. Returns how many
    were delivered now."""
    now = now or utcnow()
    query = select(LogoutDelivery).where(LogoutDelivery.delivered_at.is_(None),
                                         LogoutDelivery.next_attempt_at.is_not(None))
    query = query.where(LogoutDelivery.id.in_(ids)) if ids is not None else \
        query.where(LogoutDelivery.next_attempt_at <= now)
    delivered = 0
    for delivery in db.session.scalars(query.order_by(LogoutDelivery.id).limit(limit)).all():
        error = _post(delivery.uri, delivery.logout_token)
        delivery.attempts += 1
        if error is None:
            delivery.delivered_at = utcnow()
            delivery.next_attempt_at = None
            delivered += 1
        else:
            delivery.last_error = error[:255]
            delivery.next_attempt_at = (None if delivery.attempts >= MAX_ATTEMPTS else
                                        utcnow() + min(FIRST_RETRY * 2 ** (delivery.attempts - 1), MAX_RETRY))
            log.warning("back-channel logout to client %s failed (%s), attempt %s",
                        delivery.client_pk, error, delivery.attempts)
        db.session.commit()
    return delivered


def backlog() -> Backlog:
    """Notices still to be delivered or retried (counted up to BACKLOG_CAP, along the
    `next_attempt_at` index: delivered and abandoned ones have none) and the age of the oldest.
    Reads in the caller's transaction."""
    waiting = (select(LogoutDelivery.created_at)
               .where(LogoutDelivery.next_attempt_at.is_not(None),
                      LogoutDelivery.delivered_at.is_(None))
               .limit(BACKLOG_CAP).subquery())
    count, oldest = db.session.execute(select(func.count(), func.min(waiting.c.created_at))).one()
    return Backlog.of(count, oldest, utcnow())


def deliver_after_commit(ids: list[int]) -> None:
    """deliver(ids) right after the commit that queued them (a sign-out), best effort: the
    sign-out is done, so a failure here (database, network) must not turn it into an error
    page. The deliveries stay queued and `idp logout deliver` sends them later."""
    if not ids:
        return
    try:
        deliver(ids)
    except Exception as error:  # anything: the caller's committed answer must stand
        log.warning("back-channel logout left queued after the sign-out (%s)", type(error).__name__)
        try:
            db.session.rollback()
        except Exception:  # the connection is dead: teardown drops the session
            log.debug("rollback after a failed delivery also failed", exc_info=True)
