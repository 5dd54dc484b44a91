"""Every environment variable the code reads is documented in docs/operations.md (the production guide).

The variables are found in the source, not listed by hand: calls of ``os.environ.get``/``os.getenv``,
``os.environ[...]`` and of module helpers that pass their argument on to one of those (``_flag(name)``,
``_setting(name)``), so a variable added tomorrow fails this test until the guide has a line for it.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "operations.md"
SOURCES = [ROOT / "wsgi.py", *sorted((ROOT / "app").rglob("*.py")), *sorted((ROOT / "plugins").rglob("*.py"))]


def _is_environ(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ" and isinstance(node.value, ast.Name) \
        and node.value.id == "os"


def _direct_read(node: ast.AST) -> ast.AST | None:
    """The name argument of os.environ.get(x) / os.getenv(x) / os.environ[x], else None."""
    if isinstance(node, ast.Call) and node.args:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "get" and _is_environ(func.value):
            return node.args[0]
        if isinstance(func, ast.Attribute) and func.attr == "getenv" and isinstance(func.value, ast.Name) \
                and func.value.id == "os":
            return node.args[0]
    if isinstance(node, ast.Subscript) and _is_environ(node.value):
        return node.slice
    return None


def environment_reads(source: str) -> set[str]:
    """The names of the environment variables one module reads (literal names only)."""
    tree = ast.parse(source)
    helpers = set()
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef) and function.args.args:
            parameters = {argument.arg for argument in function.args.args}
            for node in ast.walk(function):
                name = _direct_read(node)
                if isinstance(name, ast.Name) and name.id in parameters:
                    helpers.add(function.name)
    found = set()
    for node in ast.walk(tree):
        name = _direct_read(node)
        if name is None and isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in helpers and node.args:
            name = node.args[0]
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            found.add(name.value)
    return found


def test_the_scanner_finds_direct_reads_and_reads_through_a_helper():
    source = '''
import os
def _flag(name, default):
    return os.environ.get(name) or default
A = os.environ.get("KANRI_A")
B = os.getenv("KANRI_B", "x")
C = os.environ["KANRI_C"]
D = _flag("KANRI_D", False)
E = {"KANRI_E": 1}.get("KANRI_E")
'''
    assert environment_reads(source) == {"KANRI_A", "KANRI_B", "KANRI_C", "KANRI_D"}


def test_every_environment_variable_read_by_the_code_is_in_the_production_guide():
    read = set()
    for path in SOURCES:
        read |= environment_reads(path.read_text(encoding="utf-8"))
    assert {"KANRI_ENV", "DATABASE_URL", "KANRI_JUCHO_REQUEST_IP_LIMIT", "KANRI_OPERATOR"} <= read  # the scan works
    guide = GUIDE.read_text(encoding="utf-8")
    missing = sorted(name for name in read if f"`{name}`" not in guide)
    assert missing == [], f"document these in docs/operations.md (as `NAME`): {missing}"
