"""Every extension point of kanri: one documented hook specification each (see docs/plugins.md)."""
from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("kanri")
hookimpl = pluggy.HookimplMarker("kanri")


@hookspec
def register_products():
    """Return a list of ``app.products.Product`` this plugin provides (code, name, description)."""


@hookspec
def register_blueprints(app):
    """Register the plugin's Flask blueprints on ``app``."""


@hookspec
def register_commands(cli):
    """Add click commands or groups to the ``flask`` command line (``cli`` is ``app.cli``)."""


@hookspec(firstresult=True)
def second_factor(tenant, user):
    """Return the ``app.auth.factors.SecondFactor`` for this tenant's login, or None.

    firstresult: a tenant has exactly one second factor, given by its product's plugin.
    When no plugin answers, the core refuses to complete the login (fail closed).
    """


@hookspec(firstresult=True)
def stronger_factor(tenant, user, factor):
    """Return a ``SecondFactor`` that runs before the product's ``factor`` for this login, or None.

    firstresult: one stronger-factor step per login. The step ends with
    ``app.auth.factors.pass_stronger_factor``, which either completes the login (the step replaced
    the product's factor) or hands the pending login on to ``factor``.
    """


@hookspec(firstresult=True)
def session_gate(tenant, user, endpoint):
    """Return the endpoint a logged-in user must be sent to before ``endpoint`` is served, or None.

    Called once per request for a logged-in user (after the forced password change). firstresult:
    the first gate that answers wins (e.g. a required enrolment step); it must answer None for its
    own endpoints so the user can finish the step.
    """


@hookspec
def menu_links(tenant, user):
    """Return ``app.products.MenuLink`` items the user may open, for the navigation and dashboard."""


@hookspec
def menu_registry(tenant):
    """Return every main-menu ``app.products.MenuLink`` the plugin offers ``tenant``, whoever the user.

    Permission screens build their menu lists from it; ``menu_links`` then filters per user.
    """


@hookspec
def dashboard_panels(tenant, user):
    """Return ``app.products.Panel`` items (title and Markup body) shown on the dashboard."""


@hookspec
def login_links():
    """Return ``app.products.MenuLink`` items shown under the login form (e.g. password reset)."""


@hookspec
def tenant_created(tenant, admin):
    """React to ``flask tenant create``; return lines to print once to the operator (or None)."""


@hookspec
def demo_tenant():
    """Return an ``app.products.DemoTenant`` for ``flask demo`` (code, company name, product, seed), or None.

    The core creates the tenant with an admin and a general user, then calls ``seed(tenant)``
    in the tenant's scope so the product's lists are not empty.
    """


@hookspec
def demo_seeded(tenants):
    """Add platform-wide demo content after ``flask demo`` created ``tenants`` (e.g. a manual, a notice).

    Called once per ``flask demo`` run that created at least one tenant; return lines to print (or None).
    """


@hookspec
def user_created(tenant, user, actor):
    """React to a new user in ``tenant`` (``actor`` is the admin or None for the CLI)."""


@hookspec(firstresult=True)
def session_valid(tenant, user, session_record):
    """Return None while a logged-in session may go on, or an ``app.products.SessionRefusal`` to end it now.

    Called once per request by the core's session loader, after its own idle, absolute and
    account checks; ``session_record`` is the ``UserSession`` row. firstresult: the first
    refusal ends the session (audited with its reason; its message is shown on the login page).
    A product never installs its own app-wide request handler for this.
    """


@hookspec
def session_companions():
    """Return ``app.products.SessionCompanion`` rows for the core to load in the same query as the session.

    Each is an outer join (entity, on-clause over ``User`` / ``UserSession``) added to the one query that
    loads the session, its user and tenant, so ``session_valid`` finds the row in the identity map
    (``db.session.get``) instead of querying again. Build each ``on`` once per process and pass the request's
    values as ``params`` (bind parameter names), so the session statement is prepared once. Return nothing when
    this request has no such row.
    """


@hookspec
def sessions_ended(tenant, user, reason):
    """React to all of a user's sessions being ended (password change, suspension, reset)."""


@hookspec
def session_end_messages():
    """Return a dict of session end reason → Japanese message, shown on the login page when a browser comes
    back with a session the plugin ended on the server (``end_session(record, reason)``)."""


@hookspec
def purge_expired(now, dry_run):
    """Delete the plugin's short-lived working rows whose lifetime ended before ``now`` (pending uploads and the
    like), across all tenants; return a list of ``app.softdelete.PurgedRows`` (tenant id, table, count).

    Called once a day by ``flask trash purge`` (the daily job), after the 削除済み rows; with ``dry_run`` count
    and delete nothing. The command commits. Implementations opt out of the tenant scope explicitly.
    """


@hookspec
def purge_tenant(tenant):
    """Delete what the plugin keeps for ``tenant`` outside its tables (files, caches); the core deletes the rows."""


@hookspec
def audit_action_labels():
    """Return a dict of audit action → Japanese label for the operation log screens."""


@hookspec
def deliver_notice(tenant, notice):
    """Deliver a published お知らせ to ``tenant`` (e.g. queue mail with ``app.mailer.send_mail``); return how many
    mails were queued (an int) or None.

    Called once per tenant, in the tenant's scope and in the transaction that records the delivery, when the
    notice becomes published (``notice.title``, ``notice.body`` Markdown, ``notice.body_html`` sanitised,
    ``notice.audience``). Optional: a product that only lists notices on its screens need not implement it.
    """


@hookspec
def worker_cycle():
    """Do small, due, idempotent work once per cycle of ``flask mail worker`` and of the development mail thread
    (``KANRI_MAIL_THREAD``), e.g. publish scheduled notices.

    Runs in an application context, before the outbox is delivered, in every worker process: implementations must
    be safe when several workers call them at once. Errors are logged and the worker goes on.
    """


@hookspec
def user_security_facts(tenant, users):
    """Return ``{user_id: {label: value}}``: what the plugin knows about each of ``users`` that matters for
    security (registered devices, second factors), or None when it has nothing for ``tenant``.

    Called by the セキュリティ状況 page and its CSV (``/admin/security/overview``) with every user of the
    current tenant, once per page: answer with one or two grouped queries, never one per user. Labels are
    Japanese column headings; values are short text or numbers. Each plugin's dict is merged per user.
    """


@hookspec(firstresult=True)
def login_refusal(tenant, user):
    """Return None to let a login go on, or an ``app.products.SessionRefusal`` to refuse it at the password step.

    Called by the core after the password was right and the account and contract checks passed, before the
    second factor starts (the IP address restriction refuses here). The refusal is recorded as a failed login
    (``login.failure`` with its ``reason``) and its ``message`` is shown on the login form: only someone who knew
    the password learns why. firstresult: the first refusal wins.
    """


@hookspec
def user_has_strong_binding(tenant, user):
    """Return True when ``user`` has a registered device or a factor stronger than the password (a passkey, TOTP),
    else False or None.

    The IP address restriction's scope 「登録済み端末などの強い認証手段がないユーザー」 asks this: a user for whom
    any plugin answers True is not restricted. A product with registered devices answers "has an approved,
    unexpired device". Called only for a visitor outside the allow list, so an answer may cost one small query.
    """
