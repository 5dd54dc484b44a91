"""MAMA's ホーム panels: 対応待ち and 登録件数, each line shown only to whoever may open its menu."""
from __future__ import annotations

import sqlalchemy as sa
from flask import url_for
from markupsafe import Markup

from app.dashboard import Count, count_all, count_list, locked_users_query, users_query
from app.products import Panel

from .associations import scope_explanation, scoped
from .devices import pending_devices_query
from .models import MamaAssociation
from .permissions import MENU_ASSOCIATIONS, MENU_DEVICES, MENU_USERS, can_open


def panels(user) -> list[Panel]:
    """The panels for ``user``: the figures of every line they may see, counted in one query."""
    lines = []  # (panel, label, select to count, unit, endpoint)
    if can_open(user, MENU_DEVICES):
        lines.append(("pending", "端末の登録申請（承認待ち）", pending_devices_query(), "件", "mama.devices_index"))
    if can_open(user, MENU_USERS):
        lines.append(("pending", "ロック中のユーザー", locked_users_query(), "人", "mama.users_index"))
    if can_open(user, MENU_ASSOCIATIONS):
        lines.append(("counts", "参照できる管理組合", scoped(sa.select(MamaAssociation.id), user), "件",
                      "mama.associations_index"))
    if can_open(user, MENU_USERS):
        lines.append(("counts", "ユーザー", users_query(), "人", "mama.users_index"))
    values = count_all([line[2] for line in lines])
    pending, counts, why_none = [], [], Markup("")
    for (panel, label, _, unit, endpoint), value in zip(lines, values, strict=True):
        (pending if panel == "pending" else counts).append(Count(label, value, unit, url_for(endpoint)))
        if endpoint == "mama.associations_index" and value == 0:
            why_none = scope_explanation(user)  # why 0 件, and which admins can change it
    found = [Panel("対応待ち", count_list(pending), order=10)] if pending else []
    return found + ([Panel("登録件数", count_list(counts) + why_none, order=20)] if counts else [])
