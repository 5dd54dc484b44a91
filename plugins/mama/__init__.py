"""MAMAシステム: association management with registered-device login (端末認証). Hook implementations only."""
from __future__ import annotations

from app.hookspecs import hookimpl
from app.products import DemoTenant, MenuLink, Product

from . import models  # noqa: F401  (tables join the metadata before the core labels encrypted columns)

PRODUCT = Product("mama", "MAMAシステム", "管理組合・物件の管理と端末認証によるログイン", stylesheet="mama.css",
                  views="plugins.mama.views", guide="docs/guide.md", faq="faq",
                  support_hours="平日 9:00〜18:00（土日祝日・年末年始を除く）",
                  login_help="パスワードを忘れた場合は、貴社の管理者にリセットを依頼してください"
                             "（ログイン画面の「パスワードのリセットを依頼」から依頼できます）。")


@hookimpl
def register_products():
    """MAMA is one product."""
    return [PRODUCT]


@hookimpl
def session_valid(tenant, user, session_record):
    """A MAMA session ends as soon as the device it logged in from is revoked."""
    if not PRODUCT.owns(tenant):
        return None
    from .guard import device_refusal

    return device_refusal(user, session_record)


@hookimpl
def session_companions():
    """The user's MAMA settings and the registered device the session logged in from, joined to the session
    query (no query of their own)."""
    from .guard import device_companion
    from .permissions import settings_companion

    companion = device_companion()
    return [settings_companion()] + ([companion] if companion is not None else [])


@hookimpl
def user_has_strong_binding(tenant, user):
    """A MAMA user with an approved, unexpired registered device is strongly bound (the IP restriction's scope)."""
    if not PRODUCT.owns(tenant):
        return None
    from .devices import has_approved_device

    return has_approved_device(user)


@hookimpl
def register_commands(cli):
    """`flask user device-code` and the `flask mama` group."""
    from .cli import device_code, mama_cli

    user_group = cli.commands["user"]
    if "device-code" not in user_group.commands:
        user_group.add_command(device_code)
    cli.add_command(mama_cli)


DEMO_ASSOCIATIONS = 30


def _seed_demo(tenant):
    from .cli import add_sample_associations

    add_sample_associations(DEMO_ASSOCIATIONS)
    return [f"サンプルの管理組合を{DEMO_ASSOCIATIONS}件登録しました。"]


@hookimpl
def demo_tenant():
    """demo-mama, with sample associations so the lists are not empty."""
    return DemoTenant("demo-mama", "さくら管理サービス株式会社", PRODUCT.code, seed=_seed_demo)


@hookimpl
def login_links():
    """パスワードのリセット依頼 under the login form (MAMA users ask their admins; there is no self-service reset)."""
    return [MenuLink("パスワードのリセットを依頼（MAMAシステム）", "mama.reset_request", section="login", order=20)]


@hookimpl
def second_factor(tenant, user):
    """A MAMA login needs an approved registered device."""
    if not PRODUCT.owns(tenant):
        return None
    from .factor import FACTOR

    return FACTOR


@hookimpl
def menu_registry(tenant):
    """Every MAMA menu, for the permission screens."""
    if not PRODUCT.owns(tenant):
        return []
    from .permissions import MAMA_MENUS

    return list(MAMA_MENUS)


@hookimpl
def menu_links(tenant, user):
    """The MAMA menus this user may open, plus 登録端末 for everyone."""
    if not PRODUCT.owns(tenant) or user is None:
        return []
    from .permissions import visible_links

    return [*visible_links(tenant, user), MenuLink("登録端末", "mama.my_devices", section="account", order=30)]


@hookimpl
def dashboard_panels(tenant, user):
    """対応待ち (device requests, locked users) for whoever may act on them; 登録件数 (管理組合 in the user's scope,
    ユーザー) for whoever may open those menus. Every figure in one query."""
    if not PRODUCT.owns(tenant) or user is None:
        return []
    from .dashboard import panels

    return panels(user)


@hookimpl
def deliver_notice(tenant, notice):
    """MAMA delivers お知らせ by mail to every active admin of the tenant (through the outbox)."""
    if not PRODUCT.owns(tenant):
        return None
    from .notify import mail_notice

    return mail_notice(tenant, notice)


@hookimpl
def tenant_created(tenant, admin):
    """Give the first admin a registration code, since no browser is approved yet; return lines to print."""
    if not PRODUCT.owns(tenant):
        return None
    from .devices import CODE_HOURS, issue_code
    from .permissions import ensure_settings

    ensure_settings(admin).scope_all = True
    code = issue_code(admin, "operator")
    return [
        f"端末登録コード（管理者 {admin.login_id} 用・{CODE_HOURS}時間有効・1回限り）: {code}",
        "  → ログイン後の「この端末は登録されていません」画面でこのコードを入力すると、このブラウザが登録されます。",
        "一般ユーザーの端末: ログイン後の画面で「登録を申請」し、管理者が「端末管理」で承認します。",
        f"  ブラウザ以外で登録コードを発行するには: flask user device-code --tenant {tenant.code} --login <ログインID> "
        '--reason "<理由>"',
        f'サンプルの管理組合を入れるには: flask mama seed --tenant {tenant.code} --count 30 --reason "<理由>"',
    ]


@hookimpl
def user_created(tenant, user, actor):
    """Every MAMA user gets settings: 管理者 see all associations, 一般 none until granted."""
    if not PRODUCT.owns(tenant):
        return
    from .permissions import ensure_settings

    ensure_settings(user)


@hookimpl
def user_security_facts(tenant, users):
    """セキュリティ状況: each user's usable registered devices and requests waiting for approval."""
    if not PRODUCT.owns(tenant):
        return None
    from .devices import device_counts

    return device_counts([user.id for user in users])


@hookimpl
def audit_action_labels():
    """Japanese labels of MAMA's audit actions."""
    return {
        "device.check": "端末確認（未登録）",
        "device.request": "端末登録申請",
        "device.code_issue": "端末登録コード発行",
        "device.code_redeem": "登録コードによる端末登録",
        "device.approve": "端末承認",
        "device.reject": "端末申請拒否",
        "device.revoke": "端末無効化",
        "device.revoke_all": "端末一括無効化",
        "mama.user.settings": "ユーザー権限設定",
        "mama.permission_set.create": "権限セット作成",
        "mama.permission_set.update": "権限セット更新",
        "mama.permission_set.delete": "権限セット削除",
        "mama.scope.mode": "物件参照権限の変更",
        "mama.scope.add": "参照物件の追加",
        "mama.scope.remove": "参照物件の削除",
        "mama.scope.set": "物件参照権限の設定（ユーザーマスタ）",
        "mama.association.create": "管理組合登録",
        "mama.association.update": "管理組合更新",
        "mama.association.delete": "管理組合削除（削除済みへ）",
        "mama.association.restore": "管理組合の復元（削除済みから）",
        "mama.association.export": "管理組合CSV出力",
        "mama.reset.request": "パスワードのリセット依頼",
        "mama.reset.done": "パスワードのリセット依頼に対応",
        "mama.reset.reject": "パスワードのリセット依頼を却下",
    }
