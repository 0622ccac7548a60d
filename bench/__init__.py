"""`make bench`: the site under gunicorn and wrk, beside a minimal Flask app (the floor).

Run `python -m bench --help`. Generated databases live in bench/data/, scratch files (URL
lists, logs, instance folder, nginx prefix) in bench/work/; both are git-ignored.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DATA = BENCH / "data"
WORK = BENCH / "work"
INSTANCE = WORK / "instance"
LOGS = WORK / "logs"
# The servers and commands under test run from the harness's own virtualenv (`make bench`: .venv).
VENV_BIN = Path(sys.executable).parent

SECRET_KEY = "bench-secret-not-for-production"
# A zone away from UTC, so local days and UTC days differ as they do on the real site.
TIMEZONE = "Asia/Riyadh"
# Inherited settings that would silently change what the server under test does.
_SCRUBBED_PREFIXES = ("BLOG_", "FLASK_", "GUNICORN_")
_SCRUBBED_NAMES = ("DATABASE_URL", "REDIS_URL")


def label(size: int) -> str:
    """Name a database size briefly: 140000 -> '140k', 1000000 -> '1m'."""
    if size % 1_000_000 == 0:
        return f"{size // 1_000_000}m"
    if size % 1_000 == 0:
        return f"{size // 1_000}k"
    return str(size)


def app_env(database_url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Build a clean environment for the app's commands and servers."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_SCRUBBED_PREFIXES) and key not in _SCRUBBED_NAMES
    }
    INSTANCE.mkdir(parents=True, exist_ok=True)
    env.update(
        FLASK_APP="wsgi:app",
        DATABASE_URL=database_url,
        BLOG_SECRET_KEY=SECRET_KEY,
        BLOG_INSTANCE_PATH=str(INSTANCE),
        BLOG_TIMEZONE=TIMEZONE,
        PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    return env


def log(message: str) -> None:
    """Print a timestamped progress line."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)
