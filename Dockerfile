# PostID production image: `idp serve` (gunicorn workers serving with waitress), configuration
# only from IDP_* variables. Not for direct exposure to clients: it runs behind the buffering
# proxy of deploy/haproxy.cfg (TLS, whole requests, request timeouts), see docs/deployment.md;
# publish port 5000 to that proxy only.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    IDP_ENV=production \
    IDP_INSTANCE_PATH=/app/instance

WORKDIR /app
RUN groupadd --system postid && useradd --system --gid postid --home-dir /app postid

# Dependencies first so code changes do not reinstall them.
COPY pyproject.toml README.md ./
COPY idp/__init__.py idp/__init__.py
RUN pip install --no-compile -e .

COPY babel.cfg ./
COPY config config
COPY migrations migrations
COPY templates templates
COPY idp idp
RUN pybabel compile -d idp/translations -D messages \
    && mkdir -p /app/instance && chown postid:postid /app/instance

USER postid
EXPOSE 5000
# Required at run time: IDP_ISSUER, IDP_DATABASE_URL, IDP_SECRET_KEY, IDP_KEY_ENCRYPTION_KEY,
# IDP_REDIS_URL, and IDP_TRUSTED_PROXIES=1 (the one proxy in front). Run `idp db upgrade` once
# per release (e.g. as a one-off container: deploy/compose.yaml). Logs: one JSON object per line
# on standard output (IDP_LOG_FORMAT=json, the default).
# Liveness, not readiness: the container is healthy while its server answers (/healthz). A
# database or Redis outage would make every node's /readyz fail at once, and a supervisor that
# replaces unhealthy containers would then restart them all, which brings no database back and
# drops the requests in flight. Taking a node out of rotation while it is not ready is the
# proxy's job: deploy/haproxy.cfg checks /readyz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:5000/healthz', timeout=4).status == 200 else 1)"
STOPSIGNAL SIGTERM
CMD ["idp", "serve", "--host", "0.0.0.0", "--port", "5000", "--workers", "4"]
