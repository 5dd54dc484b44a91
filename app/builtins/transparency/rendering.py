"""Markdown written by operators (notices, incident mails) rendered to safe HTML.

CommonMark through ``markdown-it-py`` with raw HTML disabled (typed tags come out as text), then ``nh3``
keeps a small set of tags and attributes, only http/https/mailto links, and gives every link
``rel="noopener noreferrer"``. Images are not allowed: a notice must not make the reader's browser
fetch anything from elsewhere.
"""
from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {"p", "br", "hr", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li",
                "h1", "h2", "h3", "h4", "h5", "h6", "a"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
ALLOWED_SCHEMES = {"http", "https", "mailto"}

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def render_markdown(text: str) -> Markup:
    """Render Markdown to sanitised HTML, safe to put in a page or an HTML mail."""
    html = _parser.render(text or "")
    cleaned = nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=ALLOWED_SCHEMES,
                        link_rel="noopener noreferrer", strip_comments=True)
    return Markup(cleaned)  # noqa: S704  # nosec B704  # nh3 output with the allowlist above
