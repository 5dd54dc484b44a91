"""管理組合 queries: the user's scope (物件参照権限), search, sort, pagination and audit of changes."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort

from app.extensions import db
from app.models import User

from .models import Association, UserAssociation
from .permissions import settings_for

PER_PAGE = 50
# Sort keys a request may name → ORDER BY columns (anything else falls back to the default).
SORTS = {
    "code": (Association.code,),
    "name": (Association.name_kana, Association.id),
    "area": (Association.prefecture, Association.city, Association.id),
    "units": (Association.units, Association.id),
    "year": (Association.building_year, Association.id),
    "updated": (Association.updated_at, Association.id),
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
    """Narrow a select over Association to the user's scope."""
    if scope_all(user):
        return query
    allowed = sa.select(UserAssociation.association_id).where(UserAssociation.user_id == user.id)
    return query.where(Association.id.in_(allowed))


def get_in_scope(association_id: int, user: User) -> Association:
    """The association if it exists in this tenant and in the user's scope; 404 otherwise."""
    association = db.session.execute(
        scoped(sa.select(Association).where(Association.id == association_id), user)).scalar_one_or_none()
    if association is None:
        abort(404)
    return association


def escape_like(text: str) -> str:
    """Escape LIKE wildcards in user input."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_query(user: User, q: str = "", prefecture: str = ""):
    """A select of the user's associations matching the search words and prefecture."""
    query = scoped(sa.select(Association), user)
    for word in q.split()[:5]:
        pattern = f"%{escape_like(word)}%"
        query = query.where(sa.or_(
            Association.code.like(f"{escape_like(word)}%", escape="\\"),
            Association.name.like(pattern, escape="\\"),
            Association.name_kana.like(pattern, escape="\\"),
            Association.city.like(pattern, escape="\\"),
        ))
    if prefecture:
        query = query.where(Association.prefecture == prefecture)
    return query


def ordered(query, sort: str, direction: str):
    """Apply a whitelisted sort; unknown keys use the default."""
    columns = SORTS.get(sort, SORTS[DEFAULT_SORT])
    return query.order_by(*[col.desc() if direction == "desc" else col.asc() for col in columns])


def count_in_scope(user: User) -> int:
    """How many associations the user may see."""
    return db.session.execute(sa.select(sa.func.count()).select_from(
        scoped(sa.select(Association.id), user).subquery())).scalar_one()


def public_values(association: Association) -> dict:
    """The association's non-personal fields, for audit before/after."""
    return {name: getattr(association, name) for name in PUBLIC_FIELDS}


def changed_personal_fields(association: Association, data: dict) -> list[str]:
    """Which personal fields a form changes (only their names go to the audit log)."""
    return [name for name in PERSONAL_FIELDS if (getattr(association, name) or None) != (data.get(name) or None)]


def code_taken(code: str, exclude_id: int | None = None) -> bool:
    """True when another association of the tenant has this code."""
    query = sa.select(Association.id).where(Association.code == code.upper())
    if exclude_id is not None:
        query = query.where(Association.id != exclude_id)
    return db.session.execute(query).first() is not None


def delete_association(association: Association) -> None:
    """Delete an association and the scope rows that name it."""
    db.session.execute(sa.delete(UserAssociation).where(UserAssociation.association_id == association.id))
    db.session.delete(association)
