"""Every page kind, light and dark, passes axe-core's checks in Chromium against real gunicorn.

axe-core (the copy bundled with axe-playwright-python) checks what a screen reader, a
keyboard or a reader with low vision depends on: names and labels, landmarks and headings,
the document's language and title, and the contrast of every piece of text against what is
behind it. Contrast is checked in both colour schemes, since the dark one has its own
palette (static/site.css). A refused form is checked too: its errors have colours of their
own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from blog import create_app, demo
from blog.dates import utcnow
from blog.extensions import db
from blog.models import Article, User

from conftest import CHROMIUM, PASSWORD, base_config, send_sign_in
from servers import GunicornServer, migrated_sqlite

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing")

TIMEZONE = "Asia/Riyadh"
SCHEMES = ("light", "dark")
DESKTOP = {"width": 1280, "height": 800}
VIEWPORTS = {"desktop": DESKTOP, "phone": {"width": 360, "height": 740}}
AXE = Axe()


def seed(database_url: str, instance: Path) -> None:
    """The demo site, an admin, and one article in the trash (the desk shows every state)."""
    app = create_app({**base_config(database_url, instance), "TIMEZONE": TIMEZONE})
    with app.app_context():
        demo.load(str(instance), ZoneInfo(TIMEZONE))
        admin = User(username="chief", role="admin")
        admin.set_password(PASSWORD)
        db.session.add(admin)
        trashed = db.session.scalars(sa.select(Article).order_by(Article.id.desc())).first()
        assert trashed is not None
        trashed.deleted_at = utcnow()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GunicornServer]:
    """The seeded SQLite site behind gunicorn; stopped by pid afterwards."""
    folder = tmp_path_factory.mktemp("accessibility")
    database_url = migrated_sqlite(folder / "blog.sqlite3")
    seed(database_url, folder / "seed-instance")
    with GunicornServer(
        database_url, workers=1, settings={"TIMEZONE": TIMEZONE}, workdir=folder / "server"
    ) as running:
        yield running
    print(running.logs())  # shown only when a test of this module failed


def new_tab(browser: Browser, scheme: str) -> Page:
    """Open a tab in a fresh context (its own cookies) in the given colour scheme."""
    context = browser.new_context(viewport=DESKTOP, color_scheme=scheme)
    context.set_default_timeout(10_000)
    return context.new_page()


@pytest.fixture(scope="module", params=SCHEMES)
def reader(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    """A reader's tab in the given colour scheme."""
    page = new_tab(browser, request.param)
    yield page
    page.context.close()


def signed_in(browser: Browser, server: GunicornServer, scheme: str) -> Page:
    """Sign the admin in, in a new tab of the given colour scheme; return the desk."""
    page = new_tab(browser, scheme)
    send_sign_in(page, server.url, "chief")
    page.wait_for_url(server.url + "/admin/")
    return page


@pytest.fixture(scope="module", params=SCHEMES)
def admin(
    request: pytest.FixtureRequest, browser: Browser, server: GunicornServer
) -> Iterator[Page]:
    """A signed-in admin's tab in the given colour scheme."""
    page = signed_in(browser, server, request.param)
    yield page
    page.context.close()


@contextmanager
def sized(page: Page, viewport: str) -> Iterator[None]:
    """Give a module's shared tab the named viewport for a while."""
    page.set_viewport_size(VIEWPORTS[viewport])
    try:
        yield
    finally:
        page.set_viewport_size(DESKTOP)


def violations(page: Page) -> list[str]:
    """Run axe-core on the page; return one line per failing element."""
    found: list[dict[str, Any]] = AXE.run(page).response["violations"]
    return [
        f"{rule['id']} ({rule['impact']}): {rule['help']} at {node['target']}: "
        + node["failureSummary"].replace("\n", " ")
        for rule in found
        for node in rule["nodes"]
    ]


def first_href(page: Page, selector: str) -> str:
    """Return the href of the first element matching selector; fail if there is none."""
    link = page.locator(selector).first
    assert link.count(), f"no {selector} on {page.url}"
    href = link.get_attribute("href")
    assert href
    return href


# What shows that a page of each kind was reached, and not, say, the error page.
READER_PAGES = {
    "home": "article.teaser",
    "older page": "article.teaser",
    "article": "article.article .article-body",
    "day": "article.teaser",
    "tag": "h1.tag-title ~ article.teaser",
    "tags": "ul.topic-list a[href]",
    "author": "h1.author-title ~ article.teaser",
    "search": "p.search-summary ~ article.teaser",
    "month": "table.month-grid",
    "year": "ol.month-list",
    "not found": ".error-page",
}


def open_reader_page(page: Page, base: str, kind: str) -> None:
    """Go to a page of the given kind, found by following the site's own links."""
    response = page.goto(base + "/")
    if kind == "older page":
        response = page.goto(base + first_href(page, "a[rel=next]"))
    elif kind in ("article", "tag"):
        response = page.goto(base + first_href(page, "article.teaser h2 a"))
        if kind == "tag":
            response = page.goto(base + first_href(page, "ul.tags a[rel=tag]"))
    elif kind == "author":
        response = page.goto(base + first_href(page, "article.teaser .byline a"))
    elif kind == "tags":
        response = page.goto(base + first_href(page, "footer a.tags-link"))
    elif kind == "search":
        # The first word of the newest title, typed into the form the footer leads to.
        word = page.locator("article.teaser h2 a").first.inner_text().split()[0]
        page.goto(base + first_href(page, "footer a.search-link"))
        page.fill("#search-words", word)
        with page.expect_navigation() as navigation:
            page.press("#search-words", "Enter")
        response = navigation.value
    elif kind in ("day", "month", "year"):
        day = first_href(page, "nav.day-strip a")  # /archive/yyyy/mm/dd/
        cut = {"day": 0, "month": 1, "year": 2}[kind]
        response = page.goto(base + day.rsplit("/", cut + 1)[0] + "/" if cut else base + day)
    elif kind == "not found":
        response = page.goto(base + "/no-such-page")
    assert response is not None
    assert response.status == (404 if kind == "not found" else 200), page.url
    page.locator(READER_PAGES[kind]).first.wait_for()


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("kind", READER_PAGES)
def test_reader_pages_pass_axe(
    reader: Page, server: GunicornServer, kind: str, viewport: str
) -> None:
    with sized(reader, viewport):
        open_reader_page(reader, server.url, kind)
        assert violations(reader) == []


def test_a_refused_sign_in_passes_axe(reader: Page, server: GunicornServer) -> None:
    send_sign_in(reader, server.url, "chief", "not the password")
    reader.locator(".form-errors").wait_for()
    assert violations(reader) == []


ADMIN_PAGES = {
    "desk": "/admin/",
    "trash": "/admin/trash",
    "new article": "/admin/articles/new",
    "password": "/admin/password",
    "users": "/admin/users/",
    "hijri months": "/admin/hijri/",
}


def open_admin_page(page: Page, base: str, kind: str) -> None:
    """Go to an admin page; fail if it answers anything but itself (a sign-in page, say)."""
    response = page.goto(base + ADMIN_PAGES[kind])
    assert response is not None and response.status == 200, kind
    assert page.url == base + ADMIN_PAGES[kind], f"{kind}: sent to {page.url}"
    page.locator("main h1").wait_for()


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("kind", ADMIN_PAGES)
def test_admin_pages_pass_axe(
    admin: Page, server: GunicornServer, kind: str, viewport: str
) -> None:
    with sized(admin, viewport):
        open_admin_page(admin, server.url, kind)
        assert violations(admin) == []


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_question_before_deleting_for_good_passes_axe(
    admin: Page, server: GunicornServer, viewport: str
) -> None:
    with sized(admin, viewport):
        open_admin_page(admin, server.url, "trash")
        admin.goto(server.url + first_href(admin, "a.danger"))
        admin.get_by_role("button", name="Delete for good", exact=True).wait_for()
        assert violations(admin) == []


def test_article_form_with_preview_and_user_page_pass_axe(
    admin: Page, server: GunicornServer
) -> None:
    admin.goto(server.url + "/admin/")
    admin.goto(server.url + first_href(admin, ".desk-item h2 a"))
    admin.get_by_role("button", name="Preview", exact=True).click()
    admin.locator(".preview").wait_for()
    assert violations(admin) == []
    admin.goto(server.url + "/admin/users/")
    admin.goto(server.url + first_href(admin, ".admin-table a"))
    admin.locator("#role-heading").wait_for()  # a user's page, not the list again
    assert violations(admin) == []


def test_a_refused_article_form_passes_axe(admin: Page, server: GunicornServer) -> None:
    admin.goto(server.url + "/admin/articles/new")
    admin.locator('input[name="title"]').fill("A title")
    admin.locator('textarea[name="body"]').fill("A body.")
    admin.locator('input[name="tags"]').fill("t" * 100)  # longer than a tag may be
    admin.get_by_role("button", name="Save", exact=True).click()
    admin.locator(".field-error").wait_for()
    assert violations(admin) == []


def test_a_conflicting_save_passes_axe(admin: Page, server: GunicornServer) -> None:
    """The page that shows a save which another tab's save overtook."""
    admin.goto(server.url + "/admin/")
    edit = server.url + first_href(admin, ".desk-item h2 a")
    other = admin.context.new_page()
    try:
        admin.goto(edit)
        other.goto(edit)
        other.locator('input[name="title"]').fill("Changed in the other tab")
        other.get_by_role("button", name="Save", exact=True).click()
        other.locator("li.flash").first.wait_for()
    finally:
        other.close()
    admin.locator('input[name="title"]').fill("Changed in this tab")
    admin.get_by_role("button", name="Save", exact=True).click()
    admin.locator(".conflict").wait_for()
    assert violations(admin) == []


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_save_after_signing_out_passes_axe(
    browser: Browser, server: GunicornServer, scheme: str
) -> None:
    """The page that gives back the text of a save refused because its author signed out."""
    page = signed_in(browser, server, scheme)
    try:
        page.goto(server.url + "/admin/articles/new")
        other = page.context.new_page()
        other.goto(server.url + "/admin/")
        other.get_by_role("button", name="Sign out", exact=True).click()
        other.wait_for_url(server.url + "/")
        other.close()
        page.locator('input[name="title"]').fill("Kept after signing out")
        page.locator('textarea[name="body"]').fill("Every word of it.")
        page.get_by_role("button", name="Save", exact=True).click()
        kept = page.locator('input[readonly][value="Kept after signing out"]')
        kept.wait_for()
        assert violations(page) == []
    finally:
        page.context.close()


def tab_to(page: Page, selector: str, presses: int = 40) -> None:
    """Press Tab until the focused element matches selector; fail after `presses` presses."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} never took the focus on {page.url}")


def test_the_first_tab_offers_a_skip_link_to_the_content(
    reader: Page, server: GunicornServer
) -> None:
    reader.goto(server.url + "/")
    reader.keyboard.press("Tab")
    skip = reader.locator(".skip-link")
    assert reader.evaluate("document.activeElement.textContent") == "Skip to content"
    box = skip.bounding_box()
    assert box and box["x"] >= 0 and box["y"] >= 0, "the focused skip link is off screen"
    reader.keyboard.press("Enter")
    reader.keyboard.press("Tab")
    # Past the masthead's links: the next stop is the first story.
    focused = reader.evaluate("document.activeElement.closest('article.teaser h2') !== null")
    assert focused, "Tab after the skip link did not land on the first story"


def test_an_author_publishes_with_the_keyboard_alone(
    browser: Browser, server: GunicornServer
) -> None:
    title = "Written without a mouse"
    page = new_tab(browser, "light")
    try:
        page.goto(server.url + "/auth/login")
        tab_to(page, 'input[name="username"]')
        page.keyboard.type("chief")
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(server.url + "/admin/")
        tab_to(page, 'a[href$="/admin/articles/new"]')
        page.keyboard.press("Enter")
        page.wait_for_url(server.url + "/admin/articles/new")
        tab_to(page, 'input[name="title"]')
        page.keyboard.type(title)
        tab_to(page, 'textarea[name="body"]', presses=3)
        page.keyboard.type("Every key of this story was typed.")
        tab_to(page, 'select[name="status"]', presses=3)
        page.keyboard.type("Published")
        tab_to(page, "button[name=save], input[name=save]", presses=12)
        page.keyboard.press("Enter")
        page.locator("li.flash").first.wait_for()
        page.goto(server.url + "/")
        assert page.locator("article.teaser h2 a").first.inner_text() == title
    finally:
        page.context.close()


def test_dark_scheme_is_dark_and_light_is_light(browser: Browser, server: GunicornServer) -> None:
    backgrounds = {}
    for scheme in SCHEMES:
        page = new_tab(browser, scheme)
        page.goto(server.url + "/")
        backgrounds[scheme] = page.evaluate(
            "getComputedStyle(document.documentElement).backgroundColor"
        )
        page.context.close()
    assert backgrounds == {"light": "rgb(255, 255, 255)", "dark": "rgb(19, 20, 22)"}


def test_the_audit_reports_what_it_should(browser: Browser) -> None:
    """The checks above can fail: axe finds an unlabelled field and faint text."""
    page = browser.new_page()
    try:
        page.set_content(
            '<html lang="en"><title>t</title><main><h1>t</h1><input type="text">'
            '<p style="color:#bbb;background:#fff">faint</p></main></html>'
        )
        found = " ".join(violations(page))
    finally:
        page.close()
    assert "label (critical)" in found
    assert "color-contrast (serious)" in found
