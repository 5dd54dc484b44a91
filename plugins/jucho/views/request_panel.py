"""The dashboard's 依頼状況 panel: open requests by status, overdue ones, the user's own."""
from __future__ import annotations

from flask import render_template
from markupsafe import Markup

from ..requests import OPEN_STATUSES, STATUSES, assigned_open_count, overdue_count, status_counts


def request_panel(user) -> Markup:
    """The panel's HTML for ``user`` (current tenant)."""
    counts = status_counts()
    html = render_template("jucho/requests/_panel.html", open_counts=[
        (status, STATUSES[status], counts[status]) for status in OPEN_STATUSES],
        overdue=overdue_count(), mine=assigned_open_count(user))
    return Markup(html)  # noqa: S704  # nosec B704  # an autoescaped template's output
