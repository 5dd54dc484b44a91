"""The second-factor screens: enter the e-mailed code, or ask for it again."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.auth.factors import complete_login, pending_login, restart_login
from app.auth.login import login_limit
from app.extensions import limiter

from .. import emailcode
from ..forms import CodeForm, ResendForm
from . import bp

EXPIRED = "ログインの有効期限が切れました。もう一度ログインしてください。"


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def login_code():
    """Show where the code went and check the code the user types."""
    pending = pending_login(emailcode.FACTOR)
    if pending is None:
        return restart_login(EXPIRED)
    form = CodeForm()
    if request.method == "GET" and emailcode.active_code(pending) is None:
        outcome = emailcode.send_code(pending)
        if outcome.error:
            flash(outcome.error, "error")
        if outcome.restart:
            return redirect(url_for("auth.login"))
    if form.validate_on_submit():
        if not emailcode.is_well_formed(form.code.data):
            form.code.errors = ["メールに記載された6桁の数字を入力してください。"]
        else:
            result = emailcode.check_code(pending, form.code.data)
            if result.ok:
                return complete_login(pending, emailcode.FACTOR.name)
            if result.restart:
                flash(result.message, "error")
                return redirect(url_for("auth.login"))
            form.code.errors = [result.message]
    return render_template("jucho/login/code.html", form=form, resend_form=ResendForm(),
                           masked_email=emailcode.mask_email(pending.user.email))


@bp.route("/login/code/resend", methods=["POST"])
@limiter.limit(login_limit)
def resend_code():
    """Mail a new code (at most once a minute); the previous code stops working."""
    pending = pending_login(emailcode.FACTOR)
    if pending is None:
        return restart_login(EXPIRED)
    form = ResendForm()
    if not form.validate_on_submit():
        flash("画面を再読み込みしてからお試しください。", "error")
        return redirect(url_for("jucho.login_code"))
    outcome = emailcode.send_code(pending, resend=True)
    if outcome.sent:
        flash("新しい認証コードを送信しました。以前のコードは使えなくなりました。", "success")
    elif outcome.error:
        flash(outcome.error, "error")
        if outcome.restart:
            return redirect(url_for("auth.login"))
    else:
        flash(f"コードの再送は1分に1回までです。あと{outcome.wait_seconds}秒お待ちください。", "warning")
    return redirect(url_for("jucho.login_code"))
