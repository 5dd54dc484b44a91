"""電子交付 (/jucho/requests/<id>/delivery): mail the latest issued report as a link after the confirmation page,
the list of links with their downloads, 「リンクを停止」 and 「再送」 (a new link; the old one stays valid)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from app.auth.guards import deny, product_required
from app.confirm import confirmation, confirmed
from app.extensions import db
from app.timeutil import format_jst

from .. import PRODUCT
from ..deliveries import (
    DeliveryError,
    JuchoReportDelivery,
    create_delivery,
    deliveries_of,
    download_limit,
    revoke,
    valid_days,
)
from ..delivery_forms import DeliveryForm
from ..reports import can_issue, latest_issued
from ..requests import JuchoRequest
from . import bp


def _page(item: JuchoRequest, form: DeliveryForm | None = None, status: int = 200):
    report = latest_issued(item)
    form = form or DeliveryForm(recipient=item.email or "")
    return render_template("jucho/deliveries/index.html", item=item, report=report, form=form,
                           deliveries=deliveries_of(item), may_deliver=can_issue(current_user),
                           days=valid_days(), limit=download_limit()), status


@bp.route("/requests/<int:request_id>/delivery")
@product_required(PRODUCT.code)
def delivery_page(request_id: int):
    """電子交付: the latest issued version, the send form (for those who may issue) and every link sent."""
    response = _page(db.get_or_404(JuchoRequest, request_id))
    db.session.commit()  # the settings row made on first use
    return response


@bp.route("/requests/<int:request_id>/delivery/send", methods=["POST"])
@product_required(PRODUCT.code)
def delivery_send(request_id: int):
    """Check the address, show the confirmation page, then create the link and queue the mail."""
    item = db.get_or_404(JuchoRequest, request_id)
    if not can_issue(current_user):
        deny(f"request:{item.id}", reason="cannot_issue")
    form = DeliveryForm()
    if not form.validate():
        return _page(item, form, 422)
    report = latest_issued(item)
    if report is None:
        flash("発行済みの報告書がありません。先に報告書を発行してください。", "error")
        return redirect(url_for("jucho.delivery_page", request_id=item.id))
    if confirmed():
        try:
            create_delivery(report, form.recipient.data, current_user)
        except DeliveryError as refused:
            db.session.rollback()
            flash(str(refused), "error")
            return redirect(url_for("jucho.delivery_page", request_id=item.id))
        db.session.commit()
        flash(f"{form.recipient.data} に第{report.version}版のダウンロード用リンクを送付しました。", "success")
        return redirect(url_for("jucho.delivery_page", request_id=item.id))
    return confirmation("報告書をメールで送付しますか？", target=[
        ("受付番号", item.number), ("物件・住戸", f"{item.building_name} {item.unit_number}"),
        ("版", f"第{report.version}版（{format_jst(report.issued_at)} 発行）"), ("送付先", form.recipient.data)],
        consequences=[f"送付先にPDFをダウンロードできるリンクをメールで送ります。リンクは{valid_days()}日間、"
                      f"{download_limit()}回までダウンロードに使えます。",
                      "リンクを知っている人は誰でもダウンロードできます。送付先のアドレスをよく確認してください。",
                      "送付とダウンロードは依頼の履歴と操作ログに残ります。"],
        cancel_url=url_for("jucho.delivery_page", request_id=item.id), button="送付する", class_="primary",
        testid="confirm-delivery", hidden=[("recipient", form.recipient.data)])


@bp.route("/requests/<int:request_id>/delivery/<int:delivery_id>/revoke", methods=["GET", "POST"])
@product_required(PRODUCT.code)
def delivery_revoke(request_id: int, delivery_id: int):
    """リンクを停止 after the confirmation page."""
    item = db.get_or_404(JuchoRequest, request_id)
    delivery = db.get_or_404(JuchoReportDelivery, delivery_id)
    if delivery.request_id != item.id:
        abort(404)
    if not can_issue(current_user):
        deny(f"request:{item.id}", reason="cannot_issue")
    error = "このリンクは既に停止されています。" if delivery.revoked_at is not None else None
    if confirmed() and error is None:
        revoke(delivery, current_user)
        db.session.commit()
        flash("リンクを停止しました。このリンクからはダウンロードできません。", "success")
        return redirect(url_for("jucho.delivery_page", request_id=item.id))
    return confirmation("電子交付のリンクを停止しますか？", target=[
        ("受付番号", item.number), ("版", f"第{delivery.report.version}版"), ("送付先", delivery.recipient),
        ("送付日時", format_jst(delivery.created_at)), ("ダウンロード", f"{delivery.download_count}／{delivery.max_downloads}回")],
        consequences=["このリンクからは、有効期限前でもダウンロードできなくなります。元に戻せません。",
                      "もう一度送るときは「再送」で新しいリンクを送付します。"],
        cancel_url=url_for("jucho.delivery_page", request_id=item.id), button="停止する", error=error,
        testid="confirm-revoke")

