"""The reading site through the test client: every URL, its hooks and its 404s."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import url_for
from markupsafe import escape

from blog import create_app, engines, publishing
from blog.dates import utcnow
from blog.extensions import db
from blog.models import Article, Tag, User
from blog.site import archive_path, article_path
from blog.site import teasers as teasers_of

from servers import REPO_ROOT, server_env, venv_bin

TEASER_LINK = re.compile(r'<article class="teaser">\s*<h2[^>]*><a href="([^"]+)">([^<]+)</a>')
REL = re.compile(r'<a rel="(next|prev)" href="([^"]+)"')


def teasers(html: str) -> list[str]:
    """Titles of the teasers on a listing page, in page order."""
    return [title for _, title in TEASER_LINK.findall(html)]


def rel_links(html: str) -> dict[str, str]:
    return {rel: href.replace("&amp;", "&") for rel, href in REL.findall(html)}


def follow_older(client, url: str) -> tuple[list[str], list[str]]:
    """Follow a listing's "Older" links from url to its end; return the titles and pages."""
    seen: list[str] = []
    pages: list[str] = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        pages.append(html)
        seen += teasers(html)
        url = rel_links(html).get("next")
    return seen, pages


def test_home_lists_visible_articles_newest_first(client, make_article):
    now = utcnow()
    for n in range(3):
        make_article(title=f"Story {n}", published_at=now - timedelta(hours=3 - n))
    make_article(title="Draft story", status="draft")
    make_article(title="Scheduled story", published_at=now + timedelta(hours=2))
    make_article(title="Trashed story", deleted_at=now)

    html = client.get("/").get_data(as_text=True)

    assert teasers(html) == ["Story 2", "Story 1", "Story 0"]
    assert "Total: 3 articles" in html


def test_home_paginates_with_next_and_prev(app, client, make_article):
    app.config["PER_PAGE"] = 4
    start = utcnow() - timedelta(days=1)
    # Two articles share one instant so ties are broken by id, not lost or repeated.
    for n in range(10):
        make_article(title=f"N{n:02d}", published_at=start + timedelta(minutes=n // 2 * 2))
    expected = [f"N{n:02d}" for n in range(9, -1, -1)]

    seen, pages = follow_older(client, "/")
    assert seen == expected
    assert len(pages) == 3
    assert "prev" not in rel_links(pages[0])

    # Walking back from the last page ends on the front page itself.
    back = client.get(rel_links(pages[2])["prev"])
    assert teasers(back.get_data(as_text=True)) == expected[4:8]
    first = client.get(rel_links(back.get_data(as_text=True))["prev"])
    assert first.status_code == 302
    assert first.headers["Location"] == "/"


def test_articles_within_one_second_are_each_listed_once(app, client, make_article):
    """Page tokens keep fractions of a second: every article is reachable, none twice."""
    app.config["PER_PAGE"] = 4
    second = (utcnow() - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    # Imported articles keep the fractions they came with; ids run against the instants.
    for n in range(10):
        make_article(title=f"F{n:02d}", published_at=second + timedelta(microseconds=999_999 - n))
    expected = [f"F{n:02d}" for n in range(10)]
    day = second.astimezone(ZoneInfo(app.config["TIMEZONE"])).date()

    for start in ("/", f"/archive/{day:%Y/%m/%d}/"):
        seen, pages = follow_older(client, start)
        assert seen == expected, start
        back = client.get(rel_links(pages[-1])["prev"]).get_data(as_text=True)
        assert teasers(back) == expected[4:8], start


@pytest.mark.parametrize(
    "query",
    [
        "?before=abc",
        "?before=1.2.3",
        "?after=-",
        "?before=1&after=2",
        "?before=1.99",
        "?before=1700000000.2147483648",
        # Arabic-Indic digits: a second address for a page, whose digits int() would read.
        "?before=%D9%A1%D9%A7%D9%A6%D9%A5%D9%A1%D9%A0%D9%A0%D9%A0%D9%A0%D9%A0.%D9%A1",
    ],
)
def test_bad_page_tokens_are_404(client, make_article, query):
    make_article()
    assert client.get("/" + query).status_code == 404


def test_article_page_shows_hooks_and_dates(make_app, make_article):
    app = make_app(TIMEZONE="Asia/Riyadh")
    with app.app_context():
        article = make_article(
            title="Market <b>day</b>",
            published_at=utcnow().replace(year=2016, month=3, day=26, hour=6, minute=51, second=0),
            body="Para one.\n\n<script>alert(1)</script>",
        )
        article_id, slug = article.id, article.slug
    html = app.test_client().get(f"/article/{article_id}/{slug}").get_data(as_text=True)

    assert '<article class="article">' in html
    assert '<h1 class="article-title" dir="auto">Market &lt;b&gt;day&lt;/b&gt;</h1>' in html
    assert (
        '<time class="published" datetime="2016-03-26T09:51:00+03:00">26 March 2016 9:51</time>'
        in html
    )
    assert '<span class="hijri-date">17 Jumada al-Akhirah 1437</span>' in html
    assert '<div class="article-body" dir="auto"><p>Para one.</p>' in html
    assert "<script>alert" not in html
    assert '<a class="scroll-up" href="#top">Scroll Up</a>' in html
    assert 'id="top"' in html


def test_times_before_standard_time_get_a_valid_datetime_attribute(make_app, make_article):
    # Riyadh kept local mean time, +03:06:52, until 1950: HTML takes whole-minute offsets.
    app = make_app(TIMEZONE="Asia/Riyadh")
    with app.app_context():
        instant = datetime(1900, 1, 1, 6, 53, 8, tzinfo=UTC)  # 10:00 local mean time
        article = make_article(title="Old news", published_at=instant)
        article_id, slug = article.id, article.slug
    client = app.test_client()
    attribute = 'datetime="1900-01-01T06:53:08+00:00">1 January 1900 10:00</time>'
    for url in (f"/article/{article_id}/{slug}", "/archive/1900/01/01/"):
        html = client.get(url).get_data(as_text=True)
        assert attribute in html, url
        assert "+03:06:52" not in html, url


TAG_LIST = re.compile(r'<ul class="tags" aria-label="Tags">(.*?)</ul>')


def test_article_page_lists_its_tags_once_each_alphabetically(client, make_article):
    names = ["zakat", "Économie", "Ramadan", "<b>bold</b>", "الأخبار", "economy"]
    tagged = make_article(
        title="Tagged",
        body="A long body.\n\n" * 400,
        tags=[Tag(name=n, slug=f"t{i}") for i, n in enumerate(names)],
    )
    untagged = make_article(title="Untagged")

    html = client.get(f"/article/{tagged.id}/{tagged.slug}").get_data(as_text=True)
    # One article, one body, however many tags it has.
    assert html.count('<div class="article-body" dir="auto">') == 1
    shown = re.findall(
        r"<li dir=\"auto\"><a href=\"/tag/(t\d)/\" rel=\"tag\">(.*?)</a></li>",
        TAG_LIST.search(html)[1],
    )
    # Case aside, in code-point order, on every database whatever its collation; each
    # linked to its own tag's page.
    assert shown == [
        ("t3", "&lt;b&gt;bold&lt;/b&gt;"),
        ("t5", "economy"),
        ("t2", "Ramadan"),
        ("t0", "zakat"),
        ("t1", "Économie"),
        ("t4", "الأخبار"),
    ]
    html = client.get(f"/article/{untagged.id}/{untagged.slug}").get_data(as_text=True)
    assert '<article class="article">' in html and not TAG_LIST.search(html)


def test_article_slug_redirects_to_canonical(client, make_article):
    article = make_article(title="Çok Güzel Haber")
    canonical = f"/article/{article.id}/{article.slug}"
    assert article.slug == "cok-guzel-haber"
    for url in (f"/article/{article.id}", f"/article/{article.id}/", f"/article/{article.id}/old"):
        response = client.get(url)
        assert response.status_code == 301, url
        assert response.headers["Location"] == canonical
    assert client.get(canonical).status_code == 200


def test_arabic_slug_is_served(client, make_article):
    article = make_article(title="الأخبار العاجلة")
    response = client.get(f"/article/{article.id}")
    assert response.status_code == 301
    assert client.get(response.headers["Location"]).status_code == 200
    assert "الأخبار العاجلة" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_hidden_articles_are_404_to_visitors(client, make_article):
    now = utcnow()
    hidden = [
        make_article(status="draft", published_at=None),
        make_article(published_at=now + timedelta(days=1)),
        make_article(deleted_at=now),
    ]
    for article in hidden:
        assert client.get(f"/article/{article.id}/{article.slug}").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/archive/2018/02/30/",
        "/archive/2018/13/",
        "/archive/2018/00/",
        "/archive/0000/",
        "/archive/18/",
        "/archive/2018/6/",
        "/archive/2018/06/31/",
        "/archive/99999/",
        "/article/0/x",
        "/article/-1/x",
        "/article/abc",
        "/article/99999999999999999999999999/x",
        # Past the largest id an INTEGER column holds: PostgreSQL refuses to bind these.
        "/article/2147483648/x",
        "/article/9223372036854775807/x",
        "/article/424242/anything",
        "/no/such/page",
        "/archive/2018/02/29/",
        # Digits of other scripts are not a second address for the same page.
        "/archive/٢٠١٨/",
        "/archive/2018/٠٦/",
        "/archive/2018/06/١٢/",
        "/article/٥/x",
    ],
)
def test_malformed_and_unknown_urls_are_404(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_year_month_day_archives(make_app, make_article):
    app = make_app(TIMEZONE="UTC")
    with app.app_context():
        base = utcnow().replace(year=2018, month=6, day=22, hour=12, minute=0, second=0)
        for n in range(3):
            make_article(title=f"June {n}", published_at=base + timedelta(minutes=n))
        make_article(title="July", published_at=base.replace(month=7, day=1))
        make_article(title="June draft", status="draft", published_at=base)
    client = app.test_client()

    year = client.get("/archive/2018/").get_data(as_text=True)
    assert re.search(r'href="/archive/2018/06/">June</a> <span class="count">\(3\)', year)
    assert re.search(r'href="/archive/2018/07/">July</a> <span class="count">\(1\)', year)
    assert "4 articles" in year

    month = client.get("/archive/2018/06/").get_data(as_text=True)
    assert re.search(
        r'href="/archive/2018/06/22/"><span class="day-number">22</span> <span class="count">\(3\)',
        month,
    )
    # An empty day is shown, not linked.
    assert '<span class="day-number">21</span> <span class="count">(0)</span>' in month
    assert 'href="/archive/2018/06/21/"' not in month
    assert "9 Shawwal 1439" in month  # 23 June 2018 in the grid

    day = client.get("/archive/2018/06/22/").get_data(as_text=True)
    assert teasers(day) == ["June 2", "June 1", "June 0"]
    assert "22 June 2018" in day
    assert "No articles on this day" in client.get("/archive/2018/06/23/").get_data(as_text=True)


def test_archives_link_no_period_before_the_first_article_or_after_today(make_app, make_article):
    # Linked without end, the archives led readers and crawlers through years 2 to 9998.
    app = make_app(TIMEZONE="UTC")
    with app.app_context():
        first = utcnow().replace(year=2018, month=6, day=22, hour=12, minute=0, second=0)
        make_article(title="First", published_at=first)
        today = utcnow().date()
    client = app.test_client()

    def nav(url: str) -> list[str]:
        html = client.get(url).get_data(as_text=True)
        links = html.split('class="archive-nav"')[1].split("</nav>")[0]
        return re.findall(r'<a href="(/archive/[^"]+)">', links)

    assert nav("/archive/2018/") == ["/archive/2019/"]
    assert nav("/archive/2017/") == ["/archive/2018/"]
    assert nav(f"/archive/{today.year}/") == [f"/archive/{today.year - 1}/"]
    assert nav(f"/archive/{today.year + 5}/") == []
    assert nav("/archive/2018/06/") == ["/archive/2018/", "/archive/2018/07/"]  # no May 2018
    assert nav("/archive/2018/06/22/") == ["/archive/2018/06/", "/archive/2018/06/23/"]
    assert nav(f"/archive/{today:%Y/%m/%d}/")[-1] == f"/archive/{today:%Y/%m}/"  # no tomorrow
    assert nav("/archive/2099/01/01/") == ["/archive/2099/01/"]


def test_masthead_hooks_strip_and_social_links(make_app, make_article):
    app = make_app(
        TIMEZONE="UTC", MASTHEAD_DAYS=3, SOCIAL_LINKS={"Facebook": "https://fb.example/blog"}
    )
    with app.app_context():
        now = utcnow()
        make_article(published_at=now - timedelta(days=1))
        make_article(published_at=now - timedelta(days=1))
        make_article(published_at=now - timedelta(days=3))
    html = app.test_client().get("/").get_data(as_text=True)

    today = now.date()
    assert f'<time class="masthead-date" datetime="{today.isoformat()}">' in html
    strip = re.search(r'<nav class="day-strip"[^>]*>(.*?)</nav>', html, re.S)[1]
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', strip)
    expected = []
    for back, n in ((1, 2), (2, 0), (3, 1)):
        day = today - timedelta(days=back)
        href = f"/archive/{day:%Y/%m/%d}/"
        expected.append((href, f"{day:%d/%m/%Y} ({n})"))
    assert links == expected
    assert '<span class="total-count">Total: 3 articles</span>' in html
    assert '<a href="https://fb.example/blog" rel="noopener me">Facebook</a>' in html


def test_masthead_line_matches_the_spec_format(client):
    html = client.get("/").get_data(as_text=True)
    line = re.search(r'<time class="masthead-date" datetime="[^"]+">([^<]+)</time>', html)[1]
    assert re.fullmatch(
        r"\d{1,2} [A-Z][a-z]+ \d{4} - [A-Z][a-z]+day - \d{1,2} [A-Z][^0-9]+ \d{4}", line
    )


def test_total_uses_thousands_separator(app, client, make_user):
    author = make_user("bulk")
    published = utcnow() - timedelta(days=400)
    db.session.execute(
        sa.insert(Article),
        [
            {
                "title": f"Bulk {n}",
                "slug": f"bulk-{n}",
                "status": "published",
                "published_at": published,
                "author_id": author.id,
            }
            for n in range(1234)
        ],
    )
    from blog import counts
    from blog.site import zone

    counts.rebuild(db.session, zone())
    db.session.commit()
    assert "Total: 1,234 articles" in client.get("/").get_data(as_text=True)


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_reports_an_unreachable_database(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/blog.sqlite3",
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable"}
    with app.app_context():
        db.engine.dispose()


def test_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("BLOG_SECRET_KEY", raising=False)
    monkeypatch.setenv("BLOG_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()


def test_environment_overrides_instance_config(monkeypatch, tmp_path):
    (tmp_path / "config.py").write_text("SECRET_KEY = 'from-file'\nSITE_NAME = 'File Name'\n")
    monkeypatch.setenv("BLOG_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("BLOG_SITE_NAME", "Env Name")
    monkeypatch.setenv("BLOG_HIJRI_OFFSET_DAYS", "1")
    monkeypatch.setenv("BLOG_SOCIAL_LINKS", '{"X": "https://x.example"}')
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-file"
    assert app.config["SITE_NAME"] == "Env Name"
    assert app.config["HIJRI_OFFSET_DAYS"] == 1
    assert app.config["SOCIAL_LINKS"] == {"X": "https://x.example"}
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(("name", "value"), [("SITE_NAME", "1439"), ("SECRET_KEY", "20241231")])
def test_text_settings_that_look_like_numbers_stay_text(
    monkeypatch, tmp_path, database_uri, name, value
):
    # Read as JSON they were numbers: every article page (SITE_NAME) or every page that
    # signs a cookie (SECRET_KEY) answered 500.
    monkeypatch.setenv("BLOG_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("BLOG_SECRET_KEY", "x")
    monkeypatch.setenv(f"BLOG_{name}", value)
    monkeypatch.setenv("DATABASE_URL", database_uri)
    app = create_app()
    assert app.config[name] == value
    with app.app_context():
        author = User(username="writer", role="author")
        author.set_password("correct horse battery")
        article = Article(
            author=author, title="Rain", slug="rain", status="published",
            published_at=utcnow() - timedelta(hours=1),
        )  # fmt: skip
        publishing.set_body(article, markdown="Rain over the valley.")
        db.session.add(article)
        db.session.commit()
        path = f"/article/{article.id}/rain"
    client = app.test_client()
    page = client.get(path)
    assert page.status_code == 200
    assert "Rain over the valley." in page.get_data(as_text=True)
    assert client.get("/auth/login").status_code == 200  # signs a session cookie
    engines.dispose(app)


@pytest.mark.parametrize("value", ["1439", "[1]"])
def test_a_site_name_set_in_python_must_be_text(monkeypatch, tmp_path, value):
    (tmp_path / "config.py").write_text(f"SITE_NAME = {value}\n")
    monkeypatch.setenv("BLOG_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("BLOG_SECRET_KEY", "x")
    with pytest.raises(RuntimeError, match=re.escape(f"SITE_NAME must be text, got {value}.")):
        create_app()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("HIJRI_OFFSET_DAYS", "3", "HIJRI_OFFSET_DAYS must be between -2 and 2"),
        ("HIJRI_OFFSET_DAYS", "-3", "HIJRI_OFFSET_DAYS must be between -2 and 2"),
        ("HIJRI_OFFSET_DAYS", "1.5", "HIJRI_OFFSET_DAYS must be a whole number, got 1.5"),
        ("HIJRI_OFFSET_DAYS", "abc", "HIJRI_OFFSET_DAYS must be a whole number, got 'abc'"),
        ("PER_PAGE", "true", "PER_PAGE must be a whole number, got True"),
        ("PER_PAGE", "+-5", "PER_PAGE must be a whole number, got '+-5'"),
        ("PER_PAGE", "0", "PER_PAGE must be 1 to 500, got 0"),
        ("PER_PAGE", "9223372036854775807", "PER_PAGE must be 1 to 500, got 9223372036854775807"),
        ("MASTHEAD_DAYS", "-1", "MASTHEAD_DAYS must be 0 or more, got -1"),
        ("MASTHEAD_DAYS", "800000", "MASTHEAD_DAYS must be 366 or fewer, got 800000"),
        ("LOGIN_LIMITS", "garbage", "LOGIN_LIMITS must be limits such as '5 per minute'"),
        ("LOGIN_LIMITS", "5", "LOGIN_LIMITS must be limits such as '5 per minute'"),
        ("LOGIN_ADDRESS_LIMITS", "5 per minit", "LOGIN_ADDRESS_LIMITS must be limits such as"),
        ("PAGE_CACHE_SECONDS", "abc", "PAGE_CACHE_SECONDS must be a whole number, got 'abc'"),
        ("PAGE_CACHE_SECONDS", "-1", "PAGE_CACHE_SECONDS must be 0 or more, got -1"),
        ("CACHE_THRESHOLD", "many", "CACHE_THRESHOLD must be a whole number, got 'many'"),
        ("SHARED_CACHE_SECONDS", "1.5", "SHARED_CACHE_SECONDS must be a whole number, got 1.5"),
        ("SHARED_CACHE_SECONDS", "-5", "SHARED_CACHE_SECONDS must be 0 or more, got -5"),
        ("PROXY_FIX", "-1", "PROXY_FIX must be 0 or more, got -1"),
        ("SIGN_IN_DAYS", "0", "SIGN_IN_DAYS must be 1 to 3650, got 0"),
        ("SIGN_IN_DAYS", "1e9", "SIGN_IN_DAYS must be a whole number, got 1000000000.0"),
        ("SIGN_IN_DAYS", "999999999999", "SIGN_IN_DAYS must be 1 to 3650, got 999999999999"),
        ("TIMEZONE", "utc", "TIMEZONE: unknown time zone 'utc'"),
        ("TIMEZONE", "Mars/Base", "TIMEZONE: unknown time zone 'Mars/Base'"),
        ("SOCIAL_LINKS", '["x"]', "SOCIAL_LINKS must map names to addresses"),
        ("SOCIAL_LINKS", '{"X": 1}', "SOCIAL_LINKS must map names to addresses"),
        (
            "SOCIAL_LINKS",
            '{"X": "javascript:alert(1)"}',
            "SOCIAL_LINKS: 'X' must be an http:// or https:// address, got 'javascript:alert(1)'",
        ),
        ("SOCIAL_LINKS", '{"Y": "//elsewhere.example"}', "SOCIAL_LINKS: 'Y' must be an http://"),
        ("SQLALCHEMY_DATABASE_URI", "garbage", "DATABASE_URL is not a database address"),
        ("SQLALCHEMY_DATABASE_URI", "mysql://u@h/d", "DATABASE_URL names mysql; the site runs"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL is not a Redis address"),
    ],
)
def test_a_bad_setting_stops_the_app_saying_which(monkeypatch, tmp_path, name, value, message):
    # Refused at start: accepted, they answered 500 on every page while /healthz said ok.
    monkeypatch.setenv("BLOG_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("BLOG_SECRET_KEY", "x")
    monkeypatch.setenv(f"BLOG_{name}", value)
    with pytest.raises(RuntimeError, match=re.escape(message)):
        create_app()


@pytest.mark.parametrize(
    "command",
    [
        ["flask", "users", "list"],
        ["gunicorn", "wsgi:app", "-c", "gunicorn.conf.py", "--bind", "127.0.0.1:0"],
    ],
)
@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"BLOG_SECRET_KEY": ""}, "Error: SECRET_KEY is not set."),
        ({"BLOG_TIMEZONE": "Mars/Base"}, "Error: TIMEZONE: unknown time zone 'Mars/Base'"),
        # Not repeated: an address may hold a password.
        ({"DATABASE_URL": "mysql://u:hunter2@db/blog"}, "Error: DATABASE_URL names mysql"),
    ],
)
def test_the_commands_name_a_bad_setting_without_a_traceback(tmp_path, command, setting, message):
    env = server_env(f"sqlite:///{tmp_path / 'blog.sqlite3'}", tmp_path) | setting
    result = subprocess.run(
        [str(venv_bin(command[0])), *command[1:]],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "hunter2" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    "slug", ["rain-in-riyadh", "مطر-في-الرياض", "a b", "100%", "q?x#y", "a/b", "çay-ğü", "x&y=z"]
)
def test_teaser_links_are_what_url_for_builds(app, slug):
    for root in ("", "/news"):
        with app.test_request_context("/", base_url=f"http://example.org{root}"):
            assert article_path(42, slug) == url_for("article.show", article_id=42, slug=slug)


@pytest.mark.parametrize(
    "slug", ["rain-in-riyadh", "مطر-في-الرياض", "a b", "100%", "q?x#y", "a/b", "çay-ğü", "x&y=z"]
)
def test_teasers_link_what_url_for_builds_escaped(app, slug):
    row = (42, "Title", slug, "Summary", utcnow(), "writer")
    for root in ("", "/news", "/a&b"):
        with app.test_request_context("/", base_url=f"http://example.org{root}"):
            (teaser,) = teasers_of([row])
            url = url_for("article.show", article_id=42, slug=slug)
            assert teaser.url == str(escape(url))


@pytest.mark.parametrize("year", [2, 987, 2026, 9998])
def test_archive_links_are_what_url_for_builds(app, year):
    for root in ("", "/news"):
        with app.test_request_context("/", base_url=f"https://example.org{root}"):
            assert archive_path(year) == url_for("archive.year", year=year)
            assert archive_path(year, 3) == url_for("archive.month", year=year, month=3)
            day = url_for("archive.day", year=year, month=12, day=9)
            assert archive_path(year, 12, 9) == day


class _TeaserParser(HTMLParser):
    """Read each teaser's link, title, summary and byline as a browser would."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict[str, str]] = []
        self._field: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = dict(attrs).get("class") or ""
        if tag == "article" and "teaser" in classes.split():
            self.found.append({})
        elif self.found and tag == "a" and self._field == "byline":
            self.found[-1]["author_href"] = dict(attrs).get("href") or ""
        elif self.found and tag == "a" and "href" not in self.found[-1]:
            self.found[-1]["href"] = dict(attrs).get("href") or ""
            self._field = "title"
        elif self.found and classes in ("summary", "byline"):
            self._field = classes
        elif tag != "a":
            self._field = None

    def handle_endtag(self, tag: str) -> None:
        self._field = None

    def handle_data(self, data: str) -> None:
        if self._field:
            self.found[-1][self._field] = self.found[-1].get(self._field, "") + data


def test_teaser_fields_reach_the_reader_as_text(app, client, make_article, make_user):
    """Teasers are escaped outside the template: markup in any field arrives as text."""
    author = make_user("o'neil<b>&co")
    published = utcnow() - timedelta(hours=1)
    article = make_article(
        title="<b>Bold</b> & \"quoted\" 'news'",
        summary="<script>alert(1)</script> & more",
        slug="x&y=z",
        author=author,
        published_at=published,
    )
    day = published.astimezone(ZoneInfo(app.config["TIMEZONE"])).date()
    for url in ("/", f"/archive/{day:%Y/%m/%d}/"):
        html = client.get(url).get_data(as_text=True)
        parser = _TeaserParser()
        parser.feed(html)
        assert parser.found == [
            {
                "href": f"/article/{article.id}/x&y=z",
                "title": "<b>Bold</b> & \"quoted\" 'news'",
                "byline": "o'neil<b>&co",
                "summary": "<script>alert(1)</script> & more",
            }
        ], url
        assert "<script>alert" not in html and "<b>Bold" not in html
    # A name no new user may take (an older row's) has no page to link: plain text.
    assert client.get("/author/o%27neil%3Cb%3E%26co/").status_code == 404
