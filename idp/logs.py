"""How PostID writes its logs: one JSON object per line (production), or readable text.

Every line of `idp serve` goes through here: gunicorn's master (idp.cli.serve hands
`logging_config` to gunicorn), the access log (one line per request, idp.cli.waitress_worker),
the application's own lines and waitress's. A line written while a request is served carries
that request's id (`request_id`, idp.web.request_id), so one request's lines can be found
together, across the proxy's log too.

What a line may hold: the route pattern, never the path (paths carry tokens,
idp.web.route_log); never a query string, header, cookie, form field or personal data. JSON
escapes every control character and quote, so nothing a client sends can start a new line.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

# The request a thread is serving (set by idp.web.request_id for each request it runs).
current_request_id: ContextVar[str | None] = ContextVar("idp_request_id", default=None)
# Attributes of a LogRecord (logging's `extra=`): a line's own structured fields, and the id of
# the request it is about when it is written outside that request (the access log).
FIELDS = "fields"
REQUEST_ID = "request_id"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(request_suffix)s: %(message)s"


def request_id_of(record: logging.LogRecord) -> str | None:
    return getattr(record, REQUEST_ID, None) or current_request_id.get()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        request_id = request_id_of(record)
        if request_id:
            entry["request_id"] = request_id
        entry.update(getattr(record, FIELDS, None) or {})
        entry["message"] = record.getMessage()
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=True, separators=(",", ":"), default=str)


class TextFormatter(logging.Formatter):
    """For a person at a terminal (`make run`): time, level, logger, request id, message, then
    the line's fields as name=value, each value escaped (printable ASCII, no quote unescaped)."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        request_id = request_id_of(record)
        record.request_suffix = f" [{request_id}]" if request_id else ""
        line = super().format(record)
        fields = getattr(record, FIELDS, None) or {}
        return " ".join([line, *(f"{name}={escaped(value)}" for name, value in fields.items()
                                 if value is not None)])


def escaped(value: object) -> str:
    """Printable ASCII only: control characters, quotes and non-ASCII as backslash escapes."""
    if value is None or value == "":
        return "-"
    return str(value).encode("unicode_escape").decode("ascii").replace('"', '\\"')


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


def install_root_handler(log_format: str, level: str) -> None:
    """One handler on the root logger, unless something (gunicorn's configuration of
    `idp serve`, pytest) has set one up already; like logging.basicConfig."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter(log_format))
    root.addHandler(handler)
    root.setLevel(level.upper())


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """gunicorn's `logconfig_dict` (logging.config.dictConfig): every logger of the server,
    gunicorn's own included, writes to standard output in `log_format`. The access log is
    written at INFO whatever `level` is, as gunicorn's own access log is."""
    handler = {"class": "logging.StreamHandler", "formatter": "idp", "stream": "ext://sys.stdout"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"idp": {"()": f"{__name__}.{formatter(log_format).__class__.__name__}"}},
        "handlers": {"console": handler},
        "root": {"level": level.upper(), "handlers": ["console"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False},
        },
    }
