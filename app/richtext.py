"""Markdown written by the service team (FAQ answers, notices, incident mails) as safe HTML.

CommonMark through ``markdown-it-py`` with raw HTML disabled (typed tags come out as text) and tables on,
then ``nh3`` keeps a small set of tags and attributes, only http/https/mailto links, and gives every
link ``rel="noopener noreferrer"``. Images are not allowed: a page or mail must not make the reader's
browser fetch anything from elsewhere.
"""
from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
TAGS = {"p", "br", "strong", "em", "code", "pre", "ul", "ol", "li", "blockquote", "hr", "a",
        "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td"}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


def markdown_html(text: str) -> Markup:
    """Render Markdown to HTML that is safe to put in a page or an HTML mail."""
    html = _MARKDOWN.render(text or "")
    cleaned = nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                        link_rel="noopener noreferrer", strip_comments=True)
    # Cleaned by nh3 with the allowlist above, so it may be marked safe.
    return Markup(cleaned)  # noqa: S704  # nosec B704
