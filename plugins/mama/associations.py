"""管理組合 queries: the user's scope (物件参照権限), search, sort, pagination and audit of changes."""
from __future__ import annotations

import sqlalchemy as sa
from markupsafe import Markup

from app.extensions import db
from app.models import User
from app.searchtext import matching

from .models import MamaAssociation, MamaUserAssociation
from .permissions import settings_for

PER_PAGE = 50
# Sort keys a request may name → ORDER BY columns (anything else falls back to the default).
SORTS = {
    "code": (MamaAssociation.code,),
    "name": (MamaAssociation.name_kana, MamaAssociation.id),
    "area": (MamaAssociation.prefecture, MamaAssociation.city, MamaAssociation.id),
    "units": (MamaAssociation.units, MamaAssociation.id),
    "year": (MamaAssociation.building_year, MamaAssociation.id),
    "updated": (MamaAssociation.updated_at, MamaAssociation.id),
}
DEFAULT_SORT = "code"
# Fields an audit event may show before and after; the contact person's fields are personal data.
PUBLIC_FIELDS = ("code", "name", "name_kana", "postal_code", "prefecture", "city", "address_line",
                 "building_name", "units", "building_year", "fiscal_start_month", "notes")
PERSONAL_FIELDS = ("contact_name", "contact_phone", "contact_email")


def scope_all(user: User) -> bool:
    """True when user may see every association of the tenant."""
    settings = settings_for(user)
    if settings is None:
        return user.is_admin
    return settings.scope_all


def scoped(query, user: User):
    """Narrow a select over MamaAssociation to the user's scope."""
    if scope_all(user):
        return query
    allowed = sa.select(MamaUserAssociation.association_id).where(MamaUserAssociation.user_id == user.id)
    return query.where(MamaAssociation.id.in_(allowed))


def get_in_scope(association_id: int, user: User) -> MamaAssociation:
    """The association if it exists in this tenant and in the user's scope; 404 otherwise."""
    return db.first_or_404(scoped(sa.select(MamaAssociation).where(MamaAssociation.id == association_id), user))


def in_prefecture(user: User, prefecture: str = ""):
    """A select of the user's associations, in one prefecture when one is given."""
    query = scoped(sa.select(MamaAssociation), user)
    if prefecture:
        query = query.where(MamaAssociation.prefecture == prefecture)
    return query


def search_query(user: User, q: str = "", prefecture: str = ""):
    """A select of the user's associations matching the search words and prefecture."""
    return matching(in_prefecture(user, prefecture), MamaAssociation, q)


def count_in_scope(user: User) -> int:
    """How many associations the user may see."""
    return db.session.execute(sa.select(sa.func.count()).select_from(
        scoped(sa.select(MamaAssociation.id), user).subquery())).scalar_one()


def public_values(association: MamaAssociation) -> dict:
    """The association's non-personal fields, for audit before/after."""
    return {name: getattr(association, name) for name in PUBLIC_FIELDS}


def changed_personal_fields(association: MamaAssociation, data: dict) -> list[str]:
    """Which personal fields a form changes (only their names go to the audit log)."""
    return [name for name in PERSONAL_FIELDS if (getattr(association, name) or None) != (data.get(name) or None)]


def code_taken(code: str, exclude_id: int | None = None) -> bool:
    """True when another live association of the tenant has this code (deleted ones do not count)."""
    query = sa.select(MamaAssociation.id).where(MamaAssociation.code == code.upper())
    if exclude_id is not None:
        query = query.where(MamaAssociation.id != exclude_id)
    return db.session.execute(query).first() is not None


def users_in_scope(association: MamaAssociation) -> int:
    """How many users have the association in a chosen scope (物件参照権限)."""
    return db.session.execute(sa.select(sa.func.count()).where(
        MamaUserAssociation.association_id == association.id)).scalar_one()


def scope_explanation(user: User) -> Markup:
    """Why a user sees no association and who can change that (the admins who set 物件参照権限, by name)."""
    from .scope_choice import scope_admins

    if scope_all(user):
        return Markup('<p class="hint" data-testid="scope-why">管理組合はまだ1件も登録されていません。</p>')
    names = "、".join(admin.name or admin.login_id for admin in scope_admins()) or "貴社の管理者"
    return Markup('<p class="hint" data-testid="scope-why">物件参照権限（参照できる管理組合）がまだ設定されていないため、'
                  '表示できる管理組合はありません。設定は管理者（{}）が「物件参照権限登録」またはユーザーマスタで行います。'
                  '必要な管理組合を管理者に依頼してください。</p>').format(names)
