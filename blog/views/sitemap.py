"""What crawlers and browsers ask for by name at the root: robots.txt, the sitemaps (one per
local day with articles, one of the tag pages and one of the authors' pages) and the favicon.

A day's sitemap holds its few hundred articles at most, well under the 50,000 addresses
a sitemap may list, and ten years of days are 3,650 entries of the index, of 50,000 too.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from .. import articles, dates
from ..pagecache import cached_page, static_url
from ..site import (
    article_url,
    author_path,
    iso_datetime,
    now,
    origin,
    tag_path,
    version_first,
    zone,
)
from .archive import DAY, MONTH, YEAR, date_or_404

bp = Blueprint("sitemap", __name__)

XML = "application/xml"


@bp.get("/robots.txt")
@cached_page
def robots() -> Response:
    """Keep crawlers out of the desk and sign-in pages; point them at the sitemap."""
    root = request.script_root
    lines = [
        "User-agent: *",
        f"Disallow: {root}/admin/",
        f"Disallow: {root}/auth/",
        f"Disallow: {root}/search",  # a page for every search anyone could type
        f"Sitemap: {url_for('sitemap.index', _external=True)}",
    ]
    return Response("\n".join(lines) + "\n", mimetype="text/plain")


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Send what asks for the icon by its old address (feed readers, crawlers) to the SVG."""
    response = redirect(static_url("favicon.svg"))
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.get("/sitemap.xml")
@cached_page
@version_first
def index() -> Response:
    """List the sitemap of every local day that has articles, up to today, then the authors'
    and the tags'."""
    instant, tz = now(), zone()
    today = dates.local_today(tz, instant)
    days = articles.days_with_articles(today)
    if days and days[-1] == today and not articles.day_counts(today, today, tz, instant)[today]:
        days.pop()  # today's articles are all still to come: their sitemap would be empty
    # Ten years of days are 3,650 addresses: made from the route's pattern, not url_for.
    base = origin() + request.script_root
    # Not %Y: it writes the year 2 as "2", and the route wants four digits.
    sitemaps = [f"{base}/sitemap-{day.isoformat()}.xml" for day in days]
    if any(author_path(writer.name) for writer in articles.writers(instant)):
        sitemaps.append(url_for("sitemap.authors", _external=True))
    if articles.any_topics(instant):
        sitemaps.append(url_for("sitemap.tags", _external=True))
    return Response(render_template("sitemap/index.xml", sitemaps=sitemaps), mimetype=XML)


# At the root: a sitemap may only list addresses under its own folder.
@bp.get(f"/sitemap-{YEAR}-{MONTH}-{DAY}.xml")
@cached_page
@version_first
def day(year: int, month: int, day: int) -> Response:
    """List the addresses of the articles published on a local day, with their last change."""
    start, end = dates.day_bounds(date_or_404(year, month, day), zone())
    urls = [
        (article_url(article_id, slug), iso_datetime(articles.last_change(published, updated)))
        for article_id, slug, published, updated in articles.addresses(start, end, now())
    ]
    return Response(render_template("sitemap/urls.xml", urls=urls), mimetype=XML)


@bp.get("/sitemap-tags.xml")
@cached_page
@version_first
def tags() -> Response:
    """List the page of every tag, and the tags' own page, each changed with its newest article."""
    topics = sorted(articles.topics(now()), key=lambda topic: topic.slug)
    topics = topics[: articles.SITEMAP_LIMIT - 1]
    urls = [(origin() + tag_path(topic.slug), iso_datetime(topic.latest)) for topic in topics]
    if topics:
        newest = max(topic.latest for topic in topics)
        urls.insert(0, (url_for("tag.index", _external=True), iso_datetime(newest)))
    return Response(render_template("sitemap/urls.xml", urls=urls), mimetype=XML)


@bp.get("/sitemap-authors.xml")
@cached_page
@version_first
def authors() -> Response:
    """List the page of every author with a visible article, changed with their newest one."""
    paths = (
        (author_path(writer.name), writer.latest)
        for writer in sorted(articles.writers(now()), key=lambda writer: writer.name)
    )
    urls = [(origin() + path, iso_datetime(latest)) for path, latest in paths if path]
    return Response(
        render_template("sitemap/urls.xml", urls=urls[: articles.SITEMAP_LIMIT]), mimetype=XML
    )
