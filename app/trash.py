"""The 削除済み screens every product uses: the list of a soft-deletable model's deleted rows and the restore step.

A product's view passes its model and the columns to show; the core pages, renders and restores::

    @bp.route("/things/trash")
    def things_trash():
        return trash.trash_page(Thing, title="削除済みの物件", columns=[("物件名", "name")],
                                restore_endpoint="acme.thing_restore", back_url=url_for("acme.things"), back_label="物件一覧")

    @bp.route("/things/trash/<int:thing_id>/restore", methods=["POST"])
    def thing_restore(thing_id):
        thing = trash.deleted_or_404(Thing, thing_id)
        trash.restore_from_trash(thing, refusal=None, action="acme.thing.restore", target=f"thing:{thing.id}",
                                 done=f"物件「{thing.name}」を元に戻しました。")
        return redirect(url_for("acme.things_trash"))
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

import sqlalchemy as sa
from flask import flash, render_template, request

from . import audit
from .extensions import db
from .forms import ConfirmForm, require_confirm
from .listing import Listing, paginate
from .softdelete import including_deleted, restore, trash_days

PER_PAGE = 50


def deleted_listing(model: type, query=None, per_page: int = PER_PAGE) -> Listing:
    """One page (``page=``) of the model's deleted rows, most recently deleted first."""
    query = query if query is not None else sa.select(model)
    query = query.where(model.deleted_at.is_not(None)).order_by(model.deleted_at.desc(), model.id.desc())
    with including_deleted():
        return Listing(paginate(query, per_page))


def deleted_or_404(model: type, row_id: int):
    """A deleted row of the current tenant, or 404 (a live row or another tenant's id too)."""
    with including_deleted():
        return db.first_or_404(sa.select(model).where(model.id == row_id, model.deleted_at.is_not(None)))


def trash_page(model: type, *, title: str, columns: Iterable[tuple[str, str | Callable]], restore_endpoint: str,
               back_url: str, id_arg: str, back_label: str = "一覧", query=None, endpoint: str | None = None,
               args: dict | None = None):
    """Render the 削除済み list: the given columns (attribute name or ``row → value``), when and by whom each row
    was deleted, when it will be purged, and a 元に戻す button posting to ``restore_endpoint``; ``back_label`` names
    the list at ``back_url`` in the breadcrumbs and the way back."""
    listing = deleted_listing(model, query)
    cells = [(label, (lambda row, name=getter: getattr(row, name)) if isinstance(getter, str) else getter)
             for label, getter in columns]
    return render_template("trash.html", title=title, listing=listing, cells=cells, restore_endpoint=restore_endpoint,
                           back_url=back_url, back_label=back_label, id_arg=id_arg, days=trash_days(), form=ConfirmForm(),
                           endpoint=endpoint or request.endpoint, args=args or {})


def restore_from_trash(row, *, refusal: str | None, action: str, target: str, done: str, **details) -> bool:
    """Restore a deleted row (CSRF checked), audit ``action`` and commit, flashing ``done``; when ``refusal`` says
    why it cannot come back (a clash with a live record), flash that instead and change nothing."""
    require_confirm()
    if refusal:
        flash(refusal, "error")
        return False
    restore(row)
    audit.record(action, target=target, **details)
    db.session.commit()
    flash(done, "success")
    return True
