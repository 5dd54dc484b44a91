"""The IPアドレス制限 pages: settings (with the lock-out guard), the 15-minute undo button and the signed undo link."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app import audit
from app.auth.guards import admin_required
from app.auth.login import login_limit
from app.confirm import confirmation, confirmed
from app.extensions import db, limiter
from app.forms import ConfirmForm, require_confirm
from app.mailer import send_mail
from app.models import Tenant, User
from app.tenancy import current_tenant, set_current_tenant
from app.timeutil import format_jst
from app.urls import external_url

from . import bp, rules, service
from .forms import SettingsForm
from .models import SCOPE_LABELS, SCOPE_OFF

SHOWN_ERRORS = 30
EMPTY_LIST = "許可するIPアドレスを1件以上入力してください（制限しない場合は「制限しない」を選んでください）。"


def _page(form, status: int = 200):
    tenant = current_tenant()
    scope, entries = service.stored(tenant)
    address = request.remote_addr
    return render_template(
        "ip_restriction/settings.html", form=form, scope_label=SCOPE_LABELS.get(scope, scope), count=len(entries),
        address=address, in_list=rules.Matcher(e.network for e in entries).allows(rules.client_ip(address)),
        undo=service.latest_undo(tenant), confirm=ConfirmForm(), max_entries=rules.MAX_ENTRIES,
        has_security_index="security_center.index" in current_app.view_functions), status


def _show_errors(form, errors: list[str]) -> None:
    shown = errors[:SHOWN_ERRORS]
    if len(errors) > SHOWN_ERRORS:
        shown.append(f"ほか{len(errors) - SHOWN_ERRORS}件の誤りがあります。")
    form.entries.errors = shown


@bp.route("/admin/security/ip", methods=["GET", "POST"])
@admin_required
def settings():
    """The allow list and its scope; a change that would refuse the admin's own address asks first."""
    tenant = current_tenant()
    form = SettingsForm()
    if request.method == "GET":
        scope, entries = service.stored(tenant)
        form.scope.data = scope
        form.entries.data = rules.as_text(entries)
        return _page(form)
    if not form.validate_on_submit():
        return _page(form, 422)
    parsed = rules.parse(form.entries.data or "")
    if parsed.errors:
        _show_errors(form, parsed.errors)
        return _page(form, 422)
    if form.scope.data != SCOPE_OFF and not parsed.entries:
        form.entries.errors = [EMPTY_LIST]
        return _page(form, 422)
    user = current_user._get_current_object()
    address = request.remote_addr
    locks_out = service.would_refuse(form.scope.data, parsed.entries, tenant, user, address)
    if locks_out and not confirmed():
        return _lockout_confirmation(form, address, len(parsed.entries))
    token = service.save(tenant, user, form.scope.data, parsed.entries, locks_out)
    link = external_url("ip_restriction.undo_link", token=token)
    if locks_out and user.email:
        send_mail(user.email, "IPアドレス制限の変更を元に戻すリンク", "ip_restriction_undo", secret=True, user=user,
                  tenant=tenant, link=link, address=address, minutes=service.UNDO_MINUTES)
        audit.record("ip_restriction.undo_link_sent", target=f"user:{user.login_id}")
    db.session.commit()
    for notice in parsed.notices[:SHOWN_ERRORS]:
        flash(notice, "info")
    if locks_out:
        # This answer is the last page the admin sees from this address: it carries the undo link itself.
        return render_template("ip_restriction/locked_out.html", link=link, address=address,
                               minutes=service.UNDO_MINUTES, mailed=bool(user.email))
    flash(f"IPアドレス制限を保存しました（対象: {SCOPE_LABELS[form.scope.data]}、許可リスト {len(parsed.entries)}件）。"
          f"{service.UNDO_MINUTES}分間は「元に戻す」で変更前に戻せます。", "success")
    return redirect(url_for("ip_restriction.settings"))


def _lockout_confirmation(form, address: str | None, count: int):
    return confirmation(
        "この設定を保存すると、あなた自身がアクセスできなくなります。保存しますか？",
        target=[("あなたのIPアドレス", address or "不明"), ("制限の対象", SCOPE_LABELS[form.scope.data]),
                ("許可リスト", f"{count}件")],
        consequences=["保存した直後から、このIPアドレスからは画面を操作できなくなります（許可されたネットワークからは使えます）。",
                      f"保存後{service.UNDO_MINUTES}分間は、表示される（メールでも届く）「元に戻す」リンクで変更前の設定に戻せます。"
                      "リンクはこのアドレスからでも使えます。",
                      "それを過ぎると、許可されたネットワークから別の管理者が直すまでログインできません。"],
        cancel_url=url_for("ip_restriction.settings"), button="保存する", testid="confirm-ip-lockout",
        hidden=[("scope", form.scope.data), ("entries", form.entries.data or "")])


@bp.route("/admin/security/ip/undo", methods=["POST"])
@admin_required
def undo():
    """One button: put back the settings before the newest change (within 15 minutes, once)."""
    require_confirm()
    tenant = current_tenant()
    record = service.latest_undo(tenant)
    if record is not None and service.restore(tenant, record, current_user._get_current_object(), "button"):
        flash("IPアドレス制限を変更前の設定に戻しました。", "success")
    else:
        flash(f"元に戻せる変更はありません（{service.UNDO_MINUTES}分を過ぎたか、すでに戻しました）。", "warning")
    db.session.commit()
    return redirect(url_for("ip_restriction.settings"))


def _invalid_link():
    return render_template("ip_restriction/undo_invalid.html", minutes=service.UNDO_MINUTES), 404


@bp.route("/ip-restriction/undo/<token>", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def undo_link(token: str):
    """The signed, single-use undo link (15 minutes): works without a session, from a refused address too."""
    record = service.undo_by_token(token)
    if record is None:
        return _invalid_link()
    tenant = db.session.get(Tenant, record.tenant_id)
    if tenant is None or not tenant.can_log_in:
        return _invalid_link()
    if current_user.is_authenticated and current_user.tenant_id != tenant.id:
        return _invalid_link()  # a browser logged in to another tenant never works in this one's scope
    set_current_tenant(tenant)
    if not service.usable(record):  # a known link used again or too late: worth a line in the tenant's log
        audit.record("ip_restriction.undo", outcome="failure", target=f"tenant:{tenant.code}", via="link",
                     reason="used_or_expired")
        db.session.commit()
        return _invalid_link()
    actor = db.session.get(User, record.user_id) if record.user_id else None
    if not confirmed():
        return confirmation(
            "IPアドレス制限を変更前の設定に戻しますか？",
            target=[("会社", tenant.name), ("変更した日時", format_jst(record.created_at)),
                    ("このリンクの期限", format_jst(record.expires_at)), ("いまのIPアドレス", request.remote_addr)],
            consequences=[f"変更前の設定（制限の対象: {SCOPE_LABELS.get(record.previous_scope, record.previous_scope)}）に戻ります。",
                          "このリンクは一度だけ使えます。"],
            cancel_url=url_for("auth.login"), button="元に戻す", class_="primary", testid="confirm-ip-undo")
    if not service.restore(tenant, record, actor, "link"):
        db.session.commit()
        return _invalid_link()
    db.session.commit()
    return render_template("ip_restriction/undo_done.html")
