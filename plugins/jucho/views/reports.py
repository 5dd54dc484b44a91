"""報告書 screens of one request: 作成 (and 訂正版, confirmed), the draft page with per-item 修正 / 元に戻す and
特記事項, the 下書きPDF, 確認待ち, 発行 (confirmed; 管理者, or 一般 where the tenant allows it), 破棄 (confirmed) and
the staff download of an issued version."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app import audit
from app.auth.guards import deny, product_required
from app.confirm import confirmation, confirmed
from app.downloads import file_download, inline_file
from app.errors import render_error
from app.extensions import db
from app.forms import ConfirmForm, require_confirm

from .. import PRODUCT
from ..report_document import TITLE
from ..report_forms import NotesForm, OverrideForm
from ..report_items import PERSONAL_KEYS
from ..reports import (
    JuchoReport,
    assembled_values,
    can_issue,
    clear_override,
    current_draft,
    discard_draft,
    document,
    issue,
    latest_issued,
    set_notes,
    set_override,
    start_draft,
    unit_of,
    versions,
)
from ..requests import CANCELLED, DRAFTING, ISSUED, REVIEW, JuchoRequest, TransitionError, set_status
from . import bp

NO_DRAFT = "作成中の報告書（下書き）はありません。発行済みの報告書は変更できません。訂正は「訂正版を作成」から行ってください。"
NO_BUILDING = ("依頼の物件が物件マスタにありません（削除済みから完全に削除されました）。下書きを破棄し、「物件を選び直す」で"
               "物件を選んでから作成し直してください。")


def _request_or_404(request_id: int) -> JuchoRequest:
    return db.get_or_404(JuchoRequest, request_id)


def _to_request(item: JuchoRequest):
    return redirect(url_for("jucho.request_detail", request_id=item.id))


def _to_draft(item: JuchoRequest, key: str | None = None):
    return redirect(url_for("jucho.report_draft", request_id=item.id, _anchor=anchor(key) if key else None))


def _refused(item: JuchoRequest, message: str, key: str | None = None):
    db.session.rollback()
    flash(message, "error")
    return _to_draft(item, key) if current_draft(item) is not None else _to_request(item)


def _workable_draft(item: JuchoRequest):
    """(draft, None) when the draft can be shown and changed, else (None, a redirect saying why)."""
    draft = current_draft(item)
    if draft is None:
        return None, _refused(item, NO_DRAFT)
    if item.status == CANCELLED:
        flash("取消された依頼の報告書は作成・変更・発行できません（下書きの破棄はできます）。", "error")
        return None, _to_request(item)
    if item.building is None:  # purged from the master after the draft was made: nothing to assemble from
        flash(NO_BUILDING, "error")
        return None, _to_request(item)
    return draft, None


def anchor(key: str) -> str:
    """The HTML id of an item's row on the draft page."""
    return "item-" + key.replace(".", "-")


def report_panel(item: JuchoRequest) -> dict:
    """What the request page's 報告書 panel shows: the draft in progress, the issued versions and who may issue."""
    rows = versions(item)
    return {"draft": next((row for row in rows if row.is_draft), None),
            "issued": [row for row in rows if not row.is_draft], "has_report": bool(rows),
            "may_issue": can_issue(current_user), "button_form": ConfirmForm()}


def _draft_page(item: JuchoRequest, draft: JuchoReport, notes_form: NotesForm | None = None, status: int = 200):
    doc = document(draft)
    return render_template(
        "jucho/reports/draft.html", item=item, draft=draft, doc=doc, assembled=assembled_values(draft),
        unit=unit_of(item), personal_keys=PERSONAL_KEYS, anchor=anchor, may_issue=can_issue(current_user),
        notes_form=notes_form or NotesForm(notes=draft.notes or ""), button_form=ConfirmForm(),
        review=item.status == DRAFTING), status


@bp.route("/requests/<int:request_id>/report/new", methods=["GET", "POST"])
@product_required(PRODUCT.code)
def report_start(request_id: int):
    """「報告書を作成」 (POST), or 「訂正版を作成」 once a version is issued (after the confirmation page)."""
    item = _request_or_404(request_id)
    if current_draft(item) is not None:
        return _to_draft(item)
    previous = latest_issued(item)
    if previous is not None and not confirmed():
        return confirmation(
            "訂正版を作成しますか？", target=[("受付番号", item.number), ("発行済みの版", f"第{previous.version}版"),
                                            ("物件・住戸", f"{item.building_name} {item.unit_number}")],
            consequences=[f"発行済みの第{previous.version}版はそのまま残り、変更されません。",
                          f"第{previous.version + 1}版の下書きを作成します。訂正版は第{previous.version}版を訂正するものとして"
                          "発行されます。",
                          "下書きは物件・住戸マスタの今日の内容から作り直されます（前の版の個別修正は引き継ぎません）。"],
            cancel_url=url_for("jucho.request_detail", request_id=item.id), button="訂正版を作成",
            class_="primary", testid="confirm-correction")
    if previous is None:
        if request.method == "GET":  # nothing to confirm for a first version: the panel's button POSTs
            return _to_request(item)
        require_confirm()
    try:
        draft = start_draft(item, current_user)
    except TransitionError as error:
        db.session.rollback()
        flash(str(error), "error")
        return _to_request(item)
    db.session.commit()
    flash(f"報告書（第{draft.version}版）の下書きを作成しました。", "success")
    return _to_draft(item)


@bp.route("/requests/<int:request_id>/report")
@product_required(PRODUCT.code)
def report_draft(request_id: int):
    """The draft: header facts, every section's items with 修正 / 元に戻す, 特記事項 and the next steps."""
    item = _request_or_404(request_id)
    draft, refusal = _workable_draft(item)
    return refusal or _draft_page(item, draft)


def _editable_item(item: JuchoRequest, key: str):
    """(draft, report item) for 修正, or a redirect with the reason it cannot be changed; 404 for an unknown key."""
    draft, refusal = _workable_draft(item)
    if refusal is not None:
        return None, None, refusal
    found = {entry.key: entry for entry in document(draft).items()}.get(key)
    if found is None:
        abort(404)
    if key in PERSONAL_KEYS and not item.seller_consent:
        return None, None, _refused(item, "売主の同意がないため、この項目は記載できません。", key)
    return draft, found, None


@bp.route("/requests/<int:request_id>/report/items/<key>", methods=["GET", "POST"])
@product_required(PRODUCT.code)
def report_item(request_id: int, key: str):
    """修正: the value of one item for this report only."""
    item = _request_or_404(request_id)
    draft, entry, refusal = _editable_item(item, key)
    if refusal is not None:
        return refusal
    # A POST is read as sent (a missing field is an empty one), a GET starts from what the report prints now.
    form = OverrideForm() if request.method == "POST" else OverrideForm(value=entry.value)
    if form.validate_on_submit():
        try:
            set_override(draft, key, form.value.data, current_user)
        except TransitionError as error:
            db.session.rollback()
            form.value.errors = [str(error)]
        else:
            db.session.commit()
            flash(f"「{entry.label}」をこの報告書だけ修正しました。", "success")
            return _to_draft(item, key)
    status = 422 if form.errors else 200
    return render_template("jucho/reports/item.html", item=item, draft=draft, entry=entry, form=form,
                           assembled=assembled_values(draft).get(key, ""), anchor=anchor(key)), status


@bp.route("/requests/<int:request_id>/report/items/<key>/clear", methods=["GET", "POST"])
@product_required(PRODUCT.code)
def report_item_clear(request_id: int, key: str):
    """元に戻す (after the confirmation page): the item prints what the masters give again."""
    item = _request_or_404(request_id)
    draft, entry, refusal = _editable_item(item, key)
    if refusal is not None:
        return refusal
    if not entry.overridden:
        return _to_draft(item, key)
    if not confirmed():
        return confirmation(
            "修正を元に戻しますか？", target=[("項目", entry.label), ("この報告書の記載", entry.value),
                                            ("物件マスタ等の内容", assembled_values(draft).get(key, ""))],
            consequences=["この報告書だけの修正を削除し、物件・住戸マスタの内容を記載します。",
                          "削除した修正内容は元に戻せません（必要なら控えてください）。"],
            cancel_url=url_for("jucho.report_draft", request_id=item.id, _anchor=anchor(key)), button="元に戻す",
            testid="confirm-clear")
    clear_override(draft, key, current_user)
    db.session.commit()
    flash(f"「{entry.label}」を物件マスタ等の内容に戻しました。", "success")
    return _to_draft(item, key)


@bp.route("/requests/<int:request_id>/report/notes", methods=["POST"])
@product_required(PRODUCT.code)
def report_notes(request_id: int):
    """特記事項 (empty removes them)."""
    item = _request_or_404(request_id)
    draft, refusal = _workable_draft(item)
    if refusal is not None:
        return refusal
    form = NotesForm()
    if not form.validate_on_submit():
        return _draft_page(item, draft, form, 422)
    try:
        set_notes(draft, form.notes.data, current_user)
    except TransitionError as error:
        db.session.rollback()
        form.notes.errors = [str(error)]
        return _draft_page(item, draft, form, 422)
    db.session.commit()
    flash("特記事項を保存しました。", "success")
    return _to_draft(item, "notes")


@bp.route("/requests/<int:request_id>/report/preview.pdf")
@product_required(PRODUCT.code)
def report_preview(request_id: int):
    """The draft as a PDF with the 「下書き」 watermark, shown in the browser (never cached)."""
    from ..report_pdf import render_report  # reportlab is imported only when a PDF is made

    item = _request_or_404(request_id)
    draft, refusal = _workable_draft(item)
    if refusal is not None:
        return refusal
    data = render_report(document(draft))
    return inline_file(data, "application/pdf", f"draft_{item.number}.pdf",
                       f"{TITLE}_{item.number}_第{draft.version}版_下書き.pdf")


@bp.route("/requests/<int:request_id>/report/review", methods=["POST"])
@product_required(PRODUCT.code)
def report_review(request_id: int):
    """確認待ちにする: the draft is ready for whoever issues it."""
    item = _request_or_404(request_id)
    require_confirm()
    if current_draft(item) is None:
        return _refused(item, NO_DRAFT)
    try:
        set_status(item, REVIEW, current_user)
    except TransitionError as error:
        return _refused(item, str(error))
    db.session.commit()
    flash("「確認待ち」にしました。発行する人が内容を確認して発行します。", "success")
    return _to_draft(item)


@bp.route("/requests/<int:request_id>/report/issue", methods=["GET", "POST"])
@product_required(PRODUCT.code)
def report_issue(request_id: int):
    """発行 after the confirmation page: the content, PDF and sha256 are frozen and the request is 発行済み."""
    item = _request_or_404(request_id)
    if not can_issue(current_user):
        deny(f"request:{item.id}", reason="report_issue_not_allowed")
    draft, refusal = _workable_draft(item)
    if refusal is not None:
        return refusal
    correction = draft.supersedes is not None
    if not confirmed():
        consequences = [
            "今日の物件・住戸マスタの内容と、この報告書だけの修正・特記事項をそのまま確定し、PDFを作成します。",
            "発行した報告書は後から変更できません。誤りがあった場合は訂正版（新しい版）を作成します。",
            (f"第{draft.supersedes.version}版を訂正する第{draft.version}版として発行します（第{draft.supersedes.version}版は"
             "そのまま残ります）。") if correction else "依頼の状態は「発行済み」になります。",
            "発行の記録（発行者・日時・PDFのsha256）が操作ログに残ります。"]
        return confirmation(
            f"報告書（第{draft.version}版）を発行しますか？",
            target=[("受付番号", item.number), ("物件・住戸", f"{item.building_name} {item.unit_number}"),
                    ("仲介業者", item.broker_company), ("個別修正", f"{len(draft.overrides)}項目"),
                    ("売主の同意", "あり" if item.seller_consent else "なし（売主個人に関する事項は記載しない）")],
            consequences=consequences, cancel_url=url_for("jucho.report_draft", request_id=item.id),
            button="発行する", class_="primary", testid="confirm-issue")
    try:
        issue(draft, current_user)
    except TransitionError as error:
        return _refused(item, str(error))
    db.session.commit()
    flash(f"報告書（第{draft.version}版）を発行しました。", "success")
    return _to_request(item)


@bp.route("/requests/<int:request_id>/report/discard", methods=["GET", "POST"])
@product_required(PRODUCT.code)
def report_discard(request_id: int):
    """下書きを破棄 (after the confirmation page): the draft, its 修正 and 特記事項 are deleted."""
    item = _request_or_404(request_id)
    draft = current_draft(item)
    if draft is None:
        return _refused(item, NO_DRAFT)
    if not confirmed():
        return confirmation(
            f"報告書の下書き（第{draft.version}版）を破棄しますか？",
            target=[("受付番号", item.number), ("個別修正", f"{len(draft.overrides)}項目"),
                    ("特記事項", "あり" if draft.notes else "なし")],
            consequences=["下書きと、この報告書だけの修正・特記事項を削除します。元に戻せません。",
                          "発行済みの版があればそのまま残ります。依頼の状態は変わりません。"],
            cancel_url=url_for("jucho.report_draft", request_id=item.id), button="破棄する",
            testid="confirm-discard")
    version = draft.version
    discard_draft(draft, current_user)
    db.session.commit()
    flash(f"報告書の下書き（第{version}版）を破棄しました。", "success")
    return _to_request(item)


@bp.route("/requests/<int:request_id>/report/<int:version>.pdf")
@product_required(PRODUCT.code)
def report_download(request_id: int, version: int):
    """An issued version's PDF for 郵送・FAX, as issued (checked against its sha256); audited."""
    item = _request_or_404(request_id)
    report = db.session.execute(sa.select(JuchoReport).where(
        JuchoReport.request_id == item.id, JuchoReport.version == version, JuchoReport.status == ISSUED)
    ).scalar_one_or_none()
    if report is None:
        abort(404)
    target = f"request:{item.id}"
    try:
        data = report.pdf_bytes()
    except ValueError:
        audit.record("jucho.report.download", outcome="failure", target=target, number=item.number,
                     version=report.version, reason="sha256_mismatch")
        db.session.commit()
        return render_error(500, "保存されている報告書PDFが発行時の記録（sha256）と一致しないため、表示できません。"
                                 "このPDFは使用せず、システム管理者にお問い合わせください。")
    audit.record("jucho.report.download", target=target, number=item.number, version=report.version,
                 sha256=report.pdf_sha256)
    db.session.commit()
    return file_download(data, "application/pdf", f"report_{item.number}_v{report.version}.pdf",
                         f"{TITLE}_{item.number}_第{report.version}版.pdf")
