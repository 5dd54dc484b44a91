"""Flask extensions, created unbound and initialised in create_app."""
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}



class SessionOnlyLoginManager(LoginManager):
    """Flask-Login without remember-me: kanri never issues a remember cookie (the server-side session is the
    only login), so one a client sends is ignored unread. Flask-Login would otherwise parse it, and a
    non-ASCII value made its digest comparison raise (a 500)."""

    def _load_user_from_remember_cookie(self, cookie):  # noqa: ARG002 - Flask-Login's signature
        return None


db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()
login_manager = SessionOnlyLoginManager()
csrf = CSRFProtect()
mail = Mail()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
