"""The one kana normaliser: フリガナ as typed → stored katakana, and any text → its search key.

Both products (and every list search) go through these two functions, so 「しんじゅく」, 「ｼﾝｼﾞｭｸ」 and
「シンジュク」 are the same word everywhere.
"""
from __future__ import annotations

import re
import unicodedata

KANA_MESSAGE = "フリガナは全角カタカナで入力してください。"
KANA_LATIN_MESSAGE = "フリガナにアルファベットや数字は使えません。全角カタカナで入力してください（数字は読みをカタカナで）。"

# What a フリガナ may hold once normalised: katakana with ・ ー ヽ ヾ, and spaces between words.
_KATAKANA = re.compile(r"^[\u30A1-\u30FA\u30FB\u30FC\u30FD\u30FE ]*$")
_LATIN_OR_DIGIT = re.compile(r"[A-Za-z0-9]")
_SPACES = re.compile(r"\s+")
# Hiragana ぁ..ゖ and the iteration marks ゝ ゞ sit exactly 0x60 below their katakana.
_HIRAGANA = {code: code + 0x60 for code in [*range(0x3041, 0x3097), 0x309D, 0x309E]}


def to_katakana(text: str) -> str:
    """Hiragana turned into katakana; every other character unchanged."""
    return text.translate(_HIRAGANA)


def normalize_kana(text):
    """A フリガナ as typed → as stored: NFKC (ｶﾅ → カナ, ｰ → ー, full-width digits and letters to ASCII,
    the ideographic space to a space), trimmed, runs of spaces made one, hiragana → katakana.
    None stays None."""
    if not isinstance(text, str):
        return text
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()
    return to_katakana(text)


def kana_error(normalised: str) -> str | None:
    """Why a normalised フリガナ is refused (Latin letters or digits, or any non-katakana), or None when it is fine."""
    if _LATIN_OR_DIGIT.search(normalised):
        return KANA_LATIN_MESSAGE
    if not _KATAKANA.match(normalised):
        return KANA_MESSAGE
    return None


def search_key(text) -> str:
    """The form in which text is stored in ``search_text`` and a search word is looked for: NFKC
    (half-width kana and full-width digits/letters folded), hiragana → katakana, case folded, spaces
    made one. ``None`` gives ""."""
    if not isinstance(text, str):
        return ""
    text = unicodedata.normalize("NFKC", text)
    return _SPACES.sub(" ", to_katakana(text).casefold()).strip()
