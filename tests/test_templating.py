"""The site's Jinja environment and templates: shared globals, ASCII markup."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from blog import ROOT


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


def test_template_markup_is_ascii() -> None:
    # Entities for the rest (&ndash;): see the note at the top of base.html.
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        strays = sorted({char for char in text if ord(char) > 127})
        assert not strays, f"{path.relative_to(ROOT)}: {strays}"


def test_a_readers_page_stays_ascii_and_shows_its_dash(client: FlaskClient) -> None:
    page = client.get("/archive/2026/03/26/")
    assert page.status_code == 200
    assert page.data.isascii()
    assert b"26 March 2026 &ndash; " in page.data
