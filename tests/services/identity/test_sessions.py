"""Idle and absolute session timeouts."""

from __future__ import annotations

from datetime import timedelta

from idp.extensions import db
from idp.models.base import utcnow
from idp.services.identity import sessions
from tests.factories import active_citizen


def test_session_expires_when_idle_and_at_its_absolute_limit(app, settings):
    with app.app_context():
        new = sessions.open_session(active_citizen())
        db.session.commit()
        now = utcnow()
        assert sessions.load_session(new.token, now=now) is not None
        idle = now + timedelta(minutes=settings.session_idle_minutes, seconds=1)
        assert sessions.load_session(new.token, now=idle) is None
        stored = new.session
        stored.last_seen_at = stored.expires_at - timedelta(seconds=1)
        db.session.commit()
        assert sessions.load_session(new.token, now=stored.expires_at) is None


def test_activity_extends_idle_time_but_not_the_absolute_limit(app, settings):
    with app.app_context():
        new = sessions.open_session(active_citizen())
        db.session.commit()
        later = utcnow() + timedelta(minutes=settings.session_idle_minutes - 1)
        assert sessions.load_session(new.token, now=later) is not None
        assert new.session.last_seen_at == later  # touched
        assert sessions.load_session(new.token, now=later + timedelta(minutes=2)) is not None


def test_garbage_tokens_find_nothing(app):
    with app.app_context():
        for token in (None, "", "x" * 65, "nonexistent"):
            assert sessions.load_session(token) is None
