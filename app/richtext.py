"""Markdown written by the service team (FAQ answers, notices) as safe HTML: markdown-it-py with raw HTML off,
then ``nh3`` keeps only harmless tags and attributes, so a ``<script>`` or ``javascript:`` link never reaches a page."""
from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
TAGS = {"p", "br", "strong", "em", "code", "pre", "ul", "ol", "li", "blockquote", "hr", "a",
        "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td"}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}


def markdown_html(text: str) -> Markup:
    """Render Markdown to HTML that is safe to put in a page (raw HTML escaped, only http(s)/mailto links)."""
    html = _MARKDOWN.render(text or "")
    cleaned = nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                        link_rel="noopener noreferrer")
    # Cleaned by nh3 with the allowlist above, so it may be marked safe.
    return Markup(cleaned)  # noqa: S704  # nosec B704
