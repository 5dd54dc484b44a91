"""Login, logout, password change and the user's own sessions."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, logout_user

from .. import audit
from ..accounts import new_password_errors, set_password
from ..confirm import confirmation, confirmed
from ..extensions import db, limiter
from ..forms import ConfirmForm, require_confirm
from ..mailer import send_mail
from ..models import UserSession
from ..passwords import verify_password
from ..products import audit_action_labels, login_links
from ..security import is_safe_next
from ..timeutil import format_jst, utcnow
from . import bp
from .factors import start_pending_login
from .forms import LoginForm, PasswordChangeForm
from .login import check_password_step, login_limit
from .sessions import end_session, end_user_sessions, open_sessions


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def login():
    """Step one: 会社コード + ログインID + パスワード."""
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    if request.method == "GET":
        wanted = request.args.get("next", "")
        form.next.data = wanted if is_safe_next(wanted) else ""
    if form.validate_on_submit():
        result = check_password_step(form.company_code.data, form.login_id.data, form.password.data)
        if result.user is not None:
            next_url = form.next.data if is_safe_next(form.next.data) else None
            start_pending_login(result.user, result.factor, next_url)
            return redirect(url_for(result.factor.endpoint))
        form.password.errors = [result.message]
    return render_template("auth/login.html", form=form, links=login_links())


@bp.route("/logout", methods=["POST"])
def logout():
    """End the server-side session and forget the browser's session."""
    require_confirm()
    if current_user.is_authenticated:
        record = current_user.current_session
        end_session(record, "logout", actor=current_user)
        audit.record("logout", actor=current_user, target=f"user:{current_user.login_id}")
        db.session.commit()
        logout_user()
    session.clear()
    flash("ログアウトしました。", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change the password: the current one is required; other sessions end; a notice is mailed."""
    form = PasswordChangeForm()
    user = current_user._get_current_object()
    if form.validate_on_submit():
        if not verify_password(form.current_password.data, user.password_hash):
            form.current_password.errors = ["現在のパスワードが正しくありません。"]
            audit.record("password.change", outcome="failure", target=f"user:{user.login_id}",
                         reason="bad_current_password")
            db.session.commit()
        elif errors := new_password_errors(user, form.new_password.data):
            form.new_password.errors = errors
        else:
            set_password(user, form.new_password.data)
            ended = end_user_sessions(user, "password_changed", keep=user.current_session, actor=user)
            audit.record("password.change", target=f"user:{user.login_id}", other_sessions_ended=ended)
            _notify_password_changed(user)  # queued in this transaction: it goes out once this commits
            db.session.commit()
            flash("パスワードを変更しました。他の端末のセッションは終了しました。", "success")
            return redirect(url_for("main.dashboard"))
    forced = user.must_change_password
    return render_template("auth/change_password.html", form=form, forced=forced)


def _notify_password_changed(user) -> None:
    if not user.email:
        return
    send_mail(user.email, "パスワード変更のお知らせ", "password_changed", user=user, tenant=user.tenant,
              changed_at=utcnow())


@bp.route("/account/sessions")
@login_required
def sessions():
    """List the user's open sessions."""
    return render_template("auth/sessions.html", sessions=open_sessions(current_user), form=ConfirmForm(),
                           current=current_user.current_session)


@bp.route("/account/login-history")
@login_required
def login_history():
    """The user's own sign-ins: when, result, IP address and browser (newest 50)."""
    return render_template("auth/login_history.html", events=audit.login_history(current_user),
                           labels=audit_action_labels(), reasons=audit.FAILURE_REASONS, details=audit.details_of)


@bp.route("/account/sessions/<int:session_id>/end", methods=["GET", "POST"])
@login_required
def end_one_session(session_id: int):
    """End one of the user's own sessions after the confirmation page (another user's id answers 404)."""
    record = db.session.get(UserSession, session_id)
    if record is None or record.user_id != current_user.id or not record.is_open:
        abort(404)
    this_one = record.id == current_user.current_session.id
    if not confirmed():
        consequences = ["そのブラウザはログアウトし、続けるにはもう一度ログインが必要になります。"]
        if this_one:
            consequences.append("いま使っているこのブラウザのセッションです。終了すると、ここでもログアウトします。")
        return confirmation("セッションを終了しますか？", target=[
            ("ログイン日時", format_jst(record.created_at)), ("最終操作", format_jst(record.last_seen_at)),
            ("IPアドレス", record.ip), ("ブラウザ", record.user_agent)], consequences=consequences,
            cancel_url=url_for("auth.sessions"), button="終了する", testid="confirm-end-session")
    end_session(record, "ended_by_user", actor=current_user)
    db.session.commit()
    if this_one:
        logout_user()
        flash("このセッションを終了しました。", "info")
        return redirect(url_for("auth.login"))
    flash("セッションを終了しました。", "success")
    return redirect(url_for("auth.sessions"))


@bp.route("/account/sessions/end-others", methods=["GET", "POST"])
@login_required
def end_other_sessions():
    """End every session of the user but this one, after the confirmation page."""
    if not confirmed():
        others = len(open_sessions(current_user)) - 1
        return confirmation("この端末以外のセッションをすべて終了しますか？", target=[
            ("ユーザー", current_user.login_id), ("終了するセッション", f"{max(others, 0)}件")],
            consequences=["このブラウザ以外でログイン中の画面はすべてログアウトします。",
                          "このブラウザはログインしたままです。"],
            cancel_url=url_for("auth.sessions"), button="すべて終了する", testid="confirm-end-others")
    count = end_user_sessions(current_user, "ended_by_user", keep=current_user.current_session, actor=current_user)
    db.session.commit()
    flash(f"他のセッションを{count}件終了しました。", "success")
    return redirect(url_for("auth.sessions"))
