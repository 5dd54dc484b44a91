"""The stronger-factor login step: a passkey, a code from the authenticator app, or a recovery code."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for

from app import audit
from app.auth.factors import abandon_pending_login, pass_stronger_factor, pending_login, restart_login
from app.auth.login import login_limit
from app.extensions import db, limiter
from app.forms import ConfirmForm, require_confirm
from app.products import plugin_manager

from . import STEP, bp, failures, passkeys, recovery, totp
from .authenticator import check as check_totp
from .forms import LoginCodeForm
from .policy import current_policy, has_totp, replaces_product_factor

EXPIRED = "ログインの有効期限が切れました。もう一度ログインしてください。"
TOO_MANY = "コードを5回まちがえたため、このログインは無効になりました。もう一度パスワードからログインしてください。"
LOCKED = ("強い認証要素の入力を何度もまちがえたため、アカウントを一時的にロックしました。"
          "しばらくしてから、もう一度ログインしてください。")


def _page(pending, form=None, status=200):
    return render_template("strong_factors/login.html", form=form or LoginCodeForm(), passkey_form=ConfirmForm(),
                           has_passkey=bool(passkeys.user_passkeys(pending.user)), has_totp=has_totp(pending.user)), status


def _passed(pending, method: str, credential_id: int | None = None):
    """The step passed: complete the login or hand it on to the product's factor, as the policy says."""
    audit.record("strong_factors.login_passed", actor=pending.user, target=f"user:{pending.user.login_id}",
                 method=method, pending=pending.id)
    if replaces_product_factor(current_policy()):
        return pass_stronger_factor(pending, method, None, credential_id)
    product = plugin_manager().hook.second_factor(tenant=pending.tenant, user=pending.user)
    if product is None:  # fail closed: without the product's factor the login cannot go on
        db.session.commit()
        abandon_pending_login()
        return restart_login("この製品の二要素認証が利用できないため、ログインを完了できません。")
    return pass_stronger_factor(pending, method, product, credential_id)


def _failed(pending, form, method: str):
    left, locked = failures.record(pending, method)
    db.session.commit()
    if locked or left == 0:
        abandon_pending_login()
        flash(LOCKED if locked else TOO_MANY, "error")
        return redirect(url_for("auth.login"))
    form.code.errors = [f"コードが正しくありません（あと{left}回まで入力できます）。"]
    return _page(pending, form, 422)


@bp.route("/login/stronger", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def login():
    """Ask for the stronger factor of a pending login (the password was right)."""
    pending = pending_login(STEP)
    if pending is None:
        return restart_login(EXPIRED)
    form = LoginCodeForm()
    if not form.validate_on_submit():
        return _page(pending, form, 422 if form.errors else 200)
    if failures.count_for_login(pending) >= failures.PER_LOGIN:
        abandon_pending_login()
        return restart_login(TOO_MANY)
    typed = form.code.data
    if totp.is_well_formed(typed):
        if check_totp(pending.user, typed):
            return _passed(pending, "totp")
        return _failed(pending, form, "totp")
    if recovery.looks_like_code(typed):
        if recovery.use(pending.user, typed):
            return _passed(pending, "recovery")
        return _failed(pending, form, "recovery")
    form.code.errors = ["認証アプリの6桁の数字、またはリカバリーコード（英数字10文字）を入力してください。"]
    return _page(pending, form, 422)


@bp.route("/login/stronger/passkey/options", methods=["POST"])
@limiter.limit(login_limit)
def login_passkey_options():
    """The WebAuthn request options for the pending login's user (JSON)."""
    pending = pending_login(STEP)
    if pending is None:
        return restart_login(EXPIRED)
    require_confirm()
    return current_app.response_class(passkeys.authentication_options(pending.user), mimetype="application/json")


@bp.route("/login/stronger/passkey", methods=["POST"])
@limiter.limit(login_limit)
def login_passkey():
    """Check the browser's passkey assertion and pass the step."""
    pending = pending_login(STEP)
    if pending is None:
        return restart_login(EXPIRED)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _page(pending, status=400)
    try:
        key = passkeys.authenticate(pending.user, request.form.get("response", ""))
    except passkeys.PasskeyError as exc:
        audit.record("strong_factors.login_failed", outcome="failure", actor=pending.user,
                     target=f"user:{pending.user.login_id}", method="passkey", pending=pending.id)
        db.session.commit()
        flash(exc.message, "error")
        return redirect(url_for("strong_factors.login"))
    audit.record("strong_factors.passkey_used", actor=pending.user, target=f"passkey:{key.id}")
    return _passed(pending, "passkey", key.id)
