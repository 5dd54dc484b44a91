"""Record look-ups through Flask-SQLAlchemy's get_or_404/first_or_404 stay tenant-scoped; LIKE search escapes wildcards."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import NotFound

from app.extensions import db
from app.models import User
from plugins.mama.models import MamaAssociation, MamaDevice
from tests import mama_helpers as mama


def _association(code: str, name: str, kana: str = "テスト") -> int:
    row = MamaAssociation(code=code, name=name, name_kana=kana, postal_code="160-0023", prefecture="東京都",
                          city="新宿区", address_line="西新宿1-1-1", units=10, building_year=2000, fiscal_start_month=4)
    db.session.add(row)
    db.session.commit()
    return row.id


def test_get_or_404_does_not_see_another_tenants_rows(app, make_tenant):
    mama.mama_tenant(make_tenant, "mama1")
    mama.mama_tenant(make_tenant, "mama2")
    with mama.in_tenant(app, "mama2"):
        foreign_user = mama.get_user("admin").id
        foreign_association = _association("A0001", "他社の管理組合")
    with mama.in_tenant(app, "mama1"):
        own_user = mama.get_user("admin").id
        assert db.get_or_404(User, own_user).login_id == "admin"
        with pytest.raises(NotFound):
            db.get_or_404(User, foreign_user)
        with pytest.raises(NotFound):
            db.first_or_404(sa.select(MamaAssociation).where(MamaAssociation.id == foreign_association))


def test_foreign_ids_answer_404_in_mamas_screens(app, make_tenant):
    _, client = mama.admin_client(app, make_tenant, "mama1")
    mama.mama_tenant(make_tenant, "mama2")
    with mama.in_tenant(app, "mama2"):
        foreign_user = mama.get_user("admin").id
        foreign_association = _association("A0001", "他社の管理組合")
    with mama.in_tenant(app, "mama1"):
        own_user = mama.get_user("admin").id
        own_device = db.session.execute(sa.select(MamaDevice.id)).scalars().first()
    assert client.get(f"/mama/users/{own_user}/edit").status_code == 200
    assert client.get(f"/mama/users/{foreign_user}/edit").status_code == 404
    assert client.get(f"/mama/scopes/{foreign_user}").status_code == 404
    assert client.get(f"/mama/devices/users/{foreign_user}").status_code == 404
    assert client.get(f"/mama/associations/{foreign_association}").status_code == 404
    assert own_device is not None


def test_search_words_are_literal_not_wildcards(app, make_tenant):
    _, client = mama.admin_client(app, make_tenant, "mama1")
    with mama.in_tenant(app, "mama1"):
        _association("A0001", "100%ハイツ")
        _association("A0002", "サン_パーク")
        _association("A0003", "グランメゾン")
    for word, found, not_found in (("%", "100%ハイツ", "グランメゾン"), ("_", "サン_パーク", "グランメゾン"),
                                   ("A000", "グランメゾン", None), ("A%", None, "グランメゾン")):
        html = client.get("/mama/associations", query_string={"q": word}).get_data(as_text=True)
        if found:
            assert found in html, word
        if not_found:
            assert not_found not in html, word
