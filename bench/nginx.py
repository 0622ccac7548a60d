"""`python -m bench --nginx`: nginx micro-caching in front of gunicorn, beside a static file.

The site's anonymous pages carry `Cache-Control: public, max-age=0, s-maxage=N` and an ETag,
so nginx may keep them for N seconds (SHARED_CACHE_SECONDS) and revalidate with a cheap 304
after; signed-in pages say `private, no-store` and a session cookie bypasses the cache. The
home page through that cache is measured beside nginx serving a static file of the same
size (the goal: 0.8 of it) and beside gunicorn alone. The site part of the configuration is
also written to bench/nginx.conf.example for the README.
"""

from __future__ import annotations

import argparse
import shutil
import time
import urllib.request
from pathlib import Path

from . import BENCH, ROOT, WORK, app_env, label, log, wrk
from .databases import ensure
from .floor import page_of_size
from .report import machine
from .server import Gunicorn, Process, fetch, free_port

NGINX = "/usr/sbin/nginx"
PREFIX = WORK / "nginx"
EXAMPLE = BENCH / "nginx.conf.example"
GOAL = 0.8
ROUNDS = 3

SITE = """\
# Micro-caching of anonymous pages in front of gunicorn (written by `python -m bench --nginx`).
# The app decides what may be cached and for how long: anonymous pages send
# "Cache-Control: public, max-age=0, s-maxage=5" and an ETag, signed-in pages
# "private, no-store". nginx honours both; a session cookie bypasses the cache entirely.
proxy_cache_path {cache} levels=1:2 keys_zone=blog_pages:10m max_size=256m
                 inactive=10m use_temp_path=off;

upstream blog {{
    server {upstream};
    keepalive 16;
}}

# Flask's session cookie or Flask-Login's remember cookie: someone may be signed in.
# The app's SESSION_COOKIE_NAME and REMEMBER_COOKIE_NAME: renamed there, rename them here.
map $http_cookie $blog_signed_in {{
    default 0;
    "~(^|;)\\s*(session|remember_token)=" 1;
}}

server {{
    listen {listen};
    server_name {server_name};

    # Keep open the files behind hot pages: cached pages and static files alike.
    open_file_cache max=10000 inactive=30s;
    open_file_cache_valid 10s;

    # Static files have content-hashed URLs (?v=...) and long-lived headers from the app.
    location /static/ {{
        alias {static}/;
        expires max;
        access_log off;
    }}
{extra}
    location / {{
        proxy_pass http://blog;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;

        proxy_cache blog_pages;
        proxy_cache_key $scheme$host$request_uri;
        proxy_cache_bypass $blog_signed_in;
        proxy_no_cache $blog_signed_in;
        # Anonymous pages depend on no cookie but those two, which bypass the cache: kept
        # by the app's "Vary: Cookie", one copy per Cookie header would be made for every
        # reader with any other cookie (a theme, a consent banner's) and serve few others.
        proxy_ignore_headers Vary;
        # Expired entries are revalidated with If-None-Match (a 304 from the app), one
        # request at a time, while the others get the stale copy: no stampede on expiry.
        proxy_cache_revalidate on;
        proxy_cache_lock on;
        proxy_cache_use_stale updating error timeout http_500 http_502 http_503;
        proxy_cache_background_update on;
        add_header X-Cache-Status $upstream_cache_status always;
    }}
}}
"""

MAIN = """\
worker_processes auto;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    default_type application/octet-stream;
    types {{ text/html html; text/css css; }}
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    include site.conf;
}}
"""

BENCH_EXTRA = """
    # Bench only: a static page as large as the home page, the figure to compare with.
    location = /bench-static.html {{
        root {root};
    }}
"""


def site_config(
    *,
    cache: str | Path,
    upstream: str,
    listen: str,
    server_name: str,
    static: str | Path = ROOT / "static",
    extra: str = "",
) -> str:
    """Render the documented site configuration for one cache folder, upstream and address.

    `extra` goes inside the server block, before `location /`: the bench's static page, or
    whatever a test needs beside the site without changing what the site does.
    """
    return SITE.format(
        cache=cache,
        upstream=upstream,
        listen=listen,
        server_name=server_name,
        static=static,
        extra=extra,
    )


def main(args: argparse.Namespace) -> int:
    """Measure home through the nginx micro-cache, a same-size static file, and gunicorn."""
    backend, size = args.backends[0], args.sizes[0]
    database = ensure(backend, size, args.pg_url)
    settings = wrk.Settings(args.threads, args.connections, args.duration)
    _write_example()
    rows: list[tuple[str, wrk.Result]] = []
    name = f"nginx-site-{backend}-{label(size)}"
    with Gunicorn(name, "wsgi:app", app_env(database.url), args.workers) as site:
        workers = site.wait_workers()
        status, body = fetch(site.url + "/")
        if status != 200:
            raise RuntimeError(f"GET / answered {status}")
        with _nginx(site.port, len(body)) as proxy:
            _check_cached(proxy.url)
            cases = [
                ("nginx: static file, same size", proxy.url, _urls("/bench-static.html")),
                ("nginx micro-cache: home", proxy.url, _urls("/")),
            ]
            for _, base, urls in cases:
                wrk.run(base, urls, settings, duration=args.warmup)
            # Taken in turns and averaged: the machine's speed drifts over minutes, and one
            # run of each would compare two different machines.
            runs: dict[str, list[wrk.Result]] = {title: [] for title, _, _ in cases}
            for _ in range(ROUNDS):
                for title, base, urls in cases:
                    args.patience.wait_quiet()
                    runs[title].append(wrk.run(base, urls, settings))
                    log(f"{title}: {runs[title][-1].rps:,.0f} req/s")
            rows = [(title, wrk.mean(results)) for title, results in runs.items()]
            wrk.run(site.url, _urls("/"), settings, duration=args.warmup)
            args.patience.wait_quiet()
            rows.append(("gunicorn alone: home", wrk.run(site.url, _urls("/"), settings)))
            log(f"gunicorn alone: home: {rows[-1][1].rps:,.0f} req/s")
    text = _render(rows, settings, workers, f"{backend} {label(size)}", len(body))
    print("\n" + text)
    output = WORK / "results-nginx.md" if args.quick else BENCH / "results-nginx.md"
    output.write_text(text)
    log(f"wrote {output} and {EXAMPLE}")
    return 0


def _urls(path: str) -> Path:
    urls = WORK / "urls" / f"nginx{path.replace('/', '-')}.txt"
    urls.parent.mkdir(parents=True, exist_ok=True)
    urls.write_text(path + "\n")
    return urls


def _nginx(upstream_port: int, page_bytes: int) -> Process:
    """Write the bench's nginx prefix and return nginx, ready to start as a context manager."""
    if PREFIX.exists():
        shutil.rmtree(PREFIX)
    for folder in ("tmp", "cache", "html"):
        (PREFIX / folder).mkdir(parents=True)
        # nginx's workers run as nobody when started by root: let them use their folders.
        (PREFIX / folder).chmod(0o777)
    (PREFIX / "html" / "bench-static.html").write_text(page_of_size(page_bytes))
    port = free_port()
    site = site_config(
        cache=PREFIX / "cache",
        upstream=f"127.0.0.1:{upstream_port}",
        listen=f"127.0.0.1:{port}",
        server_name="localhost",
        extra=BENCH_EXTRA.format(root=PREFIX / "html"),
    )
    (PREFIX / "site.conf").write_text(site)
    (PREFIX / "nginx.conf").write_text(MAIN.format(prefix=PREFIX))
    pid_file = PREFIX / "nginx.pid"
    command = [NGINX, "-p", str(PREFIX), "-c", "nginx.conf", "-e", "stderr"]
    command += ["-g", f"daemon off; pid {pid_file};"]
    return Process("nginx", command, {"PATH": "/usr/sbin:/usr/bin:/bin"}, port)


def _check_cached(base_url: str) -> None:
    """Make sure a second anonymous request for home is a cache hit."""
    fetch(base_url + "/")
    with urllib.request.urlopen(base_url + "/", timeout=10) as response:
        status = response.headers.get("X-Cache-Status")
    if status not in ("HIT", "REVALIDATED", "UPDATING", "STALE"):
        raise RuntimeError(f"nginx did not cache the home page (X-Cache-Status: {status})")


def _write_example() -> None:
    EXAMPLE.write_text(
        site_config(
            cache="/var/cache/nginx/blog",
            upstream="127.0.0.1:8000",
            listen="80",
            server_name="blog.example.org",
            static="/srv/blog/static",
        )
    )


def _render(
    rows: list[tuple[str, wrk.Result]], settings: wrk.Settings, workers: int, db: str, size: int
) -> str:
    static = rows[0][1].rps or 1.0
    lines = [
        "# nginx micro-caching: home page vs a static file",
        "",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M %Z')}; machine: {machine()}.",
        f"- Database {db}; gunicorn.conf.py with {workers} workers behind nginx "
        "(bench/nginx.conf.example); `" + settings.describe() + "`; "
        f"static page and home page both {size:,} bytes.",
        f"- Goal: the micro-cached home page at {GOAL} of the static file's requests/s.",
        f"- The two nginx rows are means of {ROUNDS} runs each, taken in turns; gunicorn alone "
        "ran once.",
        "",
        "| Path | req/s | p50 ms | p99 ms | vs static |",
        "|---|---:|---:|---:|---:|",
    ]
    for title, result in rows:
        lines.append(
            f"| {title} | {result.rps:,.0f} | {result.p50_ms:.1f} | {result.p99_ms:.1f} "
            f"| {result.rps / static:.2f} |"
        )
    ratio = rows[1][1].rps / static
    lines += [
        "",
        f"Micro-cached home: {ratio:.2f} of static ({'met' if ratio >= GOAL else 'not met'}).",
    ]
    return "\n".join(lines) + "\n"
