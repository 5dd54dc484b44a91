"""「認証要素のポリシー」 (/admin/security/factors): a tenant's 管理者 chooses how stronger factors combine with the product's."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from app.auth.guards import admin_required
from app.confirm import confirmation, confirmed
from app.extensions import db
from app.models import User
from app.tenancy import current_tenant

from . import bp
from .account_views import product_factor_label
from .forms import PolicyForm
from .models import Passkey, TotpCredential
from .policy import current_policy, set_policy
from .reset import reset_factors
from .summary import factor_summary


def _security_index() -> str | None:
    """The endpoint of the セキュリティ設定 index page when it is installed."""
    return next((rule.endpoint for rule in current_app.url_map.iter_rules() if rule.rule == "/admin/security"), None)


def _enrolled() -> tuple[int, int]:
    users = db.session.execute(sa.select(sa.func.count(User.id))).scalar_one()
    with_totp = sa.select(TotpCredential.user_id).where(TotpCredential.confirmed_at.is_not(None))
    with_key = sa.select(Passkey.user_id)
    enrolled = db.session.execute(sa.select(sa.func.count(sa.distinct(User.id))).where(
        sa.or_(User.id.in_(with_totp), User.id.in_(with_key)))).scalar_one()
    return enrolled, users


@bp.route("/admin/security/factors", methods=["GET", "POST"])
@admin_required
def policy():
    """Show and change the tenant's factor policy (each change audited)."""
    row = current_policy()
    form = PolicyForm(data={"mode": row.mode, "admins_required": row.admins_required})
    if form.validate_on_submit():
        if set_policy(form.mode.data, bool(form.admins_required.data), current_user._get_current_object()):
            db.session.commit()
            flash("認証要素のポリシーを保存しました。", "success")
        else:
            flash("変更はありません。", "info")
        return redirect(url_for("strong_factors.policy"))
    enrolled, users = _enrolled()
    return render_template("strong_factors/policy.html", form=form, security_index=_security_index(),
                           product_factor=product_factor_label(current_user._get_current_object()),
                           enrolled=enrolled, users=users, holders=_users_with_factors()), 422 if form.errors else 200


def _users_with_factors() -> list[tuple[User, dict]]:
    summary = factor_summary(current_tenant().id)
    users = db.session.execute(sa.select(User).order_by(User.login_id)).scalars().all()
    return [(user, summary[user.id]) for user in users
            if user.id in summary and (summary[user.id]["passkeys"] or summary[user.id]["totp"])]


@bp.route("/admin/security/factors/users/<int:user_id>/reset", methods=["GET", "POST"])
@admin_required
def reset_user(user_id: int):
    """Remove every stronger factor of a user who lost them (after the confirmation page); the user is mailed."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    counts = factor_summary(current_tenant().id).get(user.id, {})
    if not confirmed():
        return confirmation("強い認証要素をリセットしますか？", target=[
            ("ログインID", user.login_id), ("氏名", user.name), ("パスキー", f"{counts.get('passkeys', 0)}個"),
            ("認証アプリ", "登録済み" if counts.get("totp") else "未登録")],
            consequences=["パスキー・認証アプリ・リカバリーコードをすべて削除します。",
                          "本人には、リセットしたことをメールでお知らせします。",
                          "ポリシーで必須の場合、本人は次のログインの直後に登録し直します。"],
            cancel_url=url_for("strong_factors.policy"), button="リセットする", testid="confirm-factor-reset")
    reset_factors(user, current_user._get_current_object())
    db.session.commit()
    flash(f"{user.login_id} の強い認証要素をリセットしました。", "success")
    return redirect(url_for("strong_factors.policy"))
