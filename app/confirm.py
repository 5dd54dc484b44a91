"""The confirmation step of every destructive or access-removing action (delete, revoke, suspend, end access).

A view answers GET — and any POST that is not the confirmation page's own — with :func:`confirmation`, and acts
only when :func:`confirmed` is True::

    @bp.route("/things/<int:thing_id>/delete", methods=["GET", "POST"])
    def thing_delete(thing_id):
        thing = db.get_or_404(Thing, thing_id)
        if not confirmed():
            return confirmation("物件を削除しますか？", target=[("物件名", thing.name)],
                                consequences=["…"], cancel_url=url_for(...))
        ...  # delete, audit, commit, redirect

A one-click button or a forged POST (no ``confirmed`` marker) therefore changes nothing: it only shows the page.
"""
from __future__ import annotations

from collections.abc import Iterable

from flask import render_template, request

from .forms import ConfirmForm, require_confirm

CONFIRMED_FIELD = "confirmed"


def confirmed() -> bool:
    """True only for the POST of a confirmation page (its ``confirmed`` marker and a valid CSRF token);
    a marked POST whose token is missing or wrong answers 400."""
    if request.method != "POST" or request.form.get(CONFIRMED_FIELD) != "yes":
        return False
    require_confirm()
    return True


def confirmation(title: str, *, target: Iterable[tuple[str, object]], consequences: Iterable[str], cancel_url: str,
                 button: str = "削除する", class_: str = "danger", error: str | None = None,
                 testid: str = "confirm-action", status: int | None = None,
                 hidden: Iterable[tuple[str, str]] = ()):
    """The confirmation page: what will happen (``title``), to what (``target`` label/value pairs) and what
    follows (``consequences``), with the button and キャンセル. 200, or 422 when ``error`` refuses the action.
    ``hidden`` name/value pairs are posted back with the confirmation (what the previous form collected)."""
    html = render_template("confirm.html", title=title, target=list(target), consequences=list(consequences),
                           cancel_url=cancel_url, button=button, class_=class_, error=error, testid=testid,
                           form=ConfirmForm(), hidden=list(hidden))
    return html, status or (422 if error else 200)
