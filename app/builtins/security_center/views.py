"""「セキュリティ設定」 pages: the index, the password and session policy forms, the セキュリティ状況 and its CSV."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app import audit
from app.auth.guards import admin_required
from app.csv_export import csv_response
from app.extensions import db
from app.passwords import MAX_LENGTH, MIN_LENGTH
from app.tenancy import current_tenant

from . import bp, overview, policy
from .forms import PasswordPolicyForm, SessionPolicyForm

# Sections the other parts of the security settings add; linked only when their endpoint exists.
OPTIONAL_SECTIONS = (("ip_restriction.settings", "IP制限", "ログインと利用を許可するIPアドレスを限定します。"),
                     ("strong_factors.policy", "認証要素", "パスキー・認証アプリ（TOTP）などの追加の認証要素を設定します。"))


@bp.route("/admin/security")
@admin_required
def index():
    """The tenant's security settings at a glance, with links to each section."""
    sections = [(url_for(endpoint), label, text) for endpoint, label, text in OPTIONAL_SECTIONS
                if endpoint in current_app.view_functions]
    return render_template("security_center/index.html", policy=policy.policy_of(current_tenant()),
                           baseline=policy.baseline(), sections=sections, max_length=MAX_LENGTH,
                           user_word=overview.user_word(current_tenant()))


def _policy_page(form, current: dict, save, saved: str, template: str, **context):
    """A policy form: shown with the tenant's values; a valid POST saves (audited), commits and goes back to the
    index; an invalid one is shown again with its messages (400)."""
    if request.method == "GET":
        for name, value in current.items():
            form[name].data = value
    if form.validate_on_submit():
        if save(form):
            db.session.commit()
            flash(saved, "success")
        else:
            flash("変更はありませんでした。", "info")
        return redirect(url_for("security_center.index"))
    return render_template(template, form=form, **context), 400 if request.method == "POST" else 200


@bp.route("/admin/security/password", methods=["GET", "POST"])
@admin_required
def password_policy():
    """Change the minimum password length and the password history count."""
    tenant = current_tenant()
    current = policy.policy_of(tenant)
    return _policy_page(
        PasswordPolicyForm(), {"min_length": current.password_min_length, "history": current.password_history},
        lambda form: policy.save_password_policy(tenant, form.min_length.data, form.history.data, actor=current_user),
        "パスワードのルールを保存しました。", "security_center/password.html",
        floor=MIN_LENGTH, max_min_length=policy.MAX_MIN_LENGTH, max_history=policy.MAX_HISTORY)


@bp.route("/admin/security/session", methods=["GET", "POST"])
@admin_required
def session_policy():
    """Change the idle and absolute session timeouts (never longer than the baseline's)."""
    tenant = current_tenant()
    current = policy.policy_of(tenant)
    return _policy_page(
        SessionPolicyForm(),
        {"idle_minutes": current.idle_timeout_minutes, "absolute_hours": current.absolute_timeout_hours},
        lambda form: policy.save_session_policy(tenant, form.idle_minutes.data, form.absolute_hours.data,
                                                actor=current_user),
        "セッションのルールを保存しました。ログイン中のセッションにもすぐに適用されます。", "security_center/session.html",
        baseline=policy.baseline(), min_idle=policy.MIN_IDLE_MINUTES, min_absolute=policy.MIN_ABSOLUTE_HOURS)


@bp.route("/admin/security/overview")
@admin_required
def overview_page():
    """セキュリティ状況: admins, locked and suspended users, last sign-ins, failed logins by IP, the settings."""
    tenant = current_tenant()
    return render_template("security_center/overview.html", view=overview.build(tenant),
                           policy=policy.policy_of(tenant), days=overview.FAILURE_DAYS)


def csv_rows(view: overview.Overview, current: policy.Policy) -> list[list]:
    """The CSV body: one row per user, then the failed logins by IP and the settings as two short sections."""
    rows = [[row.user.login_id, row.user.name, row.user.role_label, row.state, row.last_login_at,
             row.last_login_ip or "", *[row.facts.get(label, "") for label in view.fact_labels]] for row in view.rows]
    rows += [[], [f"ログイン失敗（過去{overview.FAILURE_DAYS}日・IPアドレス別）", "件数", "最後の失敗"]]
    rows += [[ip, count, newest] for ip, count, newest in view.failures]
    rows += [[], ["設定", "値"], ["パスワードの最小文字数", current.password_min_length],
             ["過去のパスワードの再使用禁止（回数）", current.password_history],
             ["無操作でログアウトするまで（分）", current.idle_timeout_minutes],
             ["ログインの有効時間の上限（時間）", current.absolute_timeout_hours]]
    return rows


@bp.route("/admin/security/overview.csv")
@admin_required
def overview_csv():
    """The セキュリティ状況 as CSV (UTF-8 with BOM, JST, formula-safe); recorded as security.overview.export."""
    tenant = current_tenant()
    view = overview.build(tenant)
    rows = csv_rows(view, policy.policy_of(tenant))
    audit.record("security.overview.export", target=f"tenant:{tenant.code}", users=len(view.rows))
    db.session.commit()
    header = ["ログインID", "氏名", "権限", "状態", "最終ログイン", "最終ログインIP", *view.fact_labels]
    return csv_response(f"security_{tenant.code}", f"セキュリティ状況_{tenant.code}", header, rows, lambda row: row)
