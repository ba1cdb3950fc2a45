"""`idp serve`: the production WSGI server (gunicorn) in the foreground.

gunicorn's master handles SIGTERM by letting workers finish their requests (graceful stop).
Settings are loaded and validated in the master first, so a bad configuration fails here,
before any worker starts.
"""

from __future__ import annotations

from typing import Any

import click
from gunicorn.app.base import BaseApplication

from idp.cli.errors import refuse_settings
from idp.settings import Settings, SettingsError, load_settings

# The largest request line gunicorn allows (its default, 4094 bytes, is less than an /authorize
# URL with a sizeable `claims` request). Longer lines get gunicorn's own 414 page, before the
# application: documented in docs/counter-api.openapi.json (tests/counter/test_openapi.py).
REQUEST_LINE_LIMIT = 8190


class IdpServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, options: dict[str, Any]):
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):  # type: ignore[no-untyped-def]
        from idp import create_app

        app = create_app(self.settings)
        if self.settings.env == "development":
            # The demo client (idp demo seed) exists only in development; so does its portal.
            from idp.demo_portal import mount_demo_portal

            mount_demo_portal(app, self.settings)
        return app


@click.command(help="Serve PostID with gunicorn (production WSGI server).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 256),
              help="Worker processes (argon2 is CPU-bound: about one per core).")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64),
              help="Threads per worker.")
def serve(host: str, port: int, workers: int, threads: int) -> None:
    try:
        settings = load_settings()
    except SettingsError as exc:
        refuse_settings(exc)
    click.echo(f"PostID ({settings.env}) serving on http://{host}:{port} with {workers} worker(s)")
    if settings.env == "development":
        click.echo(f"Demo portal (signs in with the demo citizen): {settings.issuer}/demo-portal/")
    IdpServer(
        settings,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "graceful_timeout": 20,
            "timeout": 60,
            "accesslog": "-",
            "errorlog": "-",
            "proc_name": "postid",
            "forwarded_allow_ips": "127.0.0.1",
            "limit_request_line": REQUEST_LINE_LIMIT,
        },
    ).run()
