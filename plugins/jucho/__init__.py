"""重調@CITY: 重要事項調査報告書 work with e-mailed one-time codes (hook implementations only).

The core imports the screens (``PRODUCT.views``) once the plugins are loaded, as for MAMA: they and
the services they use read ``PRODUCT`` from this module, so it must be complete before they load.
"""
from app.hookspecs import hookimpl
from app.products import DemoTenant, MenuLink, Product

from .demo import seed_demo
from .emailcode import FACTOR, void_open_codes

PRODUCT = Product("jucho", "重調@CITY", "重要事項調査報告書の作成支援とメールワンタイムコードによるログイン",
                  stylesheet="jucho.css", views="plugins.jucho.views", guide="docs/guide.md", faq="faq",
                  support_hours="平日 9:30〜17:30（土日祝日・年末年始を除く）")


@hookimpl
def register_products():
    """重調@CITY is one product."""
    return [PRODUCT]


@hookimpl
def demo_tenant():
    """demo-jucho, with sample 管理組合 and 物件 so the lists are not empty."""
    return DemoTenant("demo-jucho", "デモ不動産管理株式会社（重調）", PRODUCT.code, seed=seed_demo)


@hookimpl
def second_factor(tenant, user):
    """重調@CITY tenants log in with a code mailed to the user's registered address."""
    return FACTOR if PRODUCT.owns(tenant) else None


@hookimpl
def menu_links(tenant, user):
    """Property screens for everyone; staff screens for 管理者."""
    if not PRODUCT.owns(tenant):
        return []
    links = [
        MenuLink("管理組合一覧", "jucho.association_list", "jucho.associations", "管理組合の検索・編集・CSV出力", order=10),
        MenuLink("管理組合登録", "jucho.association_new", "jucho.associations", "新しい管理組合を登録", order=11),
        MenuLink("物件一覧", "jucho.building_list", "jucho.buildings", "物件の検索・編集・CSV出力", order=20),
        MenuLink("物件マスタ登録", "jucho.building_new", "jucho.buildings", "重要事項調査報告書の元になる物件情報を登録",
                 order=21),
    ]
    if user is not None and user.is_admin:
        links += [
            MenuLink("社員一覧", "jucho.staff_list", "jucho.staff", "社員の編集・停止・パスワード再発行", order=30),
            MenuLink("社員登録", "jucho.staff_new", "jucho.staff", "社員を登録し仮パスワードをメール送信", order=31),
        ]
    return links


@hookimpl
def dashboard_panels(tenant, user):
    """登録件数: 管理組合 and 物件 for everyone, 社員 for admins (one COUNT each; お知らせ are the core's panel)."""
    if not PRODUCT.owns(tenant) or user is None:
        return []
    from .dashboard import count_panel

    return [count_panel(user)]


@hookimpl
def login_links():
    """パスワードをお忘れの方 under the login form."""
    return [MenuLink("パスワードをお忘れの方（重調@CITY）", "jucho.forgot_password", section="login", order=10)]


@hookimpl
def sessions_ended(tenant, user, reason):
    """When an admin reset, a suspension or a password change ends a user's sessions, login codes
    already mailed to them stop working too."""
    if not PRODUCT.owns(tenant):
        return
    void_open_codes(user, "sessions_ended")


@hookimpl
def audit_action_labels():
    """Japanese labels of 重調@CITY's audit actions."""
    return {
        "jucho.code.send": "認証コード送信",
        "jucho.code.resend": "認証コード再送",
        "jucho.code.verify": "認証コード確認",
        "jucho.code.void": "認証コード無効化",
        "jucho.reset.request": "パスワード再設定の申請",
        "jucho.reset.link": "パスワード再設定リンク",
        "jucho.reset.complete": "パスワード再設定",
        "jucho.association.create": "管理組合登録",
        "jucho.association.update": "管理組合編集",
        "jucho.association.delete": "管理組合削除（削除済みへ）",
        "jucho.association.restore": "管理組合の復元（削除済みから）",
        "jucho.building.create": "物件登録",
        "jucho.building.update": "物件編集",
        "jucho.building.delete": "物件削除（削除済みへ）",
        "jucho.building.restore": "物件の復元（削除済みから）",
        "jucho.export": "CSV出力",
    }
