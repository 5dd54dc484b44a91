"""お知らせ screens: the list and one notice, for every logged-in user of every product.

Only notices targeted at the user's tenant, already published, not withdrawn and for the user's role are shown;
any other id answers 404. Opening a notice marks it read for this user only.
"""
from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user, login_required
from markupsafe import Markup

from app.listing import paginate

from . import bp, notices

PER_PAGE = 20
PANEL_SIZE = 5


@bp.route("/notices")
@login_required
def notice_list():
    """The tenant's notices for this user, newest first, with 未読 marks, in pages."""
    page = paginate(notices.visible_query(current_user), PER_PAGE)
    read = notices.read_ids(current_user, [notice.id for notice in page.items])
    return render_template("transparency/notices/index.html", page=page, read=read)


@bp.route("/notices/<int:notice_id>")
@login_required
def notice_detail(notice_id: int):
    """One notice; opening it marks it read for this user."""
    notice = notices.find_visible(current_user, notice_id)
    if notice is None:
        abort(404)
    notices.mark_read(current_user, notice)
    return render_template("transparency/notices/detail.html", notice=notice)


def notice_panel(user, limit: int = PANEL_SIZE) -> Markup:
    """A dashboard panel body for a product: the user's newest notices with 未読 marks and a link to the list."""
    items = notices.panel_rows(user, limit)
    html = render_template("transparency/notices/_panel.html", items=items,
                           read={item.id for item in items if item.is_read}, unread=items[0].unread if items else 0)
    return Markup(html)  # noqa: S704  # nosec B704  # an autoescaped template's output
