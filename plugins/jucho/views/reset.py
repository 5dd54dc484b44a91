"""パスワードをお忘れの方: ask for a link (same answer whether or not the account exists), then set a new password."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from app import audit
from app.accounts import new_password_errors, set_password
from app.auth.sessions import end_user_sessions
from app.extensions import db, limiter
from app.mailer import send_mail
from app.tenancy import set_current_tenant
from app.timeutil import utcnow

from .. import reset
from ..forms import ForgotForm, NewPasswordForm
from . import bp
from .login import login_limit


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def forgot_password():
    """Ask for a reset link; the answer never tells whether the account exists."""
    form = ForgotForm()
    if form.validate_on_submit():
        tenant = reset.find_jucho_tenant(form.company_code.data)
        user = reset.find_account(tenant, form.identifier.data) if tenant is not None else None
        if user is None:
            audit.record("jucho.reset.request", outcome="failure", tenant=tenant, actor_login="-",
                         target="user:(unknown)", reason="no_matching_account")
        else:
            set_current_tenant(tenant)
            if reset.too_many_links(user):  # the same answer, but no further mail to this account for now
                audit.record("jucho.reset.request", outcome="failure", tenant=tenant, actor=user,
                             target=f"user:{user.login_id}", reason="too_many_requests")
            else:
                reset.mail_reset_link(tenant, user)
                audit.record("jucho.reset.request", tenant=tenant, actor=user, target=f"user:{user.login_id}")
            set_current_tenant(None)
        db.session.commit()
        return redirect(url_for("jucho.forgot_password_sent"))
    return render_template("jucho/reset/forgot.html", form=form)


@bp.route("/password/forgot/sent")
def forgot_password_sent():
    """The one answer everybody gets."""
    return render_template("jucho/reset/sent.html")


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def reset_password(token: str):
    """Set a new password from a mailed link (30 minutes, once); all sessions end; a notice is mailed."""
    if len(token) > 500:
        abort(404)
    if current_user.is_authenticated:
        flash("ログイン中はパスワード再設定リンクを使えません。ログアウトしてから開くか、「パスワード変更」をご利用ください。",
              "warning")
        return redirect(url_for("main.dashboard"))
    target = reset.read_token(token)
    if target.reason:
        audit.record("jucho.reset.link", outcome="failure", tenant=target.tenant, actor=target.user,
                     actor_login="-", target=f"user:{target.user.login_id}" if target.user else "user:(unknown)",
                     reason=target.reason)
        db.session.commit()
        return render_template("jucho/reset/invalid.html", reason=target.reason), 410
    set_current_tenant(target.tenant)
    user = target.user
    form = NewPasswordForm()
    if form.validate_on_submit():
        if errors := new_password_errors(user, form.new_password.data):
            form.new_password.errors = errors
        else:
            set_password(user, form.new_password.data)
            ended = end_user_sessions(user, "password_reset", actor=user)
            audit.record("jucho.reset.complete", actor=user, target=f"user:{user.login_id}", sessions_ended=ended)
            send_mail(user.email, "パスワード再設定のお知らせ", "jucho/email/reset_done", user=user, tenant=target.tenant,
                      changed_at=utcnow())
            db.session.commit()
            flash("パスワードを再設定しました。新しいパスワードでログインしてください。", "success")
            return redirect(url_for("auth.login"))
    return render_template("jucho/reset/form.html", form=form, user=user, tenant=target.tenant)
