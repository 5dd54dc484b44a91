"""MAMA sample 管理組合 (the demo's and the bench's) pass the 管理組合 form unchanged: a demo user can edit them."""
from __future__ import annotations

import random

import pytest

from app.extensions import db
from plugins.mama.cli import kana_number, sample_association
from plugins.mama.models import MamaAssociation
from tests.conftest import post_form
from tests.mama_helpers import in_tenant, login_with_code

FIELDS = ("code", "name", "name_kana", "postal_code", "prefecture", "city", "address_line", "building_name", "units",
          "building_year", "fiscal_start_month", "contact_name", "contact_phone", "contact_email", "notes")


@pytest.mark.parametrize(("number", "reading"), [
    (1, "イチ"), (12, "ジュウニ"), (300, "サンビャク"), (681, "ロッピャクハチジュウイチ"), (3008, "サンゼンハチ"),
    (8000, "ハッセン"), (10000, "イチマン"), (99999, "キュウマンキュウセンキュウヒャクキュウジュウキュウ"),
])
def test_numbers_are_read_in_katakana(number, reading):
    assert kana_number(number) == reading


def test_a_sample_association_saves_unchanged_through_the_edit_form(app, make_tenant, client):
    make_tenant("mama1", product="mama")
    with in_tenant(app, "mama1"):
        association = sample_association(1234, random.Random(3))
        db.session.add(association)
        db.session.commit()
        association_id = association.id
        sent = {name: "" if getattr(association, name) is None else str(getattr(association, name)) for name in FIELDS}
    login_with_code(client, app, "mama1", "admin")
    response = post_form(client, f"/mama/associations/{association_id}/edit", sent)  # what the pre-filled form sends
    assert response.status_code == 302, response.get_data(as_text=True)
    with in_tenant(app, "mama1"):
        assert db.session.get(MamaAssociation, association_id).name_kana == sent["name_kana"]
