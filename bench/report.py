"""The results table, with each row judged against the targets of issue 4."""

from __future__ import annotations

import os
import platform
import sys
import time
from dataclasses import dataclass, field
from importlib.metadata import version

from . import TIMEZONE, label
from .databases import Database
from .wrk import Result, Settings, mean

# Requests/s as a fraction of the floor's, per page kind.
RATIO_TARGETS = {"home": 0.60, "article": 0.35, "day": 0.30, "month": 0.25, "year": 0.25}
P99_TARGET_MS = 50.0
DEEP_P50_TARGET = 1.2
GENERATE_TARGET_S = 300.0
GENERATE_TARGET_SIZE = 1_000_000


@dataclass(frozen=True)
class Pair:
    """One round of a page kind: the floor's and the page's loads, taken in turns."""

    floor: Result
    page: Result
    other: float  # the share of CPU other processes took during the round

    def ratio(self) -> float:
        return self.page.rps / self.floor.rps if self.floor.rps else 0.0


@dataclass
class Section:
    """One database served and measured: the site's pages and the floor beside them."""

    database: Database
    workers: int = 0
    home_bytes: int = 0
    rounds: dict[str, list[Pair]] = field(default_factory=dict)  # by page kind, as measured
    site_rss_kib: int = 0
    floor_rss_kib: int = 0
    restarts: int = 0
    load: list[float] = field(default_factory=list)  # 1-minute load average, before and after
    error: str = ""

    @property
    def floor(self) -> Result | None:
        """The floor's loads in every round, averaged (None before the first round)."""
        runs = [pair.floor for pairs in self.rounds.values() for pair in pairs]
        return mean(runs) if runs else None

    @property
    def floor_other(self) -> float:
        """The largest share of CPU other processes took in a round."""
        return max((pair.other for pairs in self.rounds.values() for pair in pairs), default=0.0)

    def median(self, kind: str) -> Pair:
        """The round of a page kind that counts: the median ratio (of two middles, the lower)."""
        ranked = sorted(self.rounds[kind], key=Pair.ratio)
        return ranked[(len(ranked) - 1) // 2]

    @property
    def pages(self) -> dict[str, Result]:
        """Each measured page kind's counting run."""
        return {kind: self.median(kind).page for kind in self.rounds if self.rounds[kind]}


def render(
    sections: list[Section], settings: Settings, seconds: float, patience: float, rounds: int
) -> str:
    """Return the whole Markdown report."""
    workers = sorted({s.workers for s in sections if s.workers})
    lines = [
        "# Benchmark results",
        "",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M %Z')}; the whole run took {seconds / 60:.1f} min.",
        f"- Machine: {machine()}.",
        f"- Server: gunicorn {version('gunicorn')} with the repo's gunicorn.conf.py, "
        f"{'/'.join(map(str, workers)) or '?'} sync workers; no REDIS_URL (cache per worker); "
        f"BLOG_TIMEZONE={TIMEZONE}.",
        f"- Load: `{settings.describe()}` on loopback, after a short warm-up; every page kind "
        "but home asks for a different random real URL on each request (bench/urls.lua).",
        "- Noise: the machine is shared; before each round the harness waits for other work "
        f"to use under 15% of the CPU and repeats a disturbed round once ({patience:.0f} s budget "
        "in all), keeping the quieter one.",
        "- Floor: bench/floor.py, a Flask app answering a fixed page as large as the home "
        "page, same gunicorn command and settings, served beside the site. The machine's "
        "speed drifts over minutes and over seconds, so each page kind is loaded in turns "
        f"with the floor, {settings.slices} slices of {settings.slice.duration} s of each "
        "(floor, page, floor, page, ...), and its ratio is its requests over its slices' "
        "time to the floor's over theirs; p50 is the slices' weighted by requests, p99 the "
        f"worst slice's. Every page kind is measured in {rounds} such "
        f"{'round' if rounds == 1 else 'rounds'} spread over "
        "the database's whole run; a row shows the round with the median ratio, and the "
        "lowest and highest ratio in brackets. The floor row shows the mean of all the "
        "floor's rounds.",
        "- Targets (issue 4): requests/s vs floor: home 0.60, article 0.35, day 0.30, month "
        f"and year 0.25; deep listing p50 within {DEEP_P50_TARGET}x page one's (home); "
        f"p99 under {P99_TARGET_MS:.0f} ms everywhere; generate of a million under 5 min.",
        "",
        "| Database | Articles | Page | req/s | p50 ms | p99 ms | Other CPU | vs floor | Target "
        "| Met |",
        "|---|---:|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for section in sections:
        lines += _page_rows(section)
    lines += [
        "",
        "| Database | Articles | generate | Target | Peak RSS per worker (site / floor) "
        "| Home page | Worker restarts | Load before / after |",
        "|---|---:|---:|---|---|---:|---:|---|",
    ]
    lines += [_database_row(section) for section in sections]
    lines += [
        "",
        "Worker restarts are gunicorn's max_requests recycling during the runs (a fresh "
        "worker's first requests are slower). Failed responses (HTTP status above 399) or "
        "socket errors fail a row. The machine is shared: *Other CPU* is the share of all CPU "
        "time that processes other than the server under test (with its PostgreSQL "
        "connections), wrk and the harness used during the run (bench/cpu.py); rows with a "
        "large share are noisy. PostgreSQL's short-lived parallel query workers count as other.",
    ]
    return "\n".join(lines) + "\n"


def _page_rows(section: Section) -> list[str]:
    db = section.database
    lead = f"| {db.backend} | {label(db.size)} "
    if section.error:
        return [lead + f"| (failed) | | | | | | | **{section.error}** |"]
    rows = []
    floor = section.floor
    if floor is not None:
        other = f"{section.floor_other:.0%}"
        rows.append(lead + f"| floor | {_numbers(floor)} | {other} | 1.00 | | {_errors(floor)} |")
    pages = section.pages
    for kind, result in pages.items():
        counted = section.median(kind)
        ratio = counted.ratio() if counted.floor.rps else None
        target, problems = _judge(kind, result, ratio, pages)
        shown = f"{ratio:.2f}" if ratio is not None else "?"
        ratios = [pair.ratio() for pair in section.rounds[kind]]
        if min(ratios) != max(ratios):  # more than one round, and they differed
            shown += f" ({min(ratios):.2f}-{max(ratios):.2f})"
        met = "yes" if not problems else "**no**: " + "; ".join(problems)
        other = f"{counted.other:.0%}"
        rows.append(
            lead + f"| {kind} | {_numbers(result)} | {other} | {shown} | {target} | {met} |"
        )
    return rows


def _judge(
    kind: str, result: Result, ratio: float | None, pages: dict[str, Result]
) -> tuple[str, list[str]]:
    """Return the row's target text and what it misses (empty: met)."""
    targets, problems = [], []
    if not result.requests:
        return "", ["no request completed"]
    if kind in RATIO_TARGETS:
        goal = RATIO_TARGETS[kind]
        targets.append(f"≥ {goal:.2f} floor")
        if ratio is None or ratio < goal:
            shown = f"{ratio or 0:.2f}"
            # A miss that two places would round up to the goal is shown with three.
            problems.append(f"{shown if float(shown) < goal else f'{ratio or 0:.3f}'} of floor")
    home, front = pages.get("home"), pages.get("listing-front")
    if kind == "listing-deep" and home is not None:
        factor = result.p50_ms / home.p50_ms if home.p50_ms else float("inf")
        also = (
            f"; {result.p50_ms / front.p50_ms:.2f}x front pages'" if front and front.p50_ms else ""
        )
        targets.append(f"p50 ≤ {DEEP_P50_TARGET}x home's (is {factor:.2f}x{also})")
        if factor > DEEP_P50_TARGET:
            problems.append(f"p50 {factor:.2f}x home's")
    targets.append(f"p99 < {P99_TARGET_MS:.0f} ms")
    if result.p99_ms >= P99_TARGET_MS:
        problems.append(f"p99 {result.p99_ms:.0f} ms")
    if errors := _errors(result):
        problems.append(errors)
    return ", ".join(targets), problems


def _database_row(section: Section) -> str:
    db = section.database
    target, met = "", ""
    if db.size >= GENERATE_TARGET_SIZE:
        target = "< 5 min for 1m"
        met = " (met)" if db.generate_seconds < GENERATE_TARGET_S else " (**not met**)"
    rss = f"{section.site_rss_kib / 1024:.0f} / {section.floor_rss_kib / 1024:.0f} MiB"
    return (
        f"| {db.backend} | {label(db.size)} | {db.generate_seconds:.0f} s | {target}{met} "
        f"| {rss} | {section.home_bytes:,} B | {section.restarts} "
        f"| {' / '.join(f'{load:.1f}' for load in section.load)} |"
    )


def _numbers(result: Result) -> str:
    return f"{result.rps:,.0f} | {result.p50_ms:.1f} | {result.p99_ms:.1f}"


def _errors(result: Result) -> str:
    parts = []
    if result.failed:
        parts.append(f"{result.failed} failed responses")
    if result.socket_errors:
        parts.append(f"{result.socket_errors} socket errors")
    return ", ".join(parts)


def load_average() -> float:
    """Return the 1-minute load average."""
    return os.getloadavg()[0]


def machine() -> str:
    """Describe the machine: cores, CPU model, memory, kernel, Python."""
    model = ""
    try:
        for line in open("/proc/cpuinfo", encoding="ascii", errors="replace"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        kib = next(
            int(line.split()[1])
            for line in open("/proc/meminfo", encoding="ascii")
            if line.startswith("MemTotal:")
        )
    except (OSError, StopIteration):
        kib = 0
    return (
        f"{os.cpu_count()} cores ({model or platform.machine()}), {kib / 1024 / 1024:.1f} GiB "
        f"RAM, Linux {platform.release()}, {interpreter()}"
    )


def interpreter() -> str:
    """Name the Python that ran the servers (the harness's own, from the same virtualenv).

    How it was built matters: with an interpreter that runs from a shared libpython
    (pyenv's default build), gunicorn served the site's pages 3-26% and the floor 15-17%
    more slowly here than with Debian's own statically linked python3.
    """
    try:
        with open("/proc/self/maps", encoding="ascii", errors="replace") as maps:
            shared = any("libpython" in line for line in maps)
    except OSError:
        return f"Python {platform.python_version()} ({sys.executable})"
    linked = "from a shared libpython" if shared else "statically linked"
    return f"Python {platform.python_version()} ({os.path.realpath(sys.executable)}, {linked})"
