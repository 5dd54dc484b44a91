"""Built-in plugin: transparency towards users — maintenance windows (``flask maintenance …``: the 503
maintenance screen and the advance-notice banner), お知らせ (``flask notice …``, the /notices screens, delivery
through the products' ``deliver_notice`` hook) and security incidents (``flask incident …``).

Registered like any product (``app.plugins.BUILTIN_PLUGINS``). The blueprint carries the templates;
the maintenance decision itself lives in ``maintenance.py`` and is made per request from stored windows.
"""
from __future__ import annotations

import json

from flask import Blueprint, has_request_context, request

from app.errors import maintenance_response
from app.hookspecs import hookimpl
from app.products import MenuLink

from . import incidents, maintenance, notices  # noqa: F401  (incidents: maps its tables)

bp = Blueprint("transparency", __name__, template_folder="templates")

# Answer even during maintenance: load-balancer checks, metrics scrapes, the お問い合わせ page the maintenance
# screen links to, and static files (any blueprint's).
_ALWAYS_SERVED = {"main.healthz", "metrics", "main.contact", "static"}


def _served_anyway() -> bool:
    endpoint = request.endpoint or ""
    return endpoint in _ALWAYS_SERVED or endpoint.endswith(".static")


def _refuse_during_maintenance():
    if _served_anyway():
        return None
    window = maintenance.active_window()
    if window is None:
        return None
    return maintenance_response(window.message, window.retry_after(maintenance.utcnow()),
                                window.ends_jst if window.ends_at else None)


def _report_on_health(response):
    """``/healthz`` stays 200 and says whether maintenance is on."""
    if request.endpoint == "main.healthz" and response.status_code == 200 and response.is_json:
        body = response.get_json()
        body["maintenance"] = maintenance.active_window() is not None
        response.set_data(json.dumps(body))
    return response


class _Banners:
    """The advance-notice banners, read only when a template iterates them (base.html does).

    Lazy so that a page not built on base.html (the restore's 503 page, mail) never queries.
    """

    def __iter__(self):
        for w in maintenance.upcoming_notices():
            yield (f"メンテナンスのお知らせ: {w.starts_jst} から {w.ends_jst} まで（{w.duration_label}）"
                   f"サービスを停止します。{w.message}")


def _banners():
    if not has_request_context() or _served_anyway():
        return {}
    return {"page_banners": _Banners()}


@hookimpl(trylast=True)
def register_blueprints(app):
    """The templates, the per-request maintenance check (503), the banner and the health report.

    trylast: the restore flag's check (lifecycle) runs first, so during a restore no window is read
    from the database being replaced.
    """
    app.register_blueprint(bp)
    app.before_request(_refuse_during_maintenance)
    app.after_request(_report_on_health)
    app.context_processor(_banners)


@hookimpl
def register_commands(cli):
    """``flask maintenance on | off | schedule | cancel | status``, ``flask notice …`` and ``flask incident …``."""
    from .incident_cli import incident_cli
    from .maintenance_cli import maintenance_cli
    from .notice_cli import notice_cli

    cli.add_command(maintenance_cli)
    cli.add_command(notice_cli)
    cli.add_command(incident_cli)


@hookimpl
def menu_links(tenant, user):
    """「お知らせ」 in the account menu, for every user of every product."""
    if tenant is None or user is None:
        return []
    return [MenuLink("お知らせ", "transparency.notice_list", menu_id="transparency.notices", section="account",
                     description="運営からのお知らせ", order=5)]


@hookimpl
def worker_cycle():
    """Deliver the notices whose publication time has come (each tenant once, whatever the number of workers)."""
    from app.extensions import db

    try:
        notices.deliver_due()
    finally:
        db.session.remove()


@hookimpl
def audit_action_labels():
    """Japanese labels of the maintenance, notice and incident audit actions."""
    return {"maintenance.on": "メンテナンス開始", "maintenance.off": "メンテナンス終了",
            "maintenance.schedule": "メンテナンス予定登録", "maintenance.cancel": "メンテナンス予定取消",
            "notice.post": "お知らせ登録", "notice.withdraw": "お知らせ取下げ", "notice.deliver": "お知らせ配信",
            "incident.notify": "セキュリティインシデントの通知"}


DEMO_NOTICE_TITLE = "デモ環境へようこそ"
DEMO_NOTICE_BODY = """このテナントはデモ用です。お知らせは運用担当者が `flask notice post` で掲載します。

- **マニュアル**: 画面右上の「マニュアル」から操作マニュアル（PDF）をダウンロードできます。
- **よくある質問**: 「よくある質問」に、端末の登録・認証コード・パスワード・ロックについての回答があります。
- **お問い合わせ**: 各画面の下の「お問い合わせ」に窓口と受付時間があります。
"""


@hookimpl
def demo_seeded(tenants):
    """A welcome notice for the new demo tenants, delivered at once through each product's deliver_notice."""
    notice = notices.create_notice(title=DEMO_NOTICE_TITLE, body=DEMO_NOTICE_BODY, product=None,
                                   tenants=list(tenants), operator="operator:demo")
    from app.extensions import db

    db.session.commit()
    notices.deliver_due(notice_id=notice.id)
    return [f"お知らせ: 「{DEMO_NOTICE_TITLE}」を{len(tenants)}テナントに掲載しました（メニュー「お知らせ」）。"]


from . import notice_views  # noqa: E402,F401  (routes register on bp)
