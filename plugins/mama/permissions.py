"""Menu permissions (メニュー権限マスタ): the menu registry, levels (閲覧 / 編集 / 削除), sets and the per-view check."""
from __future__ import annotations

from functools import cache, wraps

import sqlalchemy as sa
from flask import g, request
from flask_login import current_user

from app.accounts import active_admins
from app.auth.guards import deny, product_required
from app.auth.sessions import session_companion
from app.extensions import db
from app.models import ROLE_ADMIN, User
from app.products import MenuLink, SessionCompanion, menu_registry

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
LEVEL_VIEW = "view"
LEVEL_EDIT = "edit"
LEVEL_DELETE = "delete"
LEVEL_RANK = {LEVEL_VIEW: 1, LEVEL_EDIT: 2, LEVEL_DELETE: 3}
LEVEL_LABELS = {LEVEL_VIEW: "閲覧", LEVEL_EDIT: "編集", LEVEL_DELETE: "削除"}
ALL_LEVELS = (LEVEL_VIEW, LEVEL_EDIT, LEVEL_DELETE)
# What each level allows, per menu; 物件参照権限 has nothing to delete (removing one association is an edit).
MENU_LEVELS = {
    MENU_ASSOCIATIONS: ALL_LEVELS,
    MENU_DEVICES: ALL_LEVELS,
    MENU_USERS: ALL_LEVELS,
    MENU_PERMISSIONS: ALL_LEVELS,
    MENU_SCOPES: (LEVEL_VIEW, LEVEL_EDIT),
}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
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


def settings_companion() -> SessionCompanion:
    """The signed-in user's settings row, outer-joined to the core's session query (``session_companions``)."""
    return SessionCompanion(MamaUserSettings, _settings_on())


@cache
def _settings_on():
    return MamaUserSettings.user_id == User.id


def settings_for(user: User) -> MamaUserSettings | None:
    """The user's MAMA settings row, if any: read once per request (menus, checks and scope all ask for it);
    for the signed-in user it came with the session query."""
    read = g.setdefault("mama_settings", {})
    if user.id not in read:
        current = getattr(user, "current_session", None)
        loaded, row = session_companion(MamaUserSettings) if current is not None else (False, None)
        if loaded and (row is None or row.user_id == user.id):
            read[user.id] = row
            return row
        read[user.id] = db.session.execute(
            sa.select(MamaUserSettings).where(MamaUserSettings.user_id == user.id)).scalar_one_or_none()
    return read[user.id]


def read_settings(users: list[User]) -> None:
    """Read the settings rows of several users in one query (for a check over all admins)."""
    read = g.setdefault("mama_settings", {})
    wanted = [user.id for user in users if user.id not in read]
    if not wanted:
        return
    found = {row.user_id: row for row in db.session.execute(
        sa.select(MamaUserSettings).where(MamaUserSettings.user_id.in_(wanted))).scalars()}
    read.update({user_id: found.get(user_id) for user_id in wanted})


def ensure_settings(user: User) -> MamaUserSettings:
    """The user's MAMA settings row, created with the role's defaults when missing."""
    settings = settings_for(user)
    if settings is None:
        settings = MamaUserSettings(user_id=user.id, scope_all=user.role == ROLE_ADMIN)
        db.session.add(settings)
        db.session.flush()
        g.mama_settings[user.id] = settings
    return settings


def levels_of(menu_id: str) -> tuple[str, ...]:
    """The levels a menu offers, lowest first (削除 only where something can be deleted)."""
    return MENU_LEVELS.get(menu_id, (LEVEL_VIEW,))


def full_level(menu_id: str) -> str:
    """The highest level a menu offers."""
    return levels_of(menu_id)[-1]


def implies(granted: str | None, needed: str) -> bool:
    """True when level granted covers needed (削除 ⇒ 編集 ⇒ 閲覧)."""
    return granted is not None and LEVEL_RANK[granted] >= LEVEL_RANK[needed]


def level_names(menu_id: str, granted: str | None) -> str:
    """The Japanese names of the levels granted covers, e.g. 「閲覧・編集」; empty when nothing is granted."""
    return "・".join(LEVEL_LABELS[level] for level in levels_of(menu_id) if implies(granted, level))


def allowed_levels(user: User, settings: MamaUserSettings | None = None, use_cache: bool = True) -> dict[str, str]:
    """menu id → the level user has: the role's eligible menus at full level, narrowed by the permission set."""
    cache = g.setdefault("mama_allowed_menus", {})
    if use_cache and user.id in cache:
        return cache[user.id]
    tenant = user.tenant
    allowed = {menu_key(link): full_level(menu_key(link)) for link in eligible_menus(tenant, user.role)}
    settings = settings if settings is not None else settings_for(user)
    if settings is not None and settings.permission_set is not None:
        granted = settings.permission_set.levels
        allowed = {menu: min(granted[menu], level, key=LEVEL_RANK.__getitem__)
                   for menu, level in allowed.items() if menu in granted}
    cache[user.id] = allowed
    return allowed


def allowed_menu_ids(user: User, settings: MamaUserSettings | None = None, use_cache: bool = True) -> set[str]:
    """The menu ids user may open (at least 閲覧)."""
    return set(allowed_levels(user, settings, use_cache))


def forget_cached_permissions() -> None:
    """Drop the per-request permission and settings caches after a change."""
    g.pop("mama_allowed_menus", None)
    g.pop("mama_settings", None)


def can(user: User, menu_id: str, level: str = LEVEL_VIEW) -> bool:
    """True when user has at least level on the menu."""
    return implies(allowed_levels(user).get(menu_id), level)


def can_open(user: User, menu_id: str) -> bool:
    """True when user may open the menu (閲覧)."""
    return can(user, menu_id, LEVEL_VIEW)


def visible_links(tenant, user: User) -> list[MenuLink]:
    """MAMA's menu links the user may open."""
    allowed = allowed_menu_ids(user)
    return [link for link in MAMA_MENUS if link.menu_id in allowed]


def menu_required(menu_id: str, level: str = LEVEL_VIEW):
    """View decorator: logged in, a MAMA tenant, and level on the menu; otherwise 403 with an audit event.

    A POST always needs at least 編集, so a page whose GET only shows (level 閲覧) cannot be written to by a
    forged form. The requirement is kept on the view (``menu_permission``) for the tests that walk the url map.
    """

    def decorator(view):
        @wraps(view)
        @product_required(PRODUCT.code)
        def wrapped(*args, **kwargs):
            needed = level if request.method in SAFE_METHODS else max(level, LEVEL_EDIT, key=LEVEL_RANK.__getitem__)
            if not can(current_user, menu_id, needed):
                deny(f"menu:{menu_id}", reason="menu_forbidden", level=needed)
            return view(*args, **kwargs)

        wrapped.menu_permission = (menu_id, level)
        return wrapped

    return decorator


def has_working_admin() -> bool:
    """True while at least one active 管理者 can still open ユーザーマスタ (the lock-out guard).

    Call it after flushing the change and before committing: ``app.accounts.active_admins`` locks the
    tenant's row, so two admins demoting each other at once are checked one after the other.
    """
    admins = active_admins()
    forget_cached_permissions()
    return any(implies(allowed_levels(admin, use_cache=False).get(MENU_USERS), LEVEL_EDIT) for admin in admins)


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
