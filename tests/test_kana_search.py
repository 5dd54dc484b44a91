"""Kana that just works: one normaliser for フリガナ in both products, and one search (search_text) that ignores
hiragana/katakana, half/full width and case in names, kana, codes and addresses — never holding encrypted PII."""
from __future__ import annotations

import flask_migrate
import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import db
from app.kana import KANA_LATIN_MESSAGE, search_key
from plugins.jucho.models import JuchoAssociation, JuchoBuilding
from plugins.mama.models import MamaAssociation
from tests.conftest import post_form
from tests.jucho_helpers import jucho_login
from tests.mama_helpers import admin_client, in_tenant
from tests.test_jucho_properties import ASSOCIATION, create_association, create_building
from tests.test_mama_associations import GOOD
from tests.test_migrations import PRODUCTION_PLUGINS, scratch_url  # noqa: F401 - the fixture

SHINJUKU = ("しんじゅく", "ｼﾝｼﾞｭｸ", "シンジュク", "シンジュク")


@pytest.mark.parametrize("typed, key", [
    ("しんじゅく", "シンジュク"), ("ｼﾝｼﾞｭｸ", "シンジュク"), ("Ａ００１", "a001"), ("ABC", "abc"),
    ("ｺｰﾎﾟ　ﾊｲﾂ", "コーポ ハイツ"), ("西新宿１－２－３", "西新宿1-2-3"), (None, ""),
])
def test_search_key_folds_kana_width_and_case(typed, key):
    assert search_key(typed) == key


@pytest.fixture
def mama(app, make_tenant):
    _, client = admin_client(app, make_tenant)
    return client


@pytest.fixture
def jucho(client, outbox, make_tenant):
    make_tenant("juchoco", product="jucho")
    jucho_login(client, outbox, "juchoco", "admin")
    return client


def _mama_create(client, **overrides):
    response = post_form(client, "/mama/associations/new", {**GOOD, **overrides})
    assert response.status_code == 302, response.get_data(as_text=True)
    client.get(response.headers["Location"])  # shows (and so clears) the flash that names the new record


def test_mama_kana_is_converted_and_latin_or_digits_refused(mama):
    _mama_create(mama, code="S001", name="新宿パークハイツ管理組合", name_kana="しんじゅく ぱーく ﾊｲﾂ")
    assert "シンジュク パーク ハイツ" in mama.get("/mama/associations").get_data(as_text=True)
    for kana in ("Shinjuku", "ＳＨＩＮＪＵＫＵ", "シンジュク2"):
        response = post_form(mama, "/mama/associations/new", {**GOOD, "code": "S002", "name_kana": kana})
        assert response.status_code == 422 and KANA_LATIN_MESSAGE in response.get_data(as_text=True), kana


def test_jucho_kana_is_converted_and_latin_or_digits_refused(jucho, app):
    association_id = create_association(jucho, kana="ぐらんどめぞん")  # hiragana is accepted and stored as katakana
    create_building(jucho, association_id, kana="ｼﾝｼﾞｭｸ ﾀﾜｰ")
    with in_tenant(app, "juchoco"):
        assert db.session.get(JuchoAssociation, association_id).kana == "グランドメゾン"
        assert db.session.execute(sa.select(JuchoBuilding.kana)).scalar_one() == "シンジュク タワー"
    for kana in ("Grand", "グランド3"):
        response = post_form(jucho, "/jucho/associations/new", {**ASSOCIATION, "kana": kana})
        assert KANA_LATIN_MESSAGE in response.get_data(as_text=True), kana
    with in_tenant(app, "juchoco"):
        assert db.session.execute(sa.select(sa.func.count()).select_from(JuchoAssociation)).scalar_one() == 1


def test_mama_search_ignores_kana_width_and_case_in_names_kana_codes_and_addresses(mama):
    _mama_create(mama, code="A001", name="新宿パークハイツ管理組合", name_kana="シンジュクパークハイツ",
                 city="新宿区", address_line="西新宿1-2-3", contact_name="秘密 花子")
    _mama_create(mama, code="B777", name="横浜ベイ管理組合", name_kana="ヨコハマベイ", prefecture="神奈川県",
                 city="横浜市中区", address_line="山下町1", postal_code="231-0023")
    for word in (*SHINJUKU, "Ａ００１", "a001", "新宿区西新宿", "西新宿１－２－３", "ﾊﾟｰｸ", "ぱーく"):
        page = mama.get("/mama/associations", query_string={"q": word}).get_data(as_text=True)
        assert "新宿パークハイツ管理組合" in page and "横浜ベイ管理組合" not in page, word
        csv_text = mama.get("/mama/associations/export.csv", query_string={"q": word}).get_data().decode("utf-8-sig")
        assert "A001" in csv_text and "B777" not in csv_text, word
    page = mama.get("/mama/associations", query_string={"q": "よこはま ２３１"}).get_data(as_text=True)
    assert "横浜ベイ管理組合" in page and "新宿パークハイツ管理組合" not in page  # every word must match
    page = mama.get("/mama/associations", query_string={"q": "秘密"}).get_data(as_text=True)
    assert "該当する管理組合はありません" in page  # the encrypted contact person is never searchable


def test_mama_scope_candidates_use_the_same_search(app, mama, add_user):
    _mama_create(mama, code="A001", name="新宿パークハイツ管理組合", name_kana="シンジュクパークハイツ")
    add_user("mama1", "staff")
    with in_tenant(app, "mama1"):
        from tests.mama_helpers import get_user
        uid = get_user("staff").id
    for word in SHINJUKU:
        assert "A001" in mama.get(f"/mama/scopes/{uid}", query_string={"q": word}).get_data(as_text=True), word


def test_jucho_search_ignores_kana_width_and_case(jucho):
    association_id = create_association(jucho, name="新宿管理組合", kana="シンジュクカンリクミアイ")
    other = create_association(jucho, name="横浜管理組合", kana="ヨコハマカンリクミアイ")
    create_building(jucho, association_id, name="新宿タワー", kana="シンジュクタワー", postal_code="160-0023",
                    prefecture="東京都", city="新宿区", address_line="西新宿1-2-3")
    create_building(jucho, other, name="横浜ベイ", kana="ヨコハマベイ", postal_code="231-0023",
                    prefecture="神奈川県", city="横浜市中区", address_line="山下町1")
    for word in SHINJUKU:
        page = jucho.get("/jucho/associations", query_string={"q": word}).get_data(as_text=True)
        assert "新宿管理組合" in page and "横浜管理組合" not in page, word
        page = jucho.get("/jucho/buildings", query_string={"q": word}).get_data(as_text=True)
        assert "新宿タワー" in page and "横浜ベイ" not in page, word
    page = jucho.get("/jucho/buildings", query_string={"q": "西新宿１－２"}).get_data(as_text=True)
    assert "新宿タワー" in page and "横浜ベイ" not in page
    page = jucho.get("/jucho/associations", query_string={"q": "山田"}).get_data(as_text=True)
    assert "該当する管理組合はありません" in page  # the contact person (encrypted) is not searched


def test_search_text_never_holds_encrypted_personal_data(app, mama):
    _mama_create(mama, code="A001", contact_name="秘密 花子", contact_phone="03-9999-8888",
                 contact_email="himitsu@example.jp")
    with app.app_context():
        text = db.session.execute(sa.text("SELECT search_text FROM mama_associations")).scalar_one()
    assert "a001" in text and "グランドメゾンニシシンジュク" in text
    for secret in ("秘密", "9999", "himitsu"):
        assert secret not in text


def test_bulk_insert_and_update_keep_search_text(app, make_tenant):
    make_tenant("mama1", product="mama")
    with in_tenant(app, "mama1"):
        from app.tenancy import current_tenant_id
        row = {"tenant_id": current_tenant_id(), "code": "Z001", "name": "渋谷管理組合", "name_kana": "シブヤ",
               "postal_code": "150-0002", "prefecture": "東京都", "city": "渋谷区", "address_line": "渋谷1",
               "units": 10, "building_year": 2000, "fiscal_start_month": 4}
        db.session.execute(sa.insert(MamaAssociation), [row])
        db.session.commit()
        association = db.session.execute(sa.select(MamaAssociation)).scalar_one()
        assert "シブヤ" in association.search_text and "東京都渋谷区渋谷1" in association.search_text
        association.name_kana = "シブヤエキマエ"
        db.session.commit()
        assert "シブヤエキマエ" in db.session.execute(sa.select(MamaAssociation.search_text)).scalar_one()


def test_encrypted_column_in_search_fields_is_refused():
    from app.searchtext import _refuse_encrypted_fields

    class Mapper:
        attrs = {"contact_name": MamaAssociation.__mapper__.attrs["contact_name"]}

    class Leaky:
        __search_fields__ = ("contact_name",)

    with pytest.raises(TypeError, match="encrypted"):
        _refuse_encrypted_fields(Mapper, Leaky)


def test_migration_backfills_search_text(base_config, scratch_url):  # noqa: F811 - the fixture
    application = create_app({**base_config, "SQLALCHEMY_DATABASE_URI": scratch_url,
                              "KANRI_PLUGINS": PRODUCTION_PLUGINS})
    try:
        with application.app_context():
            flask_migrate.upgrade(revision="0009_maintenance")
            now = "2026-01-01 00:00:00"
            db.session.execute(sa.text(
                "INSERT INTO tenants (id, code, name, product, contract_start, contract_end, status, created_at) "
                "VALUES (1, 't1', 'T', 'mama', '2026-01-01', '2099-12-31', 'active', :now)"), {"now": now})
            db.session.execute(sa.text(
                "INSERT INTO mama_associations (tenant_id, row_key, code, name, name_kana, postal_code, prefecture, city, "
                "address_line, units, building_year, fiscal_start_month, created_at, updated_at) VALUES (1, 'k', 'A001', "
                "'新宿管理組合', 'シンジュク', '160-0023', '東京都', '新宿区', '西新宿1', 1, 2000, 4, :now, :now)"),
                {"now": now})
            db.session.execute(sa.text(
                "INSERT INTO jucho_associations (id, tenant_id, row_key, name, kana, management_form, notes, created_at, "
                "updated_at) VALUES (7, 1, 'k2', '新宿管理組合', 'シンジュク', 'full', '', :now, :now)"), {"now": now})
            db.session.execute(sa.text(
                "INSERT INTO jucho_buildings (tenant_id, association_id, name, kana, address, structure, floors_above, "
                "floors_below, total_units, management_fee_basis, management_fee, repair_reserve_basis, "
                "repair_reserve, other_fees, planned_repair, notes, created_at, updated_at) VALUES (1, 7, '新宿タワー', "
                "'シンジュクタワー', '東京都新宿区西新宿1', 'RC', 5, 0, 10, 'unit', 1, 'unit', 1, '', '', '', :now, :now)"),
                {"now": now})
            db.session.commit()
            db.session.remove()
            flask_migrate.upgrade()
            texts = {table: db.session.execute(sa.text(f"SELECT search_text FROM {table}")).scalar_one()  # noqa: S608
                     for table in ("mama_associations", "jucho_associations", "jucho_buildings")}
            assert texts["mama_associations"].split("\n") == ["a001", "新宿管理組合", "シンジュク", "160-0023",
                                                              "東京都新宿区西新宿1"]
            assert texts["jucho_associations"] == "新宿管理組合\nシンジュク"
            assert "東京都新宿区西新宿1" in texts["jucho_buildings"]
            found = db.session.execute(sa.select(MamaAssociation.code).where(MamaAssociation.search_text.contains(
                search_key("しんじゅく"))).execution_options(all_tenants=True)).scalars().all()
            assert found == ["A001"]
    finally:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()
