"""削除済み: deleted 管理組合 / 物件 are hidden everywhere, restorable by an admin for 30 days (with audit events and
Japanese labels), refused with a message on a clash, and purged for good by `flask trash purge`."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.timeutil import utcnow
from plugins.jucho.models import JuchoAssociation, JuchoBuilding
from plugins.mama.models import MamaAssociation, MamaUserAssociation
from tests.conftest import post_form
from tests.jucho_helpers import jucho_login
from tests.mama_helpers import admin_client, audit_actions, get_user, home_count, in_tenant, login_with_code
from tests.test_jucho_properties import create_association, create_building
from tests.test_mama_associations import GOOD


def _mama_create(client, **overrides) -> int:
    response = post_form(client, "/mama/associations/new", {**GOOD, **overrides})
    assert response.status_code == 302, response.get_data(as_text=True)
    client.get(response.headers["Location"])  # clears the flash
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _confirm(client, url):
    response = post_form(client, url, {"confirmed": "yes"})
    if response.status_code == 302:
        client.get(response.headers["Location"])  # clears the flash that names the record
    return response


def _restore(client, trash_url, action):
    return post_form(client, trash_url, {}, action=action)


def _age(app, tenant, model, days):
    """Pretend the tenant's deleted rows of model were deleted `days` ago."""
    with in_tenant(app, tenant):
        db.session.execute(sa.update(model).where(model.deleted_at.is_not(None))
                           .values(deleted_at=utcnow() - timedelta(days=days)).execution_options(include_deleted=True))
        db.session.commit()


def test_mama_deleted_association_is_hidden_everywhere_and_restorable(app, make_tenant, add_user):
    _, admin = admin_client(app, make_tenant)
    kept = _mama_create(admin, code="K001", name="残る管理組合", name_kana="ノコル")
    gone = _mama_create(admin, code="D001", name="消える管理組合", name_kana="キエル")
    add_user("mama1", "staff")
    with in_tenant(app, "mama1"):
        staff_id = get_user("staff").id
        db.session.add_all([MamaUserAssociation(user_id=staff_id, association_id=a) for a in (kept, gone)])
        db.session.commit()
    staff = app.test_client()
    login_with_code(staff, app, "mama1", "staff")

    assert _confirm(admin, f"/mama/associations/{gone}/delete").status_code == 302
    for client in (admin, staff):
        page = client.get("/mama/associations").get_data(as_text=True)
        assert "残る管理組合" in page and "消える管理組合" not in page and "1 件" in page
        assert "消える" not in client.get("/mama/associations?q=キエル").get_data(as_text=True).split("association-table")[1]
        assert "D001" not in client.get("/mama/associations/export.csv").get_data().decode("utf-8-sig")
        assert client.get(f"/mama/associations/{gone}").status_code == 404
        assert client.get(f"/mama/associations/{gone}/edit").status_code == 404
    assert home_count(staff, "参照できる管理組合") == 1
    scope_page = admin.get(f"/mama/scopes/{staff_id}").get_data(as_text=True)
    assert "K001" in scope_page and "D001" not in scope_page
    add_user("mama1", "staff2")
    with in_tenant(app, "mama1"):
        other_id = get_user("staff2").id
    candidates = admin.get(f"/mama/scopes/{other_id}?q=管理組合").get_data(as_text=True).split("scope-candidates")[1]
    assert "K001" in candidates and "D001" not in candidates

    # 削除済み: admins only
    assert staff.get("/mama/associations/trash").status_code == 403
    trash = admin.get("/mama/associations/trash")
    html = trash.get_data(as_text=True)
    assert trash.status_code == 200 and "削除済みの管理組合" in html and "D001" in html and "K001" not in html
    assert "admin" in html and "30日間" in html

    assert _restore(admin, "/mama/associations/trash", f"/mama/associations/trash/{gone}/restore").status_code == 302
    assert "消える管理組合" in admin.get("/mama/associations").get_data(as_text=True)
    assert staff.get(f"/mama/associations/{gone}").status_code == 200  # the staff member's scope came back too
    actions = [a for a, _, _ in audit_actions(app, "mama1")]
    assert "mama.association.delete" in actions and "mama.association.restore" in actions
    oplog = admin.get("/admin/oplog").get_data(as_text=True)
    assert "管理組合削除（削除済みへ）" in oplog and "管理組合の復元（削除済みから）" in oplog


def test_mama_code_of_a_deleted_association_can_be_reused_and_restore_then_clashes(app, make_tenant):
    _, admin = admin_client(app, make_tenant)
    old = _mama_create(admin, code="C001", name="旧管理組合")
    _confirm(admin, f"/mama/associations/{old}/delete")
    _mama_create(admin, code="C001", name="新管理組合")  # the live code is free again
    response = _restore(admin, "/mama/associations/trash", f"/mama/associations/trash/{old}/restore")
    assert response.status_code == 302
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "組合コード「C001」は登録中の別の管理組合が使っているため、元に戻せません" in page
    assert "旧管理組合" in page  # still in 削除済み
    assert "mama.association.restore" not in [a for a, _, _ in audit_actions(app, "mama1")]


def test_another_tenants_deleted_row_cannot_be_seen_or_restored(app, make_tenant):
    _, admin = admin_client(app, make_tenant)
    gone = _mama_create(admin, code="X001", name="他社の管理組合")
    _confirm(admin, f"/mama/associations/{gone}/delete")
    _, other = admin_client(app, make_tenant, code="mama2")
    assert "他社の管理組合" not in other.get("/mama/associations/trash").get_data(as_text=True)
    assert _restore(other, "/mama/associations/trash", f"/mama/associations/trash/{gone}/restore").status_code == 404
    live = _mama_create(admin, code="L001", name="稼働中")
    assert _restore(admin, "/mama/associations/trash", f"/mama/associations/trash/{live}/restore").status_code == 404


def test_jucho_trash_for_associations_and_buildings(app, client, outbox, make_tenant, add_user):
    make_tenant("juchoco", product="jucho")
    jucho_login(client, outbox, "juchoco", "admin")
    association_id = create_association(client, name="青葉管理組合")
    building_id = create_building(client, association_id, name="青葉タワー")
    assert _confirm(client, f"/jucho/buildings/{building_id}/delete").status_code == 302
    assert _confirm(client, f"/jucho/associations/{association_id}/delete").status_code == 302
    assert "青葉" not in client.get("/jucho/buildings").get_data(as_text=True).split("jucho-list")[1]
    assert "青葉" not in client.get("/jucho/associations").get_data(as_text=True).split("jucho-list")[1]
    assert "青葉タワー" not in client.get("/jucho/buildings.csv").get_data().decode("utf-8-sig")
    assert "青葉管理組合" not in client.get("/jucho/buildings/new").get_data(as_text=True)
    trash = client.get("/jucho/buildings/trash").get_data(as_text=True)
    assert "青葉タワー" in trash and "青葉管理組合" in trash  # the deleted building still names its association

    # a building cannot come back while its 管理組合 is deleted
    response = _restore(client, "/jucho/buildings/trash", f"/jucho/buildings/trash/{building_id}/restore")
    assert "管理組合は削除済みのため、元に戻せません" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert _restore(client, "/jucho/associations/trash",
                    f"/jucho/associations/trash/{association_id}/restore").status_code == 302
    assert _restore(client, "/jucho/buildings/trash", f"/jucho/buildings/trash/{building_id}/restore").status_code == 302
    assert "青葉タワー" in client.get("/jucho/buildings").get_data(as_text=True)

    add_user("juchoco", "hanako")
    general = app.test_client()
    jucho_login(general, outbox, "juchoco", "hanako")
    assert general.get("/jucho/associations/trash").status_code == 403
    assert general.get("/jucho/buildings/trash").status_code == 403
    oplog = client.get("/admin/oplog").get_data(as_text=True)
    assert "物件削除（削除済みへ）" in oplog and "物件の復元（削除済みから）" in oplog and "管理組合の復元（削除済みから）" in oplog


def test_trash_purge_removes_only_rows_deleted_more_than_30_days_ago(app, runner, client, outbox, make_tenant,
                                                                   add_user):
    _, admin = admin_client(app, make_tenant)
    old = _mama_create(admin, code="O001", name="古い削除")
    recent = _mama_create(admin, code="R001", name="最近の削除")
    add_user("mama1", "staff")
    with in_tenant(app, "mama1"):
        db.session.add(MamaUserAssociation(user_id=get_user("staff").id, association_id=old))
        db.session.commit()
    _confirm(admin, f"/mama/associations/{old}/delete")
    _age(app, "mama1", MamaAssociation, 31)
    _confirm(admin, f"/mama/associations/{recent}/delete")
    make_tenant("juchoco", product="jucho")
    jucho_login(client, outbox, "juchoco", "admin")
    association_id = create_association(client, name="青葉管理組合")
    building_id = create_building(client, association_id, name="青葉タワー")
    _confirm(client, f"/jucho/buildings/{building_id}/delete")
    _confirm(client, f"/jucho/associations/{association_id}/delete")
    _age(app, "juchoco", JuchoBuilding, 40)
    _age(app, "juchoco", JuchoAssociation, 40)

    dry = runner.invoke(args=["trash", "purge", "--dry-run"])
    assert dry.exit_code == 0 and "[dry-run] mama1: mama_associations 1 行" in dry.output
    result = runner.invoke(args=["trash", "purge"])
    assert result.exit_code == 0, result.output
    assert "mama1: mama_associations 1 行を完全に削除しました" in result.output
    assert "juchoco: jucho_buildings 1 行" in result.output and "juchoco: jucho_associations 1 行" in result.output
    with app.app_context():
        codes = db.session.execute(sa.text("SELECT code FROM mama_associations")).scalars().all()
        scopes = db.session.execute(sa.text("SELECT count(*) FROM mama_user_associations")).scalar_one()
        jucho_rows = db.session.execute(sa.text("SELECT count(*) FROM jucho_buildings")).scalar_one()
    assert codes == ["R001"] and scopes == 0 and jucho_rows == 0
    assert "O001" not in admin.get("/mama/associations/trash").get_data(as_text=True)
    assert "trash.purge" in [a for a, _, _ in audit_actions(app, "mama1")]
    assert "削除済みデータの完全削除" in admin.get("/admin/oplog").get_data(as_text=True)
    again = runner.invoke(args=["trash", "purge"])
    assert again.exit_code == 0 and "削除済みデータはありません" in again.output
