"""A reader in Chromium against real gunicorn: day strip, day archive, article, Scroll Up, phones.

The site runs in Asia/Tokyo (UTC+9) so a wrong zone anywhere moves articles to the wrong day.
"""

from __future__ import annotations

import re
import struct
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from blog import create_app, publishing
from blog.dates import utcnow
from blog.extensions import db
from blog.models import Article, User

from conftest import CHROMIUM, at_local, base_config
from servers import GunicornServer, migrated_sqlite

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing")

TIMEZONE = "Asia/Tokyo"
# Days ago -> local publish times (hh, mm). Times near local midnight are on the other
# UTC day, so a day archive or strip computed in UTC would count them wrongly.
SCHEDULE: dict[int, list[tuple[int, int]]] = {
    1: [(0, 5), (9, 30), (23, 55)],
    2: [(12, 0)],
    4: [(0, 1), (8, 15)],
    5: [(1, 0), (6, 45), (15, 20), (23, 59)],
}
STRIP_ENTRY = re.compile(r"^(\d{2})/(\d{2})/(\d{4}) \((\d+)\)$")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def long_markdown(n: int) -> str:
    """Return a long Markdown body: headings, paragraphs, a list, code and a wide table."""
    parts = [f"Opening paragraph of story {n}, with **bold** and a [link](https://example.org/)."]
    for section in range(1, 13):
        parts.append(f"## Section {section}")
        parts.extend(
            f"Paragraph {section}.{line} of story {n}: the reader keeps scrolling, and the "
            "page keeps going, because a long report needs room to say what happened."
            for line in range(1, 6)
        )
    parts.append("\n".join(f"- point {i} of the list" for i in range(1, 8)))
    parts.append("```\n" + "wide_code_line = '" + "x" * 200 + "'\n```")
    parts.append("A long unbroken token: " + "https://example.org/" + "segment" * 30)
    parts.append(
        "| " + " | ".join(f"column {i}" for i in range(12)) + " |\n"
        "|" + "---|" * 12 + "\n"
        "| " + " | ".join(f"value {i}" for i in range(12)) + " |"
    )
    parts.append("Closing paragraph.")
    return "\n\n".join(parts)


def seed(database_url: str, instance: Path) -> Counter[date]:
    """Write the articles through the app; return how many fall on each Tokyo day."""
    tz = ZoneInfo(TIMEZONE)
    now = utcnow()
    instants = [now - timedelta(minutes=30), now - timedelta(minutes=5)]
    for days_ago, times in SCHEDULE.items():
        instants.extend(at_local(-days_ago, hh, mm, TIMEZONE) for hh, mm in times)
    app = create_app({**base_config(database_url, instance), "TIMEZONE": TIMEZONE})
    with app.app_context():
        author = User(username="reporter", role="author")
        author.set_password("not used by this test")
        db.session.add(author)
        for n, instant in enumerate(instants, start=1):
            article = Article(
                author=author,
                title=f"Story {n} from {instant.astimezone(tz):%d %B %H:%M}",
                status="published",
                published_at=instant,
            )
            article.slug = publishing.unique_slug(article.title)
            publishing.set_body(article, markdown=long_markdown(n))
            db.session.add(article)
            db.session.flush()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return Counter(instant.astimezone(tz).date() for instant in instants)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GunicornServer, Counter]]:
    """A seeded SQLite site behind gunicorn with two workers; stopped by pid afterwards."""
    folder = tmp_path_factory.mktemp("reading")
    database_url = migrated_sqlite(folder / "blog.sqlite3")
    per_day = seed(database_url, folder / "seed-instance")
    server = GunicornServer(
        database_url, workers=2, settings={"TIMEZONE": TIMEZONE}, workdir=folder / "server"
    )
    with server:
        yield server, per_day
    print(server.logs())  # shown only when a test of this module failed


def open_page(browser: Browser, width: int = 1280, height: int = 800) -> Page:
    """Open a page in a fresh context of the given viewport (closed with the context)."""
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(10_000)
    return context.new_page()


def read_strip(page: Page) -> list[tuple[str, date, int]]:
    """Return the day strip as (href, day, count) entries."""
    entries = []
    for link in page.locator("header.masthead nav.day-strip a").all():
        match = STRIP_ENTRY.match(link.inner_text().strip())
        assert match, f"strip entry {link.inner_text()!r} is not 'dd/mm/yyyy (N)'"
        dd, mm, yyyy, n = (int(part) for part in match.groups())
        entries.append((link.get_attribute("href") or "", date(yyyy, mm, dd), n))
    return entries


def test_reader_goes_from_day_strip_to_article_and_back_up(
    site: tuple[GunicornServer, Counter], browser: Browser
) -> None:
    """Home -> busiest day in the strip -> an article -> bottom -> Scroll Up -> top."""
    server, per_day = site
    page = open_page(browser)
    try:
        page.goto(server.url + "/")
        expect(page.locator("header.masthead time.masthead-date")).to_be_visible()
        today = date.fromisoformat(
            page.locator("time.masthead-date").get_attribute("datetime") or ""
        )
        assert today == datetime.now(ZoneInfo(TIMEZONE)).date()

        strip = read_strip(page)
        assert [day for _, day, _ in strip] == [today - timedelta(days=i) for i in range(1, 6)]
        assert {day: n for _, day, n in strip} == {day: per_day[day] for _, day, _ in strip}
        expect(page.locator("span.total-count")).to_have_text(
            f"Total: {sum(per_day.values())} articles"
        )

        href, day, count = max(strip, key=lambda entry: entry[2])
        assert count > 0
        assert href == f"/archive/{day:%Y}/{day:%m}/{day:%d}/"
        page.locator("nav.day-strip a", has_text=f"{day:%d/%m/%Y} ({count})").click()
        expect(page).to_have_url(server.url + href)
        teasers = page.locator("article.teaser")
        expect(teasers).to_have_count(count)

        first = teasers.first.locator("a").first
        title = first.inner_text()
        first.click()
        expect(page).to_have_url(re.compile(re.escape(server.url) + r"/article/\d+/[\w-]+$"))
        expect(page.locator("article.article h1")).to_have_text(title)

        height = page.evaluate("document.documentElement.scrollHeight")
        inner = page.evaluate("window.innerHeight")
        assert height > 3 * inner, "the seeded article should be several screens long"
        page.mouse.move(640, 400)
        page.mouse.wheel(0, height)
        # Waited for by the page's own elements coming into view, not wait_for_function:
        # Playwright evaluates that string inside the page, which the site's CSP forbids.
        # The footer is the last thing on the page: all of it in view (less a pixel's
        # fraction, for sub-pixel layout) means scrolled to the end.
        expect(page.locator("footer.site-footer")).to_be_in_viewport(ratio=0.99)
        assert page.evaluate("window.scrollY") > 0

        scroll_up = page.locator('article.article a.scroll-up[href="#top"]')
        expect(scroll_up).to_have_text("Scroll Up")
        scroll_up.click()
        expect(page.locator("header.masthead")).to_be_in_viewport(ratio=1)
        assert page.evaluate("window.scrollY") == 0
        assert page.url.endswith("#top")
    finally:
        page.context.close()


def png_size(path: Path) -> tuple[int, int]:
    """Return (width, height) from a PNG's header, checking its signature."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 800)], ids=["phone", "desktop"])
def test_home_page_fits_the_screen(
    site: tuple[GunicornServer, Counter],
    browser: Browser,
    tmp_path: Path,
    width: int,
    height: int,
) -> None:
    """The masthead fits the viewport and nothing scrolls sideways, on a phone and a desktop."""
    server, _ = site
    page = open_page(browser, width, height)
    try:
        page.goto(server.url + "/")
        masthead = page.locator("header.masthead")
        expect(masthead).to_be_visible()
        expect(page.locator("time.masthead-date")).to_be_in_viewport()
        box = masthead.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= page.evaluate("window.innerWidth"), "the page scrolls sideways"

        shot = tmp_path / f"home-{width}x{height}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        shot_width, shot_height = png_size(shot)
        assert shot_width == width and shot_height >= height
    finally:
        page.context.close()


def test_the_home_pages_hidden_heading_stays_one_line(
    site: tuple[GunicornServer, Counter], browser: Browser
) -> None:
    """The visually hidden h1 is not wrapped word by word into its 1px box.

    Wrapped so, some screen readers (VoiceOver) read its words run together.
    """
    server, _ = site
    page = open_page(browser, 390, 844)
    try:
        page.goto(server.url + "/")
        heading = page.locator("main h1.visually-hidden")
        expect(heading).to_have_text("Latest articles")
        lines = heading.evaluate(
            "h => { const r = document.createRange(); r.selectNodeContents(h);"
            " return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; }"
        )
        assert lines == 1
    finally:
        page.context.close()


def test_a_printed_article_is_the_story_on_white_paper(
    site: tuple[GunicornServer, Counter], browser: Browser
) -> None:
    """On paper: no day strip or links to click, black on white even for a dark-mode
    reader, wide code and tables wrapped within the page rather than cut off, and the
    addresses the story links to written out after their text."""
    server, _ = site
    page = open_page(browser)
    try:
        page.emulate_media(color_scheme="dark")
        page.goto(server.url + "/")
        page.locator("article.teaser h2 a").first.click()
        expect(page.locator("article.article h1")).to_be_visible()
        hidden_on_paper = ("nav.day-strip", ".total-count", "article.article a.scroll-up")
        for selector in (*hidden_on_paper, ".feed-link"):
            expect(page.locator(selector).first).to_be_visible()
        wide = ".article-body pre, .article-body table"
        assert page.locator(wide).count() == 2
        overflowing = (
            f"[...document.querySelectorAll('{wide}')]"
            ".filter(e => e.scrollWidth > e.clientWidth).length"
        )
        assert page.evaluate(overflowing) == 2, (
            "the seeded code and table should be wider than the screen"
        )
        colours = "getComputedStyle(document.documentElement).backgroundColor"
        assert page.evaluate(colours) != "rgb(255, 255, 255)"

        page.set_viewport_size({"width": 700, "height": 1000})  # about an A4 page's width
        page.emulate_media(media="print", color_scheme="dark")
        assert page.evaluate(colours) == "rgb(255, 255, 255)"
        assert page.evaluate("getComputedStyle(document.body).color") == "rgb(0, 0, 0)"
        for hidden in (*hidden_on_paper, ".feed-link"):
            expect(page.locator(hidden).first).to_be_hidden()
        assert page.evaluate(overflowing) == 0, "wide code or a table is cut off on paper"
        for shown in (
            "time.masthead-date",
            "article.article h1",
            "time.published",
            ".article-body",
        ):
            expect(page.locator(shown).first).to_be_visible()
        link = page.locator('.article-body a[href="https://example.org/"]').first
        after = link.evaluate("a => getComputedStyle(a, '::after').content")
        assert after == '" (https://example.org/)"'
        assert len(page.pdf()) > 10_000  # Chromium prints it
    finally:
        page.context.close()
