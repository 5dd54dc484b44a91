"""The allow list as text and as a matcher: parse the textarea line by line, normalise, look addresses up fast."""
from __future__ import annotations

import bisect
import ipaddress
import re
import unicodedata
from dataclasses import dataclass, field

MAX_ENTRIES = 5000
MAX_TEXT = 400_000  # characters of the textarea: 5,000 lines of an address and a memo
MAX_LINE = 300
MAX_NOTE = 100
_LINE = re.compile(r"([^\s#＃]+)\s*(.*)", re.S)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True)
class Entry:
    """One allowed network (normalised CIDR text) with its optional memo."""

    network: str
    note: str = ""


@dataclass
class Parsed:
    """The outcome of parsing the textarea: entries when there is no error, per-line errors and notices."""

    entries: list[Entry] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def _network(text: str):
    """The network for an address or CIDR (host bits cleared), or None; raises nothing."""
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _is_strict(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=True)
    except ValueError:
        return False
    return True


def _split(line: str) -> tuple[str, str]:
    """(address, memo): the address is NFKC'd (全角の数字 are fine), the memo is kept as typed."""
    match = _LINE.match(line)
    address, rest = (match.group(1), match.group(2)) if match else (line, "")
    return unicodedata.normalize("NFKC", address), rest.lstrip("#＃").strip()


def parse(text: str) -> Parsed:
    """Parse one entry a line (``address-or-CIDR [# メモ]``; blank and ``#`` lines skipped); Japanese per-line errors."""
    result = Parsed()
    if len(text) > MAX_TEXT:
        result.errors.append(f"入力が長すぎます（{MAX_TEXT:,}文字まで）。")
        return result
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", "＃")):
            continue
        if _CONTROL.search(line):
            result.errors.append(f"{number}行目: 使用できない文字（制御文字）が含まれています。")
            continue
        if len(line) > MAX_LINE:
            result.errors.append(f"{number}行目: 1行は{MAX_LINE}文字以内にしてください。")
            continue
        address, note = _split(line)
        network = _network(address)
        if network is None:
            result.errors.append(f"{number}行目: 「{address[:60]}」はIPアドレスでもCIDRでもありません。")
            continue
        if len(note) > MAX_NOTE:
            result.errors.append(f"{number}行目: メモは{MAX_NOTE}文字以内にしてください。")
            continue
        normalised = network.with_prefixlen if "/" in address else str(network.network_address)
        if "/" in address and not _is_strict(address):
            result.notices.append(f"{number}行目: 「{address}」はホスト部を0にして「{normalised}」として保存しました。")
        if normalised in seen:
            result.notices.append(f"{number}行目: 「{normalised}」は{seen[normalised]}行目と重複するため1件にまとめました。")
            continue
        seen[normalised] = number
        result.entries.append(Entry(normalised, note))
    if len(result.entries) > MAX_ENTRIES and not result.errors:
        result.errors.append(f"登録できるのは{MAX_ENTRIES:,}件までです（{len(result.entries):,}件あります）。")
    if result.errors:
        result.entries = []
    return result


def as_text(entries) -> str:
    """The textarea's text for stored entries: one a line, the memo after ``#``."""
    return "\n".join(f"{e.network} # {e.note}" if e.note else e.network for e in entries)


def client_ip(text: str | None):
    """The visitor's address as an ``ip_address`` (zone dropped, IPv4-mapped IPv6 as IPv4), or None."""
    if not text:
        return None
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0].strip())
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class Matcher:
    """Allowed networks as merged integer ranges per IP version: a bisect per look-up, whatever the list size."""

    def __init__(self, networks):
        ranges: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
        for text in networks:
            net = ipaddress.ip_network(text, strict=False)
            ranges[net.version].append((int(net.network_address), int(net.broadcast_address)))
        self._starts: dict[int, list[int]] = {}
        self._ends: dict[int, list[int]] = {}
        for version, items in ranges.items():
            merged: list[list[int]] = []
            for start, end in sorted(items):
                if merged and start <= merged[-1][1] + 1:
                    merged[-1][1] = max(merged[-1][1], end)
                else:
                    merged.append([start, end])
            self._starts[version] = [start for start, _ in merged]
            self._ends[version] = [end for _, end in merged]

    def allows(self, address) -> bool:
        """True when the address (an ``ip_address`` or None) is inside one of the networks."""
        if address is None:
            return False
        value = int(address)
        starts = self._starts[address.version]
        index = bisect.bisect_right(starts, value) - 1
        return index >= 0 and value <= self._ends[address.version][index]
