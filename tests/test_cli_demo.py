"""flask demo load: content on an empty database only, and credentials that always work."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from test_cli_articles import assert_day_counts_exact

from blog.dates import utcnow
from blog.extensions import db
from blog.models import Article, User

ZONE = "Europe/Istanbul"


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    return tmp_path / "instance"


@pytest.fixture
def app(
    make_app: Callable[..., Flask], instance: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Flask]:
    """An app whose instance folder is a temporary one: demo load writes a file there."""
    monkeypatch.setenv("BLOG_INSTANCE_PATH", str(instance))
    app = make_app(TIMEZONE=ZONE)
    with app.app_context():
        yield app


def credentials(output: str) -> tuple[str, str]:
    match = re.search(r"^Demo author: (\S+) / (\S+)$", output, re.M)
    assert match is not None, output
    return match[1], match[2]


def demo_user() -> User:
    stmt = sa.select(User).where(User.username == "demo")
    user = db.session.scalar(stmt.execution_options(populate_existing=True))
    assert user is not None
    return user


def article_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Article)) or 0


def test_load_fills_an_empty_site(
    runner: FlaskCliRunner, client: FlaskClient, instance: Path
) -> None:
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    name, password = credentials(result.output)
    assert name == "demo"
    user = demo_user()
    assert user.role == "editor" and user.check_password(password)
    saved = instance / "demo-credentials.txt"
    assert oct(saved.stat().st_mode)[-3:] == "600" and password in saved.read_text()

    articles = db.session.scalars(sa.select(Article)).all()
    assert 35 <= len(articles) <= 50
    now = utcnow()
    scheduled = [a for a in articles if a.status == "published" and a.published_at > now]
    drafts = [a for a in articles if a.status == "draft"]
    assert len(scheduled) == 3 and len(drafts) == 1
    slugs = {a.slug for a in articles}
    assert {"istanbulda-sahaf-festivali-basladi", "cay-bahcelerinde-kis-sohbetleri"} <= slugs
    assert any('<p dir="rtl" lang="ar">' in a.body_html for a in articles)
    assert all(a.author_id == user.id and a.body_html for a in articles)
    assert_day_counts_exact(ZONE)

    page = client.get("/").get_data(as_text=True)
    assert page.count('<article class="teaser">') == 20
    strip = re.search(r'<nav class="day-strip".*?</nav>', page, re.S)
    assert strip is not None
    # Articles on every one of the previous days.
    assert all(int(n) >= 1 for n in re.findall(r"\((\d+)\)</a>", strip[0]))


def test_load_twice_adds_nothing_and_prints_the_same_credentials(runner: FlaskCliRunner) -> None:
    first = runner.invoke(args=["demo", "load"])
    count = article_count()
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    assert "no demo content added" in second.output
    assert credentials(second.output) == credentials(first.output)
    assert article_count() == count


def test_missing_credentials_file_resets_the_password(
    runner: FlaskCliRunner, instance: Path
) -> None:
    _, old = credentials(runner.invoke(args=["demo", "load"]).output)
    (instance / "demo-credentials.txt").unlink()
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    _, new = credentials(result.output)
    assert new != old and new in (instance / "demo-credentials.txt").read_text()
    user = demo_user()
    assert user.check_password(new) and not user.check_password(old)


def test_a_password_changed_since_is_kept_and_not_printed(
    runner: FlaskCliRunner, instance: Path
) -> None:
    _, old = credentials(runner.invoke(args=["demo", "load"]).output)
    saved = instance / "demo-credentials.txt"
    before = saved.read_text()
    demo_user().set_password("chosen by the demo user")  # as at /admin/password
    db.session.commit()
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert old not in result.output
    assert result.output.splitlines()[-1] == (
        f"Demo author: demo. Its password was changed since it was saved in {saved}, so there "
        "is none to print: sign in with the changed one, or delete that file and run "
        "`flask demo load` again for a new one."
    )
    assert demo_user().check_password("chosen by the demo user")
    assert saved.read_text() == before


def test_load_leaves_a_site_with_articles_alone(runner: FlaskCliRunner) -> None:
    line = {"title": "Real news", "body_markdown": "Real.", "published_at": "2020-01-01T10:00:00Z"}
    assert runner.invoke(args=["articles", "import", "-"], input=json.dumps(line)).exit_code == 0
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "no demo content added" in result.output
    _, password = credentials(result.output)
    assert demo_user().check_password(password)
    assert article_count() == 1
