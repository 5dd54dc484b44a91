"""物件参照権限登録: per user, every association or a chosen set."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for

from app import audit
from app.confirm import confirmation, confirmed
from app.extensions import db
from app.forms import ConfirmForm, require_confirm
from app.models import User
from app.queryargs import int_arg, int_list, text_arg
from app.routing import MAX_ROW_ID
from app.searchtext import matching

from ..forms import ScopeModeForm
from ..models import MamaAssociation, MamaUserAssociation, MamaUserSettings
from ..permissions import LEVEL_EDIT, MENU_SCOPES, ensure_settings, menu_required
from . import bp

MAX_ADD = 200


@bp.route("/scopes")
@menu_required(MENU_SCOPES)
def scopes_index():
    """Every user with the scope they have."""
    users = db.session.execute(sa.select(User).order_by(User.login_id)).scalars().all()
    settings = {s.user_id: s for s in db.session.execute(sa.select(MamaUserSettings)).scalars()}
    # Joined to the associations so a deleted (削除済み) one is not counted.
    counts = dict(db.session.execute(
        sa.select(MamaUserAssociation.user_id, sa.func.count())
        .join(MamaAssociation, MamaAssociation.id == MamaUserAssociation.association_id)
        .group_by(MamaUserAssociation.user_id)).all())
    return render_template("mama/scopes/index.html", users=users, settings=settings, counts=counts)


def _assigned(user: User):
    return (sa.select(MamaAssociation).join(MamaUserAssociation, MamaUserAssociation.association_id == MamaAssociation.id)
            .where(MamaUserAssociation.user_id == user.id).order_by(MamaAssociation.code))


def _candidates(user: User, q: str):
    taken = sa.select(MamaUserAssociation.association_id).where(MamaUserAssociation.user_id == user.id)
    query = sa.select(MamaAssociation).where(MamaAssociation.id.not_in(taken)).order_by(MamaAssociation.code)
    return matching(query, MamaAssociation, q).limit(50)


@bp.route("/scopes/<int:user_id>", methods=["GET", "POST"])
@menu_required(MENU_SCOPES)
def scopes_user(user_id: int):
    """Choose all or selected associations for one user, and manage the selection."""
    user = db.get_or_404(User, user_id)
    settings = ensure_settings(user)
    form = ScopeModeForm()
    if not form.is_submitted():
        form.mode.data = "all" if settings.scope_all else "selected"
    if form.validate_on_submit():
        before = settings.scope_all
        settings.scope_all = form.mode.data == "all"
        audit.record("mama.scope.mode", target=f"user:{user.login_id}", before={"scope_all": before},
                     after={"scope_all": settings.scope_all})
        db.session.commit()
        flash(f"{user.login_id} の物件参照権限を保存しました。", "success")
        return redirect(url_for("mama.scopes_user", user_id=user.id))
    q = text_arg("q")
    page = db.paginate(_assigned(user), page=int_arg("page"), per_page=50, error_out=False)
    candidates = db.session.execute(_candidates(user, q)).scalars().all() if q else []
    return render_template("mama/scopes/user.html", user=user, settings=settings, form=form, page=page, q=q,
                           candidates=candidates, confirm=ConfirmForm()), 422 if form.errors else 200


@bp.route("/scopes/<int:user_id>/add", methods=["POST"])
@menu_required(MENU_SCOPES, LEVEL_EDIT)
def scopes_add(user_id: int):
    """Add the ticked associations to a user's selection (ids of other tenants are ignored)."""
    require_confirm()
    user = db.get_or_404(User, user_id)
    ids = int_list("association_id", request.form, limit=MAX_ADD, maximum=MAX_ROW_ID)
    taken = set(db.session.execute(sa.select(MamaUserAssociation.association_id)
                                   .where(MamaUserAssociation.user_id == user.id)).scalars())
    found = db.session.execute(sa.select(MamaAssociation).where(MamaAssociation.id.in_(ids - taken))).scalars().all() \
        if ids - taken else []
    for association in found:
        db.session.add(MamaUserAssociation(user_id=user.id, association_id=association.id))
    if found:
        audit.record("mama.scope.add", target=f"user:{user.login_id}",
                     after={"associations": [a.code for a in found]})
        db.session.commit()
        flash(f"{len(found)}件の管理組合を追加しました。", "success")
    else:
        flash("追加する管理組合を選んでください。", "warning")
    return redirect(url_for("mama.scopes_user", user_id=user.id, q=text_arg("q", source=request.form)))


@bp.route("/scopes/<int:user_id>/remove/<int:association_id>", methods=["GET", "POST"])
@menu_required(MENU_SCOPES, LEVEL_EDIT)
def scopes_remove(user_id: int, association_id: int):
    """Remove one association from a user's selection, after the confirmation page."""
    user = db.get_or_404(User, user_id)
    association = db.get_or_404(MamaAssociation, association_id)
    row = db.first_or_404(sa.select(MamaUserAssociation).where(
        MamaUserAssociation.user_id == user.id, MamaUserAssociation.association_id == association.id))
    if not confirmed():
        return confirmation("参照できる管理組合から外しますか？", target=[
            ("ユーザー", f"{user.login_id}（{user.name}）"), ("組合コード", association.code),
            ("管理組合名", association.name)], consequences=[
            f"{user.login_id} さんはこの管理組合を一覧・検索・詳細・CSVで見られなくなります。",
            "管理組合そのものは削除されません。あとで「追加」から戻せます。"],
            cancel_url=url_for("mama.scopes_user", user_id=user.id), button="外す", testid="confirm-remove")
    db.session.delete(row)
    audit.record("mama.scope.remove", target=f"user:{user.login_id}", before={"associations": [association.code]})
    db.session.commit()
    flash(f"{user.login_id} の参照できる管理組合から「{association.name}」を外しました。", "success")
    return redirect(url_for("mama.scopes_user", user_id=user.id))
