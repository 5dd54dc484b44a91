"""重調@CITY's 登録件数 panel on ホーム: live 管理組合, 物件 and (for admins) 社員, one COUNT each."""
from __future__ import annotations

import sqlalchemy as sa
from flask import url_for

from app.dashboard import Count, count_list, count_of, user_count
from app.products import Panel

from .models import JuchoAssociation, JuchoBuilding

PANEL_ORDER = 30


def count_panel(user) -> Panel:
    """The 登録件数 panel for ``user`` (削除済み rows are not counted)."""
    counts = [Count("管理組合", count_of(sa.select(JuchoAssociation.id)), url=url_for("jucho.association_list")),
              Count("物件", count_of(sa.select(JuchoBuilding.id)), url=url_for("jucho.building_list"))]
    if user.is_admin:
        counts.append(Count("社員", user_count(), "人", url_for("jucho.staff_list")))
    return Panel("登録件数", count_list(counts), order=PANEL_ORDER)
