"""Fixtures of the counter tests (the cast itself is in cast.py)."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.counter.cast import Counter, make_counter
from tests.staff_factories import post_office


@pytest.fixture
def cast(app: Flask) -> Counter:
    """Two offices with their staff, and a citizen (ids only)."""
    with app.app_context():
        return make_counter()


@pytest.fixture
def office(app: Flask) -> int:
    """One post office with no staff yet (its id)."""
    with app.app_context():
        return post_office().id
