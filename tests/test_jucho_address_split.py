"""重調's 物件 address in MAMA's five parts: the split of an address typed on one line, the migration that moves
existing addresses (SQLite and PostgreSQL, and back), and search over the parts."""
from __future__ import annotations

from datetime import UTC, datetime

import flask_migrate
import pytest
import sqlalchemy as sa

from app import create_app
from app.address import split_address
from app.extensions import db
from tests.test_jucho_properties import create_association, create_building
from tests.test_kana_search import jucho  # noqa: F401 - the fixture
from tests.test_migrations import PRODUCTION_PLUGINS, scratch_url  # noqa: F401 - the fixture


@pytest.mark.parametrize("text, parts", [
    ("東京都新宿区西新宿2-8-1", ("東京都", "新宿区", "西新宿2-8-1")),
    ("神奈川県横浜市港北区新横浜2-5-8", ("神奈川県", "横浜市港北区", "新横浜2-5-8")),
    ("千葉県市川市八幡1-1-1", ("千葉県", "市川市", "八幡1-1-1")),
    ("東京都西多摩郡瑞穂町箱根ケ崎2335", ("東京都", "西多摩郡瑞穂町", "箱根ケ崎2335")),
    # 市 inside the name: the postcode table's names, longest first, not the first 市
    ("三重県四日市市諏訪町1-5", ("三重県", "四日市市", "諏訪町1-5")),
    ("広島県廿日市市下平良1-11-1", ("広島県", "廿日市市", "下平良1-11-1")),
    ("千葉県市原市国分寺台中央1-1-1", ("千葉県", "市原市", "国分寺台中央1-1-1")),
    ("石川県野々市市三納1-1", ("石川県", "野々市市", "三納1-1")),
    ("長野県大町市大町1129", ("長野県", "大町市", "大町1129")),
    ("兵庫県神崎郡市川町西川辺165-3", ("兵庫県", "神崎郡市川町", "西川辺165-3")),
    # 東京23区, 政令市の区 and 郡部
    ("東京都港区芝公園4-2-8", ("東京都", "港区", "芝公園4-2-8")),
    ("東京都北区王子本町1-15-22", ("東京都", "北区", "王子本町1-15-22")),
    ("京都府京都市中京区寺町通御池上る", ("京都府", "京都市中京区", "寺町通御池上る")),
    ("北海道虻田郡倶知安町北1条東3丁目", ("北海道", "虻田郡倶知安町", "北1条東3丁目")),
    # written without the ward or the 郡, and with the small ヶ the table spells ケ
    ("神奈川県横浜市新横浜2-5-8", ("神奈川県", "横浜市", "新横浜2-5-8")),
    ("北海道倶知安町北1条東3丁目", ("北海道", "倶知安町", "北1条東3丁目")),
    ("千葉県袖ヶ浦市坂戸市場1-1", ("千葉県", "袖ヶ浦市", "坂戸市場1-1")),
    # a name the table does not know yet: the pattern's guess
    ("東京都架空市本町1-1", ("東京都", "架空市", "本町1-1")),
    ("北海道 札幌市中央区北1条西2丁目", ("北海道", "札幌市中央区", "北1条西2丁目")),
    ("青葉台1-2-3 グランドメゾン", ("", "", "青葉台1-2-3 グランドメゾン")),  # no prefecture: nothing guessed
    ("東京都", ("東京都", "", "")),
    ("", ("", "", "")),
])
def test_split_address_finds_prefecture_and_city_or_keeps_the_text(text, parts):
    split = split_address(text)
    assert (split.prefecture, split.city, split.address_line) == parts


def _insert_building(bind, building_id: int, address: str, now) -> None:
    bind.execute(sa.text(
        "INSERT INTO jucho_buildings (id, tenant_id, association_id, name, kana, address, structure, floors_above, "
        "floors_below, total_units, management_fee_basis, management_fee, repair_reserve_basis, repair_reserve, "
        "other_fees, planned_repair, notes, created_at, updated_at, search_text) VALUES (:id, 1, 7, :name, 'カナ', "
        ":address, 'RC', 5, 0, 10, 'unit', 1, 'unit', 1, '', '', '', :now, :now, '')"),
        {"id": building_id, "name": f"物件{building_id}", "address": address, "now": now})


def test_migration_splits_existing_addresses_and_joins_them_back(base_config, scratch_url):  # noqa: F811
    application = create_app({**base_config, "SQLALCHEMY_DATABASE_URI": scratch_url,
                              "KANRI_PLUGINS": PRODUCTION_PLUGINS})
    odd = "青葉台一丁目二番三号（旧表記）" * 12  # 180+ characters, no prefecture: kept whole
    try:
        with application.app_context():
            flask_migrate.upgrade(revision="0014_trash_and_search")
            now = datetime(2026, 1, 1, tzinfo=UTC)
            bind = db.session.connection()
            bind.execute(sa.text(
                "INSERT INTO tenants (id, code, name, product, contract_start, contract_end, status, created_at) "
                "VALUES (1, 't1', 'T', 'jucho', '2026-01-01', '2099-12-31', 'active', :now)"), {"now": now})
            bind.execute(sa.text(
                "INSERT INTO jucho_associations (id, tenant_id, row_key, name, kana, management_form, notes, "
                "created_at, updated_at, search_text) VALUES (7, 1, 'k', '組合', 'クミアイ', 'full', '', :now, :now, '')"),
                {"now": now})
            _insert_building(bind, 1, "東京都新宿区西新宿2-8-1", now)
            _insert_building(bind, 2, odd, now)
            _insert_building(bind, 3, "神奈川県横浜市中区山下町1", now)
            _insert_building(bind, 4, "三重県四日市市諏訪町1-5", now)
            db.session.commit()
            db.session.remove()

            flask_migrate.upgrade(revision="0019_jucho_building_address")
            rows = db.session.execute(sa.text(
                "SELECT id, postal_code, prefecture, city, address_line, building_name, search_text "
                "FROM jucho_buildings ORDER BY id")).all()
            assert [tuple(row[1:6]) for row in rows] == [
                ("", "東京都", "新宿区", "西新宿2-8-1", ""),
                ("", "", "", odd, ""),
                ("", "神奈川県", "横浜市中区", "山下町1", ""),
                ("", "三重県", "四日市市", "諏訪町1-5", "")]
            assert "東京都新宿区西新宿2-8-1" in rows[0].search_text.split("\n")  # the parts are one search piece
            assert "address" not in {c["name"] for c in sa.inspect(db.engine).get_columns("jucho_buildings")}
            db.session.remove()

            flask_migrate.downgrade(revision="0014_trash_and_search")
            back = db.session.execute(sa.text("SELECT address, search_text FROM jucho_buildings ORDER BY id")).all()
            assert [row.address for row in back] == ["東京都新宿区西新宿2-8-1", odd, "神奈川県横浜市中区山下町1",
                                                 "三重県四日市市諏訪町1-5"]
            assert back[0].search_text.split("\n")[-1] == "東京都新宿区西新宿2-8-1"
    finally:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


def test_building_is_saved_in_parts_shown_whole_and_found_by_any_part(jucho):  # noqa: F811
    association_id = create_association(jucho)
    building_id = create_building(jucho, association_id, name="新宿タワー", postal_code="１６０００２３",
                                  prefecture="東京都", city="新宿区", address_line="西新宿2-8-1",
                                  building_name="新宿タワー北棟")
    page = jucho.get(f"/jucho/buildings/{building_id}").get_data(as_text=True)
    assert "〒160-0023" in page and "東京都新宿区西新宿2-8-1 新宿タワー北棟" in page
    for word in ("新宿区西新宿２－８", "160-0023", "北棟", "東京都"):
        listing = jucho.get("/jucho/buildings", query_string={"q": word}).get_data(as_text=True)
        assert "新宿タワー" in listing, word
    listing = jucho.get("/jucho/buildings", query_string={"q": "横浜"}).get_data(as_text=True)
    assert "物件はまだ登録されていません" not in listing and "該当する物件はありません" in listing
