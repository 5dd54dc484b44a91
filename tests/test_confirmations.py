"""Nothing irreversible in one click: every destructive or access-removing action shows the same confirmation page
(what, to what, the consequences), and a POST without the confirmation step — a one-click button or a forged
request carrying a valid CSRF token — only shows that page again and changes nothing."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import STATUS_SUSPENDED, User, UserSession
from plugins.mama.models import MamaAssociation, MamaDevice, MamaPermissionSet, MamaUserAssociation
from tests.conftest import csrf_from, login, post_form
from tests.jucho_helpers import jucho_login
from tests.mama_helpers import admin_client, audit_actions, get_user, in_tenant, login_with_code
from tests.test_jucho_properties import create_association, create_building
from tests.test_mama_associations import GOOD


@dataclass
class Case:
    """One action: where its confirmation page is, what it must say, and how to tell whether it happened."""

    client: object
    url: str
    texts: tuple
    done: Callable[[], bool]
    done_status: int = 302  # the MAMA password reset shows the new temporary password once (200)


def _count(app, tenant: str, query) -> int:
    with in_tenant(app, tenant):
        return db.session.execute(query).scalar_one()


def _mama_association(app, make_tenant, add_user, outbox):
    _, admin = admin_client(app, make_tenant)
    response = post_form(admin, "/mama/associations/new", {**GOOD, "code": "A777"})
    aid = int(response.headers["Location"].rsplit("/", 1)[1])
    return Case(admin, f"/mama/associations/{aid}/delete",
                ("管理組合を削除しますか？", "A777", GOOD["name"], "物件参照権限からも外れます", "30日間"),
                lambda: _count(app, "mama1", sa.select(sa.func.count()).select_from(MamaAssociation)) == 0)


def _mama_permission_set(app, make_tenant, add_user, outbox):
    _, admin = admin_client(app, make_tenant)
    post_form(admin, "/mama/permissions/new?role=general", {"name": "閲覧のみ", "menus": ["mama.associations"]})
    with in_tenant(app, "mama1"):
        set_id = db.session.execute(sa.select(MamaPermissionSet.id)).scalar_one()
    return Case(admin, f"/mama/permissions/{set_id}/delete", ("権限セットを削除しますか？", "閲覧のみ", "元に戻せません"),
                lambda: _count(app, "mama1", sa.select(sa.func.count()).select_from(MamaPermissionSet)) == 0)


def _staff_device(app, make_tenant, add_user):
    _, admin = admin_client(app, make_tenant)
    add_user("mama1", "staff")
    staff = app.test_client()
    login_with_code(staff, app, "mama1", "staff")
    with in_tenant(app, "mama1"):
        staff_id = get_user("staff").id
        device_id = db.session.execute(sa.select(MamaDevice.id).where(MamaDevice.user_id == staff_id)).scalar_one()
    revoked = lambda: _count(app, "mama1", sa.select(sa.func.count()).select_from(MamaDevice).where(  # noqa: E731
        MamaDevice.user_id == staff_id, MamaDevice.status == "revoked")) == 1
    return admin, staff, staff_id, device_id, revoked


def _mama_device_revoke(app, make_tenant, add_user, outbox):
    admin, _, _, device_id, revoked = _staff_device(app, make_tenant, add_user)
    return Case(admin, f"/mama/devices/{device_id}/revoke",
                ("端末を無効にしますか？", "staff", "この端末でのログイン中のセッションも終了します"), revoked)


def _mama_device_revoke_all(app, make_tenant, add_user, outbox):
    admin, _, staff_id, _, revoked = _staff_device(app, make_tenant, add_user)
    return Case(admin, f"/mama/devices/users/{staff_id}/revoke-all",
                ("このユーザーの端末をすべて無効にしますか？", "1台", "ログイン中のセッションもすべて終了します"), revoked)


def _mama_my_device_revoke(app, make_tenant, add_user, outbox):
    _, staff, _, device_id, revoked = _staff_device(app, make_tenant, add_user)
    return Case(staff, f"/mama/account/devices/{device_id}/revoke",
                ("端末を無効にしますか？", "このブラウザもログアウトします"), revoked)


def _mama_scope_remove(app, make_tenant, add_user, outbox):
    _, admin = admin_client(app, make_tenant)
    response = post_form(admin, "/mama/associations/new", {**GOOD, "code": "A777"})
    aid = int(response.headers["Location"].rsplit("/", 1)[1])
    add_user("mama1", "staff")
    with in_tenant(app, "mama1"):
        uid = get_user("staff").id
        db.session.add(MamaUserAssociation(user_id=uid, association_id=aid))
        db.session.commit()
    return Case(admin, f"/mama/scopes/{uid}/remove/{aid}", ("参照できる管理組合から外しますか？", "A777", "管理組合そのものは削除されません"),
                lambda: _count(app, "mama1", sa.select(sa.func.count()).select_from(MamaUserAssociation)) == 0)


def _mama_user_delete(app, make_tenant, add_user, outbox):
    _, admin = admin_client(app, make_tenant)
    add_user("mama1", "staff")
    with in_tenant(app, "mama1"):
        uid = get_user("staff").id
    return Case(admin, f"/mama/users/{uid}/delete", ("ユーザーを削除しますか？", "staff", "登録端末・物件参照権限も削除されます"),
                lambda: _count(app, "mama1", sa.select(sa.func.count()).select_from(User)) == 1)


def _mama_user_reset(app, make_tenant, add_user, outbox):
    _, admin = admin_client(app, make_tenant)
    add_user("mama1", "staff")
    with in_tenant(app, "mama1"):
        uid = get_user("staff").id
    return Case(admin, f"/mama/users/{uid}/reset-password", ("パスワード再発行", "staff", "セッションはすべて終了"),
                lambda: "password.reset" in [a for a, _, _ in audit_actions(app, "mama1")], done_status=200)


def _jucho_admin(app, make_tenant, outbox):
    make_tenant("juchoco", product="jucho")
    admin = app.test_client()
    jucho_login(admin, outbox, "juchoco", "admin")
    return admin


def _jucho_staff(app, make_tenant, add_user, outbox):
    admin = _jucho_admin(app, make_tenant, outbox)
    add_user("juchoco", "hanako")
    with in_tenant(app, "juchoco"):
        return admin, get_user("hanako").id


def _jucho_suspend(app, make_tenant, add_user, outbox):
    admin, uid = _jucho_staff(app, make_tenant, add_user, outbox)
    return Case(admin, f"/jucho/staff/{uid}/suspend", ("社員を停止しますか？", "hanako", "ログイン中のセッションはすべてすぐに終了"),
                lambda: _count(app, "juchoco", sa.select(sa.func.count()).select_from(User).where(
                    User.status == STATUS_SUSPENDED)) == 1)


def _jucho_reset_password(app, make_tenant, add_user, outbox):
    admin, uid = _jucho_staff(app, make_tenant, add_user, outbox)
    before = len(outbox)
    return Case(admin, f"/jucho/staff/{uid}/reset-password", ("仮パスワードを再発行しますか？", "hanako", "セッションはすべて終了"),
                lambda: len(outbox) == before + 1)


def _jucho_association(app, make_tenant, add_user, outbox):
    admin = _jucho_admin(app, make_tenant, outbox)
    association_id = create_association(admin, name="青葉管理組合")
    return Case(admin, f"/jucho/associations/{association_id}/delete", ("管理組合を削除しますか？", "青葉管理組合", "30日間"),
                lambda: admin.get(f"/jucho/associations/{association_id}/edit").status_code == 404)


def _jucho_building(app, make_tenant, add_user, outbox):
    admin = _jucho_admin(app, make_tenant, outbox)
    building_id = create_building(admin, create_association(admin), name="青葉タワー")
    return Case(admin, f"/jucho/buildings/{building_id}/delete", ("物件を削除しますか？", "青葉タワー", "30日間"),
                lambda: admin.get(f"/jucho/buildings/{building_id}/edit").status_code == 404)


def _core_end_others(app, make_tenant, add_user, outbox):
    make_tenant("acme")
    mine, other = app.test_client(), app.test_client()
    login(mine, "acme", "admin")
    login(other, "acme", "admin")
    return Case(mine, "/account/sessions/end-others", ("この端末以外のセッションをすべて終了しますか？", "1件"),
                lambda: _count(app, "acme", sa.select(sa.func.count()).select_from(UserSession).where(
                    UserSession.ended_at.is_(None))) == 1)


def _core_end_one(app, make_tenant, add_user, outbox):
    case = _core_end_others(app, make_tenant, add_user, outbox)
    with in_tenant(app, "acme"):
        first = db.session.execute(sa.select(UserSession.id).order_by(UserSession.id)).scalars().first()
    return Case(case.client, f"/account/sessions/{first}/end", ("セッションを終了しますか？", "ログアウト"), case.done)


CASES = {
    "mama-association-delete": _mama_association, "mama-permission-set-delete": _mama_permission_set,
    "mama-device-revoke": _mama_device_revoke, "mama-device-revoke-all": _mama_device_revoke_all,
    "mama-own-device-revoke": _mama_my_device_revoke, "mama-scope-remove": _mama_scope_remove,
    "mama-user-delete": _mama_user_delete, "mama-user-reset-password": _mama_user_reset, "jucho-staff-suspend": _jucho_suspend,
    "jucho-staff-reset-password": _jucho_reset_password, "jucho-association-delete": _jucho_association,
    "jucho-building-delete": _jucho_building, "core-end-other-sessions": _core_end_others,
    "core-end-one-session": _core_end_one,
}


@pytest.mark.parametrize("name", list(CASES))
def test_action_needs_its_confirmation_page(app, make_tenant, add_user, outbox, name):
    case = CASES[name](app, make_tenant, add_user, outbox)
    page = case.client.get(case.url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'name="confirmed" value="yes"' in html and "キャンセル" in html
    for text in case.texts:
        assert text in html, text
    assert not case.done()

    # An attacker's (or a one-click button's) POST straight to the action: valid CSRF token, no confirmation step.
    token = csrf_from(html)
    forged = case.client.post(case.url, data={"csrf_token": token})
    assert forged.status_code == 200 and case.texts[0] in forged.get_data(as_text=True)
    assert not case.done()
    # The confirmation marker without a valid token is refused too.
    assert case.client.post(case.url, data={"confirmed": "yes", "csrf_token": "forged"}).status_code == 400
    assert not case.done()

    done = case.client.post(case.url, data={"csrf_token": token, "confirmed": "yes"})
    assert done.status_code == case.done_status
    assert case.done()


def test_mama_list_buttons_lead_to_the_confirmation_page_not_to_a_post(app, make_tenant, add_user):
    admin, _, staff_id, device_id, _ = _staff_device(app, make_tenant, add_user)
    html = admin.get(f"/mama/devices/users/{staff_id}").get_data(as_text=True)
    assert f'href="/mama/devices/{device_id}/revoke"' in html
    assert f'href="/mama/devices/users/{staff_id}/revoke-all"' in html
    assert f'action="/mama/devices/{device_id}/revoke"' not in html
