"""`idp serve`: the production WSGI server in the foreground.

gunicorn manages the worker processes; each worker serves with waitress (idp.cli.waitress_worker),
which reads whole requests before a thread runs them, so slow or stalled clients cannot take the
threads. gunicorn's master handles SIGTERM by letting workers finish their requests (graceful
stop). Settings are loaded and validated in the master first, so a bad configuration fails here,
before any worker starts. In production a buffering proxy stands in front (docs/deployment.md).
"""

from __future__ import annotations

import logging
from typing import Any

import click
from flask import Flask
from gunicorn.app.base import BaseApplication

from idp.cli import serve_metrics
from idp.cli.errors import refuse_settings
from idp.logs import install_root_handler, logging_config
from idp.settings import Settings, SettingsError, load_settings

log = logging.getLogger("idp.serve")


class IdpServer(BaseApplication):
    def __init__(self, settings: Settings, options: dict[str, Any]):
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        from idp import create_app

        app = create_app(self.settings)
        if self.settings.env == "development":
            # The demo client (idp demo seed) exists only in development; so does its portal.
            from idp.demo_portal import mount_demo_portal

            mount_demo_portal(app, self.settings)
        return app


@click.command(help="Serve PostID (gunicorn workers serving with waitress), behind a buffering proxy "
                    "in production: see docs/deployment.md.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 256),
              help="Worker processes (argon2 is CPU-bound: about one per core).")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64),
              help="Threads per worker (they run complete requests only).")
def serve(host: str, port: int, workers: int, threads: int) -> None:
    try:
        settings = load_settings()
    except SettingsError as exc:
        refuse_settings(exc)
    # Every line of the server, these included, in the configured format (idp.logs).
    install_root_handler(settings.log_format, settings.log_level)
    log.info("PostID (%s) serving on http://%s:%d with %d worker(s)", settings.env, host, port,
             workers)
    if settings.env == "development":
        log.info("Demo portal (signs in with the demo citizen): %s/demo-portal/", settings.issuer)
    remove_metrics_dir = serve_metrics.prepare()  # before any worker forks
    try:
        _run(settings, host, port, workers, threads)
    finally:
        remove_metrics_dir()


def _run(settings: Settings, host: str, port: int, workers: int, threads: int) -> None:
    IdpServer(
        settings,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "idp.cli.waitress_worker.WaitressWorker",
            "graceful_timeout": 20,
            "timeout": 60,
            "accesslog": "-",
            "errorlog": "-",
            "proc_name": "postid",
            "logconfig_dict": logging_config(settings.log_format, settings.log_level),
            # gunicorn's control socket ($HOME/.gunicorn/gunicorn.ctl) is not used, and two
            # instances under one user would share it.
            "control_socket_disable": True,
            "child_exit": serve_metrics.child_exit,
        },
    ).run()
