"""Fixtures of the service tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests.counter.cast import Counter, make_counter


@pytest.fixture
def ctx(app: Flask) -> Iterator[Counter]:
    """The counter's cast (tests/counter/cast.py), inside a request context for the test."""
    with app.test_request_context():
        yield make_counter()
