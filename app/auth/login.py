"""The password step: constant-work credential check, lockout, account and contract checks."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from .. import audit, metrics
from ..extensions import db
from ..models import STATUS_ACTIVE, Tenant, User
from ..operator import looks_like_operator
from ..passwords import burn_equivalent_work, verify_password
from ..products import all_products, plugin_manager
from ..tenancy import set_current_tenant
from ..timeutil import utcnow

GENERIC_FAILURE = "会社コード、ログインID、またはパスワードが正しくありません。"


def login_limit() -> str:
    """The per-client rate limit of the login steps (``KANRI_LOGIN_RATE_LIMIT``): the password step uses
    it, and a product's second-factor screens share it (``@limiter.limit(login_limit)``)."""
    return current_app.config["KANRI_LOGIN_RATE_LIMIT"]


@dataclass
class LoginResult:
    """Outcome of the password step: a user to hand to the factor, or a message for the form."""

    user: User | None = None
    factor: object | None = None
    message: str | None = None


def _find_user(login_id: str) -> User | None:
    return db.session.execute(sa.select(User).where(User.login_id == login_id.strip())).scalar_one_or_none()


def _fail(reason: str, login_id: str, tenant=None, user=None, **details) -> LoginResult:
    # A typed id that could pass for an operator ("operator:ops-tanaka") stays in the target only: the
    # 操作ログ must never show a stranger's failed login as the service team's access.
    actor_login = None if user is None and looks_like_operator(login_id) else login_id
    audit.record("login.failure", outcome="failure", tenant=tenant, actor=user, actor_login=actor_login,
                 target=f"user:{login_id}", reason=reason, **details)
    db.session.commit()
    metrics.login_failed(reason)
    return LoginResult(message=failure_message(tenant))


def failure_message(tenant) -> str:
    """The generic failure message, plus the tenant's product's hint on a forgotten password (if it has one)."""
    product = all_products().get(tenant.product) if tenant is not None else None
    help_text = product.login_help if product is not None else ""
    return f"{GENERIC_FAILURE}{help_text}" if help_text else GENERIC_FAILURE


def _refuse(message: str, reason: str, user: User) -> LoginResult:
    audit.record("login.refused", outcome="failure", tenant=user.tenant, actor=user,
                 target=f"user:{user.login_id}", reason=reason)
    db.session.commit()
    return LoginResult(message=message)


def _register_failure(user: User) -> LoginResult:
    config = current_app.config
    user.failed_logins += 1
    details = {"failures": user.failed_logins}
    if user.failed_logins >= config["KANRI_LOCKOUT_THRESHOLD"]:
        user.locked_until = utcnow() + timedelta(minutes=config["KANRI_LOCKOUT_MINUTES"])
        user.failed_logins = 0
        audit.record("account.locked", outcome="failure", tenant=user.tenant, actor=user,
                     target=f"user:{user.login_id}", minutes=config["KANRI_LOCKOUT_MINUTES"])
    return _fail("bad_password", user.login_id, tenant=user.tenant, user=user, **details)


def check_password_step(company_code: str, login_id: str, password: str) -> LoginResult:
    """Run the password step; every path costs one bcrypt and writes one audit event."""
    tenant = Tenant.by_code(company_code)
    if tenant is None:
        burn_equivalent_work(password)
        return _fail("unknown_company", login_id, company=company_code)
    set_current_tenant(tenant)
    user = _find_user(login_id)
    if user is None:
        burn_equivalent_work(password)
        return _fail("unknown_user", login_id, tenant=tenant)
    if user.is_locked():
        burn_equivalent_work(password)
        return _fail("locked", login_id, tenant=tenant, user=user)
    if not verify_password(password, user.password_hash):
        return _register_failure(user)
    user.failed_logins = 0
    user.locked_until = None
    # Account and contract state are told only to someone who knows the password.
    if tenant.status != STATUS_ACTIVE:
        return _refuse("ご契約が停止されているため、ログインできません。管理会社の担当者にお問い合わせください。",
                       "tenant_suspended", user)
    if tenant.contract_over:
        return _refuse("ご契約期間が終了しているため、ログインできません。", "contract_ended", user)
    if user.status != STATUS_ACTIVE:
        return _refuse("このアカウントは停止されています。管理者にお問い合わせください。", "user_suspended", user)
    if user.must_change_password and user.temp_password_expires_at and user.temp_password_expires_at < utcnow():
        return _refuse("仮パスワードの有効期限（72時間）が切れています。管理者に再発行を依頼してください。",
                       "temporary_password_expired", user)
    refusal = plugin_manager().hook.login_refusal(tenant=tenant, user=user)
    if refusal is not None:  # e.g. the IP address restriction: a failed login, told only to the password's holder
        result = _fail(refusal.reason, user.login_id, tenant=tenant, user=user)
        result.message = refusal.message
        return result
    factor = plugin_manager().hook.second_factor(tenant=tenant, user=user)
    if factor is None:
        return _refuse("この製品の二要素認証が利用できないため、ログインを完了できません。サポートにお問い合わせください。",
                       "no_second_factor", user)
    factor = plugin_manager().hook.stronger_factor(tenant=tenant, user=user, factor=factor) or factor
    audit.record("login.password_ok", tenant=tenant, actor=user, target=f"user:{user.login_id}", factor=factor.name)
    db.session.commit()
    return LoginResult(user=user, factor=factor)
