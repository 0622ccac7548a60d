"""The site's Jinja environment: templates share its globals instead of copying a ChainMap."""

from __future__ import annotations

from flask import Flask


def test_templates_see_globals_added_after_they_were_loaded(app: Flask) -> None:
    env = app.jinja_env
    template = env.from_string("[{{ added_late }}]")
    env.globals["added_late"] = "seen"
    try:
        assert template.render() == "[seen]"
    finally:
        del env.globals["added_late"]


def test_a_templates_own_globals_stay_its_own(app: Flask) -> None:
    env = app.jinja_env
    own = env.from_string("[{{ its_own }}]", globals={"its_own": "mine"})
    assert own.render() == "[mine]"
    assert "its_own" not in env.globals
    assert env.from_string("[{{ its_own }}]").render() == "[]"
