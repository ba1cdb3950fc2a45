"""Flask extensions, created unbound and attached in `create_app` (Flask's init_app pattern)."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from idp.models.base import Base
from idp.settings import ROOT

db = SQLAlchemy(model_class=Base)
# render_as_batch: SQLite can only ALTER a table by copying it; PostgreSQL ignores the flag.
migrate = Migrate(directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
csrf = CSRFProtect()
babel = Babel()
# Storage and default limits are set from the settings in create_app.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
