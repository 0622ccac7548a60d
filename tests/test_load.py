"""Mixed traffic against gunicorn with four workers, on SQLite and on PostgreSQL.

Readers fetch every page kind while four authors publish and edit through the form. Nothing
may answer 5xx or mention a locked database, and every save the server acknowledged must be
in the database afterwards with exactly the title and body that were sent. The masthead's
total and day strip (kept from day_counts) must equal a direct count of the articles table.
BLOG_LOAD_SECONDS sets how long the traffic runs (default 60 s, as the issue asks).
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from loadgen import (
    READER_KINDS,
    TIMEOUT,
    Traffic,
    log_alarms,
    masthead_numbers,
    missing_or_wrong,
    seeded_database,
    visible_by_day,
)

from blog.dates import utcnow

from conftest import PASSWORD
from servers import GunicornServer

LOAD_SECONDS = float(os.environ.get("BLOG_LOAD_SECONDS", "60"))
# Shorter runs (a quick local try) skip the checks that the traffic covered every kind.
MEANINGFUL_SECONDS = 20.0
TIMEZONE = "Asia/Riyadh"
SETTINGS = {"TIMEZONE": TIMEZONE}
AUTHORS = ("amina", "burak", "chen", "dilnoza")
SEED_ARTICLES = 500
READERS = 6
WORKERS = 4


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new database with generated articles and four authors."""
    with seeded_database(
        request.param,
        tmp_path,
        "load",
        settings=SETTINGS,
        articles=SEED_ARTICLES,
        authors=AUTHORS,
        password=PASSWORD,
    ) as url:
        yield url


def test_mixed_traffic_loses_nothing(database_url: str, tmp_path: Path) -> None:
    seed = random.randrange(2**32)
    server = GunicornServer(
        database_url, workers=WORKERS, settings=SETTINGS, workdir=tmp_path / "server"
    )
    with server:
        traffic = Traffic(
            server.url,
            authors=AUTHORS,
            password=PASSWORD,
            readers=READERS,
            seconds=LOAD_SECONDS,
            seed=seed,
        )
        traffic.run()
        with requests.get(server.url + "/", timeout=TIMEOUT) as home:
            assert home.status_code == 200
            strip, total = masthead_numbers(home.text)
        now = utcnow()
        logs = server.logs()
    tally, ledger = traffic.tally, traffic.ledger
    print(f"seed {seed}, {LOAD_SECONDS:.0f} s, {tally.requests} requests, {ledger.saves} saves")
    print(tally.summary())

    assert tally.server_errors() == {}, tally.summary()
    assert tally.problems == []
    assert sum(tally.connection_errors.values()) == 0, tally.summary()
    assert log_alarms(logs) == [], logs[-5000:]
    assert ledger.unacknowledged == 0
    if LOAD_SECONDS >= MEANINGFUL_SECONDS:
        # The run did what it claims: every page kind read, every author saving and editing.
        kinds_read = {kind for kind, status in tally.statuses if status == 200}
        assert set(READER_KINDS) <= kinds_read, tally.summary()
        for author in AUTHORS:
            assert len(ledger.ids_of(author)) >= 2, f"{author} published almost nothing"
        assert ledger.saves > len(ledger.articles), "no edit was acknowledged"

    assert missing_or_wrong(database_url, ledger.expected()) == []
    by_day = visible_by_day(database_url, ZoneInfo(TIMEZONE), now)
    assert total == sum(by_day.values())
    assert strip and strip == {day: by_day[day] for day in strip}
