"""Tenant services: create a tenant with its first admin, suspend, resume and terminate it (no request code)."""
from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email

from . import audit
from .accounts import LOGIN_ID_PATTERN, create_user
from .extensions import db
from .models import ROLE_ADMIN, STATUS_ACTIVE, STATUS_PURGED, STATUS_SUSPENDED, Tenant, User
from .operator import record_access
from .products import all_products, plugin_manager
from .tenancy import tenant_scope
from .timeutil import jst_today

TENANT_CODE_PATTERN = r"^[a-z0-9][a-z0-9-]{2,31}$"


class TenantError(ValueError):
    """A tenant operation was given bad input; the message is Japanese and safe to show."""


def checked_email(value: str) -> str:
    """Return the normalised e-mail address, or raise TenantError."""
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise TenantError(f"メールアドレス {value!r} が正しくありません。") from exc


def parse_date(value: str | None, label: str, default: date | None = None) -> date:
    """Parse a JST date typed as YYYY-MM-DD (default when empty), or raise TenantError."""
    if not value:
        if default is None:
            raise TenantError(f"{label}を YYYY-MM-DD で指定してください。")
        return default
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise TenantError(f"{label} {value!r} は YYYY-MM-DD 形式の日付ではありません。") from exc


def create_tenant(*, code, name, product, contract_end, contract_start=None, admin_login, admin_email,
                  admin_name="管理者", admin_password=None) -> tuple[Tenant, User, str, list[str]]:
    """Validate everything, then create the tenant, its admin and run tenant_created hooks.

    Returns (tenant, admin, the admin's password, lines the plugins want printed); commits.
    """
    code = code.strip().lower()
    if not re.match(TENANT_CODE_PATTERN, code):
        raise TenantError("会社コードは英小文字・数字・ハイフンで3〜32文字にしてください。")
    if db.session.execute(sa.select(Tenant.id).where(Tenant.code == code)).first():
        raise TenantError(f"会社コード {code!r} は既に使われています。")
    if not name.strip():
        raise TenantError("会社名を指定してください。")
    products = all_products()
    if product not in products:
        raise TenantError(f"製品 {product!r} はありません。利用できる製品: {', '.join(sorted(products))}")
    start = parse_date(contract_start, "契約開始日", default=jst_today())
    end = parse_date(contract_end, "契約終了日")
    if end < start:
        raise TenantError("契約終了日は契約開始日より後にしてください。")
    if end < jst_today():
        raise TenantError("契約終了日が過去の日付です。")
    if not re.match(LOGIN_ID_PATTERN, admin_login):
        raise TenantError("ログインIDは英数字と . _ @ - で3〜64文字にしてください。")
    email = checked_email(admin_email)
    tenant = Tenant(code=code, name=name.strip(), product=product, contract_start=start, contract_end=end,
                    status=STATUS_ACTIVE)
    db.session.add(tenant)
    db.session.flush()
    with tenant_scope(tenant):
        audit.record("tenant.create", tenant=tenant, actor_login="operator", target=f"tenant:{code}",
                     after={"code": code, "product": product, "contract_end": end.isoformat()})
        admin, password = create_user(tenant, admin_login, admin_name, email, role=ROLE_ADMIN,
                                      password=admin_password)
        results = plugin_manager().hook.tenant_created(tenant=tenant, admin=admin)
        db.session.commit()
        db.session.refresh(admin)  # load while the tenant is current: encrypted fields need it
    lines = [line for batch in results for line in (batch or ())]
    return tenant, admin, password, lines


def _set_status(tenant: Tenant, status: str, action: str, reason: str, operator: str) -> Tenant:
    before = tenant.status
    tenant.status = status
    with tenant_scope(tenant):
        audit.record(action, tenant=tenant, actor_login=operator, target=f"tenant:{tenant.code}",
                     before={"status": before}, after={"status": status})
        record_access(tenant, f"tenant {action.split('.')[1]}", reason, operator)
    db.session.commit()
    return tenant


def suspend_tenant(tenant: Tenant, reason: str, operator: str) -> Tenant:
    """Stop the tenant's logins (live sessions end at their next request); audited with the operator's reason, commits."""
    return _set_status(tenant, STATUS_SUSPENDED, "tenant.suspend", reason, operator)


def resume_tenant(tenant: Tenant, reason: str, operator: str) -> Tenant:
    """Allow the tenant's logins again; audited with the operator's reason, commits."""
    return _set_status(tenant, STATUS_ACTIVE, "tenant.resume", reason, operator)


def check_contract_end(tenant: Tenant, end: date) -> None:
    """Raise TenantError when ``end`` cannot be the tenant's contract end (before the start, or purged)."""
    if tenant.status == STATUS_PURGED:
        raise TenantError(f"テナント {tenant.code} は削除済みです。")
    if end < tenant.contract_start:
        raise TenantError(f"契約終了日 {end.isoformat()} は契約開始日 {tenant.contract_start.isoformat()} より前です。")


def terminate_tenant(tenant: Tenant, end: date, reason: str, operator: str) -> tuple[date, date]:
    """Set the tenant's contract end (a JST date): from the day after it nobody of the tenant can log in,
    and the daily ``flask tenant purge-expired`` deletes its rows. Returns (before, after); audited, commits.

    A date before the contract start is refused, and so is a purged tenant. A past date is allowed (the
    contract is then over at once); the command asks the operator to confirm it first.
    """
    check_contract_end(tenant, end)
    before = tenant.contract_end
    tenant.contract_end = end
    with tenant_scope(tenant):
        audit.record("tenant.terminate", tenant=tenant, actor_login=operator, target=f"tenant:{tenant.code}",
                     before={"contract_end": before.isoformat()}, after={"contract_end": end.isoformat()})
        record_access(tenant, "tenant terminate", reason, operator, contract_end=end.isoformat())
    db.session.commit()
    return before, end
