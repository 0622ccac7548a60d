"""`flask db backup FILE` while authors publish through a live SQLite site, then restore it.

The copy must pass SQLite's integrity check, hold every article acknowledged before the
backup started (with that text, or a later one it caught), and serve as a site of its own.
PostgreSQL is backed up with pg_dump (see the README), so this test is SQLite's alone.
"""

from __future__ import annotations

import html
import random
import subprocess
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import requests
from loadgen import (
    TIMEOUT,
    Traffic,
    log_alarms,
    masthead_numbers,
    missing_or_wrong,
    seed_site,
    sqlite_integrity,
    stored,
    visible_by_day,
    wait_for,
)

from blog.dates import utcnow

from conftest import PASSWORD
from servers import REPO_ROOT, GunicornServer, server_env, sqlite_url, venv_bin

TIMEZONE = "Asia/Riyadh"
SETTINGS = {"TIMEZONE": TIMEZONE}
AUTHORS = ("amina", "burak", "chen")
SEED_ARTICLES = 2000
# An upper bound: the traffic stops as soon as the backup is done and checked.
TRAFFIC_SECONDS = 60.0


def test_backup_during_writes_restores_to_a_working_site(tmp_path: Path) -> None:
    database = tmp_path / "live" / "blog.sqlite3"
    database.parent.mkdir()
    database_url = sqlite_url(database)
    seed_site(
        database_url,
        tmp_path / "seed",
        settings=SETTINGS,
        articles=SEED_ARTICLES,
        authors=AUTHORS,
        password=PASSWORD,
    )
    backup_file = tmp_path / "backups" / "blog-backup.sqlite3"
    backup_file.parent.mkdir()
    operator = tmp_path / "operator"
    results: list[subprocess.CompletedProcess[str]] = []
    marks: list[int] = []
    during: list[int] = []

    with GunicornServer(
        database_url, workers=3, settings=SETTINGS, workdir=tmp_path / "server"
    ) as server:
        traffic = Traffic(
            server.url,
            authors=AUTHORS,
            password=PASSWORD,
            readers=2,
            seconds=TRAFFIC_SECONDS,
            seed=random.randrange(2**32),
        )
        ledger = traffic.ledger

        def back_up() -> None:
            wait_for("the first saves", lambda: ledger.saves >= 12)
            marks.append(ledger.mark())
            before, started = ledger.saves, time.monotonic()
            results.append(
                subprocess.run(
                    [str(venv_bin("flask")), "--app", "wsgi:app", "db", "backup", str(backup_file)],
                    cwd=REPO_ROOT,
                    env=server_env(database_url, operator, settings=SETTINGS),
                    capture_output=True,
                    text=True,
                    timeout=120,
                    check=False,
                )
            )
            saves = ledger.saves
            during.extend([saves - before, round(time.monotonic() - started, 1)])
            # Writers kept going across the backup: it really ran beside them.
            wait_for("saves after the backup", lambda: ledger.saves >= saves + 3)
            traffic.stop()

        traffic.run(during=back_up)
        live_logs = server.logs()

    result = results[0]
    assert result.returncode == 0, result.stdout + result.stderr
    print(
        result.stdout.strip(),
        f"({during[0]} saves during its {during[1]} s, {ledger.saves} in all)",
    )
    assert traffic.tally.problems == []
    assert sum(traffic.tally.connection_errors.values()) == 0
    assert log_alarms(live_logs) == []
    assert sqlite_integrity(backup_file) == "ok"

    expected = ledger.expected(before=marks[0])
    assert len(expected) >= 4
    backup_url = sqlite_url(backup_file)
    assert missing_or_wrong(backup_url, expected) == []
    # The live database, for its part, lost nothing acknowledged at all.
    assert missing_or_wrong(database_url, ledger.expected()) == []

    with GunicornServer(
        backup_url, workers=2, settings=SETTINGS, workdir=tmp_path / "restored"
    ) as restored:
        assert restored.get_status("/healthz") == 200
        with requests.get(restored.url + "/", timeout=TIMEOUT) as home:
            assert home.status_code == 200
            strip, total = masthead_numbers(home.text)
        by_day = visible_by_day(backup_url, ZoneInfo(TIMEZONE), utcnow())
        assert total == sum(by_day.values())
        assert strip == {day: by_day[day] for day in strip}
        # Every article the backup promised is a page readers reach, under its stored title.
        titles = stored(backup_url, sorted(expected))
        with requests.Session() as reader:
            for article_id, (title, _body) in titles.items():
                url = f"{restored.url}/article/{article_id}/"
                with reader.get(url, timeout=TIMEOUT) as page:
                    assert page.status_code == 200, url
                    assert title in html.unescape(page.text)
        restored_logs = restored.logs()
    assert log_alarms(restored_logs) == []
