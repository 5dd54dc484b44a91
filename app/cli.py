"""Operator commands under ``flask``: tenants, users, demo, keys, audit and mail."""
from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import click
import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy.orm.attributes import flag_modified

from . import audit
from .accounts import LOGIN_ID_PATTERN, create_user, unlock
from .crypto import EncryptedText, Keyset, save_keyset
from .extensions import db
from .models import ROLE_ADMIN, ROLE_GENERAL, STATUS_ACTIVE, STATUS_SUSPENDED, Tenant, User
from .passwords import generate_temporary_password
from .products import all_products, plugin_manager
from .tenancy import TenantScoped, tenant_scope
from .timeutil import format_jst, jst_today, utcnow

TENANT_CODE_PATTERN = r"^[a-z0-9][a-z0-9-]{2,31}$"

tenant_cli = AppGroup("tenant", help="テナント（契約）の作成・一覧・停止・再開")
user_cli = AppGroup("user", help="ユーザーの操作")
keys_cli = AppGroup("keys", help="暗号鍵の操作")
audit_cli = AppGroup("audit", help="監査ログの操作")
mail_cli = AppGroup("mail", help="メール送信キュー（outbox）の操作")


def tenant_or_fail(code: str) -> Tenant:
    """Return the tenant with this company code, or stop the command with exit status 2."""
    tenant = Tenant.by_code(code)
    if tenant is None:
        raise click.UsageError(f"会社コード {code!r} のテナントはありません。")
    return tenant


def user_or_fail(tenant: Tenant, login_id: str) -> User:
    """Return the user of the current tenant with this login id, or stop with exit status 2."""
    user = db.session.execute(sa.select(User).where(User.login_id == login_id)).scalar_one_or_none()
    if user is None:
        raise click.UsageError(f"ログインID {login_id!r} のユーザーは {tenant.code} にありません。")
    return user


def _checked_email(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise click.UsageError(f"メールアドレス {value!r} が正しくありません。") from exc


@tenant_cli.command("create")
@click.option("--code", required=True, help="会社コード（英小文字・数字・ハイフン 3〜32文字）")
@click.option("--name", required=True, help="会社名")
@click.option("--product", required=True, help="製品コード（mama, jucho など）")
@click.option("--contract-end", required=True, help="契約終了日（JST, YYYY-MM-DD）")
@click.option("--contract-start", default=None, help="契約開始日（JST, YYYY-MM-DD; 既定は今日）")
@click.option("--admin-login", required=True, help="最初の管理者のログインID")
@click.option("--admin-email", required=True, help="最初の管理者のメールアドレス")
@click.option("--admin-name", default="管理者", show_default=True, help="最初の管理者の氏名")
def tenant_create(code, name, product, contract_end, contract_start, admin_login, admin_email, admin_name):
    """Create a tenant and its first admin; prints the admin's temporary password once."""
    tenant, admin, password, lines = create_tenant(
        code=code, name=name, product=product, contract_end=contract_end, contract_start=contract_start,
        admin_login=admin_login, admin_email=admin_email, admin_name=admin_name)
    click.echo(f"テナントを作成しました: {tenant.code}（{tenant.name} / {tenant.product}）契約終了日 {tenant.contract_end}")
    click.echo(f"管理者ログインID: {admin.login_id}")
    click.echo(f"仮パスワード（この一度だけ表示します。72時間有効・初回ログイン時に変更）: {password}")
    for line in lines:
        click.echo(line)


def _parse_date(value: str | None, label: str, default: date | None = None) -> date:
    if not value:
        if default is None:
            raise click.UsageError(f"{label}を YYYY-MM-DD で指定してください。")
        return default
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.UsageError(f"{label} {value!r} は YYYY-MM-DD 形式の日付ではありません。") from exc


def create_tenant(*, code, name, product, contract_end, contract_start=None, admin_login, admin_email,
                  admin_name="管理者", admin_password=None):
    """Validate everything, then create the tenant, its admin and run tenant_created hooks."""
    code = code.strip().lower()
    if not re.match(TENANT_CODE_PATTERN, code):
        raise click.UsageError("会社コードは英小文字・数字・ハイフンで3〜32文字にしてください。")
    if db.session.execute(sa.select(Tenant.id).where(Tenant.code == code)).first():
        raise click.UsageError(f"会社コード {code!r} は既に使われています。")
    if not name.strip():
        raise click.UsageError("会社名を指定してください。")
    products = all_products()
    if product not in products:
        raise click.UsageError(f"製品 {product!r} はありません。利用できる製品: {', '.join(sorted(products))}")
    start = _parse_date(contract_start, "契約開始日", default=jst_today())
    end = _parse_date(contract_end, "契約終了日")
    if end < start:
        raise click.UsageError("契約終了日は契約開始日より後にしてください。")
    if end < jst_today():
        raise click.UsageError("契約終了日が過去の日付です。")
    if not re.match(LOGIN_ID_PATTERN, admin_login):
        raise click.UsageError("ログインIDは英数字と . _ @ - で3〜64文字にしてください。")
    email = _checked_email(admin_email)
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


@tenant_cli.command("list")
def tenant_list():
    """List every tenant with product, status and contract end."""
    tenants = db.session.execute(sa.select(Tenant).order_by(Tenant.code)).scalars().all()
    if not tenants:
        click.echo("テナントはありません。")
        return
    click.echo(f"{'会社コード':<20}{'製品':<8}{'状態':<10}{'契約終了日':<12}会社名")
    for t in tenants:
        state = "契約終了" if t.contract_over else ("有効" if t.status == STATUS_ACTIVE else "停止")
        click.echo(f"{t.code:<24}{t.product:<10}{state:<10}{t.contract_end.isoformat():<15}{t.name}")


def _set_tenant_status(code: str, status: str, action: str) -> Tenant:
    tenant = tenant_or_fail(code)
    before = tenant.status
    tenant.status = status
    with tenant_scope(tenant):
        audit.record(action, tenant=tenant, actor_login="operator", target=f"tenant:{tenant.code}",
                     before={"status": before}, after={"status": status})
    db.session.commit()
    return tenant


@tenant_cli.command("suspend")
@click.argument("code")
def tenant_suspend(code):
    """Suspend a tenant: its users can no longer log in and live sessions stop working."""
    tenant = _set_tenant_status(code, STATUS_SUSPENDED, "tenant.suspend")
    click.echo(f"テナント {tenant.code} を停止しました。")


@tenant_cli.command("resume")
@click.argument("code")
def tenant_resume(code):
    """Resume a suspended tenant."""
    tenant = _set_tenant_status(code, STATUS_ACTIVE, "tenant.resume")
    click.echo(f"テナント {tenant.code} を再開しました。")


@user_cli.command("unlock")
@click.option("--tenant", "tenant_code", required=True, help="会社コード")
@click.option("--login", "login_id", required=True, help="ログインID")
def user_unlock(tenant_code, login_id):
    """Lift a user's lockout."""
    tenant = tenant_or_fail(tenant_code)
    with tenant_scope(tenant):
        unlock(user_or_fail(tenant, login_id), actor=None)
        db.session.commit()
    click.echo(f"{tenant.code} / {login_id} のロックを解除しました。")


DEMO_TENANTS = (
    ("demo-mama", "デモ管理株式会社（MAMA）", "mama"),
    ("demo-jucho", "デモ不動産管理株式会社（重調）", "jucho"),
)


@click.command("demo")
@with_appcontext  # a plain click command added to app.cli gets no app context by itself
def demo():
    """Seed one demo tenant per product with an admin and a general user; print the logins once."""
    products = all_products()
    for code, name, product in DEMO_TENANTS:
        if product not in products:
            click.echo(f"製品 {product} のプラグインが無効なため {code} は作成しません。")
            continue
        if db.session.execute(sa.select(Tenant.id).where(Tenant.code == code)).first():
            click.echo(f"{code}: 作成済みです（ログイン情報は作成時に表示しました。やり直すには instance/ を削除）。")
            continue
        admin_password = generate_temporary_password(20)
        user_password = generate_temporary_password(20)
        tenant, admin, _, lines = create_tenant(
            code=code, name=name, product=product, contract_end=(jst_today() + timedelta(days=365)).isoformat(),
            admin_login="admin", admin_email=f"admin@{code}.example.jp", admin_name="管理 太郎",
            admin_password=admin_password)
        with tenant_scope(tenant):
            create_user(tenant, "staff", "一般 花子", f"staff@{code}.example.jp", role=ROLE_GENERAL,
                        password=user_password)
            db.session.commit()
        click.echo("=" * 64)
        click.echo(f"{name}  会社コード: {code}")
        click.echo(f"  管理者  ログインID: admin  パスワード: {admin_password}")
        click.echo(f"  一般    ログインID: staff  パスワード: {user_password}")
        for line in lines:
            click.echo(f"  {line}")
    click.echo("=" * 64)


def encrypted_models() -> list[tuple[type, list[str]]]:
    """Return every tenant-scoped model with its encrypted attribute names."""
    found = []
    for mapper in db.Model.registry.mappers:
        cls = mapper.class_
        if not issubclass(cls, TenantScoped):
            continue
        attrs = [prop.key for prop in mapper.column_attrs
                 if any(isinstance(col.type, EncryptedText) for col in prop.columns)]
        if attrs:
            found.append((cls, attrs))
    return sorted(found, key=lambda item: item[0].__tablename__)


def reencrypt_all(batch_size: int = 200) -> int:
    """Re-encrypt every encrypted column of every tenant under the primary key; returns rows done."""
    tenant_ids = db.session.execute(sa.select(Tenant.id).order_by(Tenant.id)).scalars().all()
    models = encrypted_models()
    total = 0
    for tenant_id in tenant_ids:
        with tenant_scope(db.session.get(Tenant, tenant_id)):
            for cls, _ in models:
                total += db.session.execute(sa.select(sa.func.count()).select_from(cls)).scalar_one()
    done = 0
    with click.progressbar(length=total, label="再暗号化", show_pos=True) as bar:
        for tenant_id in tenant_ids:
            with tenant_scope(db.session.get(Tenant, tenant_id)):
                for cls, attrs in models:
                    last_id = 0
                    while True:
                        rows = db.session.execute(
                            sa.select(cls).where(cls.id > last_id).order_by(cls.id).limit(batch_size)
                        ).scalars().all()
                        if not rows:
                            break
                        for row in rows:
                            for attr in attrs:
                                flag_modified(row, attr)
                        db.session.commit()
                        last_id = rows[-1].id
                        done += len(rows)
                        bar.update(len(rows))
                        db.session.expunge_all()
    return done


@keys_cli.command("rotate")
def keys_rotate():
    """Add a new primary AEAD key, then re-encrypt every encrypted column (old keys still decrypt)."""
    config = current_app.config
    if config.get("KANRI_KEYSET"):
        raise click.UsageError("鍵セットが環境変数 KANRI_KEYSET で与えられています。"
                               "ローテーションには KANRI_KEYSET_FILE を使ってください。")
    path = Path(config["KANRI_KEYSET_FILE"])
    current: Keyset = current_app.extensions["kanri_keyset"]
    new = current.rotated()
    save_keyset(path, new)
    current_app.extensions["kanri_keyset"] = new
    audit.record("keys.rotate", actor_login="operator", target="keyset", new_primary=new.primary)
    db.session.commit()
    click.echo(f"新しい主鍵 {new.primary} を追加しました（旧鍵 {', '.join(k for k in new.keys if k != new.primary)} は復号用に保持）。")
    count = reencrypt_all()
    click.echo(f"{count} 行を新しい主鍵で再暗号化しました。")


@keys_cli.command("reencrypt")
def keys_reencrypt():
    """Re-encrypt every encrypted column under the current primary key."""
    count = reencrypt_all()
    click.echo(f"{count} 行を再暗号化しました。")


@audit_cli.command("verify")
@click.option("--tenant", "tenant_code", default=None, help="会社コード（省略時はすべて）")
def audit_verify(tenant_code):
    """Recompute the audit hash chain(s) and name the first broken link."""
    chain_id = tenant_or_fail(tenant_code).id if tenant_code else None
    checked, broken = audit.verify(chain_id)
    if broken is None:
        click.echo(f"OK: 監査ログ {checked} 件のハッシュチェーンは正常です。")
        return
    code = "system"
    if broken.chain_id:
        tenant = db.session.get(Tenant, broken.chain_id)
        code = tenant.code if tenant else str(broken.chain_id)
    click.echo(f"NG: テナント {code} の seq {broken.seq}（event id {broken.event_id}）でチェーンが壊れています: "
               f"{broken.reason}（それ以前の {checked} 件は正常）", err=True)
    raise SystemExit(1)


@mail_cli.command("status")
@click.option("--errors", "error_count", default=10, show_default=True, help="表示する直近のエラー件数")
def mail_status(error_count):
    """Queued / sending / sent / failed counts and the latest errors (no addresses or bodies)."""
    from .mailer import MailOutbox

    counts = dict(db.session.execute(sa.select(MailOutbox.status, sa.func.count()).group_by(MailOutbox.status)).all())
    click.echo("  ".join(f"{status}: {counts.get(status, 0)}" for status in ("queued", "sending", "sent", "failed")))
    oldest = db.session.execute(sa.select(sa.func.min(MailOutbox.created_at))
                                .where(MailOutbox.status.in_(("queued", "sending")))).scalar_one()
    if oldest is not None:
        click.echo(f"未送信で最も古いもの: {format_jst(oldest, seconds=True)}")
    rows = db.session.execute(
        sa.select(MailOutbox).where(MailOutbox.last_error.is_not(None), MailOutbox.status != "sent")
        .order_by(MailOutbox.id.desc()).limit(error_count)).scalars().all()
    if rows:
        click.echo("直近のエラー:")
    for row in rows:
        retry = f" 次回 {format_jst(row.next_attempt_at, seconds=True)}" if row.status == "queued" else ""
        click.echo(f"  #{row.id} {row.status} 試行 {row.attempts} 回{retry} {row.subject}: {row.last_error}")


@mail_cli.command("retry")
@click.argument("mail_id", required=False, type=int)
@click.option("--failed", "all_failed", is_flag=True, help="失敗したメールをすべて再送キューに戻す")
def mail_retry(mail_id, all_failed):
    """Put a failed (or waiting) mail back in the queue, due now, with a fresh set of attempts."""
    from .mailer import MailOutbox

    if (mail_id is None) == (not all_failed):
        raise click.UsageError("メールID か --failed のどちらか一方を指定してください。")
    now = utcnow()
    if all_failed:
        rows = db.session.execute(sa.select(MailOutbox).where(MailOutbox.status == "failed")).scalars().all()
    else:
        row = db.session.get(MailOutbox, mail_id)
        if row is None:
            raise click.UsageError(f"メール #{mail_id} はありません。")
        if row.status == "sent":
            raise click.UsageError(f"メール #{mail_id} は送信済みです。")
        if row.status == "sending" and row.claimed_until and row.claimed_until > now:
            raise click.UsageError(f"メール #{mail_id} は送信処理中です。")
        rows = [row]
    for row in rows:
        row.status, row.attempts, row.next_attempt_at = "queued", 0, now
        row.claimed_by = row.claimed_until = None
    db.session.commit()  # a running sender (thread or `flask mail worker`) picks them up at its next poll
    click.echo(f"{len(rows)} 件を再送キューに戻しました。")


@mail_cli.command("worker")
@click.option("--once", is_flag=True, help="送信予定のメールを一度送って終了する")
@click.option("--poll", type=float, default=None, help="キューを見る間隔（秒; 既定 KANRI_MAIL_POLL_SECONDS）")
def mail_worker(once, poll):
    """Deliver queued mail until stopped (SIGTERM/SIGINT end it after the current message)."""
    import signal
    import threading

    from . import mail_sender

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    worker = mail_sender.new_worker_id("worker")
    interval = poll if poll is not None else float(current_app.config["KANRI_MAIL_POLL_SECONDS"])
    click.echo(f"メール送信ワーカー {worker} を開始します。", err=True)
    sent = mail_sender.run_worker(worker, interval, once, stop)
    click.echo(f"メール送信ワーカー {worker} を終了します（送信 {sent} 件）。", err=True)


def init_app(app: Flask) -> None:
    """Register the operator command groups."""
    for group in (tenant_cli, user_cli, keys_cli, audit_cli, mail_cli):
        app.cli.add_command(group)
    app.cli.add_command(demo)
