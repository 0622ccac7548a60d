"""Two hosts: two gunicorn servers sharing one PostgreSQL database and one Redis.

What one host writes, the other shows on its very next request: the article on the home page,
in the day strip and in the total, even when the other host had that page cached. A sign-in
limit reached on one host holds on the other, because the counters live in Redis. Each test
gets its own database and its own Redis key prefix, so parallel runs share nothing.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from loadgen import (
    TIMEOUT,
    create_authors,
    log_alarms,
    masthead_numbers,
    redis_namespace,
    require_postgres,
    require_redis,
    save_article,
    scratch_postgres,
    seed_site,
    sign_in,
    teaser_titles,
    visible_by_day,
)

from blog.dates import utcnow

from conftest import PASSWORD
from servers import GunicornServer

TIMEZONE = "Asia/Riyadh"
ACCOUNT_LIMIT = 3
ADDRESS_LIMIT = 6
# Hours, not minutes: a window must not roll over in the middle of the test.
LIMITS = {
    "LOGIN_LIMITS": f"{ACCOUNT_LIMIT} per hour",
    "LOGIN_ADDRESS_LIMITS": f"{ADDRESS_LIMIT} per hour",
}
WRONG = "not the password"


@dataclass
class Hosts:
    a: GunicornServer
    b: GunicornServer
    database_url: str


@pytest.fixture
def hosts(tmp_path: Path) -> Iterator[Hosts]:
    """Servers A and B on different ports, one fresh PostgreSQL database, one Redis prefix."""
    server_url = require_postgres()
    redis_url = require_redis()
    with (
        scratch_postgres(server_url, "hosts") as database_url,
        redis_namespace(redis_url, "hosts") as prefix,
    ):
        settings = {
            "TIMEZONE": TIMEZONE,
            "CACHE_KEY_PREFIX": prefix,
            "RATELIMIT_KEY_PREFIX": prefix,
            **LIMITS,
        }
        seed_site(
            database_url,
            tmp_path / "seed",
            settings=settings,
            articles=40,
            authors=["reporter"],
            password=PASSWORD,
        )
        create_authors(database_url, ["victim", "bystander"], PASSWORD)
        a = GunicornServer(
            database_url, workers=2, redis_url=redis_url, settings=settings, workdir=tmp_path / "a"
        )
        b = GunicornServer(
            database_url, workers=2, redis_url=redis_url, settings=settings, workdir=tmp_path / "b"
        )
        with a, b:
            assert a.port != b.port
            yield Hosts(a, b, database_url)
            logs = a.logs() + b.logs()
        assert log_alarms(logs) == []


def local_input(day: date, hour: int) -> str:
    """Return the form value of a site-local time: YYYY-MM-DDTHH:MM."""
    return datetime(day.year, day.month, day.day, hour, 0).strftime("%Y-%m-%dT%H:%M")


def home(server: GunicornServer, etag: str | None = None) -> tuple[int, str, str]:
    """GET a host's home page as an anonymous reader: status, body and ETag."""
    headers = {"If-None-Match": etag} if etag else {}
    with requests.get(server.url + "/", headers=headers, timeout=TIMEOUT) as response:
        return response.status_code, response.text, response.headers.get("ETag", "")


def page_text(server: GunicornServer, path: str) -> str:
    """GET a page as an anonymous reader; return its text with entities decoded."""
    with requests.get(server.url + path, timeout=TIMEOUT) as response:
        assert response.status_code == 200, path
        return html.unescape(response.text)


def test_article_published_on_a_is_on_b_at_once(hosts: Hosts) -> None:
    a, b = hosts.a, hosts.b
    tz = ZoneInfo(TIMEZONE)
    yesterday = utcnow().astimezone(tz).date() - timedelta(days=1)
    day_path = f"/archive/{yesterday:%Y/%m/%d}/"
    baseline = visible_by_day(hosts.database_url, tz, utcnow())

    with requests.Session() as author:
        assert sign_in(author, a.url, "reporter", PASSWORD) == 303

        # B has not rendered this content version: its first request after A's redirect.
        first = "Bridge reopens after repairs (first)"
        status, first_id = save_article(
            author,
            a.url,
            title=first,
            body="The first report.",
            status="published",
            published_at=local_input(yesterday, 10),
        )
        assert status in (302, 303) and first_id is not None
        status, page, etag = home(b)
        assert status == 200
        strip, total = masthead_numbers(page)
        assert strip[yesterday] == baseline[yesterday] + 1
        assert total == sum(baseline.values()) + 1
        assert first in teaser_titles(page)

        # B has the page cached (and the reader its ETag) when A publishes the next one.
        assert home(a)[0] == 200
        assert home(b, etag)[0] == 304
        second = "Night market opens on the corniche (second)"
        status, second_id = save_article(
            author,
            a.url,
            title=second,
            body="The second report.",
            status="published",
            published_at=local_input(yesterday, 11),
        )
        assert status in (302, 303) and second_id is not None
        status, page, new_etag = home(b, etag)
        assert status == 200 and new_etag != etag
        strip, total = masthead_numbers(page)
        assert strip[yesterday] == baseline[yesterday] + 2
        assert total == sum(baseline.values()) + 2
        titles = teaser_titles(page)
        assert second in titles and first in titles
        assert titles.index(second) < titles.index(first)
        assert second in page_text(b, day_path)
        assert second in page_text(b, f"/article/{second_id}/")

        # An edit through A renames the article on B's cached pages just as fast.
        renamed = "Night market opens on the corniche (renamed)"
        status, _ = save_article(author, a.url, second_id, title=renamed)
        assert status in (302, 303)
        status, page, _ = home(b, new_etag)
        assert status == 200
        titles = teaser_titles(page)
        assert renamed in titles and second not in titles
        assert masthead_numbers(page)[1] == total


def attempt(server: GunicornServer, username: str, password: str) -> int:
    """Sign in once on a host with a new browser session; return the POST's status."""
    with requests.Session() as session:
        return sign_in(session, server.url, username, password)


def test_sign_in_limits_hit_on_a_hold_on_b(hosts: Hosts) -> None:
    a, b = hosts.a, hosts.b

    # Guess one account's password on A until A refuses.
    statuses = [attempt(a, "victim", WRONG) for _ in range(ACCOUNT_LIMIT + 1)]
    assert statuses == [200] * ACCOUNT_LIMIT + [429]
    # B refuses the next guess at once, and the right password too: moving to another host
    # gives a guesser nothing, and the account limit is all that stops a spread-out guesser.
    assert attempt(b, "victim", WRONG) == 429
    assert attempt(b, "victim", PASSWORD) == 429
    # Other accounts still sign in on B (and on A) from the same address.
    assert attempt(b, "bystander", PASSWORD) == 303
    assert attempt(a, "bystander", PASSWORD) == 303

    # The per-address limit is shared as well: A's failures count on B. Each name below is
    # new, so only the address limit can refuse it.
    used = ACCOUNT_LIMIT
    statuses = [attempt(a, f"stranger{n}", WRONG) for n in range(ADDRESS_LIMIT - used + 1)]
    assert statuses == [200] * (ADDRESS_LIMIT - used) + [429]
    assert attempt(b, "stranger-on-b", WRONG) == 429
    assert attempt(b, "bystander", PASSWORD) == 429
