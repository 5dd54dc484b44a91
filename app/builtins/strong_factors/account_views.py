"""「強い認証要素」 for the logged-in user: the authenticator app, passkeys and recovery codes."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, logout_user

from app import audit
from app.extensions import db
from app.forms import ConfirmForm
from app.passwords import verify_password
from app.products import plugin_manager
from app.tenancy import current_tenant
from app.timeutil import format_jst

from . import authenticator, bp, passkeys, recovery, totp
from .forms import CodeForm, PasskeyForm, PasswordConfirmForm
from .models import MODE_BOTH, MODE_LABELS, Passkey
from .policy import current_policy, has_stronger_factor, has_totp, must_enrol
from .session_end import PASSKEY_REMOVED, RECOVERY_REPLACED, TOTP_REMOVED, end_factor_sessions, opened_with


def _user():
    return current_user._get_current_object()


def product_factor_label(user) -> str | None:
    """The label of the tenant's own second factor (e.g. 登録端末), for the explanations."""
    factor = plugin_manager().hook.second_factor(tenant=current_tenant(), user=user)
    return factor.label if factor is not None else None


def _index(passkey_form=None, status=200):
    user = _user()
    policy = current_policy()
    row = authenticator.credential(user)
    return render_template(
        "strong_factors/index.html", totp=row, totp_active=row is not None and row.confirmed_at is not None,
        passkeys=passkeys.user_passkeys(user), passkey_form=passkey_form or PasskeyForm(),
        has_factor=has_stronger_factor(user), recovery_left=recovery.left(user), required=must_enrol(policy, user),
        mode_label=MODE_LABELS[policy.mode], product_factor=product_factor_label(user)), status


@bp.route("/account/factors")
@login_required
def index():
    """The user's stronger factors and what the tenant's policy asks for."""
    return _index()


def _issue_recovery_codes(message: str):
    codes = recovery.regenerate(_user())
    db.session.commit()
    return render_template("strong_factors/recovery_codes.html", codes=codes, message=message)


def _first_factor_done(had_factor: bool, message: str):
    """After a factor was registered: show new recovery codes when it was the user's first one."""
    if not had_factor:
        return _issue_recovery_codes(message)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("strong_factors.index"))


def _issuer() -> str:
    tenant = current_tenant()
    return f"kanri ({tenant.code})" if tenant is not None else "kanri"


def _setup_page(row, form, status=200):
    secret = str(row.secret)
    uri = totp.provisioning_uri(secret, _user().login_id, _issuer())
    return render_template("strong_factors/totp_setup.html", qr=totp.qr_data_uri(uri), secret_groups=totp.grouped(secret),
                           form=form), status


@bp.route("/account/factors/totp", methods=["GET", "POST"])
@login_required
def totp_setup():
    """Register an authenticator app: GET explains, POST makes a new secret and shows its QR code and key once."""
    user = _user()
    if has_totp(user):
        flash("認証アプリは登録済みです。登録し直す場合は、いったん削除してください。", "info")
        return redirect(url_for("strong_factors.index"))
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        row = authenticator.start(user)
        db.session.commit()
        return _setup_page(row, CodeForm(formdata=None))
    return render_template("strong_factors/totp_start.html", form=form), 400 if form.errors else 200


@bp.route("/account/factors/totp/confirm", methods=["POST"])
@login_required
def totp_confirm():
    """Activate the new secret once a code from the app is typed (a wrong code shows the same QR code again)."""
    user = _user()
    row = authenticator.credential(user)
    if row is None or row.confirmed_at is not None:
        return redirect(url_for("strong_factors.index"))
    form = CodeForm()
    if form.validate_on_submit():
        if not totp.is_well_formed(form.code.data):
            form.code.errors = ["認証アプリに表示された6桁の数字を入力してください。"]
        else:
            had_factor = has_stronger_factor(user)
            if authenticator.confirm(user, form.code.data):
                return _first_factor_done(had_factor, "認証アプリを登録しました。")
            db.session.commit()
            form.code.errors = ["コードが正しくありません。アプリの時刻が合っているか確認し、新しいコードを入力してください。"]
    return _setup_page(row, form, 422)


def _password_confirmation(title: str, target, consequences, button: str, testid: str, form=None, status=200):
    return render_template("strong_factors/confirm_password.html", title=title, target=target,
                           consequences=consequences, button=button, class_="danger", testid=testid,
                           form=form or PasswordConfirmForm(formdata=None)), status


def _password_ok(form: PasswordConfirmForm, action: str) -> bool:
    """True when the confirmation was posted with the right password (a wrong one is audited)."""
    if request.method != "POST" or request.form.get("confirmed") != "yes" or not form.validate_on_submit():
        return False
    user = _user()
    if verify_password(form.password.data, user.password_hash):
        return True
    audit.record(action, outcome="failure", target=f"user:{user.login_id}", reason="bad_current_password")
    db.session.commit()
    form.password.errors = ["パスワードが正しくありません。"]
    return False


def _after_removal(user, message: str, own_session_ended: str | None = None):
    """Commit a removal; when it ended the remover's own session too, log out and say so on the login page."""
    if not has_stronger_factor(user):
        recovery.remove_all(user)
        end_factor_sessions(user, RECOVERY_REPLACED, ("recovery",), keep=user.current_session)
    db.session.commit()
    if own_session_ended:
        logout_user()
        session.clear()
        flash(f"{message}{own_session_ended}でログインしていたため、ログアウトしました。もう一度ログインしてください。",
              "warning")
        return redirect(url_for("auth.login"))
    flash(message, "success")
    return redirect(url_for("strong_factors.index"))


def _removal_consequences(user, removing_last: bool) -> list[str]:
    lines = ["次回のログインからは使えなくなります。"]
    if removing_last:
        lines.append("強い認証要素がなくなるため、リカバリーコードも無効になります。")
        if must_enrol_after(user):
            lines.append("管理者の設定により、削除後すぐに別の強い認証要素の登録が必要になります。")
    return lines


def must_enrol_after(user) -> bool:
    """True when the policy would require this user to register again once the last factor is gone."""
    policy = current_policy()
    return policy.mode == MODE_BOTH or (policy.admins_required and user.is_admin)


@bp.route("/account/factors/totp/remove", methods=["GET", "POST"])
@login_required
def totp_remove():
    """Remove the authenticator app after the confirmation page (current password required)."""
    user = _user()
    row = authenticator.credential(user)
    if row is None or row.confirmed_at is None:
        abort(404)
    form = PasswordConfirmForm()
    if _password_ok(form, "strong_factors.totp_removed"):
        authenticator.remove(user)
        own = opened_with(user.current_session, "totp")
        end_factor_sessions(user, TOTP_REMOVED, ("totp",))
        db.session.flush()
        return _after_removal(user, "認証アプリを削除しました。", "この認証アプリ" if own else None)
    last = passkeys.user_passkeys(user) == []
    return _password_confirmation("認証アプリを削除しますか？", [("登録日時", format_jst(row.confirmed_at))],
                                  _removal_consequences(user, last), "削除する", "confirm-totp-remove", form,
                                  422 if form.errors else 200)


@bp.route("/account/factors/recovery", methods=["GET", "POST"])
@login_required
def recovery_codes():
    """Issue ten new recovery codes (the old ones stop working) after the confirmation page with the password."""
    user = _user()
    if not has_stronger_factor(user):
        flash("リカバリーコードは、強い認証要素を登録すると発行されます。", "info")
        return redirect(url_for("strong_factors.index"))
    form = PasswordConfirmForm()
    if _password_ok(form, "strong_factors.recovery_issued"):
        end_factor_sessions(user, RECOVERY_REPLACED, ("recovery",), keep=user.current_session)
        return _issue_recovery_codes("リカバリーコードを再発行しました。以前のコードは使えません。")
    return _password_confirmation("リカバリーコードを再発行しますか？", [("残りのコード", f"{recovery.left(user)}個")],
                                  ["いまのリカバリーコードはすべて使えなくなります。", "新しい10個のコードを一度だけ表示します。"],
                                  "再発行する", "confirm-recovery", form, 422 if form.errors else 200)


@bp.route("/account/factors/passkeys/options", methods=["POST"])
@login_required
def passkey_options():
    """The WebAuthn creation options for this user (JSON); the challenge is kept for the next POST."""
    require_form_csrf()
    return current_app.response_class(passkeys.registration_options(_user()), mimetype="application/json")


def require_form_csrf() -> None:
    """Check the CSRF token of a script's POST (a ConfirmForm-shaped body); 400 when it is wrong."""
    from app.forms import require_confirm

    require_confirm()


@bp.route("/account/factors/passkeys", methods=["POST"])
@login_required
def passkey_register():
    """Store a new passkey from the browser's registration response under the name typed."""
    user = _user()
    form = PasskeyForm()
    if not form.validate_on_submit():
        return _index(form, 422)
    if not form.response.data:
        form.name.errors = ["このブラウザでパスキーを作成できませんでした（JavaScript を有効にしてください）。"]
        return _index(form, 422)
    had_factor = has_stronger_factor(user)
    try:
        passkeys.register(user, form.name.data, form.response.data)
    except passkeys.PasskeyError as exc:
        db.session.commit()  # the failure's audit record
        form.name.errors = [exc.message]
        return _index(form, 422)
    return _first_factor_done(had_factor, f"パスキー「{form.name.data}」を登録しました。")


@bp.route("/account/factors/passkeys/<int:passkey_id>/remove", methods=["GET", "POST"])
@login_required
def passkey_remove(passkey_id: int):
    """Remove one of the user's passkeys after the confirmation page (another user's id answers 404)."""
    user = _user()
    key = db.session.get(Passkey, passkey_id)
    if key is None or key.user_id != user.id:
        abort(404)
    form = PasswordConfirmForm()
    if _password_ok(form, "strong_factors.passkey_removed"):
        key_id, name = key.id, key.name
        passkeys.remove(user, key)
        own = opened_with(user.current_session, "passkey", key_id)
        end_factor_sessions(user, PASSKEY_REMOVED, ("passkey",), key_id, keep=None if own else user.current_session)
        db.session.flush()
        return _after_removal(user, f"パスキー「{name}」を削除しました。", "このパスキー" if own else None)
    last = len(passkeys.user_passkeys(user)) == 1 and not has_totp(user)
    return _password_confirmation("パスキーを削除しますか？", [("名前", key.name), ("登録日時", format_jst(key.created_at))],
                                  _removal_consequences(user, last), "削除する", "confirm-passkey-remove", form,
                                  422 if form.errors else 200)
