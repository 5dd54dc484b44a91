"""重調@CITY's ホーム panels: 依頼状況 (open requests by status, overdue, the user's own) and 登録件数 (live 管理組合,
物件 and, for admins, 社員) — every figure of both counted in one query."""
from __future__ import annotations

import sqlalchemy as sa
from flask import url_for

from app.dashboard import Count, count_all, count_list, users_query
from app.products import Panel

from .models import JuchoAssociation, JuchoBuilding
from .requests import OPEN_STATUSES, assigned_open_query, in_status_query, overdue_query
from .views.request_panel import request_panel

REQUEST_PANEL_ORDER = 5
PANEL_ORDER = 30


def panels(user) -> list[Panel]:
    """Both panels for ``user`` (削除済み rows are not counted)."""
    queries = [*(in_status_query(status) for status in OPEN_STATUSES), overdue_query(), assigned_open_query(user),
               sa.select(JuchoAssociation.id), sa.select(JuchoBuilding.id)]
    if user.is_admin:
        queries.append(users_query())
    values = count_all(queries)
    open_counts = dict(zip(OPEN_STATUSES, values, strict=False))
    overdue, mine, associations, buildings = values[len(OPEN_STATUSES):len(OPEN_STATUSES) + 4]
    counts = [Count("管理組合", associations, url=url_for("jucho.association_list")),
              Count("物件", buildings, url=url_for("jucho.building_list"))]
    if user.is_admin:
        counts.append(Count("社員", values[-1], "人", url_for("jucho.staff_list")))
    return [Panel("依頼状況", request_panel(open_counts, overdue, mine), order=REQUEST_PANEL_ORDER),
            Panel("登録件数", count_list(counts), order=PANEL_ORDER)]
