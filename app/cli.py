"""Operator commands under ``flask``: tenants, users, demo, keys, audit and mail."""
from __future__ import annotations

from datetime import timedelta

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from . import audit, audit_anchor, keys, mail_queue, tenants
from .accounts import create_user, set_password, unlock
from .extensions import db
from .models import ROLE_GENERAL, STATUS_ACTIVE, Tenant, User
from .operator import operator_command, operator_name, optional_reason_option, record_access, require_reason
from .passwords import generate_temporary_password
from .products import demo_tenants, plugin_manager, product_name
from .tenancy import tenant_scope
from .timeutil import format_jst, jst_today

tenant_cli = AppGroup("tenant", help="テナント（契約）の作成・一覧・停止・再開・契約終了・削除")
user_cli = AppGroup("user", help="ユーザーの操作")
keys_cli = AppGroup("keys", help="暗号鍵の操作")
audit_cli = AppGroup("audit", help="監査ログの操作")
mail_cli = AppGroup("mail", help="メール送信キュー（outbox）の操作")


def fail(exc: Exception) -> None:
    """Stop a command with its error's Japanese message: exit 2 for unusable input (``bad_input``, the default), else 1."""
    click.echo(f"エラー: {exc}", err=True)
    raise SystemExit(2 if getattr(exc, "bad_input", True) else 1) from None


def run_or_fail(errors, action, *args, **kwargs):
    """Call ``action``; an exception of type ``errors`` stops the command through ``fail``."""
    try:
        return action(*args, **kwargs)
    except errors as exc:
        fail(exc)


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


def create_tenant(**fields):
    """``app.tenants.create_tenant`` for commands: bad input stops with a Japanese message and exit status 2."""
    try:
        return tenants.create_tenant(**fields)
    except tenants.TenantError as exc:
        raise click.UsageError(str(exc)) from exc


@tenant_cli.command("create")
@click.option("--code", required=True, help="会社コード（英小文字・数字・ハイフン 3〜32文字）")
@click.option("--name", required=True, help="会社名")
@click.option("--product", required=True, help="製品コード（有効な製品プラグインのもの。誤っていれば一覧を表示します）")
@click.option("--contract-end", required=True, help="契約終了日（JST, YYYY-MM-DD）")
@click.option("--contract-start", default=None, help="契約開始日（JST, YYYY-MM-DD; 既定は今日）")
@click.option("--admin-login", required=True, help="最初の管理者のログインID")
@click.option("--admin-email", required=True, help="最初の管理者のメールアドレス")
@click.option("--admin-name", default="管理者", show_default=True, help="最初の管理者の氏名")
def tenant_create(code, name, product, contract_end, contract_start, admin_login, admin_email, admin_name):
    """テナントと最初の管理者を作成し、管理者の仮パスワードを一度だけ表示します。"""
    tenant, admin, password, lines = create_tenant(
        code=code, name=name, product=product, contract_end=contract_end, contract_start=contract_start,
        admin_login=admin_login, admin_email=admin_email, admin_name=admin_name)
    click.echo(f"テナントを作成しました: {tenant.code}（{tenant.name} / {tenant.product}）契約終了日 {tenant.contract_end}")
    click.echo(f"管理者ログインID: {admin.login_id}")
    click.echo(f"仮パスワード（この一度だけ表示します。72時間有効・初回ログイン時に変更）: {password}")
    for line in lines:
        click.echo(line)


@tenant_cli.command("list")
def tenant_list():
    """すべてのテナントを製品・状態・契約終了日とともに一覧表示します。"""
    tenants = db.session.execute(sa.select(Tenant).order_by(Tenant.code)).scalars().all()
    if not tenants:
        click.echo("テナントはありません。")
        return
    click.echo(f"{'会社コード':<20}{'製品':<8}{'状態':<10}{'契約終了日':<12}会社名")
    for t in tenants:
        state = ("削除済み" if t.purged_at else "契約終了" if t.contract_over
                 else "有効" if t.status == STATUS_ACTIVE else "停止")
        click.echo(f"{t.code:<24}{t.product:<10}{state:<10}{t.contract_end.isoformat():<15}{t.name}")


@tenant_cli.command("suspend")
@click.argument("code")
@operator_command
def tenant_suspend(code, reason, operator):
    """テナントを停止します（利用者はログインできず、ログイン中のセッションも使えなくなります）。"""
    tenant = tenants.suspend_tenant(tenant_or_fail(code), reason, operator_name(operator))
    click.echo(f"テナント {tenant.code} を停止しました。")


@tenant_cli.command("resume")
@click.argument("code")
@operator_command
def tenant_resume(code, reason, operator):
    """停止中のテナントを再開します。"""
    tenant = tenants.resume_tenant(tenant_or_fail(code), reason, operator_name(operator))
    click.echo(f"テナント {tenant.code} を再開しました。")


@tenant_cli.command("terminate")
@click.argument("code")
@click.option("--on", "end", required=True, help="契約終了日（JST, YYYY-MM-DD）。この日の翌日からログインできません")
@click.option("--yes", is_flag=True, help="過去の日付でも確認せずに設定します")
@operator_command
def tenant_terminate(code, end, yes, reason, operator):
    """契約終了日（JST）を設定します。翌日からログインできず、purge-expired がデータを削除します。"""
    tenant = tenant_or_fail(code)
    try:
        day = tenants.parse_date(end, "契約終了日")
        tenants.check_contract_end(tenant, day)
        if day < jst_today() and not yes:
            click.confirm(f"契約終了日 {day.isoformat()} は過去の日付です。{tenant.code} は直ちにログインできなくなり、"
                          f"次回の flask tenant purge-expired で全データが削除されます。設定しますか？", abort=True)
        before, after = tenants.terminate_tenant(tenant, day, reason, operator_name(operator))
    except tenants.TenantError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(f"テナント {tenant.code} の契約終了日を {before.isoformat()} から {after.isoformat()}（JST）に変更しました。"
               f"{(after + timedelta(days=1)).isoformat()} からログインできず、その日以降の "
               f"flask tenant purge-expired で全データが削除されます。")


@user_cli.command("unlock")
@click.option("--tenant", "tenant_code", required=True, help="会社コード")
@click.option("--login", "login_id", required=True, help="ログインID")
@operator_command
def user_unlock(tenant_code, login_id, reason, operator):
    """ユーザーのアカウントロックを解除します。"""
    tenant = tenant_or_fail(tenant_code)
    operator = operator_name(operator)
    with tenant_scope(tenant):
        unlock(user_or_fail(tenant, login_id), actor_login=operator)
        record_access(tenant, "user unlock", reason, operator, login_id=login_id)
        db.session.commit()
    click.echo(f"{tenant.code} / {login_id} のロックを解除しました。")


DEMO_LOGINS = (("admin", "管理者"), ("staff", "一般"))


def _reset_demo_passwords(demos) -> None:
    """New passwords for the demo logins of the demo tenants that exist (no other tenant is touched)."""
    from .auth.sessions import end_user_sessions
    from .builtins.security_center.policy import password_min_length

    found = False
    for spec in demos:
        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == spec.code)).scalar_one_or_none()
        if tenant is None:
            click.echo(f"{spec.code}: まだ作成されていません（flask demo で作成します）。")
            continue
        found = True
        click.echo("=" * 64)
        click.echo(f"【{product_name(spec.product)}】{spec.name}  会社コード: {spec.code}")
        with tenant_scope(tenant):
            for login_id, label in DEMO_LOGINS:
                user = db.session.execute(sa.select(User).where(User.login_id == login_id)).scalar_one_or_none()
                if user is None:
                    click.echo(f"  {label}  ログインID: {login_id} は削除されています。")
                    continue
                password = generate_temporary_password(max(20, password_min_length(tenant)))
                set_password(user, password)
                end_user_sessions(user, "password_reset", actor=None)
                audit.record("password.reset", target=f"user:{login_id}", actor_login="operator:demo", demo=True)
                click.echo(f"  {label}  ログインID: {login_id}  パスワード: {password}")
            db.session.commit()
    if found:
        click.echo("=" * 64)
        click.echo("パスワードを新しくしました（ログイン中のセッションは終了しました）。")


@click.command("demo")
@click.option("--reset-passwords", is_flag=True,
              help="作成済みのデモテナントの admin と staff に新しいパスワードを発行して表示します（instance/ を消さずにやり直せます）")
@with_appcontext  # a plain click command added to app.cli gets no app context by itself
def demo(reset_passwords):
    """各製品のデモテナント（管理者・一般ユーザー・サンプルデータ）を作成し、ログイン情報を表示します。"""
    demos = demo_tenants()
    if not demos:
        click.echo("デモテナントを提供する製品プラグインが有効になっていません。")
        return
    if reset_passwords:
        _reset_demo_passwords(demos)
        return
    created = []
    for spec in demos:
        if db.session.execute(sa.select(Tenant.id).where(Tenant.code == spec.code)).first():
            click.echo(f"{spec.code}: 作成済みです（パスワードは保存していないため表示できません。"
                       "新しいパスワードは flask demo --reset-passwords で発行します）。")
            continue
        admin_password = generate_temporary_password(20)
        user_password = generate_temporary_password(20)
        tenant, admin, _, lines = create_tenant(
            code=spec.code, name=spec.name, product=spec.product,
            contract_end=(jst_today() + timedelta(days=365)).isoformat(), admin_login="admin",
            admin_email=f"admin@{spec.code}.example.jp", admin_name="管理 太郎", admin_password=admin_password)
        with tenant_scope(tenant):
            create_user(tenant, "staff", "一般 花子", f"staff@{spec.code}.example.jp", role=ROLE_GENERAL,
                        password=user_password)
            lines = list(lines) + list((spec.seed(tenant) if spec.seed else None) or ())
            db.session.commit()
        created.append(tenant)
        click.echo("=" * 64)
        click.echo(f"【{product_name(spec.product)}】{spec.name}  会社コード: {spec.code}")
        click.echo(f"  管理者  ログインID: admin  パスワード: {admin_password}")
        click.echo(f"  一般    ログインID: staff  パスワード: {user_password}")
        for line in lines:
            click.echo(f"  {line}")
    click.echo("=" * 64)
    if created:
        for batch in plugin_manager().hook.demo_seeded(tenants=created):
            for line in batch or ():
                click.echo(line)


def _reencrypt_with_progress(command: str, reason: str, operator: str) -> int:
    """Re-encrypt everything, then record the access (rows and primary key) in every live tenant's log."""
    with click.progressbar(length=keys.count_encrypted_rows(), label="再暗号化", show_pos=True) as bar:
        per_tenant = keys.reencrypt_all(progress=bar.update)
    primary = current_app.extensions["kanri_keyset"].primary
    for tenant in db.session.execute(sa.select(Tenant).where(Tenant.purged_at.is_(None))
                                     .order_by(Tenant.id)).scalars().all():
        with tenant_scope(tenant):
            record_access(tenant, command, reason, operator, rows=per_tenant.get(tenant.id, 0), key_id=primary)
    db.session.commit()
    return sum(per_tenant.values())


@keys_cli.command("rotate")
@operator_command
def keys_rotate(reason, operator):
    """新しい暗号鍵を主鍵として追加し、暗号化された列をすべて再暗号化します（古い鍵でも復号できます）。"""
    operator = operator_name(operator)
    try:
        new = keys.rotate_keyset(operator)
    except keys.KeysError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(f"新しい主鍵 {new.primary} を追加しました（旧鍵 {', '.join(k for k in new.keys if k != new.primary)} は復号用に保持）。")
    count = _reencrypt_with_progress("keys rotate", reason, operator)
    click.echo(f"{count} 行を新しい主鍵で再暗号化しました。")


@keys_cli.command("reencrypt")
@operator_command
def keys_reencrypt(reason, operator):
    """暗号化された列をすべて現在の主鍵で再暗号化します。"""
    count = _reencrypt_with_progress("keys reencrypt", reason, operator_name(operator))
    click.echo(f"{count} 行を再暗号化しました。")


def _chain_name(chain_id: int) -> str:
    if not chain_id:
        return "system"
    tenant = db.session.get(Tenant, chain_id)
    return tenant.code if tenant else str(chain_id)


def _anchor_problem_line(problem) -> str:
    if isinstance(problem, audit_anchor.FileBroken):
        return (f"NG: アンカーファイル {problem.path} の {problem.line} 行目が壊れています: {problem.reason} "
                f"(anchor file broken at line {problem.line})")
    if isinstance(problem, audit_anchor.FileCut):
        return (f"NG: アンカーファイル {problem.path} は {problem.file_lines} 行しかありませんが、"
                f"データベースには {problem.line} 行目までの記録があります: 末尾が削除されたか差し替えられています "
                f"(anchor file cut: line {problem.line} missing)")
    if isinstance(problem, audit_anchor.Vanished):
        return (f"NG: アンカー（{problem.anchored_at}）にあるテナント {problem.code}（id {problem.chain_id}）が"
                f"データベースにありません（監査ログ {problem.missing} 件が失われています） "
                f"(tenant {problem.code} vanished from the database, {problem.missing} events missing)")
    if isinstance(problem, audit_anchor.Truncated):
        return (f"NG: テナント {problem.code} の監査ログが切り詰められています: アンカー（{problem.anchored_at}）は "
                f"seq {problem.anchored_seq}、現在は seq {problem.current_seq} まで、{problem.missing} 件が失われています "
                f"(chain of {problem.code} truncated, {problem.missing} events missing)")
    return (f"NG: テナント {problem.code} の seq {problem.seq}（event id {problem.event_id}）がアンカー"
            f"（{problem.anchored_at}）と一致しません: アンカー後にチェーンが書き換えられています "
            f"(chain of {problem.code} rewritten after the anchor)")


@audit_cli.command("verify")
@click.option("--tenant", "tenant_code", default=None, help="会社コード（省略時はすべて）")
@optional_reason_option
@click.option("--operator", default=None, help="記録に残す担当者名（--tenant のとき。省略時は KANRI_OPERATOR、なければ OS のユーザー名）")
def audit_verify(tenant_code, reason, operator):
    """監査ログのハッシュチェーンを再計算して最新のアンカーと照合します。問題があれば終了コード 1。

    --tenant を付けると運用担当者としてそのテナントのログを読むため --reason が必須になり、
    その操作はテナントの操作ログに記録されます。"""
    tenant = tenant_or_fail(tenant_code) if tenant_code else None
    if tenant is not None:
        require_reason(reason, "テナントを指定した監査ログの検証")
    chain_id = tenant.id if tenant is not None else None
    checked, broken = audit.verify(chain_id)
    failed = broken is not None
    if broken is None:
        click.echo(f"OK: 監査ログ {checked} 件のハッシュチェーンは正常です。")
    else:
        click.echo(f"NG: テナント {_chain_name(broken.chain_id)} の seq {broken.seq}（event id {broken.event_id}）"
                   f"でチェーンが壊れています: {broken.reason}（それ以前の {checked} 件は正常）", err=True)
    report = audit_anchor.check(chain_id)
    for problem in report.problems:
        click.echo(_anchor_problem_line(problem), err=True)
    for gone in report.purged:
        click.echo(f"情報: テナント {gone.code}（id {gone.chain_id}）の監査ログは契約終了により "
                   f"{gone.purged_on.isoformat()}（JST）に削除済みです (purged on {gone.purged_on.isoformat()} JST)")
    failed = failed or bool(report.problems)
    if tenant is not None and tenant.purged_at is None:
        with tenant_scope(tenant):
            record_access(tenant, "audit verify", reason, operator_name(operator), checked=checked,
                          result="異常" if failed else "正常")
            db.session.commit()
    if not report.exists and not report.problems:
        click.echo(f"警告: 監査アンカーがありません（{report.path}）。flask audit anchor を毎日実行してください "
                   f"(warning: no audit anchor exists)", err=True)
    elif not report.problems:
        click.echo(f"OK: {report.chains_checked} 本のチェーンが最新のアンカー（{report.latest_at or '-'}）と一致しています。")
    if failed:
        raise SystemExit(1)


@audit_cli.command("anchor")
def audit_anchor_cmd():
    """各チェーンの先頭をアンカーファイルに追記します（毎日、バックアップの直後に実行）。"""
    run = audit_anchor.anchor()
    for problem in run.problems:
        click.echo(_anchor_problem_line(problem), err=True)
    if run.written:
        click.echo(f"OK: {run.written} 本のチェーンの先頭を {run.path} の {run.first_line} 行目から追記しました"
                   f"（{run.at}）。")
    elif run.problems:
        click.echo(f"NG: アンカーを書き込みませんでした（{run.path}） (no anchor written)", err=True)
    else:
        click.echo("警告: 監査ログがまだないため、アンカーは書き込みませんでした (warning: no audit events to anchor)",
                   err=True)
    if run.problems:
        raise SystemExit(1)


@mail_cli.command("status")
@click.option("--errors", "error_count", default=10, show_default=True, help="表示する直近のエラー件数")
def mail_status(error_count):
    """送信待ち・送信中・送信済み・失敗の件数と最近のエラーを表示します（宛先や本文は表示しません）。"""
    status = mail_queue.queue_status(error_count)
    click.echo("  ".join(f"{name}: {count}" for name, count in status.counts.items()))
    if status.oldest_waiting is not None:
        click.echo(f"未送信で最も古いもの: {format_jst(status.oldest_waiting, seconds=True)}")
    if status.errors:
        click.echo("直近のエラー:")
    for row in status.errors:
        retry = f" 次回 {format_jst(row.next_attempt_at, seconds=True)}" if row.status == "queued" else ""
        click.echo(f"  #{row.id} {row.status} 試行 {row.attempts} 回{retry} {row.subject}: {row.last_error}")


@mail_cli.command("retry")
@click.argument("mail_id", required=False, type=int)
@click.option("--failed", "all_failed", is_flag=True, help="失敗したメールをすべて再送キューに戻す")
def mail_retry(mail_id, all_failed):
    """失敗した（または待機中の）メールを送信待ちに戻し、すぐに送信し直します（試行回数はやり直し）。"""
    if (mail_id is None) == (not all_failed):
        raise click.UsageError("メールID か --failed のどちらか一方を指定してください。")
    try:
        count = mail_queue.requeue(mail_id, all_failed)
    except mail_queue.MailQueueError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(f"{count} 件を再送キューに戻しました。")


@mail_cli.command("prune")
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="この日数より前に送信済み・失敗となったメールを削除（既定 KANRI_MAIL_KEEP_DAYS）")
@click.option("--dry-run", is_flag=True, help="件数を表示するだけで削除しない")
def mail_prune(days, dry_run):
    """送信済み・失敗のメール（宛先・本文）を保存期間の後に削除します（毎日の定期処理。送信待ちは残します）。"""
    keep = days if days is not None else int(current_app.config["KANRI_MAIL_KEEP_DAYS"])
    if keep < 1:
        raise click.UsageError("KANRI_MAIL_KEEP_DAYS は 1 以上にしてください。")
    count = mail_queue.prune(keep, dry_run)
    done = "（--dry-run: 削除していません）" if dry_run else "を削除しました"
    click.echo(f"{keep} 日より前に送信済み・失敗となったメール {count} 件{done}。")


@mail_cli.command("worker")
@click.option("--once", is_flag=True, help="送信予定のメールを一度送って終了する")
@click.option("--poll", type=float, default=None, help="キューを見る間隔（秒; 既定 KANRI_MAIL_POLL_SECONDS）")
def mail_worker(once, poll):
    """止めるまで送信待ちのメールを配信します（SIGTERM / SIGINT で送信中の1通の後に終了）。

    各周回の最初に、予約されたお知らせの掲載など各機能の定期処理を実行します。"""
    import signal
    import threading

    from . import mail_sender

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    worker = mail_sender.new_worker_id("worker")
    interval = poll if poll is not None else float(current_app.config["KANRI_MAIL_POLL_SECONDS"])
    click.echo(f"メール送信ワーカー {worker} を開始します。", err=True)
    sent = mail_sender.run_worker(worker, interval, once, stop, each_cycle=mail_sender.worker_cycle)
    click.echo(f"メール送信ワーカー {worker} を終了します（送信 {sent} 件）。", err=True)


HELP_OPTION_TEXT = "この説明を表示して終了します。"
# Commands of Flask and its extensions, shown in the `flask --help` list beside ours: a Japanese line there
# (their own --help pages stay in their authors' English).
FRAMEWORK_COMMANDS = {
    "db": "データベースのマイグレーション（Flask-Migrate。flask db upgrade で最新にします）",
    "limiter": "回数制限の設定の確認と解除（Flask-Limiter）",
    "run": "開発用サーバーを起動します（Flask。止めるには Ctrl+C）",
    "shell": "アプリケーションを読み込んだ Python シェルを開きます（Flask）",
    "routes": "URL の一覧を表示します（Flask）",
}
FRAMEWORK_HELP = "マンション管理クラウドの運用コマンド。各コマンドの説明は flask <コマンド> --help で表示します。"


def _japanese_help_option(command: click.Command) -> None:
    # Command objects are module globals shared by every app made in a process: wrap each one once.
    if getattr(command, "_kanri_japanese_help", False):
        return
    command._kanri_japanese_help = True
    original = command.get_help_option

    def get_help_option(ctx):
        option = original(ctx)
        if option is not None:
            option.help = HELP_OPTION_TEXT
        return option

    command.get_help_option = get_help_option


def japanese_help(group: click.Group, seen: set | None = None) -> None:
    """Give ``group`` and every command under it a Japanese --help line (click's own text is English)."""
    seen = set() if seen is None else seen
    if id(group) in seen:
        return
    seen.add(id(group))
    _japanese_help_option(group)
    for command in getattr(group, "commands", {}).values():
        if isinstance(command, click.Group):
            japanese_help(command, seen)
        elif id(command) not in seen:
            seen.add(id(command))
            _japanese_help_option(command)


def localize_flask_command_list(app: Flask) -> None:
    """When `flask` itself runs, list Flask's and the extensions' commands with Japanese lines, like ours."""
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root().command if ctx is not None else None
    if not isinstance(root, click.Group) or root is app.cli:
        return
    root.help = FRAMEWORK_HELP
    for name, line in FRAMEWORK_COMMANDS.items():
        command = root.commands.get(name) or app.cli.commands.get(name)
        if command is not None:
            command.short_help = line
    japanese_help(root)


def init_app(app: Flask) -> None:
    """Register the operator command groups."""
    for group in (tenant_cli, user_cli, keys_cli, audit_cli, mail_cli):
        app.cli.add_command(group)
    app.cli.add_command(demo)
