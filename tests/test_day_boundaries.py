"""Articles at 00:10 and 23:50 local count on their local day, in zones far from UTC."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from blog import dates

from conftest import at_local

ZONES = ["Asia/Tokyo", "America/Los_Angeles", "Pacific/Kiritimati", "Pacific/Pago_Pago"]


def strip_counts(html: str) -> dict[str, str]:
    strip = re.search(r'<nav class="day-strip"[^>]*>(.*?)</nav>', html, re.S)[1]
    return dict(re.findall(r'<a href="([^"]+)">([^<]+)</a>', strip))


def grid_count(html: str, day) -> int:
    """Read a day's count in a month grid: a link when it has articles, plain text when not."""
    href = f"/archive/{day:%Y/%m/%d}/"
    linked = re.search(
        rf'href="{href}"><span class="day-number">\d+</span> <span class="count">\((\d+)\)', html
    )
    if linked:
        return int(linked[1])
    plain = (
        rf'<td class="day">\s*<span class="day-number">{day.day}</span> <span class="count">\(0\)'
    )
    assert re.search(plain, html), day
    return 0


@pytest.mark.parametrize("zone", ZONES)
def test_edges_of_the_local_day(make_app, make_article, zone):
    app = make_app(TIMEZONE=zone)
    with app.app_context():
        tz = dates.site_zone(zone)
        today = dates.local_today(tz)
        day = today - timedelta(days=2)
        make_article(title="Just after midnight", published_at=at_local(-2, 0, 10, zone))
        make_article(title="Just before midnight", published_at=at_local(-2, 23, 50, zone))
        # Neighbours one minute across each boundary belong to the days around it.
        make_article(title="Late the day before", published_at=at_local(-3, 23, 59, zone))
        make_article(title="Early the day after", published_at=at_local(-1, 0, 1, zone))
    client = app.test_client()

    strip = strip_counts(client.get("/").get_data(as_text=True))
    for back, n in ((1, 1), (2, 2), (3, 1), (4, 0)):
        shown = today - timedelta(days=back)
        assert strip[f"/archive/{shown:%Y/%m/%d}/"] == f"{shown:%d/%m/%Y} ({n})"

    archive = client.get(f"/archive/{day:%Y/%m/%d}/").get_data(as_text=True)
    titles = re.findall(r'<article class="teaser">\s*<h2[^>]*><a href="[^"]+">([^<]+)</a>', archive)
    assert titles == ["Just before midnight", "Just after midnight"]
    assert f"{day.day} {dates.month_name(day.month)} {day.year} 0:10" in archive
    assert f"{day.day} {dates.month_name(day.month)} {day.year} 23:50" in archive

    month = client.get(f"/archive/{day:%Y/%m}/").get_data(as_text=True)
    assert grid_count(month, day) == 2
    year = client.get(f"/archive/{day:%Y}/").get_data(as_text=True)
    month_total = re.search(
        rf'href="/archive/{day:%Y/%m}/">[A-Za-z]+</a> <span class="count">\((\d+)\)', year
    )
    assert int(month_total[1]) >= 2


def test_changing_the_zone_recounts_the_days(make_app, make_article):
    tokyo = make_app(TIMEZONE="Asia/Tokyo")
    with tokyo.app_context():
        # 00:10 in Tokyo is 15:10 the day before in UTC.
        make_article(published_at=at_local(-2, 0, 10, "Asia/Tokyo"))
        tokyo_day = dates.local_today(dates.site_zone("Asia/Tokyo")) - timedelta(days=2)
    html = tokyo.test_client().get(f"/archive/{tokyo_day:%Y/%m}/").get_data(as_text=True)
    assert grid_count(html, tokyo_day) == 1

    utc = make_app(TIMEZONE="UTC")
    utc_day = tokyo_day - timedelta(days=1)
    html = utc.test_client().get(f"/archive/{utc_day:%Y/%m}/").get_data(as_text=True)
    assert grid_count(html, utc_day) == 1
    if utc_day.month == tokyo_day.month:
        assert grid_count(html, tokyo_day) == 0


def test_a_scheduled_article_arrives_on_time(app, client, make_article, monkeypatch):
    real_now = dates.utcnow()
    due = real_now + timedelta(hours=1)
    make_article(title="Earlier news", published_at=real_now - timedelta(hours=1))
    make_article(title="Scheduled news", published_at=due)

    before = client.get("/").get_data(as_text=True)
    assert "Scheduled news" not in before
    assert "Total: 1 articles" in before

    monkeypatch.setattr(dates, "utcnow", lambda: due + timedelta(seconds=1))
    after = client.get("/").get_data(as_text=True)
    assert "Scheduled news" in after
    assert "Total: 2 articles" in after
    local = dates.local_date(due, dates.site_zone(app.config["TIMEZONE"]))
    day = client.get(f"/archive/{local:%Y/%m/%d}/").get_data(as_text=True)
    assert "Scheduled news" in day


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/Los_Angeles"])
def test_the_masthead_moves_on_at_local_midnight_with_no_write(
    make_app, make_article, monkeypatch, zone
):
    app = make_app(TIMEZONE=zone)
    tz = dates.site_zone(zone)
    with app.app_context():
        make_article(title="Early today", published_at=at_local(0, 0, 10, zone))
    today = dates.local_today(tz)
    client = app.test_client()
    before = client.get("/").get_data(as_text=True)
    assert f'<time class="masthead-date" datetime="{today.isoformat()}">' in before
    assert f"/archive/{today:%Y/%m/%d}/" not in strip_counts(before)

    # 00:10 the next local day: the page, the calendar and the masthead were all made for
    # today, and nothing has been written since.
    tomorrow = today + timedelta(days=1)
    midnight = dates.day_bounds(tomorrow, tz)[0]
    monkeypatch.setattr(dates, "utcnow", lambda: midnight + timedelta(minutes=10))
    after = client.get("/").get_data(as_text=True)
    assert f'<time class="masthead-date" datetime="{tomorrow.isoformat()}">' in after
    assert strip_counts(after)[f"/archive/{today:%Y/%m/%d}/"] == f"{today:%d/%m/%Y} (1)"
