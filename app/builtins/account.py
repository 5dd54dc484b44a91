"""Built-in plugin: the user's own account pages in the navigation."""
from app.hookspecs import hookimpl
from app.products import MenuLink


@hookimpl
def menu_links(tenant, user):
    """Every user may change the password and see their sessions."""
    return [
        MenuLink("パスワード変更", "auth.change_password", section="account", order=10),
        MenuLink("ログイン中のセッション", "auth.sessions", section="account", order=20),
        MenuLink("ログイン履歴", "auth.login_history", section="account", order=30),
    ]


@hookimpl
def audit_action_labels():
    """Japanese labels of the core's audit actions."""
    return {
        "login.success": "ログイン成功",
        "operator.access": "運用担当者による操作",
        "login.failure": "ログイン失敗",
        "login.refused": "ログイン拒否",
        "login.password_ok": "パスワード認証成功",
        "login.pending_replayed": "使用済みのログイン手続きの再使用（拒否）",
        "login.pending_expired": "期限切れのログイン手続き（拒否）",
        "account.locked": "アカウントロック",
        "account.unlock": "ロック解除",
        "logout": "ログアウト",
        "session.end": "セッション終了",
        "password.change": "パスワード変更",
        "user.create": "ユーザー作成",
        "user.suspend": "ユーザー停止",
        "user.resume": "ユーザー再開",
        "user.update": "ユーザー更新",
        "user.delete": "ユーザー削除",
        "password.reset": "パスワード再発行",
        "access.denied": "アクセス拒否",
        "tenant.create": "テナント作成",
        "tenant.suspend": "テナント停止",
        "tenant.resume": "テナント再開",
        "tenant.terminate": "契約終了日設定",
        "tenant.purge": "契約終了データ削除",
        "keys.rotate": "暗号鍵ローテーション",
    }
