"""The dashboard's 依頼状況 panel: open requests by status, overdue ones, the user's own."""
from __future__ import annotations

from flask import render_template
from markupsafe import Markup

from ..requests import OPEN_STATUSES, STATUSES


def request_panel(open_counts: dict[str, int], overdue: int, mine: int) -> Markup:
    """The panel's HTML from its figures (open requests per status, overdue, assigned to the user)."""
    html = render_template("jucho/requests/_panel.html", open_counts=[
        (status, STATUSES[status], open_counts[status]) for status in OPEN_STATUSES], overdue=overdue, mine=mine)
    return Markup(html)  # noqa: S704  # nosec B704  # an autoescaped template's output
