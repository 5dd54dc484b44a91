"""物件参照権限 chosen on the user form: all associations or a selection, saved with the user and audited."""
from __future__ import annotations

import sqlalchemy as sa

from app import audit
from app.extensions import db
from app.models import User

from .models import MamaAssociation, MamaUserAssociation
from .notify import tenant_admins
from .permissions import LEVEL_EDIT, MENU_SCOPES, allowed_levels, ensure_settings, implies, read_settings

# Above this many associations the user form offers no list (it would be too long to use); the admin then picks
# the selection on 物件参照権限登録, which searches.
CHOICE_LIMIT = 2000
SCOPE_ALL = "all"
SCOPE_SELECTED = "selected"


def association_choices() -> list[tuple[int, str]] | None:
    """(id, 「コード 名称」) of every live association of the tenant by code, or None when there are too many."""
    rows = db.session.execute(sa.select(MamaAssociation.id, MamaAssociation.code, MamaAssociation.name)
                              .order_by(MamaAssociation.code).limit(CHOICE_LIMIT + 1)).all()
    if len(rows) > CHOICE_LIMIT:
        return None
    return [(row.id, f"{row.code} {row.name}") for row in rows]


def assigned_ids(user: User) -> list[int]:
    """The ids of the live associations in user's selection."""
    return list(db.session.execute(
        sa.select(MamaUserAssociation.association_id)
        .join(MamaAssociation, MamaAssociation.id == MamaUserAssociation.association_id)
        .where(MamaUserAssociation.user_id == user.id)).scalars())


def _codes(ids) -> list[str]:
    if not ids:
        return []
    return list(db.session.execute(sa.select(MamaAssociation.code).where(MamaAssociation.id.in_(ids))
                                   .order_by(MamaAssociation.code)).scalars())


def apply_scope(user: User, mode: str, association_ids: list[int]) -> None:
    """Set user's scope to all or exactly these associations (ids of other tenants are never found); audited."""
    settings = ensure_settings(user)
    before_ids = assigned_ids(user)
    before = {"scope_all": settings.scope_all, "associations": _codes(before_ids)}
    settings.scope_all = mode == SCOPE_ALL
    if mode == SCOPE_SELECTED:
        wanted = set(db.session.execute(sa.select(MamaAssociation.id).where(
            MamaAssociation.id.in_(association_ids or []))).scalars())
        current = set(before_ids)
        for association_id in wanted - current:
            db.session.add(MamaUserAssociation(user_id=user.id, association_id=association_id))
        if current - wanted:
            db.session.execute(sa.delete(MamaUserAssociation).where(
                MamaUserAssociation.user_id == user.id, MamaUserAssociation.association_id.in_(current - wanted)))
        db.session.flush()
    after = {"scope_all": settings.scope_all, "associations": _codes(assigned_ids(user))}
    if after != before:
        audit.record("mama.scope.set", target=f"user:{user.login_id}", before=before, after=after, via="user_form")


def scope_admins() -> list[User]:
    """The active admins who can change 物件参照権限 (named to a user who sees no association)."""
    admins = tenant_admins()
    read_settings(admins)
    return [admin for admin in admins if implies(allowed_levels(admin).get(MENU_SCOPES), LEVEL_EDIT)]


def can_choose(user: User) -> bool:
    """True when user may set scopes (物件参照権限登録 at 編集), so the user form offers the choice."""
    return implies(allowed_levels(user).get(MENU_SCOPES), LEVEL_EDIT)
