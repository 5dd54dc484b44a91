"""Routes of the stronger factors: the user's page, the login step and the tenant's policy page."""
from . import account_views, login_views, policy_views  # noqa: F401  (routes register on bp)
