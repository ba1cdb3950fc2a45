"""The counter's cast (an office with its clerk and supervisors) for the service tests, the same
fixtures as the counter's HTTP tests use."""

from tests.counter.conftest import cast, office  # noqa: F401
