"""報告書の下書き screens: create from the request page, the draft page, 修正 / 元に戻す, 特記事項, the 下書きPDF,
確認待ち, 破棄, 「物件を選び直す」, the 同意なし case, hostile input, CSRF and the audit trail of each step."""
from __future__ import annotations

import io
import json

import pytest
from pypdf import PdfReader

from tests.jucho_helpers import audit_rows
from tests.jucho_report_helpers import actions_of, confirm, file_request, press, reports_of, setup_desk
from tests.jucho_request_helpers import add_building, requests_of


@pytest.fixture
def desk(app, outbox, make_tenant, add_user):
    """Tenant 'repco': building, unit 305 with arrears, one request with the seller's consent; admin and staff1."""
    make_tenant("repco", product="jucho")
    add_user("repco", "staff1")
    return setup_desk(app, outbox)


def _start(client, base):
    return press(client, base, f"{base}/report/new")


def _override(client, base, key, value):
    return press(client, f"{base}/report/items/{key}", f"{base}/report/items/{key}", {"value": value})


def test_staff_create_the_draft_from_the_request_page(app, desk):
    staff, base = desk["staff"], desk["base"]
    page = staff.get(base).get_data(as_text=True)
    assert "報告書を作成" in page and 'data-testid="report-panel"' in page
    response = _start(staff, base)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{base}/report")
    assert requests_of(app, "repco")[0].status == "drafting"
    draft = staff.get(f"{base}/report").get_data(as_text=True)
    for text in ("依頼一覧", desk["number"], "報告書 第1版", "グランドメゾン青葉", "住戸一覧に登録あり", "売買",
                 "売主の同意", "30,000円", "下書きPDFを表示", "確認待ちにする", "下書きを破棄"):
        assert text in draft, text
    # A 一般 user is told who issues instead of being offered the button.
    assert "発行は管理者が行います" in draft and f"{base}/report/issue" not in draft
    # The request page now links to the draft; pressing 作成 again opens the same draft.
    assert "下書きを開く" in staff.get(base).get_data(as_text=True)
    assert _start(staff, base).headers["Location"].endswith(f"{base}/report")
    assert len(reports_of(app, "repco", desk["id"])) == 1
    assert "下書きあり" in staff.get("/jucho/requests").get_data(as_text=True)
    assert actions_of(app, "repco", desk["id"])[-2:] == ["jucho.request.status", "jucho.report.draft"]


def test_override_an_item_and_go_back(app, desk):
    staff, base = desk["staff"], desk["base"]
    _start(staff, base)
    form = staff.get(f"{base}/report/items/parking.spaces").get_data(as_text=True)
    assert "駐車場 区画数" in form and "この報告書（第1版）だけの修正です" in form and "キャンセル" in form
    response = _override(staff, base, "parking.spaces", "20台（うち機械式10台）\n平置き10台")
    assert response.status_code == 302 and response.headers["Location"].endswith("/report#item-parking-spaces")
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "「駐車場 区画数」をこの報告書だけ修正しました。" in page
    assert "個別修正" in page and "20台（うち機械式10台）\n平置き10台" in page and "物件マスタ等の内容: —" in page
    assert "元に戻す" in page
    [report] = reports_of(app, "repco", desk["id"])
    assert [(row.key, row.value) for row in report.overrides] == [("parking.spaces", "20台（うち機械式10台）\n平置き10台")]
    # 元に戻す: a plain POST only shows the confirmation page; the confirmed one removes the override.
    clear = f"{base}/report/items/parking.spaces/clear"
    shown = press(staff, clear, clear)
    assert shown.status_code == 200 and "修正を元に戻しますか？" in shown.get_data(as_text=True)
    assert len(reports_of(app, "repco", desk["id"])[0].overrides) == 1
    assert confirm(staff, clear).status_code == 302
    assert reports_of(app, "repco", desk["id"])[0].overrides == []
    assert "個別修正</span>" not in staff.get(f"{base}/report").get_data(as_text=True)
    rows = [row for row in audit_rows(app, "jucho.report.override") if row[2] == f"request:{desk['id']}"]
    assert [row[0] for row in rows] == ["jucho.report.override", "jucho.report.override_clear"]
    details = json.loads(rows[0][3])
    # Which item, never the typed text (it may hold personal facts; it stays in the encrypted override row).
    assert details["item"] == "駐車場 区画数" and "after" not in details and "before" not in details
    assert "平置き" not in rows[0][3]
    history = staff.get(base).get_data(as_text=True)
    assert "報告書の項目の個別修正" in history and "報告書の個別修正を元に戻す" in history


def test_notes_are_saved_encrypted_and_audited_without_their_text(app, desk):
    staff, base = desk["staff"], desk["base"]
    _start(staff, base)
    response = press(staff, f"{base}/report", f"{base}/report/notes", {"notes": "売主より: 305号室は令和9年に売却予定。"})
    assert response.status_code == 302 and response.headers["Location"].endswith("#item-notes")
    assert reports_of(app, "repco", desk["id"])[0].notes == "売主より: 305号室は令和9年に売却予定。"
    too_long = press(staff, f"{base}/report", f"{base}/report/notes", {"notes": "あ" * 4001})
    body = too_long.get_data(as_text=True)
    assert too_long.status_code == 422 and "4000文字以内で入力してください。" in body and "あ" * 4001 in body
    assert reports_of(app, "repco", desk["id"])[0].notes.startswith("売主より")
    [row] = [row for row in audit_rows(app, "jucho.report.notes")]
    assert json.loads(row[3])["length"] == len("売主より: 305号室は令和9年に売却予定。") and "売却予定" not in row[3]


def test_the_draft_pdf_opens_inline_with_the_watermark(app, desk):
    staff, base = desk["staff"], desk["base"]
    _start(staff, base)
    _override(staff, base, "use.pets", "小型犬1匹まで可（理事会の承認が必要）")
    response = staff.get(f"{base}/report/preview.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert response.headers["Cache-Control"] == "no-store"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "下書き" in text and "グランドメゾン青葉" in text and "小型犬1匹まで可" in text and "30,000円" in text


def test_move_to_review_and_discard_the_draft(app, desk):
    staff, base = desk["staff"], desk["base"]
    _start(staff, base)
    assert press(staff, f"{base}/report", f"{base}/report/review").status_code == 302
    assert requests_of(app, "repco")[0].status == "review"
    assert "確認待ちにする</button>" not in staff.get(f"{base}/report").get_data(as_text=True)
    discard = f"{base}/report/discard"
    page = staff.get(discard).get_data(as_text=True)
    assert "報告書の下書き（第1版）を破棄しますか？" in page and "元に戻せません" in page
    assert press(staff, discard, discard).status_code == 200          # no confirmed marker: the page again
    assert len(reports_of(app, "repco", desk["id"])) == 1
    assert confirm(staff, discard).status_code == 302
    assert reports_of(app, "repco", desk["id"]) == []
    assert "報告書を作成" in staff.get(base).get_data(as_text=True)
    assert actions_of(app, "repco", desk["id"])[-1] == "jucho.report.discard"
    assert "報告書の下書きの破棄" in staff.get(base).get_data(as_text=True)
    # Without a draft the draft's routes say so instead of failing.
    gone = staff.get(f"{base}/report", follow_redirects=True).get_data(as_text=True)
    assert "作成中の報告書（下書き）はありません" in gone


def test_hostile_override_input_is_refused_or_escaped(app, desk):
    staff, base = desk["staff"], desk["base"]
    _start(staff, base)
    assert _override(staff, base, "use.other", "<script>alert(1)</script>").status_code == 302
    page = staff.get(f"{base}/report").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    long = _override(staff, base, "use.reform", "長" * 10000)
    assert long.status_code == 422 and "2000文字以内で入力してください。" in long.get_data(as_text=True)
    control = _override(staff, base, "use.reform", "一行目\x00\x1b[31m")
    assert control.status_code == 422 and "使用できない文字" in control.get_data(as_text=True)
    empty = _override(staff, base, "use.reform", "   ")
    assert empty.status_code == 422 and "記載内容を入力してください" in empty.get_data(as_text=True)
    assert staff.get(f"{base}/report/items/no.such.key").status_code == 404
    assert press(staff, f"{base}/report", f"{base}/report/items/no.such.key", {"value": "x"}).status_code == 404
    assert staff.get(f"{base}/report/items/%3Cscript%3E").status_code == 404
    [report] = reports_of(app, "repco", desk["id"])
    assert [row.key for row in report.overrides] == ["use.other"]


def test_csrf_is_required_on_every_post(app, desk):
    staff, base = desk["staff"], desk["base"]
    assert staff.post(f"{base}/report/new").status_code == 400
    assert reports_of(app, "repco", desk["id"]) == []
    _start(staff, base)
    for url, data in ((f"{base}/report/items/use.pets", {"value": "不可"}), (f"{base}/report/notes", {"notes": "x"}),
                      (f"{base}/report/review", {}), (f"{base}/report/discard", {"confirmed": "yes"}),
                      (f"{base}/report/items/use.pets/clear", {"confirmed": "yes"})):
        assert staff.post(url, data={**data, "csrf_token": "forged"}).status_code in (400, 422), url
    [report] = reports_of(app, "repco", desk["id"])
    assert report.overrides == [] and report.notes is None
    assert requests_of(app, "repco")[0].status == "drafting"


def test_without_consent_the_personal_items_cannot_be_written(app, outbox, make_tenant, add_user):
    make_tenant("nocon", product="jucho")
    add_user("nocon", "staff1")
    desk = setup_desk(app, outbox, code="nocon", consent=False)
    staff, base = desk["staff"], desk["base"]
    _start(staff, base)
    page = staff.get(f"{base}/report").get_data(as_text=True)
    assert "売主の同意がないため記載しません" in page and "30,000円" not in page and "なし（滞納額など" in page
    assert f"{base}/report/items/unit.arrears.management\"" not in page and "同意なし" in page
    refused = staff.get(f"{base}/report/items/unit.arrears.management", follow_redirects=True)
    assert "売主の同意がないため、この項目は記載できません。" in refused.get_data(as_text=True)
    forced = press(staff, f"{base}/report", f"{base}/report/items/unit.arrears.management", {"value": "10,000円"})
    assert forced.status_code == 302
    assert reports_of(app, "nocon", desk["id"])[0].overrides == []
    pdf = staff.get(f"{base}/report/preview.pdf").data
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "30,000" not in text and "10,000円" not in text


def test_a_unit_missing_from_the_master_is_a_clear_warning(app, desk):
    staff = desk["staff"]
    request_id = file_request(app, "repco", unit="９９９", building=desk["building"])
    base = f"/jucho/requests/{request_id}"
    _start(staff, base)
    page = staff.get(f"{base}/report").get_data(as_text=True)
    assert "住戸一覧に 999 が見つかりません" in page
    assert f"/jucho/buildings/{desk['building']}/units" in page


def test_an_unlisted_building_is_chosen_again_before_the_draft(app, desk, make_tenant, outbox):
    staff = desk["staff"]
    request_id = file_request(app, "repco")  # 「一覧にない」
    base = f"/jucho/requests/{request_id}"
    page = staff.get(base).get_data(as_text=True)
    assert 'data-testid="building-form"' in page and 'data-testid="report-start"' not in page
    refused = _start(staff, base)
    assert "物件マスタにない物件の依頼です" in staff.get(refused.headers["Location"]).get_data(as_text=True)
    make_tenant("elsewhere", product="jucho")
    foreign = add_building(app, "elsewhere", name="他社マンション")
    wrong = press(staff, base, f"{base}/building", {"building": str(foreign)})
    assert wrong.status_code == 422 and "物件マスタの物件" in wrong.get_data(as_text=True)
    assert press(staff, base, f"{base}/building", {"building": ""}).status_code == 422
    assert requests_of(app, "repco")[-1].building_id is None
    assert press(staff, base, f"{base}/building", {"building": str(desk["building"])}).status_code == 302
    chosen = requests_of(app, "repco")[-1]
    assert chosen.building_id == desk["building"] and not chosen.building_unlisted
    assert chosen.building_name == "グランドメゾン青葉"
    page = staff.get(base).get_data(as_text=True)
    assert "依頼の物件の選び直し" in page and "一覧外マンション → グランドメゾン青葉" in page
    assert 'data-testid="report-start"' in page and 'data-testid="building-form"' not in page
    _start(staff, base)
    # Once a report exists the building stays.
    other = add_building(app, "repco", name="セカンドレジデンス")
    late = press(staff, base, f"{base}/building", {"building": str(other)}, follow_redirects=True)
    assert "報告書を作成した後は物件を変更できません。" in late.get_data(as_text=True)
    assert requests_of(app, "repco")[-1].building_id == desk["building"]


def test_a_building_purged_after_the_draft_is_a_message_not_an_error(app, desk):
    from app.extensions import db
    from plugins.jucho.requests import JuchoRequest
    from tests.jucho_request_helpers import in_tenant

    staff, base = desk["staff"], desk["base"]
    assert staff.get(f"{base}/report/new").headers["Location"].endswith(base)   # a GET creates nothing
    assert reports_of(app, "repco", desk["id"]) == []
    _start(staff, base)
    with in_tenant(app, "repco"):  # what the purge of 削除済み does to the request (ON DELETE SET NULL)
        db.session.get(JuchoRequest, desk["id"]).building_id = None
        db.session.commit()
    for url in (f"{base}/report", f"{base}/report/preview.pdf", f"{base}/report/items/use.pets"):
        response = staff.get(url, follow_redirects=True)
        assert response.status_code == 200 and "依頼の物件が物件マスタにありません" in response.get_data(as_text=True)
    assert confirm(staff, f"{base}/report/discard").status_code == 302
    assert reports_of(app, "repco", desk["id"]) == []


def test_a_cancelled_requests_draft_can_only_be_discarded(app, desk):
    staff, base = desk["staff"], desk["base"]
    _start(staff, base)
    assert confirm(staff, f"{base}/cancel", {"reason": "売買が中止になったため"}).status_code == 302
    for url in (f"{base}/report", f"{base}/report/items/use.pets", f"{base}/report/preview.pdf"):
        page = staff.get(url, follow_redirects=True).get_data(as_text=True)
        assert "取消された依頼の報告書は作成・変更・発行できません" in page, url
    refused = press(staff, base, f"{base}/report/items/use.pets", {"value": "不可"})
    assert refused.status_code == 302 and reports_of(app, "repco", desk["id"])[0].overrides == []
    assert confirm(staff, f"{base}/report/discard").status_code == 302
    assert reports_of(app, "repco", desk["id"]) == []
