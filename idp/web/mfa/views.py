"""TOTP enrolment and the second-factor step of sign-in (filled in by the MFA work)."""

from flask import Blueprint

bp = Blueprint("mfa", __name__)
