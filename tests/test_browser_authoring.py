"""An author in Chromium against real gunicorn (CSRF on): write, preview, publish, edit, schedule.

The site zone is picked so that the site's local day differs from the UTC day while the tests
run (Pacific/Honolulu, UTC-10, before 10:00 UTC; Pacific/Kiritimati, UTC+14, from then on;
neither has daylight saving). An article published "now" therefore belongs to another UTC
day, and anything that files days by UTC puts it in the wrong day archive or strip entry.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from blog import create_app, dates, publishing
from blog.extensions import db
from blog.models import Article, User

from conftest import CHROMIUM, PASSWORD, at_local, base_config, send_sign_in
from servers import GunicornServer, migrated_sqlite

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing")

# Honolulu and Kiritimati are exactly 24 hours apart: both start their day at 10:00 UTC.
TIMEZONE = "Pacific/Honolulu" if datetime.now(UTC).hour < 10 else "Pacific/Kiritimati"
TZ = dates.site_zone(TIMEZONE)
# A local time yesterday that lies on another UTC day than its local one.
YESTERDAY_TIME = (23, 50) if TIMEZONE == "Pacific/Honolulu" else (0, 10)
HIJRI = dates.HijriCalendar()  # the server runs with no offset and no month-start overrides
STRIP_ENTRY = re.compile(r"^(\d{2})/(\d{2})/(\d{4}) \((\d+)\)$")
TOTAL = re.compile(r"^Total: ([\d,]+) articles$")
EDIT_URL = re.compile(r"/admin/articles/(\d+)/edit$")
# Written before the server starts: days ago -> local (hh, mm), so the strip is not all zeros.
SEEDED: dict[int, list[tuple[int, int]]] = {1: [(12, 0)], 2: [(8, 0), (16, 30)]}

TITLE = "Şırnak'ta Güneşli Bir Gün"
ARABIC = "صباح مشمس في شرناق، والناس في الأسواق."
OLD_SENTENCE = "Kuşlar sabahtan beri ötüyor."
BODY = (
    f"Güneş **çok parlak** bir sabah. {OLD_SENTENCE}\n\n"
    f'<p dir="rtl" lang="ar">{ARABIC}</p>\n\n'
    "Son paragraf: *yarın* yine buradayız."
)
EDITED_TITLE = "Şırnak'ta Yağmurlu Bir Akşam"
NEW_SENTENCE = "Akşamüstü yağmur başladı."


def seed(database_url: str, instance: Path) -> None:
    """Add the two authors and a few published articles of earlier days, through the app."""
    app = create_app({**base_config(database_url, instance), "TIMEZONE": TIMEZONE})
    with app.app_context():
        for username in ("ayse", "mehmet"):
            user = User(username=username, role="author")
            user.set_password(PASSWORD)
            db.session.add(user)
        reporter = User(username="reporter", role="author")
        reporter.set_password("not used by this test")
        db.session.add(reporter)
        for days_ago, times in SEEDED.items():
            for hh, mm in times:
                article = Article(
                    author=reporter,
                    title=f"Earlier story, {days_ago} days ago at {hh:02d}:{mm:02d}",
                    status="published",
                    published_at=at_local(-days_ago, hh, mm, TIMEZONE),
                )
                article.slug = publishing.unique_slug(article.title)
                publishing.set_body(article, markdown="An earlier report.")
                db.session.add(article)
                db.session.flush()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GunicornServer]:
    """A seeded SQLite site behind gunicorn, run as in production (CSRF and rate limits on)."""
    folder = tmp_path_factory.mktemp("authoring")
    database_url = migrated_sqlite(folder / "blog.sqlite3")
    seed(database_url, folder / "seed-instance")
    running = GunicornServer(
        database_url, workers=2, settings={"TIMEZONE": TIMEZONE}, workdir=folder / "server"
    )
    with running:
        yield running
    print(running.logs())  # shown only when a test of this module failed


def new_context(browser: Browser) -> BrowserContext:
    """Open a fresh context: its own cookies, so a visitor in it is anonymous until signing in."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    return context


@contextmanager
def visitor(browser: Browser) -> Iterator[Page]:
    """Yield a page of a new, anonymous context; close the context afterwards."""
    context = new_context(browser)
    try:
        yield context.new_page()
    finally:
        context.close()


@dataclass(frozen=True)
class Masthead:
    """What the masthead says: the local day, the strip (day -> (href, count)), the total."""

    today: date
    strip: dict[date, tuple[str, int]]
    total: int


def read_masthead(page: Page) -> Masthead:
    """Read the masthead of the page that is open."""
    masthead = page.locator("header.masthead")
    expect(masthead.locator("time.masthead-date")).to_be_visible()
    today = date.fromisoformat(
        masthead.locator("time.masthead-date").get_attribute("datetime") or ""
    )
    strip: dict[date, tuple[str, int]] = {}
    for link in masthead.locator("nav.day-strip a").all():
        match = STRIP_ENTRY.match(link.inner_text().strip())
        assert match, f"strip entry {link.inner_text()!r} is not 'dd/mm/yyyy (N)'"
        dd, mm, yyyy, n = (int(part) for part in match.groups())
        strip[date(yyyy, mm, dd)] = (link.get_attribute("href") or "", n)
    total = TOTAL.match(masthead.locator("span.total-count").inner_text().strip())
    assert total, "the total reads 'Total: N articles'"
    return Masthead(today, strip, int(total.group(1).replace(",", "")))


def home(page: Page, server: GunicornServer) -> Masthead:
    """Open the home page and return its masthead."""
    response = page.goto(server.url + "/")
    assert response is not None and response.status == 200
    return read_masthead(page)


def same_day_or_skip(first: Masthead, later: Masthead) -> None:
    """Skip when local midnight passed between two readings: day-based checks would not hold."""
    if later.today != first.today:
        pytest.skip("local midnight passed during the test")


def archive_path(day: date) -> str:
    """Return the day archive's path."""
    return f"/archive/{day:%Y}/{day:%m}/{day:%d}/"


def teaser(page: Page, title: str) -> Locator:
    """Return the locator of the teasers whose link reads title."""
    return page.locator("article.teaser").filter(
        has=page.get_by_role("link", name=title, exact=True)
    )


def sign_in(browser: Browser, server: GunicornServer, username: str) -> Page:
    """Sign in through the login form (its CSRF token included); return the admin page."""
    page = new_context(browser).new_page()
    send_sign_in(page, server.url, username)
    page.wait_for_url(server.url + "/admin/")
    expect(page.locator("li.flash")).to_have_text(f"Signed in as {username}.")
    return page


def fill_article(
    page: Page, *, title: str, body: str, status: str, published_at: str = "", slug: str = ""
) -> None:
    """Fill the article form by its field names (SPEC section 8)."""
    page.locator('input[name="title"]').fill(title)
    page.locator('input[name="slug"]').fill(slug)
    page.locator('textarea[name="body"]').fill(body)
    page.locator('input[name="tags"]').fill("Şırnak, hava")
    page.locator('select[name="status"]').select_option(status)
    page.locator('input[name="published_at"]').fill(published_at)


def save(page: Page, server: GunicornServer) -> int:
    """Press Save on a new article; wait for the redirect to its edit page; return its id."""
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(re.escape(server.url) + EDIT_URL.pattern))
    match = EDIT_URL.search(page.url)
    assert match
    return int(match.group(1))


def local_input(day: date, hh: int, mm: int) -> str:
    """Return a datetime-local value for hh:mm on day."""
    return f"{day.isoformat()}T{hh:02d}:{mm:02d}"


def expect_dates(page: Page, instant: datetime) -> None:
    """The article page shows the instant in the site zone, in Gregorian and Hijri."""
    local = dates.to_local(instant, TZ)
    published = page.locator("article.article time.published")
    expect(published).to_have_attribute("datetime", dates.iso_local(instant, TZ))
    expect(published).to_have_text(dates.datetime_label(local))
    hijri = dates.hijri_label(local.date(), HIJRI)
    assert hijri, "the test dates are inside the Hijri calendar's range"
    expect(page.locator("article.article span.hijri-date")).to_have_text(hijri)


def test_write_preview_publish_and_edit_an_article(
    server: GunicornServer, browser: Browser
) -> None:
    """Turkish title and Arabic paragraph: preview saves nothing; publish; check; edit."""
    with visitor(browser) as page:
        before = home(page, server)
        assert teaser(page, TITLE).count() == 0
    today = before.today
    assert today == dates.local_today(TZ), "the masthead's day is the site zone's day"
    yesterday = today - timedelta(days=1)
    assert yesterday in before.strip, "the strip shows yesterday"

    author = sign_in(browser, server, "ayse")
    try:
        # Write and preview: the rendered article is shown, nothing is stored.
        author.get_by_role("link", name="New article").first.click()
        author.wait_for_url(server.url + "/admin/articles/new")
        fill_article(author, title=TITLE, body=BODY, status="draft")
        author.get_by_role("button", name="Preview", exact=True).click()
        preview = author.locator("section.preview")
        expect(preview.locator(".preview-label")).to_contain_text("It is not stored yet")
        expect(preview.locator("article.article h3.article-title")).to_have_text(TITLE)
        expect(author.locator("h1")).to_have_text("New article")  # the page's only h1
        body = preview.locator("div.article-body")
        expect(body.locator("strong")).to_have_text("çok parlak")
        expect(body.locator("em")).to_have_text("yarın")
        arabic = body.locator('p[dir="rtl"][lang="ar"]')
        expect(arabic).to_have_text(ARABIC)
        assert arabic.evaluate("p => getComputedStyle(p).direction") == "rtl"
        assert "**" not in body.inner_text()
        # The form still holds what the author typed.
        expect(author.locator('input[name="title"]')).to_have_value(TITLE)
        expect(author.locator('textarea[name="body"]')).to_have_value(BODY)
        author.goto(server.url + "/admin/")
        expect(author.locator("li.desk-item")).to_have_count(0)
        with visitor(browser) as page:
            after_preview = home(page, server)
            assert teaser(page, TITLE).count() == 0
            assert after_preview.total == before.total

        # Publish now: status published, publish time left empty.
        author.goto(server.url + "/admin/articles/new")
        fill_article(author, title=TITLE, body=BODY, status="published")
        started = dates.utcnow()
        article_id = save(author, server)
        finished = dates.utcnow()
        expect(author.locator("li.flash")).to_have_text("Published.")
        expect(author.locator("strong.status")).to_have_text("Published")
        stored_time = author.locator('input[name="published_at"]').input_value()

        # A yesterday article through the form's publish time, on another UTC day than its own.
        yesterday_title = "Dünkü Haber: Gece Yarısına Doğru"
        author.goto(server.url + "/admin/articles/new")
        fill_article(
            author,
            title=yesterday_title,
            body="Dün gece yazılan bir haber.",
            status="published",
            published_at=local_input(yesterday, *YESTERDAY_TIME),
        )
        yesterday_id = save(author, server)
        expect(author.locator("li.flash")).to_have_text("Published.")
        yesterday_instant = dates.local_to_utc(
            datetime.combine(yesterday, time(*YESTERDAY_TIME)), TZ
        )
        assert yesterday_instant.date() != yesterday, "the chosen time is on another UTC day"

        with visitor(browser) as page:
            after = home(page, server)
            same_day_or_skip(before, after)
            assert after.total == before.total + 2
            # The strip lists earlier days only: yesterday's entry grew by one, no other did.
            expected_strip = dict(before.strip)
            href, count = before.strip[yesterday]
            expected_strip[yesterday] = (href, count + 1)
            assert after.strip == expected_strip
            assert href == archive_path(yesterday)

            link = teaser(page, TITLE).get_by_role("link", name=TITLE, exact=True)
            expect(link).to_have_attribute(
                "href", f"/article/{article_id}/sirnakta-gunesli-bir-gun"
            )
            canonical = server.url + (link.get_attribute("href") or "")

            # Today's day archive lists the new article, and not yesterday's.
            page.goto(server.url + archive_path(today))
            expect(teaser(page, TITLE)).to_have_count(1)
            expect(teaser(page, yesterday_title)).to_have_count(0)

            # Yesterday's strip entry leads to its archive, which lists yesterday's article.
            page.locator("nav.day-strip a", has_text=f"{yesterday:%d/%m/%Y} ({count + 1})").click()
            expect(page).to_have_url(server.url + archive_path(yesterday))
            expect(teaser(page, yesterday_title)).to_have_count(1)
            expect(teaser(page, TITLE)).to_have_count(0)
            teaser(page, yesterday_title).get_by_role("link", name=yesterday_title).click()
            expect(page).to_have_url(re.compile(rf"/article/{yesterday_id}/[a-z0-9-]+$"))
            expect_dates(page, yesterday_instant)

            # The article page: the rendered body and the dates of the moment it was saved.
            page.goto(canonical)
            expect(page.locator("article.article h1")).to_have_text(TITLE)
            shown = page.locator("article.article time.published").get_attribute("datetime")
            instant = datetime.fromisoformat(shown or "").astimezone(UTC)
            assert started <= instant <= finished, (started, instant, finished)
            assert dates.local_date(instant, TZ) == today
            assert instant.date() != today, "the site's day differs from the UTC day"
            expect_dates(page, instant)
            assert stored_time == dates.format_local_input(instant, TZ)
            article_body = page.locator("article.article div.article-body")
            expect(article_body.locator("strong")).to_have_text("çok parlak")
            expect(article_body.locator('p[dir="rtl"][lang="ar"]')).to_have_text(ARABIC)
            expect(article_body).to_contain_text(OLD_SENTENCE)

        # Edit: a new title (and a new slug made from it) and one sentence changed.
        author.goto(f"{server.url}/admin/articles/{article_id}/edit")
        expect(author.locator('input[name="title"]')).to_have_value(TITLE)
        author.locator('input[name="title"]').fill(EDITED_TITLE)
        author.locator('input[name="slug"]').fill("")
        author.locator('textarea[name="body"]').fill(BODY.replace(OLD_SENTENCE, NEW_SENTENCE))
        author.get_by_role("button", name="Save", exact=True).click()
        expect(author.locator("li.flash")).to_have_text("Published.")
        expect(author.locator('input[name="title"]')).to_have_value(EDITED_TITLE)
        expect(author).to_have_url(f"{server.url}/admin/articles/{article_id}/edit")

        with visitor(browser) as page:
            # The old address redirects to the new one.
            page.goto(canonical)
            expect(page).to_have_url(
                f"{server.url}/article/{article_id}/sirnakta-yagmurlu-bir-aksam"
            )
            expect(page.locator("article.article h1")).to_have_text(EDITED_TITLE)
            article_body = page.locator("article.article div.article-body")
            expect(article_body).to_contain_text(NEW_SENTENCE)
            expect(article_body).not_to_contain_text(OLD_SENTENCE)
            expect(article_body.locator('p[dir="rtl"][lang="ar"]')).to_have_text(ARABIC)
            expect_dates(page, instant)  # editing leaves the publish time alone
            edited = home(page, server)
            same_day_or_skip(before, edited)
            assert edited.total == after.total
            expect(teaser(page, EDITED_TITLE)).to_have_count(1)
            expect(teaser(page, TITLE)).to_have_count(0)
    finally:
        author.context.close()


def test_scheduled_article_is_invisible_to_visitors(
    server: GunicornServer, browser: Browser
) -> None:
    """An article scheduled for tomorrow 10:00 local is stored but hidden from readers."""
    title = "Yarın Sabah: Planlanmış Haber"
    with visitor(browser) as page:
        before = home(page, server)
    tomorrow = before.today + timedelta(days=1)
    due = dates.local_to_utc(datetime(tomorrow.year, tomorrow.month, tomorrow.day, 10, 0), TZ)
    due_label = dates.datetime_label(dates.to_local(due, TZ))

    author = sign_in(browser, server, "mehmet")
    try:
        author.goto(server.url + "/admin/articles/new")
        fill_article(
            author,
            title=title,
            body="Bu haber **yarın** yayımlanacak.",
            status="published",
            published_at=local_input(tomorrow, 10, 0),
        )
        article_id = save(author, server)
        expect(author.locator("li.flash")).to_have_text(
            f"Scheduled: it will appear on {due_label}."
        )
        expect(author.locator("strong.status")).to_have_text("Scheduled")
        expect(author.locator('input[name="published_at"]')).to_have_value(
            local_input(tomorrow, 10, 0)
        )

        author.goto(server.url + "/admin/")
        item = author.locator("li.desk-item").filter(
            has=author.get_by_role("link", name=title, exact=True)
        )
        expect(item).to_have_count(1)
        expect(item).to_have_class(re.compile(r"\bstate-scheduled\b"))
        expect(item.locator("span.status")).to_have_text("Scheduled")
        expect(item.locator("time")).to_have_text(due_label)
        expect(item.locator("time")).to_have_attribute("datetime", dates.iso_local(due, TZ))
        expect(item.locator("span.hijri-date")).to_have_text(dates.hijri_label(tomorrow, HIJRI))
        # Each row's actions name the article to a screen reader, not only "Delete".
        expect(author.get_by_role("button", name=f"Delete: {title}", exact=True)).to_have_count(1)
        expect(item.get_by_role("link", name=f"Edit: {title}", exact=True)).to_have_count(1)
        view = item.get_by_role("link", name=f"View: {title}", exact=True).get_attribute("href")
        view = view or ""
        assert re.fullmatch(rf"/article/{article_id}/[a-z0-9-]+", view), view
        # Its author may look at it on the site.
        response = author.goto(server.url + view)
        assert response is not None and response.status == 200
        expect(author.locator("article.article p.notice")).to_contain_text("scheduled")

        with visitor(browser) as page:
            for path in (view, f"/article/{article_id}"):
                response = page.goto(server.url + path)
                assert response is not None and response.status == 404, path
            after = home(page, server)
            same_day_or_skip(before, after)
            expect(teaser(page, title)).to_have_count(0)
            assert after.total == before.total
            assert after.strip == before.strip
            page.goto(server.url + archive_path(after.today))
            expect(teaser(page, title)).to_have_count(0)
    finally:
        author.context.close()


def test_a_long_unbroken_title_does_not_widen_the_desk_on_a_phone(
    server: GunicornServer, browser: Browser
) -> None:
    """The desk lists an article titled with one long word within a phone's width."""
    title = "Haber" + "x" * 150
    author = sign_in(browser, server, "ayse")
    try:
        author.set_viewport_size({"width": 390, "height": 844})
        author.goto(server.url + "/admin/articles/new")
        fill_article(author, title=title, body="Uzun bir başlık.", status="draft")
        article_id = save(author, server)
        expect(author.locator('input[name="title"]')).to_have_value(title)
        author.goto(server.url + "/admin/")
        link = author.locator(f'li.desk-item a[href="/admin/articles/{article_id}/edit"]').first
        expect(link).to_have_text(title)
        scroll_width = author.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= author.evaluate("window.innerWidth"), "the desk scrolls sideways"
    finally:
        author.context.close()
