"""Crashes under load: kill -9 a gunicorn worker, then the master, then start again.

Requests in flight when a process dies may get no answer; those saves were never acknowledged
and count for nothing. Every acknowledged save must survive the crash with its text (or a
later version the dead process stored without answering), SQLite must pass its integrity
check, and a new server on the same database must serve readers and take new articles.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from loadgen import (
    TIMEOUT,
    Traffic,
    answers,
    log_alarms,
    masthead_numbers,
    missing_or_wrong,
    seeded_database,
    sqlite_integrity,
    visible_by_day,
    wait_for,
)

from blog.dates import utcnow

from conftest import PASSWORD
from servers import GunicornServer

TIMEZONE = "Asia/Riyadh"
SETTINGS = {"TIMEZONE": TIMEZONE}
AUTHORS = ("amina", "burak", "chen", "dilnoza")
SEED_ARTICLES = 300
WORKERS = 4
# The traffic's upper bound; the faults end it sooner, after 10-20 s.
CRASH_SECONDS = 60.0


def busy_worker(pids: list[int], timeout: float = 3.0) -> int:
    """Return a worker that is running (likely mid-request) rather than waiting; else the first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in pids:
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            if stat[stat.rindex(")") + 2] == "R":
                return pid
    return pids[0]


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A new database with generated articles and four authors."""
    with seeded_database(
        backend,
        tmp_path,
        "crash",
        settings=SETTINGS,
        articles=SEED_ARTICLES,
        authors=AUTHORS,
        password=PASSWORD,
    ) as url:
        yield url


def test_kill_worker_then_master_loses_no_acknowledged_save(
    backend: str, database_url: str, tmp_path: Path
) -> None:
    server = GunicornServer(
        database_url, workers=WORKERS, settings=SETTINGS, workdir=tmp_path / "first"
    )
    replaced: list[tuple[int, int]] = []
    with server:
        traffic = Traffic(
            server.url,
            authors=AUTHORS,
            password=PASSWORD,
            readers=4,
            seconds=CRASH_SECONDS,
            seed=random.randrange(2**32),
        )
        ledger = traffic.ledger
        health = server.url + "/healthz"

        def faults() -> None:
            wait_for("the first saves", lambda: ledger.saves >= 8)
            workers = server.wait_for_workers()
            victim = busy_worker(workers)
            os.kill(victim, signal.SIGKILL)
            wait_for(
                "gunicorn to replace the killed worker",
                lambda: len(new := server.worker_pids()) == WORKERS and victim not in new,
            )
            replacement = sorted(set(server.worker_pids()) - set(workers))
            replaced.append((victim, replacement[0]))
            wait_for("/healthz after the worker died", lambda: answers(server.url + "/healthz"))
            wait_for("the home page after the worker died", lambda: answers(server.url + "/"))
            saves = ledger.saves
            wait_for("saves after the worker died", lambda: ledger.saves >= saves + 8)
            # Mid-traffic: requests are in flight on the workers when the master dies. Orphaned
            # sync workers keep serving while clients keep coming, so stop() SIGKILLs them
            # with the traffic still running: the writes they had in hand die with them.
            server.kill_master()
            server.stop()
            wait_for("the site to go away", lambda: not answers(health))
            traffic.stop()

        traffic.run(during=faults)
        first_logs = server.logs()
    # Leaving the block reaped the orphaned workers: nothing of the first server runs now.
    tally = traffic.tally
    print(
        f"{tally.requests} answers, {ledger.saves} saves, {ledger.unacknowledged} unanswered "
        f"edits, worker {replaced} replaced"
    )
    print(tally.summary())
    assert replaced, "no worker was replaced"
    assert tally.server_errors() == {}, tally.summary()
    assert tally.problems == []
    assert log_alarms(first_logs) == []

    if backend == "sqlite":
        assert sqlite_integrity(Path(database_url.removeprefix("sqlite:///"))) == "ok"
    assert missing_or_wrong(database_url, ledger.expected()) == []

    restarted = GunicornServer(
        database_url, workers=2, settings=SETTINGS, workdir=tmp_path / "second"
    )
    with restarted:
        assert restarted.get_status("/healthz") == 200
        with requests.get(restarted.url + "/", timeout=TIMEOUT) as home:
            assert home.status_code == 200
            strip, total = masthead_numbers(home.text)
        now = utcnow()
        by_day = visible_by_day(database_url, ZoneInfo(TIMEZONE), now)
        assert total == sum(by_day.values())
        assert strip == {day: by_day[day] for day in strip}
        # The database still takes writes: a short burst of the same traffic, without faults.
        after = Traffic(restarted.url, authors=AUTHORS[:2], password=PASSWORD, readers=2, seconds=3)
        after.run()
        second_logs = restarted.logs()
    assert after.tally.problems == []
    assert after.ledger.saves > 0
    assert sum(after.tally.connection_errors.values()) == 0
    assert log_alarms(second_logs) == []
    assert missing_or_wrong(database_url, after.ledger.expected()) == []
    assert missing_or_wrong(database_url, ledger.expected()) == []
    if backend == "sqlite":
        assert sqlite_integrity(Path(database_url.removeprefix("sqlite:///"))) == "ok"
