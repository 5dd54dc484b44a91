"""`flask --help` and every group's and command's --help of kanri speak Japanese, not a mix with English."""
from __future__ import annotations

import os
import re
import subprocess  # nosec B404  # runs the installed `flask` command with fixed arguments
import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
# Four or more English words in a row is a sentence; command names, option names and metavars are not.
ENGLISH = re.compile(r"[A-Za-z][a-z]+(?:[ ,'()/-]+[A-Za-z][a-z]*){3,}")
NOT_PROSE = (
    re.compile(r"^\s*Usage: .*$", re.M),
    re.compile(r"flask(?: [a-z][a-z-]*)+"),           # a command written out: flask backup list
    re.compile(r"--?[a-z][a-z-]*(?: [A-Z_]+)?"),      # an option and its metavar: --tenant CODE
    re.compile(r"\[[a-z]+(?:\|[a-z]+)+\]"),           # a choice list: [mama|jucho]
)
# The commands of Flask and its extensions keep their own (English) --help pages; kanri owns the rest.
FRAMEWORK = {"db", "limiter", "run", "shell", "routes"}


def english_in(text: str) -> list[str]:
    """The English sentences left in a help text once names, options and the usage line are removed."""
    for pattern in NOT_PROSE:
        text = pattern.sub(" ", text)
    return ENGLISH.findall(text)


def _commands(group: click.Group, path: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        if not path and name in FRAMEWORK:
            continue
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))


def test_the_heuristic_catches_english_and_spares_names():
    assert english_in("Set the contract end (JST); the day after it nobody can log in.")
    assert english_in("  --help  Show this message and exit.")
    assert not english_in("  --tenant CODE  会社コード（flask tenant list で確認）")
    assert not english_in("Usage: flask tenant export [OPTIONS] CODE\n\n  テナントのデータを書き出します。")


def test_every_kanri_command_help_is_japanese(app):
    runner = app.test_cli_runner()
    paths = list(_commands(app.cli))
    assert ("tenant", "create") in paths and ("mama", "seed") in paths and ("notice", "post") in paths
    found = {}
    for path in paths:
        result = runner.invoke(args=[*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "この説明を表示して終了します" in result.output
        if english_in(result.output):
            found[" ".join(path)] = english_in(result.output)
    assert found == {}


def test_flask_help_lists_every_command_in_japanese(tmp_path):
    env = {**os.environ, "FLASK_APP": "wsgi:app", "KANRI_INSTANCE_PATH": str(tmp_path), "KANRI_ENV": "development",
           "PYTHONPATH": str(ROOT)}
    flask = Path(sys.executable).with_name("flask")
    result = subprocess.run([str(flask), "--help"], cwd=ROOT, env=env, capture_output=True, text=True,  # nosec B603
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    commands = result.stdout.split("Commands:", 1)[1]
    lines = [line for line in commands.splitlines() if line.strip()]
    names = {line.split()[0] for line in lines}
    assert {"tenant", "user", "mama", "notice", "db", "run"} <= names
    assert [line for line in lines if english_in(line)] == []
    assert "Ctrl+C" in commands  # `flask run` says how to stop it


def test_help_survives_many_apps(base_config):
    from app import create_app

    for _ in range(3):
        app = create_app(base_config)
    command = app.cli.commands["tenant"].commands["list"]
    assert command.get_help_option.__closure__ is not None
    original = command.get_help_option.__closure__[0].cell_contents
    assert not getattr(original, "__closure__", None)  # wrapped once, not once per app
    assert "この説明を表示して終了します" in app.test_cli_runner().invoke(args=["tenant", "list", "--help"]).output
