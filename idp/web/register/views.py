"""Self-registration (filled in by the registration work)."""

from flask import Blueprint

bp = Blueprint("register", __name__)
