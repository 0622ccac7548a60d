"""HTTP caching: validators and 304s for readers, hashed static URLs, signed-in pages unstored."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from loadgen import redis_namespace, require_redis
from test_auth import session_of, sign_in
from test_tags import page, tagged

from blog import ROOT, articles, dates
from blog.dates import utcnow
from blog.extensions import db
from blog.models import Article

from conftest import base_config, retitle_behind_the_apps_back


def test_reader_pages_answer_304_until_something_changes(client, make_article):
    make_article(title="First story")
    first = client.get("/")
    etag = first.headers["ETag"]
    assert first.status_code == 200
    assert "public" in first.headers["Cache-Control"]

    again = client.get("/", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""

    make_article(title="Second story")
    changed = client.get("/", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert "Second story" in changed.get_data(as_text=True)


def test_a_weak_validator_from_a_compressing_proxy_still_gets_304(client, make_article):
    # nginx with gzip on sends the ETag on as W/"...": If-None-Match compares weakly.
    make_article(title="First story")
    weak = "W/" + client.get("/").headers["ETag"]
    assert client.get("/", headers={"If-None-Match": weak}).status_code == 304
    client.set_cookie("theme", "dark")  # past the shared cache, to the view's own check
    assert client.get("/", headers={"If-None-Match": weak}).status_code == 304
    make_article(title="Second story")
    assert client.get("/", headers={"If-None-Match": weak}).status_code == 200


def test_every_reader_page_kind_carries_a_validator(client, make_article):
    article = make_article()
    day = dates.local_date(article.published_at, dates.site_zone("UTC"))
    for url in (
        "/",
        f"/article/{article.id}/{article.slug}",
        f"/archive/{day:%Y}/",
        f"/archive/{day:%Y/%m}/",
        f"/archive/{day:%Y/%m/%d}/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert (
            client.get(url, headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
        )


def test_a_due_scheduled_article_changes_the_validator(client, make_article, monkeypatch):
    due = dates.utcnow() + timedelta(minutes=30)
    make_article(title="Later", published_at=due)
    etag = client.get("/").headers["ETag"]
    monkeypatch.setattr(dates, "utcnow", lambda: due + timedelta(seconds=1))
    response = client.get("/", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert "Later" in response.get_data(as_text=True)


def test_static_files_have_hashed_urls_and_long_lifetimes(client):
    html = client.get("/").get_data(as_text=True)
    href = re.search(r'<link rel="stylesheet" href="([^"]+)">', html)[1]
    assert re.fullmatch(r"/static/site\.css\?v=[0-9a-f]{12}", href)
    with client.get(href) as response:
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert "Expires" not in response.headers  # no "now" beside a year
    with client.get("/static/site.css?v=000000000000") as stale:
        assert "immutable" not in stale.headers.get("Cache-Control", "")


def test_static_headers_tell_nothing_of_files_outside_the_static_folder(client):
    # OPTIONS answers 200 for any /static/<path>, ".." included: the lifetime header said
    # "immutable" when ?v= matched the hash of the file the path named, whatever it was.
    outside = ROOT / "pyproject.toml"
    guess = hashlib.sha256(outside.read_bytes()).hexdigest()[:12]
    for method in ("OPTIONS", "GET", "HEAD"):
        response = client.open(f"/static/../pyproject.toml?v={guess}", method=method)
        assert "immutable" not in response.headers.get("Cache-Control", ""), method
    assert client.open("/static/site.css%00?v=0", method="OPTIONS").status_code == 200


def test_signed_in_pages_are_never_stored(app, client, make_user, make_article):
    author = make_user("reader-author")
    draft = make_article(title="Secret draft", status="draft", published_at=None, author=author)
    anonymous = client.get("/")
    assert sign_in(client, author.username).status_code == 303
    for url in ("/", f"/article/{draft.id}/{draft.slug}"):
        response = client.get(url, headers={"If-None-Match": anonymous.headers["ETag"]})
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "private, no-store"
        assert "ETag" not in response.headers
    assert "Secret draft" in client.get(f"/article/{draft.id}/{draft.slug}").get_data(as_text=True)

    client.delete_cookie("session")
    assert client.get(f"/article/{draft.id}/{draft.slug}").status_code == 404


SENT_HEADERS = (
    "Content-Type",
    "ETag",
    "Cache-Control",
    "Vary",
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
)


def test_a_cached_page_is_sent_whole_as_it_was_rendered(app, client, make_article):
    article = make_article(title="Kept whole")
    url = f"/article/{article.id}/{article.slug}"
    rendered = client.get(url)
    retitle_behind_the_apps_back(app, article.id, "Changed underneath")
    cached = client.get(url)
    assert cached.status_code == 200
    assert cached.data == rendered.data  # served from the cache, not rendered again
    for header in SENT_HEADERS:
        assert cached.headers[header] == rendered.headers[header], header
    not_modified = client.get(url, headers={"If-None-Match": rendered.headers["ETag"]})
    assert not_modified.status_code == 304 and not_modified.data == b""
    assert not_modified.headers["ETag"] == rendered.headers["ETag"]
    assert "nosniff" in not_modified.headers["X-Content-Type-Options"]


def test_a_reader_with_an_unrelated_cookie_is_served_from_the_cache(app, client, make_article):
    article = make_article(title="For everyone")
    url = f"/article/{article.id}/{article.slug}"
    rendered = client.get(url)
    retitle_behind_the_apps_back(app, article.id, "Changed underneath")
    client.set_cookie("theme", "dark")
    cached = client.get(url)
    assert cached.status_code == 200
    assert cached.data == rendered.data
    assert cached.headers["ETag"] == rendered.headers["ETag"]
    assert cached.headers["Cache-Control"] == rendered.headers["Cache-Control"]


@pytest.mark.parametrize("part", ["HTTP_HOST", "SCRIPT_NAME"])
def test_a_page_is_kept_under_its_own_address_only(client, make_article, part):
    article = make_article()
    year = f"{dates.local_date(article.published_at, dates.site_zone('UTC')):%Y}"
    # The front page asked for with the year archive's path at the end of the Host header
    # (or of the script root): joined as one string, its key was the archive's.
    ends_in_archive = {"HTTP_HOST": f"localhost/archive/{year}", "SCRIPT_NAME": f"/archive/{year}"}
    assert client.get("/", environ_overrides={part: ends_in_archive[part]}).status_code == 200
    archive = client.get(f"/archive/{year}/").get_data(as_text=True)
    assert f"<h1>{year}</h1>" in archive


def test_a_head_request_does_not_empty_the_cached_page(client, make_article):
    make_article(title="Whole page")
    head = client.head("/")
    assert head.status_code == 200 and head.data == b""
    page = client.get("/")
    assert "Whole page" in page.get_data(as_text=True)
    assert int(page.headers["Content-Length"]) == len(page.data) > 0
    again = client.get("/")
    assert again.data == page.data


def test_a_page_made_after_a_write_elsewhere_shows_that_write_whole(client, make_article):
    make_article(title="Already there")
    home = client.get("/")  # cached: this app's page cache now knows the version it read
    # Written outside this app's requests, as another worker or host would write it.
    later = make_article(title="Published elsewhere")
    day = dates.local_date(later.published_at, dates.site_zone("UTC"))
    page = client.get(f"/archive/{day:%Y/%m/%d}/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Published elsewhere" in text
    # The masthead is the new version's too, not the one the cache knew of.
    assert re.search(r'class="total-count">[^<]*\b2\b', text), text
    assert page.headers["ETag"] != home.headers["ETag"]
    fresh = client.get("/", headers={"If-None-Match": home.headers["ETag"]})
    assert fresh.status_code == 200
    assert "Published elsewhere" in fresh.get_data(as_text=True)


MASTHEAD_DATE = re.compile(r'class="masthead-date"[^>]*>([^<]*)<')
SITE_NAME = re.compile(r'class="site-name"[^>]*>([^<]*)<')


@pytest.mark.parametrize(
    ("changed", "shown"),
    [
        pytest.param({"HIJRI_OFFSET_DAYS": 1}, MASTHEAD_DATE, id="hijri-offset"),
        pytest.param({"SITE_NAME": "The Other Blog"}, SITE_NAME, id="site-name"),
    ],
)
def test_a_changed_setting_changes_the_validator(client, make_app, make_article, changed, shown):
    article = make_article(title="Unchanged story")
    urls = ("/", f"/article/{article.id}/{article.slug}")
    before = {url: client.get(url) for url in urls}
    # The same database and content, served after a restart with one setting changed.
    restarted = make_app(**changed).test_client()
    for url in urls:
        old = before[url]
        response = restarted.get(url, headers={"If-None-Match": old.headers["ETag"]})
        assert response.status_code == 200, url
        assert response.headers["ETag"] != old.headers["ETag"], url
        text, old_text = response.get_data(as_text=True), old.get_data(as_text=True)
        assert shown.search(text)[1] != shown.search(old_text)[1], url
        assert restarted.get(url).headers["ETag"] == response.headers["ETag"]


# Another host: builds the app from the release it is run in and prints the home page's ETag.
HOST = """
import json, sys
import blog
app = blog.create_app(json.loads(sys.argv[1]))
with app.app_context():
    etag = app.test_client().get("/").headers["ETag"]
print(json.dumps([blog.__file__, etag]))
"""


def test_hosts_on_one_release_and_settings_agree_on_validators(
    client, make_app, make_article, database_uri, tmp_path
):
    make_article(title="Seen from every host")
    etag = client.get("/").headers["ETag"]
    # The content version, the masthead's lifetime, the settings' and release's fingerprint,
    # and the page's address.
    assert re.fullmatch(r'"\d+-\d+-[0-9a-f]{8}-[0-9a-f]{8}"', etag), etag
    assert make_app().test_client().get("/").headers["ETag"] == etag

    # The same release checked out elsewhere, run by a process with another hash seed.
    release = tmp_path / "release"
    for name in ("blog", "templates", "static"):
        shutil.copytree(ROOT / name, release / name, ignore=shutil.ignore_patterns("__pycache__"))
    env = {
        **os.environ,
        "PYTHONPATH": str(release),
        "PYTHONHASHSEED": "4242",
        "BLOG_INSTANCE_PATH": str(tmp_path / "other-host"),
    }
    config = json.dumps(base_config(database_uri, tmp_path))
    host = subprocess.run(
        [sys.executable, "-c", HOST, config],
        cwd=release,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert host.returncode == 0, host.stderr
    module, other_etag = json.loads(host.stdout.splitlines()[-1])
    assert Path(module).is_relative_to(release)
    assert other_etag == etag


def test_a_shared_page_made_under_other_settings_is_not_served(make_app, make_article):
    redis_url = require_redis()
    article = make_article(title="Shared story")
    with redis_namespace(redis_url, "settings") as prefix:
        shared = {"REDIS_URL": redis_url, "CACHE_KEY_PREFIX": prefix}
        first = make_app(**shared).test_client()
        home = first.get("/")  # kept in Redis: the page and the masthead
        line = MASTHEAD_DATE.search(home.get_data(as_text=True))[1]
        other = make_app(**shared, HIJRI_OFFSET_DAYS=1).test_client()
        # The article first: not cached as a page, so only the shared masthead could leak.
        for url in (f"/article/{article.id}/{article.slug}", "/"):
            response = other.get(url)
            assert response.status_code == 200, url
            assert MASTHEAD_DATE.search(response.get_data(as_text=True))[1] != line, url
        assert other.get("/").headers["ETag"] != home.headers["ETag"]


def _backup(app, path: Path) -> None:
    """Copy the database as an operator would: SQLite's backup API, or pg_dump."""
    url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(url.database) as live, sqlite3.connect(path) as copy:
            live.backup(copy)
        return
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    subprocess.run(["pg_dump", "--format=custom", f"--file={path}", libpq], check=True)


def _restore(app, path: Path) -> None:
    """Put the copy back while the site runs, as the README's restore does."""
    url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(path) as copy, sqlite3.connect(url.database) as live:
            copy.backup(live)
        return
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    subprocess.run(["pg_restore", "--clean", f"--dbname={libpq}", str(path)], check=True)


def test_after_a_restore_no_page_of_the_lost_content_comes_back(
    app, client, make_article, tmp_path
):
    make_article(title="Before the backup")
    assert "Before the backup" in client.get("/").get_data(as_text=True)
    _backup(app, tmp_path / "site.backup")
    make_article(title="Lost in the restore")
    lost = client.get("/")
    assert "Lost in the restore" in lost.get_data(as_text=True)

    db.session.remove()
    _restore(app, tmp_path / "site.backup")
    make_article(title="After the restore")
    page = client.get("/", headers={"If-None-Match": lost.headers["ETag"]})

    # Counted on from the restored version, this write took the lost page's version: the
    # lost article came back from the cache, and its ETag still answered 304.
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "After the restore" in html and "Lost in the restore" not in html
    assert page.headers["ETag"] != lost.headers["ETag"]


def test_a_reader_who_opened_the_sign_in_page_still_gets_the_shared_page(make_app, make_article):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_article(title="Front page story")
    reader, stranger = app.test_client(), app.test_client()
    reader.get("/auth/login")  # the form's token is now in the reader's session, alone
    assert set(session_of(app, reader)) == {"csrf_token"}
    # A remember cookie, which the site never sets, changes nothing.
    reader.set_cookie("remember_token", "1|junk")
    page = reader.get("/")
    assert "Front page story" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"].startswith("public, ")
    assert "Set-Cookie" not in page.headers
    shared = stranger.get("/")
    assert shared.headers["ETag"] == page.headers["ETag"]
    assert "Set-Cookie" not in shared.headers  # the reader's session is nobody else's
    again = reader.get("/", headers={"If-None-Match": page.headers["ETag"]})
    assert again.status_code == 304


@contextmanager
def trashed_just_after(
    monkeypatch: pytest.MonkeyPatch, reads: str, article_id: int
) -> Iterator[None]:
    """Within it, `articles.<reads>` returns, then another worker trashes the article."""
    original = getattr(articles, reads)

    def then_a_write(*args, **kwargs):
        found = original(*args, **kwargs)
        # A session of its own from the site's factory: its counts and links kept as ever.
        with db.session.session_factory() as other:
            other.get(Article, article_id).deleted_at = utcnow()
            other.commit()
        return found

    monkeypatch.setattr(articles, reads, then_a_write)
    yield
    monkeypatch.setattr(articles, reads, original)


@pytest.mark.parametrize(
    ("address", "reads", "shows_it"),
    [
        ("/tags/", "topics", '<a href="/tag/alpha/"'),
        ("/archive/{year}/", "month_counts", '<p class="archive-total">1 articles</p>'),
        ("/archive/{year}/{month:02d}/", "day_counts", 'class="day has-articles"'),
    ],
)
def test_a_write_while_a_page_is_made_never_leaves_it_cached_as_that_writes(
    app: Flask,
    client: FlaskClient,
    make_article,
    monkeypatch: pytest.MonkeyPatch,
    address: str,
    reads: str,
    shows_it: str,
) -> None:
    # Another worker trashes the article just after this page has read its rows: the page
    # must not be kept under the version that write made, or it would outlive it.
    target = tagged(make_article, "Alpha", title="Only one")
    local = dates.to_local(target.published_at, dates.site_zone(app.config["TIMEZONE"]))
    address = address.format(year=local.year, month=local.month)
    assert shows_it in page(client, address)
    tagged(make_article, "Beta", title="Elsewhere", published_at=utcnow() - timedelta(days=800))
    page(client, "/")  # the process knows the version before the write
    with trashed_just_after(monkeypatch, reads, target.id):
        page(client, address)  # made from the rows before the write: it shows the article

    # No write since: what is served now, from the cache or not, shows it gone.
    assert shows_it not in page(client, address)


def test_an_empty_listing_made_as_an_article_arrives_is_not_cached_as_its_write(
    app: Flask, client: FlaskClient, make_article, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_article(title="Old news", published_at=utcnow() - timedelta(days=3))
    today = dates.local_today(dates.site_zone(app.config["TIMEZONE"]))
    address = f"/archive/{today:%Y/%m/%d}/"
    page(client, "/")  # the process knows the version before the write
    original = articles.listing
    arrived = []

    def then_a_write(*args, **kwargs):
        found = original(*args, **kwargs)
        if not arrived:  # another worker publishes today's first article meanwhile
            arrived.append(make_article(title="Just in", published_at=utcnow()))
        return found

    monkeypatch.setattr(articles, "listing", then_a_write)
    page(client, address)
    monkeypatch.setattr(articles, "listing", original)

    assert "Just in" in page(client, address)


def test_a_validator_never_stands_in_for_a_page_that_is_missing_or_moved(
    client: FlaskClient, make_article
) -> None:
    article = make_article(title="Here")
    home = client.get("/").headers["ETag"]
    shown = client.get(f"/article/{article.id}/{article.slug}").headers["ETag"]
    assert shown != home  # each page its own tag, though the site has one version
    for tag in ("*", home, shown):
        headers = {"If-None-Match": tag}
        assert client.get("/article/999999/x", headers=headers).status_code == 404, tag
        assert client.get("/tag/no-such-tag/", headers=headers).status_code == 404, tag
        moved = client.get(f"/article/{article.id}/old-slug", headers=headers)
        assert moved.status_code == 301, tag
    again = client.get(f"/article/{article.id}/{article.slug}", headers={"If-None-Match": shown})
    assert again.status_code == 304
