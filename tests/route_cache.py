"""Tests build one Flask app per test; this shares what each app would otherwise compile again: werkzeug's
per-rule URL builders and Jinja's compiled templates.

Werkzeug compiles a small Python function (via ``ast`` and ``compile``) for every URL rule of every
app: about 600 rules, which made ``create_app`` cost ~0.3 s, i.e. most of the time of a short test.
The generated function depends only on the rule's text, its parsed trace and its defaults (it reads
the converters from the rule it is bound to at call time), so apps built from the same code can
share it. Likewise a template's first render compiles it (~0.1 s for a page and base.html): the apps of a
run share one in-memory bytecode cache, keyed by template name, file and source checksum as Jinja does.
Production builds one app per process and is not touched by this module.
"""
from __future__ import annotations

from jinja2 import BytecodeCache
from werkzeug.routing.rules import Rule

_compile_builder = getattr(Rule, "_compile_builder", None)
_builders: dict[tuple, object] = {}


def _key(rule: Rule, append_unknown: bool) -> tuple:
    defaults = rule.defaults or {}
    return (append_unknown, rule.rule, tuple(rule._trace),
            tuple(sorted((name, type(rule._converters.get(name)).__qualname__, repr(value))
                         for name, value in defaults.items())))


def _memoized_compile_builder(self: Rule, append_unknown: bool = True):
    key = _key(self, append_unknown)
    builder = _builders.get(key)
    if builder is None:
        builder = _builders[key] = _compile_builder(self, append_unknown)
    return builder


def install() -> None:
    """Share compiled URL builders between the apps of this test run (idempotent; a no-op if werkzeug changes)."""
    if _compile_builder is not None:
        Rule._compile_builder = _memoized_compile_builder


class _SharedTemplateCode(BytecodeCache):
    """Compiled templates kept in memory for the whole run (Jinja checks each entry's source checksum)."""

    def __init__(self):
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        data = self._code.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_templates = _SharedTemplateCode()


def share_templates(app) -> None:
    """Let app reuse the templates other apps of this run compiled already."""
    app.jinja_env.bytecode_cache = _templates
