"""A product's FAQ from the Markdown files of its plugin (``Product.faq``): one file per group — its first
heading names the group, each ``##`` heading is a question, the text below it the answer — and the search.

Answers are rendered with ``app.richtext`` (raw HTML off, ``nh3``). The search matches every word of the
query in a question or its answer, ignoring case, full-width/half-width forms (NFKC) and hiragana/katakana.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from markdown_it import MarkdownIt
from markupsafe import Markup

from app.forms import normalize_kana
from app.products import Product, product_file
from app.richtext import markdown_html

_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")


@dataclass(frozen=True)
class Question:
    """One question: its anchor id, the question, the answer as safe HTML, and the normalised text searched."""

    anchor: str
    question: str
    answer: Markup
    searchable: str


@dataclass(frozen=True)
class Group:
    """A group of questions (one Markdown file)."""

    name: str
    questions: tuple[Question, ...]


def normalize(text: str) -> str:
    """Text as the search compares it: NFKC, hiragana as katakana, case-folded."""
    return (normalize_kana(text or "") or "").casefold()


def _plain(markdown: str) -> str:
    words = []
    for token in _MARKDOWN.parse(markdown):
        for child in token.children or ():
            if child.type in ("text", "code_inline"):
                words.append(child.content)
        if token.type in ("fence", "code_block"):
            words.append(token.content)
    return " ".join(words)


def parse_group(text: str, fallback_name: str, prefix: str) -> Group:
    """The group of one Markdown file (``prefix`` makes the question anchors unique on the page)."""
    lines = text.splitlines(keepends=True)
    tokens = _MARKDOWN.parse(text)
    name = ""
    starts = []  # (index of heading token, level)
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            if not name and token.tag == "h1":
                name = tokens[index + 1].content.strip()
            if token.tag in ("h1", "h2"):
                starts.append((index, token.tag))
    questions = []
    for position, (index, tag) in enumerate(starts):
        if tag != "h2":
            continue
        heading = tokens[index]
        end = tokens[starts[position + 1][0]].map[0] if position + 1 < len(starts) else len(lines)
        answer = "".join(lines[heading.map[1]:end]).strip()
        question = tokens[index + 1].content.strip()
        questions.append(Question(f"{prefix}-{len(questions) + 1}", question, markdown_html(answer),
                                  normalize(f"{question}\n{_plain(answer)}")))
    return Group(name or fallback_name, tuple(questions))


def _files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.glob("*.md") if path.is_file())


def groups_of(product: Product) -> list[Group]:
    """The product's FAQ groups in file-name order (empty when it has none); cached until a file changes."""
    folder = product_file(product, product.faq)
    if folder is None or not folder.is_dir():
        return []
    files = _files(folder)
    stamp = tuple((path.name, path.stat().st_mtime_ns) for path in files)
    cache = current_app.extensions.setdefault("kanri_faq", {})
    cached = cache.get(product.code)
    if cached is None or cached[0] != stamp:
        groups = [parse_group(path.read_text(encoding="utf-8"), path.stem, f"q{number}")
                  for number, path in enumerate(files, start=1)]
        cached = cache[product.code] = (stamp, [group for group in groups if group.questions])
    return cached[1]


def has_faq(product: Product) -> bool:
    """True when the product ships FAQ questions; decided once per app (the menu link asks on every page)."""
    known = current_app.extensions.setdefault("kanri_faq_present", {})
    if product.code not in known:
        known[product.code] = bool(groups_of(product))
    return known[product.code]


def search(groups: list[Group], query: str) -> list[Group]:
    """The groups narrowed to the questions that contain every word of ``query`` (all of them when it is empty)."""
    words = normalize(query).split()
    if not words:
        return groups
    found = []
    for group in groups:
        matches = tuple(q for q in group.questions if all(word in q.searchable for word in words))
        if matches:
            found.append(Group(group.name, matches))
    return found
