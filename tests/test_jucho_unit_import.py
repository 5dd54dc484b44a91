"""住戸CSV取込: upload → preview (per-row errors, 新規/更新) → 取り込む once, all or nothing; encodings, limits,
expiry, replay, binding to the user, the tenant and the building."""
from __future__ import annotations

import io
import json
from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.timeutil import utcnow
from plugins.jucho import unit_import
from plugins.jucho.models_units import JuchoUnit, JuchoUnitImport
from tests.conftest import csrf_from, post_form
from tests.jucho_fixtures import *  # noqa: F403  (the shared 重調 fixtures)
from tests.jucho_helpers import audit_rows

HEADER = "住戸番号,階,専有面積（㎡）,間取り,管理費（月額・円）,修繕積立金（月額・円）,支払方法,滞納額 管理費（円）"


def csv_bytes(lines: list[str], encoding: str = "utf-8-sig") -> bytes:
    return ("\r\n".join([HEADER, *lines]) + "\r\n").encode(encoding)


def good_rows(count: int = 3) -> list[str]:
    return [f"{100 + n},{1 + n // 10},{70 + n % 5}.25,3LDK,\"15,000\",12000,口座振替,{'5000' if n == 1 else ''}"
            for n in range(1, count + 1)]


def upload(client, building_id: int, data: bytes, filename: str = "units.csv"):
    page = f"/jucho/buildings/{building_id}/units/import"
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(page, data={"csrf_token": token, "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def apply(client, preview_url: str):
    """Press 取り込む (the CSRF token is the session's, read from the import page)."""
    token = csrf_from(client.get(preview_url.split("/units/import")[0] + "/units/import").get_data(as_text=True))
    return client.post(f"{preview_url}/apply", data={"csrf_token": token})


def count_units(in_tenant) -> int:
    with in_tenant("juchoco"):
        return db.session.execute(sa.select(sa.func.count(JuchoUnit.id))).scalar_one()


def test_preview_saves_nothing_then_apply_creates_and_updates(app, admin, make_building, in_tenant):
    building_id = make_building()
    response = upload(admin, building_id, csv_bytes(good_rows(3)))
    assert response.status_code == 302
    preview_url = response.headers["Location"]
    assert count_units(in_tenant) == 0                                   # nothing saved at upload
    html = admin.get(preview_url).get_data(as_text=True)
    assert 'data-testid="count-new">3<' in html and "取り込む" in html and "UTF-8" in html
    response = apply(admin, preview_url)
    assert response.status_code == 302 and count_units(in_tenant) == 3
    with in_tenant("juchoco"):
        unit = db.session.execute(sa.select(JuchoUnit).where(JuchoUnit.number == "101")).scalar_one()
        assert unit.management_fee == 15000 and str(unit.area) == "71.25" and unit.payment_method == "debit"
        assert unit.arrears("arrears_management") == 5000 and unit.search_text
        raw = db.session.execute(sa.text("SELECT arrears_management FROM jucho_units WHERE number = '101'")).scalar()
        assert raw.startswith("k1$")
    # a second file: one update (fee changed), one new
    response = upload(admin, building_id, csv_bytes(["101,1,71.25,3LDK,16000,12000,振込,", "201,2,65,2LDK,14000,11000,,"]))
    preview = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="count-new">1<' in preview and 'data-testid="count-update">1<' in preview
    assert apply(admin, response.headers["Location"]).status_code == 302
    with in_tenant("juchoco"):
        unit = db.session.execute(sa.select(JuchoUnit).where(JuchoUnit.number == "101")).scalar_one()
        assert unit.management_fee == 16000 and unit.payment_method == "transfer" and unit.arrears_management is None
    assert count_units(in_tenant) == 4
    imports = [(a, json.loads(d)) for a, _, _, d in audit_rows(app, "jucho.unit.import") if a == "jucho.unit.import"]
    assert [d for _, d in imports] == [{"created": 3, "updated": 0}, {"created": 1, "updated": 1}]


def test_bad_rows_are_listed_with_row_column_and_message_and_block_the_import(admin, make_building, in_tenant):
    building_id = make_building()
    lines = good_rows(2) + ["103,1,abc,3LDK,-100,12000,現金,", ",1,70,3LDK,100,100,,", "101,1,70,3LDK,100,100,,"]
    response = upload(admin, building_id, csv_bytes(lines))
    preview_url = response.headers["Location"]
    html = admin.get(preview_url).get_data(as_text=True)
    assert "4行目「専有面積（㎡）」: 専有面積は数字で入力してください（例: 72.50）。" in html
    assert "4行目「管理費（月額・円）」: 金額は0以上の整数（円）で入力してください。" in html
    assert "4行目「支払方法」: 支払方法は「口座振替」「振込」「その他」のいずれかを入力してください。" in html
    assert "5行目「住戸番号」: 住戸番号を入力してください。" in html
    assert "6行目「住戸番号」: 住戸番号「101」がファイル内で重複しています（2行目）。" in html
    assert 'data-testid="count-error">3<' in html and 'data-testid="apply-import"' not in html
    response = apply(admin, preview_url)
    assert response.status_code == 302 and count_units(in_tenant) == 0
    assert "エラーのある行があるため取り込めません" in admin.get(preview_url).get_data(as_text=True)


def test_shift_jis_and_utf8_without_bom(admin, make_building, in_tenant):
    building_id = make_building()
    response = upload(admin, building_id, csv_bytes(["１０１,1,70,３ＬＤＫ,15000,12000,口座振替,"], "cp932"))
    preview = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "Shift_JIS" in preview and ">101<" in preview and 'data-testid="count-new">1<' in preview
    apply(admin, response.headers["Location"])
    response = upload(admin, building_id, csv_bytes(["102,1,70,3LDK,15000,12000,,"], "utf-8"))
    assert apply(admin, response.headers["Location"]).status_code == 302
    with in_tenant("juchoco"):
        assert {u.number: u.layout for u in db.session.execute(sa.select(JuchoUnit)).scalars()} == {
            "101": "3LDK", "102": "3LDK"}


def test_whole_file_refusals_are_japanese_and_save_nothing(admin, make_building, in_tenant, monkeypatch):
    building_id = make_building()
    cases = [(b"", "ファイルが空です。"), ("階,間取り\r\n1,3LDK\r\n".encode(), "「住戸番号」の列がありません"),
             (HEADER.encode() + b"\r\n", "取り込む行がありません"),
             (b"\xff\xfe\x00\x00\x81", "文字コードを判別できません"),
             (b"x" * (unit_import.MAX_BYTES + 1), "ファイルが大きすぎます")]
    for data, message in cases:
        response = upload(admin, building_id, data)
        assert response.status_code == 422 and message in response.get_data(as_text=True), message
    monkeypatch.setattr(unit_import, "MAX_ROWS", 5)
    response = upload(admin, building_id, csv_bytes(good_rows(6)))
    assert response.status_code == 422 and "行数が多すぎます（5行まで）" in response.get_data(as_text=True)
    page = f"/jucho/buildings/{building_id}/units/import"
    response = post_form(admin, page, {})
    assert response.status_code == 422 and "CSVファイルを選択してください。" in response.get_data(as_text=True)
    with in_tenant("juchoco"):
        assert db.session.execute(sa.select(sa.func.count(JuchoUnitImport.id))).scalar_one() == 0


def test_an_import_applies_once_and_expires(admin, make_building, in_tenant):
    building_id = make_building()
    preview_url = upload(admin, building_id, csv_bytes(good_rows(2))).headers["Location"]
    token = csrf_from(admin.get(preview_url).get_data(as_text=True))
    assert admin.post(f"{preview_url}/apply", data={"csrf_token": token}).status_code == 302
    replay = admin.post(f"{preview_url}/apply", data={"csrf_token": token})   # the same POST again
    assert replay.status_code == 302 and count_units(in_tenant) == 2
    page = admin.get(preview_url)
    assert page.status_code == 410 and "この取り込みは実行済みです" in page.get_data(as_text=True)
    with in_tenant("juchoco"):
        assert db.session.execute(sa.select(JuchoUnitImport)).scalar_one().payload == "{}"   # rows not kept
    late_url = upload(admin, building_id, csv_bytes(["301,3,70,3LDK,1,1,,"])).headers["Location"]
    with in_tenant("juchoco"):   # half an hour later (the session itself would have timed out by then)
        late = db.session.get(JuchoUnitImport, int(late_url.rsplit("/", 1)[1]))
        assert late.expires_at - utcnow() <= unit_import.IMPORT_TTL
        late.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    page = admin.get(late_url)
    assert page.status_code == 410 and "有効期限が切れました" in page.get_data(as_text=True)
    assert admin.post(f"{late_url}/apply", data={"csrf_token": token}).status_code == 302
    assert count_units(in_tenant) == 2


def test_an_import_belongs_to_its_user_tenant_and_building(admin, general, outsider, make_building, in_tenant):
    building_id, other_building = make_building(), make_building(name="別の物件")
    preview_url = upload(admin, building_id, csv_bytes(good_rows(2))).headers["Location"]
    import_id = preview_url.rsplit("/", 1)[1]
    token = csrf_from(general.get(f"/jucho/buildings/{building_id}/units").get_data(as_text=True))
    assert general.get(preview_url).status_code == 404                                   # another user
    assert general.post(f"{preview_url}/apply", data={"csrf_token": token}).status_code == 404
    assert admin.get(f"/jucho/buildings/{other_building}/units/import/{import_id}").status_code == 404
    assert outsider.get(preview_url).status_code == 404                                  # another tenant
    assert outsider.get(f"/jucho/buildings/{building_id}/units/import").status_code == 404
    assert count_units(in_tenant) == 0


def test_a_general_users_import_ignores_the_arrears_columns(general, make_building, in_tenant):
    building_id = make_building()
    response = upload(general, building_id, csv_bytes(good_rows(1)))
    preview = general.get(response.headers["Location"]).get_data(as_text=True)
    assert "「滞納額 管理費（円）」の列は管理者のみ取り込めます" in preview
    assert apply(general, response.headers["Location"]).status_code == 302
    with in_tenant("juchoco"):
        unit = db.session.execute(sa.select(JuchoUnit)).scalar_one()
        assert unit.arrears_management is None and unit.management_fee == 15000


def test_hundreds_of_rows_in_one_bulk_insert(admin, make_building, in_tenant):
    building_id = make_building()
    lines = [f"{floor}{room:02d},{floor},70.00,3LDK,15000,12000,口座振替,"
             for floor in range(1, 21) for room in range(1, 21)]
    preview_url = upload(admin, building_id, csv_bytes(lines)).headers["Location"]
    assert 'data-testid="count-new">400<' in admin.get(preview_url).get_data(as_text=True)
    assert apply(admin, preview_url).status_code == 302 and count_units(in_tenant) == 400


def _imports(app) -> dict[int, tuple[int, bool]]:
    """Every tenant's pending imports: id → (tenant id, expired)."""
    with app.app_context():
        rows = db.session.execute(sa.select(JuchoUnitImport.id, JuchoUnitImport.tenant_id, JuchoUnitImport.expires_at)
                                  .execution_options(all_tenants=True)).all()
        return {row.id: (row.tenant_id, row.expires_at <= utcnow()) for row in rows}


def _expire(in_tenant, code: str, import_url: str) -> int:
    """Move an import's expiry half an hour back, as if it had been uploaded 31 minutes ago; returns its id."""
    import_id = int(import_url.rsplit("/", 1)[1])
    with in_tenant(code):
        row = db.session.get(JuchoUnitImport, import_id)
        row.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    return import_id


def test_the_daily_trash_purge_deletes_every_users_expired_imports(app, runner, admin, general, outsider,
                                                                    make_building, in_tenant):
    building_id, foreign_building = make_building(), make_building("otherco")
    stale = _expire(in_tenant, "juchoco", upload(general, building_id, csv_bytes(good_rows(2))).headers["Location"])
    fresh = int(upload(admin, building_id, csv_bytes(good_rows(1))).headers["Location"].rsplit("/", 1)[1])
    foreign_fresh = int(upload(outsider, foreign_building, csv_bytes(good_rows(1))).headers["Location"]
                        .rsplit("/", 1)[1])
    foreign_stale = _expire(in_tenant, "otherco",
                            upload(outsider, foreign_building, csv_bytes(good_rows(3))).headers["Location"])
    assert set(_imports(app)) == {stale, fresh, foreign_fresh, foreign_stale}

    dry = runner.invoke(args=["trash", "purge", "--dry-run"])
    assert dry.exit_code == 0 and "[dry-run] juchoco: jucho_unit_imports 1 行（有効期限切れの一時データ）" in dry.output
    assert len(_imports(app)) == 4
    result = runner.invoke(args=["trash", "purge"])
    assert result.exit_code == 0, result.output
    assert "juchoco: jucho_unit_imports 1 行（有効期限切れの一時データ）を完全に削除しました" in result.output
    assert "otherco: jucho_unit_imports 1 行（有効期限切れの一時データ）を完全に削除しました" in result.output
    left = _imports(app)
    assert set(left) == {fresh, foreign_fresh} and left[fresh][0] != left[foreign_fresh][0]
    assert not any(expired for _, expired in left.values())
    assert admin.get(f"/jucho/buildings/{building_id}/units/import/{fresh}").status_code == 200  # still usable
    assert "有効期限切れの一時データ" not in runner.invoke(args=["trash", "purge"]).output   # nothing left to do
