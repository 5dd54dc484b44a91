"""A small user-agent reader: 'Chrome / Windows' for device names (no external database)."""
from __future__ import annotations

import re

_BROWSERS = (
    ("Edg/", "Edge"), ("EdgA/", "Edge"), ("OPR/", "Opera"), ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"), ("FxiOS/", "Firefox"), ("CriOS/", "Chrome"), ("HeadlessChrome/", "Chrome"),
    ("Chromium/", "Chromium"), ("Chrome/", "Chrome"), ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iOS"), ("iPad", "iPadOS"), ("Android", "Android"), ("CrOS", "ChromeOS"),
    ("Windows", "Windows"), ("Mac OS X", "macOS"), ("Macintosh", "macOS"), ("Linux", "Linux"),
)
_VERSION = re.compile(r"[\d.]+")


def describe(user_agent: str | None) -> str:
    """Return 'browser / OS' for a user-agent string, or '不明なブラウザ' when nothing matches."""
    text = user_agent or ""
    browser = next((name for marker, name in _BROWSERS if marker in text), None)
    system = next((name for marker, name in _SYSTEMS if marker in text), None)
    if browser is None and system is None:
        return "不明なブラウザ"
    return f"{browser or '不明なブラウザ'} / {system or '不明なOS'}"
