"""What every page shares: the site zone, the Hijri calendar, the masthead, template filters.

Templates never format a date themselves; they use the filters registered here, which call
dates.py with the site's zone and calendar.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import wraps
from html import escape as escape_html
from typing import Any, NamedTuple
from urllib.parse import quote
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Flask, current_app, g, render_template, request
from flask.templating import Environment as FlaskEnvironment
from markupsafe import Markup

from . import accounts, articles, content, counts, dates, engines
from .extensions import cache, db
from .models import HijriMonthStart


@dataclass(frozen=True)
class Masthead:
    today: date
    line: str
    strip: list[tuple[date, int]]
    total: int
    # When any of the above can next change without a write: local midnight or a scheduled
    # article coming due. Cached pages carry it in their key.
    valid_until: datetime
    # The local day of the earliest article (None: none yet). Archives link no period
    # before it or after today, so neither readers nor crawlers walk into empty years.
    first_day: date | None = None

    def has_archive(self, first: date, last: date) -> bool:
        """Tell whether the days first..last overlap the site's: its first article to today."""
        return self.first_day is not None and first <= self.today and last >= self.first_day


class Environment(FlaskEnvironment):
    """Flask's Jinja environment, whose templates read its globals without a ChainMap.

    Jinja layers each template's own globals over the environment's in a ChainMap, which it
    copies into a dict for every render and every include: walked in Python, that copy cost
    about 20 µs, a quarter of rendering an article. A template given no globals of its own
    (the site gives none) now shares the environment's dict, globals added later included.
    """

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return self.globals if not d else super().make_globals(d)


def init_app(app: Flask) -> None:
    """Register the date filters, the masthead and the listing macros with Jinja."""
    filters = {
        "datetime_label": datetime_label,
        "hijri_label": hijri_label,
        "iso_datetime": iso_datetime,
        "input_datetime": lambda instant: dates.format_local_input(instant, zone()),
        "long_date": dates.gregorian_label,
        "strip_date": dates.strip_label,
        "weekday": dates.weekday_name,
        "month_label": dates.month_label,
        "month_name": dates.month_name,
        "count": dates.format_count,
        "headings_below": content.headings_below,
    }
    app.jinja_env.filters.update(filters)
    env = app.jinja_env
    env.globals.update(
        masthead_html=masthead_html,
        now=now,
        archive_path=archive_path,
        tag_path=tag_path,
        author_path=author_path,
    )
    # The listing macros, loaded once: an {% import %} in each page costs a look-up over
    # every global on every render.
    env.globals["teasers"] = env.get_template("_macros/teaser.html").module.teasers  # type: ignore[attr-defined]
    env.globals["pagination"] = env.get_template("_macros/pagination.html").module
    app.before_request(_start_request)


def zone() -> ZoneInfo:
    """Return the site's time zone."""
    return dates.site_zone(current_app.config["TIMEZONE"])


def _memo() -> dict[str, Any]:
    """Values worked out once per request (g outlives a request when a test holds a context)."""
    try:
        return g.blog_request  # type: ignore[no-any-return]
    except AttributeError:
        g.blog_request = {}
        return g.blog_request  # type: ignore[no-any-return]


def _start_request() -> None:
    g.blog_request = {}
    # Static files and the health check must answer without touching the counts.
    if request.endpoint not in ("static", "health.healthz"):
        ensure_counts()


def now() -> datetime:
    """Return the instant this request treats as now (one value for the whole request)."""
    memo = _memo()
    if "now" not in memo:
        memo["now"] = dates.utcnow()
    return memo["now"]


# Where the page cache leaves the content version it read before passing a request on.
VERSION_READ = "blog.content_version"
# Where the app keeps its settings' and release's fingerprint (pagecache.fingerprint).
FINGERPRINT = "blog.fingerprint"


def content_version() -> int:
    """Return the content version, read once per request."""
    memo = _memo()
    if "content_version" not in memo:
        read = request.environ.get(VERSION_READ)  # by the page cache, for this request
        # Not through the ORM session: a page served from the cache needs no session at all.
        memo["content_version"] = counts.content_version(engines.reader()) if read is None else read
    return memo["content_version"]


def take_content_version(version: int | None) -> None:
    """Use the version a page's own statement read with its rows, unless one was read before.

    A page made afresh then costs one statement, not a read of the version and then its rows.
    """
    if version is not None:
        _memo().setdefault("content_version", version)


def version_first(view: Callable[..., Any]) -> Callable[..., Any]:
    """Read the content version before a page whose statements do not read it with their rows.

    Read after them, it could name a write that landed in between, and the page, made from
    the rows before that write, would be cached as that write's until the next one.
    """

    @wraps(view)
    def wrapper(**kwargs: Any) -> Any:
        content_version()
        return view(**kwargs)

    return wrapper


# When this app read its settings: in gunicorn's master (preload_app), so every worker it
# starts, however late, has the time its settings date from.
STARTED = "blog.started"


def ensure_counts() -> None:
    """Rebuild the day counts once per process if they were made for another zone.

    Not if a process started later made them for its own zone: it has the newer settings.
    """
    extensions, config = current_app.extensions, current_app.config
    if extensions.setdefault("blog.counts_zone", None) != config["TIMEZONE"]:
        tz = zone()
        counts.ensure_zone(db.session, tz, started=extensions[STARTED])
        kept = counts.kept_zone(db.session)
        if kept != tz.key:
            current_app.logger.warning(
                "The day counts are kept in %s, set by a process started after this one; "
                "this one runs on TIMEZONE %s and shows them as they are until restarted.",
                kept,
                tz.key,
            )
        extensions["blog.counts_zone"] = config["TIMEZONE"]


def calendar() -> dates.HijriCalendar:
    """Return the Hijri calendar: the configured offset and the stored month starts.

    The process keeps the last one for its content version: a page made afresh then costs
    no cache look-up for it (with Redis, no round trip). The masthead is kept the same way.
    """
    memo = _memo()
    if "calendar" not in memo:
        version, offset = content_version(), current_app.config["HIJRI_OFFSET_DAYS"]
        memo["calendar"] = kept(
            "blog.calendar",
            (version, offset),
            lambda: dates.HijriCalendar(offset, _month_starts(version)),
        )
    return memo["calendar"]


def stored_calendar() -> dates.HijriCalendar:
    """Return the Hijri calendar as stored now, read afresh: for checking a change just made."""
    return dates.HijriCalendar(current_app.config["HIJRI_OFFSET_DAYS"], _read_month_starts())


def _month_starts(version: int) -> dict[tuple[int, int], date]:
    key = f"calendar:{current_app.extensions[FINGERPRINT]}:{version}"
    starts: dict[tuple[int, int], date] | None = cache.get(key)
    if starts is None:
        starts = _read_month_starts()
        cache.set(key, starts)
    return starts


def _read_month_starts() -> dict[tuple[int, int], date]:
    rows = db.session.execute(
        sa.select(HijriMonthStart.year, HijriMonthStart.month, HijriMonthStart.starts_on)
    )
    return {(year, month): day for year, month, day in rows}


def datetime_label(instant: datetime) -> str:
    """Format an instant as the site shows it: '26 March 2016 9:51' in the site zone."""
    return dates.datetime_label(dates.to_local(instant, zone()))


def iso_datetime(instant: datetime) -> str:
    """Format an instant as ISO 8601 with the site zone's offset, to the second."""
    return dates.iso_local(instant, zone())


def hijri_label(value: datetime | date) -> str:
    """Return the Hijri date of an instant's local day (or of a day); '' out of range."""
    day = dates.local_date(value, zone()) if isinstance(value, datetime) else value
    return dates.hijri_label(day, calendar())


def masthead() -> Masthead:
    """Return today's date line, the day strip and the total, cached until they can change.

    The process keeps the last one for its content version, local day and zone, until its
    `valid_until`; other processes and hosts find it in the cache.
    """
    memo = _memo()
    if "masthead" in memo:
        return memo["masthead"]
    tz, instant = zone(), now()
    today = dates.local_today(tz, instant)
    version = content_version()
    shown: Masthead = kept(
        "blog.masthead",
        (version, today, tz),
        lambda: _shared_masthead(version, today, tz, instant),
        still_true=lambda kept: kept.valid_until > instant,
    )
    memo["masthead"] = shown
    return shown


def _shared_masthead(version: int, today: date, tz: ZoneInfo, instant: datetime) -> Masthead:
    # Hosts sharing the cache may run other settings (zone, Hijri offset) or another release.
    key = f"masthead:{current_app.extensions[FINGERPRINT]}:{version}:{today.isoformat()}"
    shown: Masthead | None = cache.get(key)
    if shown is None or shown.valid_until <= instant:
        shown = _build_masthead(today, tz, instant)
        cache.set(key, shown)
    return shown


def masthead_html() -> Markup:
    """Return the masthead rendered, rendering it once per masthead in each process."""
    shown = masthead()
    key = (content_version(), shown.today, shown.valid_until, request.script_root)
    html: Markup = kept(
        "blog.masthead_html",
        key,
        lambda: Markup(render_template("_partials/_masthead.html", m=shown)),
    )
    return html


def kept(
    name: str,
    key: object,
    make: Callable[[], Any],
    still_true: Callable[[Any], bool] = lambda kept: True,
) -> Any:
    """Return the value this process keeps under `name` for `key`, made again when it moved.

    One value per name, in app.extensions: what every page shows and only a write, a new day
    or a due article changes, so that most pages find it without a cache look-up.
    """
    last = current_app.extensions.get(name)
    if last is None or last[0] != key or not still_true(last[1]):
        last = (key, make())
        current_app.extensions[name] = last
    return last[1]


def _build_masthead(today: date, tz: ZoneInfo, instant: datetime) -> Masthead:
    days = current_app.config["MASTHEAD_DAYS"]
    strip: list[tuple[date, int]] = []
    if days:
        counts_by_day = articles.day_counts(
            today - timedelta(days=days), today - timedelta(days=1), tz, instant
        )
        strip = sorted(counts_by_day.items(), reverse=True)
    valid_until = dates.day_bounds(today, tz)[1]
    upcoming = articles.next_scheduled(instant)
    if upcoming is not None:
        valid_until = min(valid_until, upcoming)
    line = dates.masthead_line(today, calendar())
    earliest = articles.first_published()
    first_day = None if earliest is None else dates.local_date(earliest, tz)
    return Masthead(today, line, strip, articles.total(instant), valid_until, first_day)


class Teaser(NamedTuple):
    """A listing entry as HTML, ready to print (a tuple: twenty a page).

    What came from the database is escaped by `teasers`. The instant and the date labels
    are dates.py's digits, signs and month names, with no "&", "<" or ">": the macro prints
    the labels as element text, where they need no escaping (the instant, an attribute,
    holds no quote either).

    The teasers macro (templates/_macros/teaser.html) prints the fields as they are, in
    this order. Escaped by the template instead, each field cost a Markup object: twenty
    teasers took about 170 µs to build and print, and take 125 µs this way.
    """

    url: str
    title: str
    summary: str
    byline: str  # a link to the author's page
    published_iso: str
    published_label: str
    hijri_label: str


# werkzeug's PathConverter quoting, so article_path() gives exactly what url_for() would.
# Slugs the site makes itself need no quoting, and checking costs less than quoting.
_PATH_SAFE = "!$&'()*+,/:;=@"
_PLAIN_SLUG = re.compile(r"[a-z0-9-]*", re.ASCII)


def article_path(article_id: int, slug: str, root: str | None = None) -> str:
    """Return an article's URL path without url_for (called for every teaser on a page)."""
    root = request.script_root if root is None else root
    if not _PLAIN_SLUG.fullmatch(slug):
        slug = quote(slug, safe=_PATH_SAFE)
    return f"{root}/article/{article_id}/{slug}"


def tag_path(slug: str) -> str:
    """Return a tag page's URL path without url_for (an article page links each of its tags)."""
    if not _PLAIN_SLUG.fullmatch(slug):
        slug = quote(slug, safe=_PATH_SAFE.replace("/", ""))
    return f"{request.script_root}/tag/{slug}/"


def author_path(name: str) -> str | None:
    """Return an author's page's URL path without url_for (every teaser links its author),
    or None for a name that cannot stand in one (see accounts.has_page)."""
    if not accounts.has_page(name):
        return None
    return f"{request.script_root}/author/{quote(name, safe='')}/"


def script_json(data: Any) -> Markup:
    """Write data as JSON that may stand inside a <script> element: ASCII, and no <, >, &
    or ' that could end the element or start markup, whatever the values hold."""
    text = json.dumps(data, separators=(",", ":"))  # ensure_ascii: non-ASCII as \u escapes
    for character, code in _JSON_IN_HTML:
        text = text.replace(character, code)
    return Markup(text)


_JSON_IN_HTML = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027"))


def article_url(article_id: int, slug: str) -> str:
    """Return an article's full address, on the host and scheme the request came by."""
    return origin() + article_path(article_id, slug)


def origin() -> str:
    """Return the scheme and host the request came by, as url_for(_external=True) writes them.

    Not request.host_url: it turns the host into an IRI (punycode back into Unicode), and
    doing so took about 20 µs of an article page.
    """
    return f"{request.scheme}://{request.host.lower()}"


def archive_path(year: int, month: int | None = None, day: int | None = None) -> str:
    """Return the path of a year's, a month's or a day's archive without url_for.

    A month page links its thirty-odd days, and url_for costs more than the rest of a link.
    """
    path = f"{request.script_root}/archive/{year:04d}/"
    if month is not None:
        path += f"{month:02d}/"
        if day is not None:
            path += f"{day:02d}/"
    return path


def teasers(rows: Iterable[Any]) -> list[Teaser]:
    """Turn listing rows (articles.TEASER) into escaped teasers: dates worked out once per day.

    The date labels are dates.py's own digits and month names, printed as element text,
    so they are not run through escape (see Teaser): one day's twenty entries format one
    date.
    """
    tz, hijri, root = zone(), calendar(), request.script_root
    days: dict[date, tuple[str, str]] = {}  # the Gregorian and Hijri labels of each day
    authors: dict[str, str] = {}  # each author's byline: a page has a few and twenty entries
    shown = []
    for article_id, title, slug, summary, published_at, author_name in rows:
        # Stored instants come back aware (UTCDateTime, or psycopg in a UTC session).
        try:
            local = published_at.astimezone(tz)
        except OverflowError:  # a row stored before publish times were checked
            local = dates.to_local(published_at, tz)
        day = local.date()
        if day not in days:
            days[day] = (dates.gregorian_label(day), dates.hijri_label(day, hijri))
        if author_name not in authors:
            path, name = author_path(author_name), escape_html(author_name)
            # Its path is made of letters, digits and escapes: nothing to escape.
            authors[author_name] = f'<a href="{path}" rel="author">{name}</a>' if path else name
        day_label, hijri_label = days[day]
        shown.append(
            Teaser(
                escape_html(article_path(article_id, slug, root)),
                escape_html(title),
                escape_html(summary),
                authors[author_name],
                dates.iso_attribute(local),  # digits and signs only
                dates.datetime_label(local, day_label),
                hijri_label,
            )
        )
    return shown


def template_context() -> dict[str, Any]:
    """Values every template may use."""
    config = current_app.config
    return {"site_name": config["SITE_NAME"], "social_links": config["SOCIAL_LINKS"]}
