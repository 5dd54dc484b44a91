"""Menu permissions (メニュー権限マスタ): the menu registry, permission sets and the per-view check."""
from __future__ import annotations

from functools import wraps

import sqlalchemy as sa
from flask import g
from flask_login import current_user

from app.accounts import active_admins
from app.auth.guards import deny, product_required
from app.extensions import db
from app.models import ROLE_ADMIN, User
from app.products import MenuLink, menu_registry

from . import PRODUCT
from .models import MamaPermissionSet, MamaUserSettings

MENU_ASSOCIATIONS = "mama.associations"
MENU_DEVICES = "mama.devices"
MENU_USERS = "mama.users"
MENU_PERMISSIONS = "mama.permissions"
MENU_SCOPES = "mama.scopes"

# MAMA's own menus, in navigation order.
MAMA_MENUS = (
    MenuLink("管理組合登録", "mama.associations_index", MENU_ASSOCIATIONS, "管理組合の登録・検索・CSV出力", order=10),
    MenuLink("端末管理", "mama.devices_index", MENU_DEVICES, "端末の承認・無効化・登録コード発行", order=50),
    MenuLink("ユーザーマスタ", "mama.users_index", MENU_USERS, "ユーザーの追加・編集・削除・パスワード再発行", order=60),
    MenuLink("メニュー権限マスタ", "mama.permissions_index", MENU_PERMISSIONS, "メニューごとの利用権限セット", order=70),
    MenuLink("物件参照権限登録", "mama.scopes_index", MENU_SCOPES, "ユーザーごとに参照できる管理組合", order=80),
)
# Menus only a 管理者 can ever open, whatever a permission set lists.
ADMIN_MENUS = frozenset({MENU_DEVICES, MENU_USERS, MENU_PERMISSIONS, MENU_SCOPES})
ROLE_CHOICES = (("general", "一般"), (ROLE_ADMIN, "管理者"))
# MAMA's last-admin message: its guard (has_working_admin) asks for an admin who can open ユーザーマスタ.
LAST_ADMIN = "管理者が一人もいなくなるため、この変更はできません（ユーザーマスタを使える有効な管理者が最低1人必要です）。"


def registry(tenant) -> list[MenuLink]:
    """Every main menu any plugin offers this tenant, in display order."""
    return menu_registry(tenant)


def menu_key(link: MenuLink) -> str:
    """The id a permission set stores for a menu."""
    return link.menu_id or link.endpoint


def eligible_menus(tenant, role: str) -> list[MenuLink]:
    """The menus a user of role may be granted (管理者 menus only for 管理者)."""
    return [link for link in registry(tenant) if role == ROLE_ADMIN or menu_key(link) not in ADMIN_MENUS]


def settings_for(user: User) -> MamaUserSettings | None:
    """The user's MAMA settings row, if any."""
    return db.session.execute(sa.select(MamaUserSettings).where(MamaUserSettings.user_id == user.id)).scalar_one_or_none()


def ensure_settings(user: User) -> MamaUserSettings:
    """The user's MAMA settings row, created with the role's defaults when missing."""
    settings = settings_for(user)
    if settings is None:
        settings = MamaUserSettings(user_id=user.id, scope_all=user.role == ROLE_ADMIN)
        db.session.add(settings)
        db.session.flush()
    return settings


def allowed_menu_ids(user: User, settings: MamaUserSettings | None = None, use_cache: bool = True) -> set[str]:
    """The menu ids user may open: the role's eligible menus, narrowed by the permission set."""
    cache = g.setdefault("mama_allowed_menus", {})
    if use_cache and user.id in cache:
        return cache[user.id]
    tenant = user.tenant
    allowed = {menu_key(link) for link in eligible_menus(tenant, user.role)}
    settings = settings if settings is not None else settings_for(user)
    if settings is not None and settings.permission_set is not None:
        allowed &= set(settings.permission_set.menu_ids)
    cache[user.id] = allowed
    return allowed


def forget_cached_permissions() -> None:
    """Drop the per-request permission cache after a change."""
    g.pop("mama_allowed_menus", None)


def can_open(user: User, menu_id: str) -> bool:
    """True when user may open the menu."""
    return menu_id in allowed_menu_ids(user)


def visible_links(tenant, user: User) -> list[MenuLink]:
    """MAMA's menu links the user may open."""
    allowed = allowed_menu_ids(user)
    return [link for link in MAMA_MENUS if link.menu_id in allowed]


def menu_required(menu_id: str):
    """View decorator: logged in, a MAMA tenant, and the menu allowed; otherwise 403 with an audit event."""

    def decorator(view):
        @wraps(view)
        @product_required(PRODUCT.code)
        def wrapped(*args, **kwargs):
            if not can_open(current_user, menu_id):
                deny(f"menu:{menu_id}", reason="menu_forbidden")
            return view(*args, **kwargs)

        return wrapped

    return decorator


def has_working_admin() -> bool:
    """True while at least one active 管理者 can still open ユーザーマスタ (the lock-out guard).

    Call it after flushing the change and before committing: ``app.accounts.active_admins`` locks the
    tenant's row, so two admins demoting each other at once are checked one after the other.
    """
    admins = active_admins()
    forget_cached_permissions()
    return any(MENU_USERS in allowed_menu_ids(admin, use_cache=False) for admin in admins)


def permission_sets(role: str | None = None) -> list[MamaPermissionSet]:
    """The tenant's permission sets (of one role), by name."""
    query = sa.select(MamaPermissionSet).order_by(MamaPermissionSet.name)
    if role:
        query = query.where(MamaPermissionSet.role == role)
    return list(db.session.execute(query).scalars())


def users_of_set(permission_set: MamaPermissionSet) -> int:
    """How many users use a permission set."""
    return db.session.execute(
        sa.select(sa.func.count()).select_from(MamaUserSettings)
        .where(MamaUserSettings.permission_set_id == permission_set.id)).scalar_one()
