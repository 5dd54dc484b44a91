"""Builds the pluggy plugin manager for one app: built-ins, allowlisted entry points, dotted modules."""
from __future__ import annotations

import functools
import importlib
from importlib.metadata import entry_points

import pluggy

from . import hookspecs

BUILTIN_PLUGINS = ("app.builtins.account", "app.builtins.lifecycle", "app.builtins.ip_restriction",
                   "app.builtins.transparency", "app.builtins.oplog", "app.builtins.manuals", "app.builtins.faq",
                   "app.builtins.trash", "app.builtins.security_center", "app.builtins.strong_factors")


class PluginError(RuntimeError):
    """A plugin named in KANRI_PLUGINS could not be found or loaded."""


def _allowlist(setting, available) -> list[str]:
    if setting is None:  # not configured: every installed plugin, in entry-point order
        return list(available)
    if isinstance(setting, str):
        return [name.strip() for name in setting.split(",") if name.strip()]
    return list(setting or ())


@functools.lru_cache(maxsize=1)
def _installed() -> dict:
    # Scanning every installed distribution's metadata is slow; what is installed does not change while a process runs.
    return {ep.name: ep for ep in entry_points(group="kanri")}


def build_plugin_manager(setting) -> pluggy.PluginManager:
    """Return a manager with the built-ins and every allowlisted plugin (all installed when None), hooks checked."""
    manager = pluggy.PluginManager("kanri")
    manager.add_hookspecs(hookspecs)
    for name in BUILTIN_PLUGINS:
        manager.register(importlib.import_module(name), name=name)
    available = _installed()
    for name in _allowlist(setting, available):
        if name in available:
            module = available[name].load()
        elif "." in name:
            try:
                module = importlib.import_module(name)
            except ImportError as exc:
                raise PluginError(f"plugin module {name!r} cannot be imported: {exc}") from exc
        else:
            raise PluginError(f"plugin {name!r} is not installed (no 'kanri' entry point of that name)")
        if manager.get_plugin(name) is None:
            manager.register(module, name=name)
    manager.check_pending()
    return manager
