"""Query-string arguments on list screens: odd values fall back, never raise."""
import pytest

from app.queryargs import int_arg, text_arg


@pytest.mark.parametrize("raw,expected", [("3", 3), ("", 1), ("x", 1), ("-2", 1), ("0", 1), ("²", 1),
                                          ("99999999999999999999", 1), ("100000", 100000)])
def test_int_arg(app, raw, expected):
    with app.test_request_context(query_string={"page": raw}):
        assert int_arg("page") == expected


def test_text_arg_drops_control_characters_and_caps_length(app):
    with app.test_request_context(query_string={"q": "  山田\x00\nマンション  " + "x" * 200}):
        value = text_arg("q", limit=20)
    assert value.startswith("山田 マンション") and len(value) == 20 and "\x00" not in value
