"""`python -m bench`: measure every page kind on each database beside the framework floor."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from . import BENCH, WORK, app_env, label, log, urls, wrk
from .cpu import Meter, Patience
from .databases import Database, backend_pids, ensure
from .report import Pair, Section, load_average, render
from .server import Gunicorn, fetch

QUICK_SIZE = 5000
URLS_PER_KIND = 5000
CHECKED_PER_KIND = 10


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark described by the command line; return the exit status."""
    args = _parse(argv)
    # A plain `kill` unwinds like Ctrl-C, so the servers started here are stopped too.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    if args.nginx:
        from . import nginx

        return nginx.main(args)
    settings = wrk.Settings(args.threads, args.connections, args.duration, args.slices)
    started = time.monotonic()
    sections: list[Section] = []
    for backend in args.backends:
        for size in args.sizes:
            section = _measure(backend, size, args, settings)
            sections.append(section)
    seconds = time.monotonic() - started
    text = render(sections, settings, seconds, args.patience_seconds, args.rounds)
    print("\n" + text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    log(f"wrote {args.output}")
    return 1 if any(section.error for section in sections) else 0


def _exit_on_signal(number: int, frame: object) -> None:
    raise SystemExit(128 + number)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--sizes", type=_ints, help="article counts (default 140000,1000000)")
    parser.add_argument("--backends", type=_names(("sqlite", "postgresql")))
    parser.add_argument("--kinds", type=_names(urls.KINDS), default=list(urls.KINDS))
    parser.add_argument(
        "--duration", type=int, help="seconds of load per page kind and round (default 6)"
    )
    parser.add_argument(
        "--slices", type=int, help="turns of floor then page the duration is cut into (3)"
    )
    parser.add_argument(
        "--rounds", type=int, help="floor-and-page rounds per page kind; the median counts (3)"
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, help="default: gunicorn.conf.py's")
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK_SIZE}, 3 s")
    parser.add_argument("--nginx", action="store_true", help="nginx micro-caching vs static")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--output", type=Path, help="default bench/results.md")
    parser.add_argument(
        "--patience",
        type=float,
        default=300.0,
        help="seconds, in all, to wait for other work on the machine to stop (default 300)",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    args.sizes = args.sizes or ([QUICK_SIZE] if quick else [140_000, 1_000_000])
    args.backends = args.backends or ["sqlite", "postgresql"]
    args.duration = args.duration or (3 if quick else 6)
    args.slices = args.slices or (1 if quick else 3)
    args.rounds = args.rounds or (1 if quick else 3)
    args.warmup = 1 if quick else 2
    args.url_count = 1000 if quick else URLS_PER_KIND
    args.patience_seconds = 0.0 if quick else args.patience
    args.patience = Patience(args.patience_seconds)
    # A smoke run must not replace the real table the README shows.
    args.output = args.output or (WORK / "results-quick.md" if quick else BENCH / "results.md")
    return args


def _ints(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part]


def _names(allowed: tuple[str, ...]) -> object:
    def parse(text: str) -> list[str]:
        names = [part for part in text.split(",") if part]
        unknown = set(names) - set(allowed)
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown {sorted(unknown)}; choose from {allowed}")
        return names

    return parse


def _measure(backend: str, size: int, args: argparse.Namespace, settings: wrk.Settings) -> Section:
    """Generate (once), serve and measure one database beside the floor; never raise."""
    placeholder = Database(backend, size, "", 0.0, "")
    section = Section(placeholder)
    try:
        section.database = ensure(backend, size, args.pg_url)
        section.load.append(load_average())
        _measure_site(section, args, settings)
        section.load.append(load_average())
    except Exception as error:  # noqa: BLE001 - one failed database must not hide the others
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        section.error = first_line.replace("|", "/")[:200]
        log(f"{backend} {label(size)}: FAILED: {error}")
    return section


def _measure_site(section: Section, args: argparse.Namespace, settings: wrk.Settings) -> None:
    db = section.database
    name = f"site-{db.backend}-{label(db.size)}"
    with Gunicorn(name, "wsgi:app", app_env(db.url), args.workers) as server:
        section.workers = server.wait_workers()
        status, body = fetch(server.url + "/")
        if status != 200:
            raise RuntimeError(f"GET / answered {status}:\n{server.tail()}")
        section.home_bytes = len(body)
        log(f"{db.name}: {section.workers} workers on {server.url}; home {len(body):,} bytes")
        paths = urls.draw(db.url, args.url_count)
        paths = {kind: paths[kind] for kind in args.kinds if paths.get(kind)}
        _check(server.url, paths)
        files = urls.write(paths, f"{db.backend}-{label(db.size)}")
        mixed = urls.write({"mixed": [p for kind in paths for p in paths[kind]]}, name)["mixed"]
        wrk.run(server.url, mixed, settings, duration=args.warmup * 2)
        section.rounds = {kind: [] for kind in files}
        with _floor_server(section, args, settings) as floor:
            # The machine's speed drifts, over minutes and over seconds: each page kind is
            # measured in turns with the floor, a few seconds of each (the site's workers idle
            # meanwhile, and the floor's during the page), and judged against the floor's
            # slices beside its own; every kind is measured in several such rounds spread
            # over the whole run, of which the median pair counts.
            for _ in range(args.rounds):
                for kind, path in files.items():
                    # The site sat idle through the other kinds: warm it up on this one again.
                    wrk.run(server.url, path, settings, duration=args.warmup)
                    pair = _in_turns(server, floor, path, settings, args.patience, db)
                    section.rounds[kind].append(pair)
                    server.sample_rss()
                    floor.sample_rss()
                    _progress(db, kind, pair, len(paths[kind]))
            section.floor_rss_kib = floor.peak_rss_kib
        section.site_rss_kib = server.peak_rss_kib
        section.restarts = server.restarts


@contextmanager
def _floor_server(
    section: Section, args: argparse.Namespace, settings: wrk.Settings
) -> Iterator[Gunicorn]:
    """Serve the floor app, a page as large as the home page, warmed up."""
    db = section.database
    name = f"floor-{db.backend}-{label(db.size)}"
    env = app_env(db.url, {"BENCH_FLOOR_BYTES": str(section.home_bytes)})
    with Gunicorn(name, "bench.floor:app", env, args.workers) as server:
        server.wait_workers()
        wrk.run(server.url, _floor_urls(), settings, duration=args.warmup)
        yield server


def _floor_urls() -> Path:
    return urls.write({"home": ["/"]}, "floor")["home"]


def _in_turns(
    site: Gunicorn,
    floor: Gunicorn,
    urls: Path,
    settings: wrk.Settings,
    patience: Patience,
    database: Database,
) -> Pair:
    """Load the floor and the site in turns, slice by slice, once the machine is quiet;
    do it again if other work disturbed it (bounded)."""

    def ours() -> list[int]:
        servers = [site.pid, *site.worker_pids(), floor.pid, *floor.worker_pids()]
        return servers + backend_pids(database)

    floor_urls = _floor_urls()
    best: Pair | None = None
    while True:
        patience.wait_quiet()
        floors, pages = [], []
        with Meter(ours) as meter:
            for _ in range(settings.slices):
                floors.append(wrk.run(floor.url, floor_urls, settings.slice))
                pages.append(wrk.run(site.url, urls, settings.slice))
        pair = Pair(wrk.join(floors), wrk.join(pages), meter.foreign)
        if best is None or pair.other < best.other:
            best = pair
        if not patience.retry(meter.foreign, 2 * settings.duration):
            return best
        log(f"  other processes took {meter.foreign:.0%} of the CPU: running it again")


def _check(base_url: str, paths: dict[str, list[str]]) -> None:
    """Make sure the drawn URLs answer 200 (no redirect, no 404) before measuring them."""
    for kind, kind_paths in paths.items():
        # The first few and the last: for listing-deep, the very last page of the site.
        for path in kind_paths[:CHECKED_PER_KIND] + kind_paths[-1:]:
            status, _ = fetch(base_url + path)
            if status != 200:
                raise RuntimeError(f"{kind} URL {path} answered {status}, not 200")


def _progress(db: Database, kind: str, pair: Pair, urls: int) -> None:
    page = pair.page
    count = page.failed + page.socket_errors + pair.floor.failed + pair.floor.socket_errors
    errors = f", {count} ERRORS" if count else ""
    log(
        f"{db.name}: {kind:<13} {page.rps:8,.0f} req/s  p50 {page.p50_ms:6.1f} ms  "
        f"p99 {page.p99_ms:6.1f} ms  floor {pair.floor.rps:8,.0f} req/s  "
        f"{pair.ratio():.2f} of floor  ({urls} URLs, other CPU {pair.other:.0%}{errors})"
    )


if __name__ == "__main__":
    sys.exit(main())
