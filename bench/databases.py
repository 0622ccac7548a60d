"""Generated databases, made once with the app's own commands and kept between runs.

Each database has a JSON stamp in bench/data/ recording its size and how long `flask articles
generate` took, so later runs still report the generation time. A database is rebuilt only
when its stamp is missing or names another size (or the database itself is gone).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from . import DATA, LOGS, ROOT, TIMEZONE, VENV_BIN, app_env, label, log

SEED = 1
STAMP_FORMAT = 2
GENERATE_TIMEOUT = 3600.0


@dataclass(frozen=True)
class Database:
    """One generated database: where it is and how long generating it took."""

    backend: str
    size: int
    url: str
    generate_seconds: float
    generated_on: str

    @property
    def name(self) -> str:
        return f"{self.backend} {label(self.size)}"


def ensure(backend: str, size: int, pg_base: str) -> Database:
    """Return the database of `size` articles on `backend`, generating it when needed."""
    if backend == "sqlite":
        path = DATA / f"blog-{label(size)}.sqlite3"
        url, exists = f"sqlite:///{path}", path.exists()
    else:
        dbname = f"bench_{label(size)}"
        url, exists = pg_base.rstrip("/") + "/" + dbname, _pg_exists(pg_base, dbname)
    stamp_path = DATA / f"{backend}-{label(size)}.json"
    stamp = _read_stamp(stamp_path)
    if not exists or stamp is None or stamp.get("size") != size:
        log(f"{backend} {label(size)}: generating {size:,} articles (once; kept in bench/data)")
        _drop(backend, url, pg_base)
        stamp = _generate(backend, size, url)
        DATA.mkdir(parents=True, exist_ok=True)
        stamp_path.write_text(json.dumps(stamp, indent=2) + "\n")
    else:
        _upgrade(backend, size, url)
    return Database(backend, size, url, stamp["generate_seconds"], stamp["generated_on"])


def backend_pids(database: Database) -> list[int]:
    """Return the PostgreSQL server processes connected to the database (none for SQLite)."""
    if database.backend != "postgresql":
        return []
    dbname = database.url.rsplit("/", 1)[1]
    with psycopg.connect(database.url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (dbname,),
        ).fetchall()
    return [pid for (pid,) in rows]


def _read_stamp(path: Path) -> dict[str, Any] | None:
    try:
        stamp = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return stamp if stamp.get("format") == STAMP_FORMAT else None


def _generate(backend: str, size: int, url: str) -> dict[str, Any]:
    """Migrate, generate, analyse; return the stamp."""
    if backend == "postgresql":
        _pg_admin(url.rsplit("/", 1)[0], f'CREATE DATABASE "{url.rsplit("/", 1)[1]}"')
    else:
        DATA.mkdir(parents=True, exist_ok=True)  # the SQLite file lives there
    _flask(url, ["db", "upgrade"], f"{backend}-{label(size)}-upgrade")
    command = ["articles", "generate", "--count", str(size), "--seed", str(SEED)]
    started = time.monotonic()
    _flask(url, command, f"{backend}-{label(size)}-generate")
    seconds = time.monotonic() - started
    log(f"{backend} {label(size)}: generate took {seconds:.1f} s; analysing")
    _analyse(backend, url)
    return {
        "format": STAMP_FORMAT,
        "size": size,
        "seed": SEED,
        "timezone": TIMEZONE,
        "generate_seconds": round(seconds, 1),
        "generated_on": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _upgrade(backend: str, size: int, url: str) -> None:
    """Apply migrations added since the database was made; analyse again if any were."""
    before = _revision(backend, url)
    _flask(url, ["db", "upgrade"], f"{backend}-{label(size)}-upgrade")
    if _revision(backend, url) != before:
        log(f"{backend} {label(size)}: migrated; analysing")
        _analyse(backend, url)


def _revision(backend: str, url: str) -> str:
    query = "SELECT version_num FROM alembic_version"
    if backend == "sqlite":
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return ",".join(sorted(row[0] for row in conn.execute(query)))
    with psycopg.connect(url) as conn:
        return ",".join(sorted(row[0] for row in conn.execute(query)))


def _flask(url: str, args: list[str], log_name: str) -> None:
    """Run a flask command against url; raise with its output's tail when it fails."""
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"{log_name}.log"
    with log.open("wb") as out:
        result = subprocess.run(
            [str(VENV_BIN / "flask"), *args],
            cwd=ROOT,
            env=app_env(url),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=GENERATE_TIMEOUT,
            check=False,
        )
    if result.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"flask {' '.join(args)} failed ({result.returncode}):\n{tail}")


def _analyse(backend: str, url: str) -> None:
    """Give the query planner fresh statistics, as an operator would after a bulk load."""
    if backend == "sqlite":
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.execute("ANALYZE")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def _drop(backend: str, url: str, pg_base: str) -> None:
    if backend == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
        return
    _pg_admin(pg_base, f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def _pg_exists(pg_base: str, dbname: str) -> bool:
    with psycopg.connect(pg_base.rstrip("/") + "/postgres", autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
    return row is not None


def _pg_admin(pg_base: str, statement: str) -> None:
    with psycopg.connect(pg_base.rstrip("/") + "/postgres", autocommit=True) as conn:
        conn.execute(statement)  # type: ignore[arg-type]
