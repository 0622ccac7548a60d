"""Traffic for the live-server tests: anonymous readers, authors using the form, and a ledger.

Readers crawl every page kind (home, articles, day / month / year archives, and deep listing
pages reached through "Older" links). Authors sign in and publish and edit through the real
article form, with its CSRF token and hidden version. Every save the server acknowledged (a
redirect) goes into a ledger with the exact title and body sent, so a test can compare the
database with it afterwards. Threads stop at a deadline and every request has a timeout.
"""

from __future__ import annotations

import html
import itertools
import os
import random
import re
import secrets
import sqlite3
import subprocess
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
import sqlalchemy as sa

from blog.models import Article

from servers import REPO_ROOT, prepare_database, server_env, sqlite_url, venv_bin

# (connect, read) seconds: a request never hangs a test, however slow the server.
TIMEOUT = (5.0, 30.0)
LOCKED = "database is locked"
# Lines in a server log that mean a request failed inside the app or a worker hung.
LOG_ALARMS = (LOCKED, "Traceback (most recent call last)", "Exception on ", "WORKER TIMEOUT")
READER_KINDS = ("home", "article", "day", "month", "year", "deep")
POOL_CAP = 400
# Each thread's loop is bounded in count as well as in time.
MAX_ITERATIONS = 20_000
HEADLINES = (
    "Council approves the harbour budget",
    "İzmir'de yeni kütüphane açıldı",
    "افتتاح مكتبة جديدة في الرياض",
    "Ferry timetable changes for the winter",
    "Öğrenciler bilim fuarında ödül aldı",
)

_ARTICLE_LINK = re.compile(r'href="(/article/\d+/[^"#?]*)"')
_ARCHIVE_LINK = re.compile(r'href="(/archive/\d{4}/(?:\d{2}/(?:\d{2}/)?)?)"')
_PUBLISHED = re.compile(r'<time class="published" datetime="(\d{4})-(\d{2})-(\d{2})T')
_NEXT_LINK = re.compile(r'rel="next" href="([^"]+)"')
_EDIT_LOCATION = re.compile(r"/admin/articles/(\d+)/edit$")
_TOTAL = re.compile(r'<span class="total-count">Total: ([\d,]+) articles</span>')
_STRIP = re.compile(r'<nav class="day-strip"[^>]*>(.*?)</nav>', re.S)
_STRIP_ENTRY = re.compile(r">(\d{2})/(\d{2})/(\d{4}) \((-?\d+)\)</a>")
_TEASER_TITLE = re.compile(r'<article class="teaser">\s*<h2[^>]*><a href="[^"]*">([^<]*)</a>')
_scratch_numbers = itertools.count(1)


# --- HTML: forms and page hooks ------------------------------------------------------------


@dataclass
class HtmlForm:
    """One <form> of a page: where it posts and what a browser would send by default."""

    action: str
    classes: str
    fields: dict[str, str] = field(default_factory=dict)
    hidden: dict[str, str] = field(default_factory=dict)


class _FormParser(HTMLParser):
    """Collect every form with its successful controls, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[HtmlForm] = []
        self._form: HtmlForm | None = None
        self._textarea: str | None = None
        self._text: list[str] = []
        self._select: str | None = None
        self._first_option: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._form = HtmlForm(a.get("action", ""), a.get("class", ""))
            self.forms.append(self._form)
        elif self._form is None or "disabled" in a:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._form.fields[a["name"]] = a.get("value", "on" if kind == "checkbox" else "")
            if kind == "hidden":
                self._form.hidden[a["name"]] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self._textarea, self._text = a["name"], []
        elif tag == "select" and a.get("name"):
            self._select, self._first_option = a["name"], None
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
                self._form.fields.setdefault(self._select, value)
            if "selected" in a:
                self._form.fields[self._select] = value

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None and self._form is not None:
            text = "".join(self._text)
            # HTML drops one newline right after <textarea>; WTForms writes one there.
            if text.startswith("\r\n"):
                text = text[2:]
            elif text.startswith("\n"):
                text = text[1:]
            self._form.fields[self._textarea] = text
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self._form = None


def parse_forms(page: str) -> list[HtmlForm]:
    """Return the forms of an HTML page in document order."""
    parser = _FormParser()
    parser.feed(page)
    parser.close()
    return parser.forms


def find_form(page: str, *, action: str | None = None, css_class: str | None = None) -> HtmlForm:
    """Return the first form posting to `action` (a path suffix) or with `css_class`."""
    for form in parse_forms(page):
        if action is not None and not form.action.split("?")[0].endswith(action):
            continue
        if css_class is not None and css_class not in form.classes.split():
            continue
        return form
    raise LookupError(f"no form (action={action!r}, class={css_class!r}) on the page")


def masthead_numbers(page: str) -> tuple[dict[date, int], int]:
    """Read the day strip (day -> count) and the total from a page's masthead."""
    total = _TOTAL.search(page)
    strip = _STRIP.search(page)
    if total is None or strip is None:
        raise LookupError("no day strip or total on the page")
    days = {date(int(y), int(m), int(d)): int(n) for d, m, y, n in _STRIP_ENTRY.findall(strip[1])}
    return days, int(total[1].replace(",", ""))


def teaser_titles(page: str) -> list[str]:
    """Return the titles of the article teasers listed on a page, in order."""
    return [html.unescape(title) for title in _TEASER_TITLE.findall(page)]


# --- Sign-in -------------------------------------------------------------------------------


def sign_in(session: requests.Session, base_url: str, username: str, password: str) -> int:
    """Sign in through the real form (CSRF token included); return the POST's status."""
    with session.get(f"{base_url}/auth/login", timeout=TIMEOUT) as page:
        page.raise_for_status()
        form = find_form(page.text, action="/auth/login")
    data = {**form.fields, "username": username, "password": password}
    with session.post(
        f"{base_url}/auth/login", data=data, timeout=TIMEOUT, allow_redirects=False
    ) as response:
        return response.status_code


def save_article(
    session: requests.Session, base_url: str, article_id: int | None = None, **values: str
) -> tuple[int, int | None]:
    """Fill and send the article form once; return the status and the saved article's id.

    The form is fetched first, so its CSRF token and hidden version go back with it.
    """
    path = f"/admin/articles/{article_id}/edit" if article_id else "/admin/articles/new"
    with session.get(base_url + path, timeout=TIMEOUT, allow_redirects=False) as page:
        page.raise_for_status()
        form = find_form(page.text, css_class="article-form")
    data = {**form.fields, "save": "Save", **values}
    with session.post(
        base_url + path, data=data, timeout=TIMEOUT, allow_redirects=False
    ) as response:
        match = _EDIT_LOCATION.search(response.headers.get("Location", ""))
        return response.status_code, int(match[1]) if match else None


# --- What happened: counts, problems and the ledger of acknowledged saves ------------------


class Tally:
    """Thread-safe counts of requests by kind and status, connection errors and problems."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.statuses: Counter[tuple[str, int]] = Counter()
        self.connection_errors: Counter[str] = Counter()
        self.problems: list[str] = []

    def problem(self, text: str) -> None:
        """Note something that must not happen (the test fails on any)."""
        with self._lock:
            self.problems.append(text)

    def connection_error(self, kind: str, error: BaseException) -> None:
        """Note a request that got no answer (a killed worker, a stopped server)."""
        with self._lock:
            self.connection_errors[kind] += 1

    def check(
        self, kind: str, method: str, url: str, response: requests.Response, ok: Sequence[int]
    ) -> bool:
        """Count a response; note a 5xx, an unexpected status or a locked database."""
        status = response.status_code
        with self._lock:
            self.statuses[(kind, status)] += 1
        text = response.text
        if LOCKED in text:
            self.problem(f"{method} {url} answered {status} mentioning {LOCKED!r}")
        if status in ok:
            return True
        snippet = " ".join(text.split())[:300]
        self.problem(f"{method} {url} answered {status} (expected {list(ok)}): {snippet}")
        return False

    @property
    def requests(self) -> int:
        """Return the number of answered requests."""
        return sum(self.statuses.values())

    def server_errors(self) -> dict[tuple[str, int], int]:
        """Return the counts of 5xx answers by (kind, status)."""
        return {key: n for key, n in self.statuses.items() if key[1] >= 500}

    def summary(self) -> str:
        """Describe the run in one line per kind."""
        kinds = sorted({kind for kind, _ in self.statuses} | set(self.connection_errors))
        lines = []
        for kind in kinds:
            codes = {s: n for (k, s), n in sorted(self.statuses.items()) if k == kind}
            lines.append(f"{kind}: {codes} no answer: {self.connection_errors[kind]}")
        return "\n".join(lines)


@dataclass
class Attempt:
    """One save sent: the exact title and body, and when (if) the server acknowledged it."""

    title: str
    body: str
    acked_at: int | None = None


@dataclass
class ArticleLog:
    """Every save sent for one article, in order."""

    article_id: int
    author: str
    attempts: list[Attempt]


class Ledger:
    """The saves authors sent and which of them the server acknowledged, in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clock = itertools.count(1)
        self.articles: dict[int, ArticleLog] = {}

    def created(self, article_id: int, author: str, title: str, body: str) -> None:
        """Record an acknowledged new article."""
        with self._lock:
            attempt = Attempt(title, body, next(self._clock))
            self.articles[article_id] = ArticleLog(article_id, author, [attempt])

    def sending(self, article_id: int, title: str, body: str) -> Attempt:
        """Record an edit about to be sent (it may be stored even if never acknowledged)."""
        with self._lock:
            attempt = Attempt(title, body)
            self.articles[article_id].attempts.append(attempt)
            return attempt

    def acknowledged(self, attempt: Attempt) -> None:
        """Mark a sent edit as acknowledged by the server."""
        with self._lock:
            attempt.acked_at = next(self._clock)

    def mark(self) -> int:
        """Return a point in the ledger's order: every acknowledgement so far comes before it."""
        with self._lock:
            return next(self._clock)

    def ids_of(self, author: str) -> list[int]:
        """Return the ids of an author's acknowledged articles."""
        with self._lock:
            return [log.article_id for log in self.articles.values() if log.author == author]

    @property
    def saves(self) -> int:
        """Return the number of acknowledged saves (new articles and edits)."""
        with self._lock:
            return sum(
                1 for log in self.articles.values() for a in log.attempts if a.acked_at is not None
            )

    @property
    def unacknowledged(self) -> int:
        """Return the number of edits sent that the server never acknowledged."""
        with self._lock:
            return sum(
                1 for log in self.articles.values() for a in log.attempts if a.acked_at is None
            )

    def expected(self, before: int | None = None) -> dict[int, list[tuple[str, str]]]:
        """Return, per article acknowledged before `before`, the (title, body) it may hold.

        That is its last acknowledged version, or any version sent after it: one the server
        stored but could not acknowledge (the process died), or one saved after `before`.
        """
        limit = before if before is not None else float("inf")
        wanted: dict[int, list[tuple[str, str]]] = {}
        with self._lock:
            for log in self.articles.values():
                acked = [
                    i
                    for i, a in enumerate(log.attempts)
                    if a.acked_at is not None and a.acked_at < limit
                ]
                if acked:
                    wanted[log.article_id] = [(a.title, a.body) for a in log.attempts[acked[-1] :]]
        return wanted


# --- The traffic ---------------------------------------------------------------------------


class UrlPool:
    """Pages readers have seen linked, by kind; bounded in size."""

    def __init__(self, cap: int = POOL_CAP) -> None:
        self._lock = threading.Lock()
        self._cap = cap
        self._urls: dict[str, list[str]] = {kind: [] for kind in READER_KINDS}
        self._known: set[str] = set()

    def add(self, kind: str, url: str, rng: random.Random) -> None:
        """Remember a URL; past the cap it replaces a random one of its kind."""
        with self._lock:
            if url in self._known:
                return
            urls = self._urls[kind]
            if len(urls) < self._cap:
                urls.append(url)
            else:
                slot = rng.randrange(len(urls))
                self._known.discard(urls[slot])
                urls[slot] = url
            self._known.add(url)

    def pick(self, kind: str, rng: random.Random) -> str | None:
        """Return a random URL of a kind, or None while none is known."""
        with self._lock:
            urls = self._urls[kind]
            return rng.choice(urls) if urls else None

    def learn(self, page: str, rng: random.Random) -> None:
        """Remember the article, archive and "Older" links of a page."""
        for url in _ARTICLE_LINK.findall(page):
            self.add("article", url, rng)
        for url in _ARCHIVE_LINK.findall(page):
            self.add(("year", "month", "day")[url.count("/") - 3], url, rng)
        for year, month, day in _PUBLISHED.findall(page):
            self.add("year", f"/archive/{year}/", rng)
            self.add("month", f"/archive/{year}/{month}/", rng)
            self.add("day", f"/archive/{year}/{month}/{day}/", rng)
        for url in _NEXT_LINK.findall(page):
            self.add("deep", html.unescape(url), rng)


def compose(author: str, n: int, rng: random.Random, edit: int = 0) -> tuple[str, str]:
    """Return a unique title and Markdown body carrying a random marker."""
    marker = secrets.token_hex(8)
    label = f"edit {edit}" if edit else "new"
    title = f"{rng.choice(HEADLINES)} {author}-{n} {label} {marker}"
    body = "\n\n".join(
        [
            f"Report {marker} by {author}, article {n} ({label}).",
            f"A second paragraph with *emphasis* and [a link](https://example.org/{marker}).",
            "- first point\n- second point",
            "Haber metni: çğıöşü İİ — النص العربي: مرحبا بكم",
        ]
    )
    return title, body


class Traffic:
    """Readers and authors against one server, in threads, until a deadline or stop()."""

    def __init__(
        self,
        base_url: str,
        *,
        authors: Sequence[str],
        password: str,
        readers: int = 6,
        seconds: float = 60.0,
        edit_share: float = 0.3,
        seed: int | None = None,
    ) -> None:
        self.base_url = base_url
        self.authors = list(authors)
        self.password = password
        self.readers = readers
        self.seconds = seconds
        self.edit_share = edit_share
        self.rng = random.Random(seed)
        self.tally = Tally()
        self.ledger = Ledger()
        self.pool = UrlPool()
        self._stop = threading.Event()
        self._deadline = 0.0
        self._threads: list[threading.Thread] = []

    def running(self) -> bool:
        """Tell whether the traffic should go on."""
        return not self._stop.is_set() and time.monotonic() < self._deadline

    def start(self) -> Traffic:
        """Start every thread; they stop by themselves at the deadline."""
        self._deadline = time.monotonic() + self.seconds
        workers: list[tuple[str, Callable[..., None], tuple[Any, ...]]] = []
        for n in range(self.readers):
            workers.append((f"reader-{n}", self._read, (random.Random(self.rng.random()),)))
        for name in self.authors:
            workers.append(
                (f"author-{name}", self._write, (name, random.Random(self.rng.random())))
            )
        for name, target, args in workers:
            thread = threading.Thread(target=self._guard, args=(target, *args), name=name)
            self._threads.append(thread)
            thread.start()
        return self

    def stop(self) -> None:
        """Ask every thread to finish after its current request."""
        self._stop.set()

    def join(self) -> None:
        """Wait for the threads (bounded by the request timeout); note any that hangs."""
        limit = time.monotonic() + max(0.0, self._deadline - time.monotonic()) + sum(TIMEOUT) * 3
        for thread in self._threads:
            thread.join(timeout=max(0.1, limit - time.monotonic()))
            if thread.is_alive():
                self.tally.problem(f"{thread.name} did not stop")

    def run(self, during: Callable[[], None] | None = None) -> None:
        """Start, call `during` (if given) while the traffic flows, then wait for the end."""
        self.start()
        try:
            if during is not None:
                during()
        except BaseException:
            self.stop()
            raise
        finally:
            self.join()

    def __enter__(self) -> Traffic:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
        self.join()

    def _guard(self, target: Callable[..., None], *args: Any) -> None:
        try:
            target(*args)
        except BaseException:  # a thread's failure must reach the test, not vanish
            self.tally.problem(
                f"{threading.current_thread().name} crashed:\n{traceback.format_exc()}"
            )

    def _read(self, rng: random.Random) -> None:
        with requests.Session() as session:
            for _ in range(MAX_ITERATIONS):
                if not self.running():
                    break
                kind = rng.choice(READER_KINDS)
                path = None if kind == "home" else self.pool.pick(kind, rng)
                if path is None:  # nothing of that kind seen yet: start from the front page
                    kind, path = "home", "/"
                url = self.base_url + path
                try:
                    with session.get(url, timeout=TIMEOUT) as response:
                        if self.tally.check(kind, "GET", path, response, (200,)):
                            self.pool.learn(response.text, rng)
                except requests.RequestException as error:
                    self.tally.connection_error(kind, error)
                session.cookies.clear()  # readers stay anonymous

    def _write(self, name: str, rng: random.Random) -> None:
        counter = itertools.count(1)
        signed_in = False
        with requests.Session() as session:
            for _ in range(MAX_ITERATIONS):
                if not self.running():
                    break
                try:
                    if not signed_in:
                        status = sign_in(session, self.base_url, name, self.password)
                        signed_in = status in (302, 303)
                        if not signed_in:
                            self.tally.problem(f"{name} could not sign in: {status}")
                            return
                        continue
                    mine = self.ledger.ids_of(name)
                    if mine and rng.random() < self.edit_share:
                        self._edit(session, name, rng.choice(mine), next(counter), rng)
                    else:
                        self._publish(session, name, next(counter), rng)
                except requests.HTTPError as error:
                    self.tally.problem(f"{name} could not sign in: {error}")
                    return
                except requests.RequestException as error:
                    self.tally.connection_error("author", error)

    def _publish(self, session: requests.Session, name: str, n: int, rng: random.Random) -> None:
        path = "/admin/articles/new"
        with session.get(self.base_url + path, timeout=TIMEOUT, allow_redirects=False) as page:
            if not self.tally.check("form", "GET", path, page, (200,)):
                return
            form = find_form(page.text, css_class="article-form")
        title, body = compose(name, n, rng)
        data = _article_data(form, title, body)
        data.update(slug="", summary="", tags=f"load, {name}", published_at="")
        with session.post(
            self.base_url + path, data=data, timeout=TIMEOUT, allow_redirects=False
        ) as response:
            if not self.tally.check("save", "POST", path, response, (302, 303)):
                return
            match = _EDIT_LOCATION.search(response.headers.get("Location", ""))
        if match is None:
            self.tally.problem(f"a new article redirected to {response.headers.get('Location')}")
            return
        self.ledger.created(int(match[1]), name, title, body)

    def _edit(
        self, session: requests.Session, name: str, article_id: int, n: int, rng: random.Random
    ) -> None:
        path = f"/admin/articles/{article_id}/edit"
        with session.get(self.base_url + path, timeout=TIMEOUT, allow_redirects=False) as page:
            if not self.tally.check("form", "GET", path, page, (200,)):
                return
            form = find_form(page.text, css_class="article-form")
        if "version" not in form.hidden or "csrf_token" not in form.hidden:
            self.tally.problem(f"the edit form of {article_id} lacks its hidden fields")
            return
        title, body = compose(name, n, rng, edit=n)
        attempt = self.ledger.sending(article_id, title, body)
        with session.post(
            self.base_url + path,
            data=_article_data(form, title, body),
            timeout=TIMEOUT,
            allow_redirects=False,
        ) as response:
            if self.tally.check("save", "POST", path, response, (302, 303)):
                self.ledger.acknowledged(attempt)


def _article_data(form: HtmlForm, title: str, body: str) -> dict[str, str]:
    """Fill the form as an author would: everything it holds, a new title and body, Save."""
    return {**form.fields, "title": title, "body": body, "status": "published", "save": "Save"}


def wait_for(what: str, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll a condition until it holds; fail the test when the deadline passes first."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)  # poll interval, not a synchronisation


def answers(url: str) -> bool:
    """Tell whether a page answers 200 right now."""
    try:
        with requests.get(url, timeout=TIMEOUT) as response:
            return response.status_code == 200
    except requests.RequestException:
        return False


# --- Checking the database afterwards ------------------------------------------------------


@contextmanager
def engine_for(database_url: str) -> Iterator[sa.Engine]:
    """A fresh engine on the database (nothing shared with the server), disposed after."""
    engine = sa.create_engine(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def stored(database_url: str, ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """Return (title, body_markdown) of the given articles as the database holds them."""
    found: dict[int, tuple[str, str]] = {}
    with engine_for(database_url) as engine, engine.connect() as conn:
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            stmt = sa.select(Article.id, Article.title, Article.body_markdown).where(
                Article.id.in_(chunk)
            )
            found.update({row.id: (row.title, row.body_markdown) for row in conn.execute(stmt)})
    return found


def missing_or_wrong(database_url: str, expected: Mapping[int, list[tuple[str, str]]]) -> list[str]:
    """Compare the database with the ledger's expectations; describe every difference."""
    found = stored(database_url, sorted(expected))
    problems = []
    for article_id, versions in sorted(expected.items()):
        if article_id not in found:
            problems.append(f"article {article_id} was acknowledged but is not in the database")
        elif found[article_id] not in versions:
            title, body = found[article_id]
            problems.append(
                f"article {article_id} holds {title!r} / {body[:60]!r}, "
                f"expected {versions[0][0]!r} (or one of {len(versions) - 1} later versions)"
            )
    return problems


def visible_by_day(database_url: str, tz: ZoneInfo, now: datetime) -> Counter[date]:
    """Count the articles a reader may see, by local day, straight from the articles table."""
    stmt = sa.select(Article.published_at).where(
        Article.status == "published",
        Article.deleted_at.is_(None),
        Article.published_at <= now,
    )
    with engine_for(database_url) as engine, engine.connect() as conn:
        return Counter(instant.astimezone(tz).date() for instant in conn.scalars(stmt))


def sqlite_integrity(path: Path) -> str:
    """Return the result of PRAGMA integrity_check on an SQLite file."""
    # Opened read-write, as an operator's sqlite3 would: after a crash it replays the WAL.
    conn = sqlite3.connect(path)
    try:
        return "\n".join(row[0] for row in conn.execute("PRAGMA integrity_check"))
    finally:
        conn.close()


def log_alarms(logs: str) -> list[str]:
    """Return the server log lines that show a failed request or a hung worker."""
    return [line for line in logs.splitlines() if any(alarm in line for alarm in LOG_ALARMS)]


# --- Databases, Redis and the settings every live-server test needs -----------------------


def require_postgres() -> str:
    """Return the PostgreSQL test server's URL; skip without one (fail when all are required)."""
    from conftest import PG_URL, REQUIRE_ALL, pg_url

    if not PG_URL:
        if REQUIRE_ALL:
            pytest.fail("BLOG_REQUIRE_ALL_TESTS is set but BLOG_TEST_DATABASE_URL is not")
        pytest.skip("BLOG_TEST_DATABASE_URL is not set")
    return pg_url()


def require_redis() -> str:
    """Return the Redis test URL; skip without one (fail when all tests are required)."""
    from conftest import REDIS_URL, REQUIRE_ALL

    if not REDIS_URL:
        if REQUIRE_ALL:
            pytest.fail("BLOG_REQUIRE_ALL_TESTS is set but BLOG_TEST_REDIS_URL is not")
        pytest.skip("BLOG_TEST_REDIS_URL is not set")
    return REDIS_URL


@contextmanager
def live_database(backend: str, folder: Path, tag: str) -> Iterator[str]:
    """The URL of a new, empty database for live servers: an SQLite file or a PG database."""
    if backend == "sqlite":
        folder.mkdir(parents=True, exist_ok=True)
        yield sqlite_url(folder / "blog.sqlite3")
        return
    with scratch_postgres(require_postgres(), tag) as url:
        yield url


@contextmanager
def scratch_postgres(server_url: str, tag: str) -> Iterator[str]:
    """An empty PostgreSQL database of this test's own on the test server; dropped after."""
    server = sa.engine.make_url(server_url)
    name = f"blog_{tag}_{os.getpid()}_{next(_scratch_numbers)}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def redis_namespace(redis_url: str, tag: str) -> Iterator[str]:
    """A key prefix no other test run uses; its keys are deleted afterwards."""
    import redis

    prefix = f"test-{tag}-{os.getpid()}-{secrets.token_hex(4)}-"
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(redis_url)
        try:
            for key in client.scan_iter(match=f"*{prefix}*", count=1000):
                client.delete(key)
        finally:
            client.close()


def create_authors(database_url: str, names: Sequence[str], password: str) -> None:
    """Create author accounts in the database, in-process, before any server starts."""
    from blog import create_app
    from blog.extensions import db
    from blog.models import User

    app = create_app(
        {"TESTING": True, "SECRET_KEY": "seed", "SQLALCHEMY_DATABASE_URI": database_url}
    )
    with app.app_context():
        for name in names:
            user = User(username=name, role="author")
            user.set_password(password)
            db.session.add(user)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def seed_site(
    database_url: str,
    instance: Path,
    *,
    settings: Mapping[str, str],
    articles: int,
    authors: Sequence[str],
    password: str,
) -> None:
    """Migrate a new database, generate articles with the operator's command, add authors."""
    prepare_database(database_url, instance, settings=settings)
    if articles:
        result = subprocess.run(
            [str(venv_bin("flask")), "--app", "wsgi:app", "articles", "generate"]
            + ["--count", str(articles), "--years", "1", "--seed", "4"],
            cwd=REPO_ROOT,
            env=server_env(database_url, instance, settings=settings),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"flask articles generate failed:\n{result.stdout}{result.stderr}")
    create_authors(database_url, authors, password)


@contextmanager
def seeded_database(
    backend: str,
    folder: Path,
    tag: str,
    *,
    settings: Mapping[str, str],
    articles: int,
    authors: Sequence[str],
    password: str,
) -> Iterator[str]:
    """A new database for live servers with generated articles and the given authors."""
    with live_database(backend, folder / "db", tag) as url:
        seed_site(
            url,
            folder / "seed",
            settings=settings,
            articles=articles,
            authors=authors,
            password=password,
        )
        yield url
