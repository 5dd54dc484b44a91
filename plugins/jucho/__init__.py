"""重調@CITY: 重要事項調査報告書 work with e-mailed one-time codes (hook implementations only).

The core imports the screens (``PRODUCT.views``) once the plugins are loaded, as for MAMA: they and
the services they use read ``PRODUCT`` from this module, so it must be complete before they load.
"""
from app.hookspecs import hookimpl
from app.products import DemoTenant, MenuLink, Product

from . import deliveries, reports  # noqa: F401  # the report tables, for the mapper and migrations
from .demo import seed_demo_tenant
from .emailcode import FACTOR, void_open_codes
from .fees import seed_default_fees

PRODUCT = Product("jucho", "重調@CITY", "重要事項調査報告書の作成支援とメールワンタイムコードによるログイン",
                  stylesheet="jucho.css", views="plugins.jucho.views", guide="docs/guide.md", faq="faq",
                  support_hours="平日 9:30〜17:30（土日祝日・年末年始を除く）", user_word="社員")


@hookimpl
def register_products():
    """重調@CITY is one product."""
    return [PRODUCT]


@hookimpl
def demo_tenant():
    """demo-jucho, with sample 管理組合 and 物件 so the lists are not empty."""
    return DemoTenant("demo-jucho", "みなと住宅管理株式会社", PRODUCT.code, seed=seed_demo_tenant)


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
        MenuLink("依頼一覧", "jucho.request_list", "jucho.requests", "仲介業者からの依頼の受付・担当・期限・状態", order=5),
        MenuLink("依頼登録（FAX等）", "jucho.request_new", "jucho.requests", "FAXや郵送で届いた依頼を入力", order=6),
    ]
    if user is not None and user.is_admin:
        links += [
            MenuLink("社員一覧", "jucho.staff_list", "jucho.staff", "社員の編集・停止・パスワード再発行", order=30),
            MenuLink("社員登録", "jucho.staff_new", "jucho.staff", "社員を登録し仮パスワードをメール送信", order=31),
            MenuLink("手数料・受付設定", "jucho.fee_list", "jucho.fees", "手数料表・期限・通知先・月次CSV", order=32),
        ]
    return links


@hookimpl
def dashboard_panels(tenant, user):
    """依頼状況 (open requests by status, overdue, the user's own) and 登録件数 (管理組合 and 物件, 社員 for admins);
    every figure in one query. お知らせ are the core's panel."""
    if not PRODUCT.owns(tenant) or user is None:
        return []
    from .dashboard import panels

    return panels(user)


@hookimpl
def tenant_created(tenant, admin):
    """A new 重調@CITY tenant starts with the default fee table."""
    if not PRODUCT.owns(tenant):
        return None
    added = seed_default_fees()
    return [f"手数料表の初期値を{added}件登録しました（管理者が「手数料・受付設定」で変更できます）。"] if added else None


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
def purge_expired(now, dry_run):
    """The daily sweep: 住戸CSV取込 uploads never applied (or applied) whose half hour has passed."""
    from .unit_import import purge_expired as purge_imports

    return purge_imports(now, dry_run)


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
        "jucho.profile.update": "物件の重要事項調査項目の編集",
        "jucho.repair.create": "大規模修繕の記録の登録",
        "jucho.repair.delete": "大規模修繕の記録の削除",
        "jucho.unit.create": "住戸登録",
        "jucho.unit.update": "住戸編集",
        "jucho.unit.delete": "住戸削除",
        "jucho.unit.import_check": "住戸CSVの確認（取込前）",
        "jucho.unit.import": "住戸CSV取込",
        "jucho.request.create": "依頼の受付",
        "jucho.request.honeypot": "依頼フォームの不正送信（受付せず）",
        "jucho.request.status": "依頼の状態変更",
        "jucho.request.assign": "依頼の担当者設定",
        "jucho.request.due": "依頼の期限変更",
        "jucho.request.cancel": "依頼の取消",
        "jucho.request.payment": "手数料の入金状況変更",
        "jucho.request.building": "依頼の物件の選び直し",
        "jucho.report.draft": "報告書の下書き作成",
        "jucho.report.override": "報告書の項目の個別修正",
        "jucho.report.override_clear": "報告書の個別修正を元に戻す",
        "jucho.report.notes": "報告書の特記事項の変更",
        "jucho.report.issue": "報告書の発行",
        "jucho.report.discard": "報告書の下書きの破棄",
        "jucho.report.download": "報告書PDFのダウンロード（社員）",
        "jucho.fee.create": "手数料の追加",
        "jucho.fee.update": "手数料の変更",
        "jucho.fee.export": "手数料の月次CSV出力",
        "jucho.settings.update": "受付設定の変更",
        "jucho.report.delivery": "報告書の電子交付（メール送付）",
        "jucho.report.delivery_download": "報告書のダウンロード（電子交付）",
        "jucho.report.delivery_refused": "報告書のダウンロード拒否（期限切れ・停止・上限）",
        "jucho.report.delivery_revoke": "電子交付リンクの停止",
    }
