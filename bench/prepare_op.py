"""Prepare a database for the shared OP benchmark (../shared/bench): migrate, then register the
harness's client and account. Idempotent; reads the same IDP_* settings as `idp serve`.

The client signs people in (authorization_code, refresh_token) and, for the harness's
client_credentials scenario, gets tokens for itself with the service scope `bench.read`."""

from __future__ import annotations

from datetime import date

from flask_migrate import upgrade
from sqlalchemy import select

from idp import create_app
from idp.models import Account, OAuthClient
from idp.services.identity.accounts import CitizenDetails, create_citizen
from idp.services.portals import keys
from idp.services.portals.clients import register_client, set_service_scope

CLIENT_ID = "bench-client"
CLIENT_SECRET = "bench-client-secret-0123456789abcdef"
REDIRECT_URI = "http://127.0.0.1:38099/cb"
USERNAME = "001099012345"
PASSWORD = "correct horse battery staple"
SERVICE_SCOPE = "bench.read"  # client_credentials_scope in bench/postid-op.json


def main() -> None:
    app = create_app()
    with app.app_context():
        upgrade()
        from idp.extensions import db

        client = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == CLIENT_ID))
        if client is None:
            register_client(name="Benchmark client", redirect_uris=[REDIRECT_URI],
                            scope="openid profile email offline_access",
                            service_scope=SERVICE_SCOPE,
                            client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
        elif client.service_scope != SERVICE_SCOPE:  # an instance prepared before the grant
            set_service_scope(CLIENT_ID, SERVICE_SCOPE)
        if db.session.scalar(select(Account.id).where(Account.national_id == USERNAME)) is None:
            create_citizen(CitizenDetails(national_id=USERNAME, full_name="Nguyễn Văn An",
                                          birthdate=date(1999, 5, 17), gender="male",
                                          phone="0912345678", email="an@example.vn"), PASSWORD)
        keys.ensure_keys()


if __name__ == "__main__":
    main()
