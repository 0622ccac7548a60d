"""nginx in front: the documented micro-cache, run in a real nginx before a real gunicorn.

The site block is the one the README documents, rendered by the code that writes
bench/nginx.conf.example, so what passes here is what an operator copies. The http block
around it is the test's own: its access log tags each line with the test's request id and
nginx's cache status, so a test can tell a page nginx kept (HIT) from one the app made
(MISS, BYPASS) or confirmed (REVALIDATED). The app runs with SHARED_CACHE_SECONDS=2, so
whatever must happen within that time is polled for, over a few seconds at most.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from loadgen import TIMEOUT, log_alarms, save_article, seed_site, sign_in
from requests.adapters import HTTPAdapter
from test_auth import csrf_token

from bench.nginx import site_config

from conftest import NGINX, PASSWORD, REQUIRE_ALL
from servers import GunicornServer, free_port, sqlite_url

pytestmark = pytest.mark.skipif(not Path(NGINX).exists(), reason=f"{NGINX} is missing")

AUTHOR = "amina"
SHARED_CACHE_SECONDS = 2
# How long past its s-maxage a copy may still be served, as a deadline to wait within:
# nginx keeps time in whole seconds, so a copy lives up to a second longer than s-maxage
# (a run under load once saw every request HIT a second past it), and one reader is still
# served it while nginx asks the app again.
GRACE_SECONDS = 2.5
# Failed sign-ins one client address may make; only this module's clients count against it.
ADDRESS_LIMIT = 3
SETTINGS = {
    "PROXY_FIX": "1",
    "SHARED_CACHE_SECONDS": str(SHARED_CACHE_SECONDS),
    "LOGIN_ADDRESS_LIMITS": f"{ADDRESS_LIMIT} per hour",
}
# Answers nginx gave from its copy without asking the app.
FROM_THE_COPY = ("HIT", "STALE", "UPDATING")
CANONICAL = re.compile(r'<link rel="canonical" href="(\w+)://([^/"]+)(/[^"]*)"')
ARTICLE_LINK = re.compile(r'href="(/article/\d+/[^"#?]+)"')
REQUEST_ID = "X-Test-Request"

# The http block around the documented site block: scratch paths under the test's prefix,
# one worker (the machine is shared), and an access log the tests read.
HTTP_BLOCK = """\
{user}worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    log_format cache_status '$http_x_test_request $request_method $request_uri $status '
                            '$upstream_cache_status';
    access_log {prefix}/access.log cache_status;
    # An expired page is revalidated by a background subrequest, which is logged only so.
    log_subrequest on;
    default_type application/octet-stream;
    types {{ text/css css; image/svg+xml svg; }}
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
{tls}    include site.conf;
}}
"""
TLS_FILES = """\
    ssl_certificate {prefix}/tls.crt;
    ssl_certificate_key {prefix}/tls.key;
"""
# Beside the site, not changing it: the same server block also reached over TLS.
TLS_LISTEN = "\n    listen 127.0.0.1:{port} ssl;\n"


@dataclass
class Front:
    """nginx in front of the app: its plain and TLS addresses, and its access log."""

    url: str
    tls_url: str | None
    certificate: Path | None
    access_log: Path

    def get(
        self, path: str, session: requests.Session | None = None, *, secure: bool = False, **kw: Any
    ) -> requests.Response:
        """GET path through nginx, tagged for the access log; redirects are not followed."""
        return self._send("GET", path, session, secure=secure, **kw)

    def post(
        self, path: str, session: requests.Session | None = None, **kw: Any
    ) -> requests.Response:
        """POST to path through nginx, tagged for the access log."""
        return self._send("POST", path, session, **kw)

    def _send(
        self,
        method: str,
        path: str,
        session: requests.Session | None,
        *,
        secure: bool = False,
        headers: dict[str, str] | None = None,
        **kw: Any,
    ) -> requests.Response:
        if secure:
            if self.tls_url is None:
                raise RuntimeError("nginx was started without TLS")
            base, kw["verify"] = self.tls_url, str(self.certificate)
        else:
            base = self.url
        headers = {**(headers or {}), REQUEST_ID: uuid.uuid4().hex}
        sender = session or requests
        return sender.request(
            method, base + path, headers=headers, allow_redirects=False, timeout=TIMEOUT, **kw
        )

    def cache_statuses(self, response: requests.Response) -> list[str]:
        """Return what nginx logged as the cache status of a request (and its subrequests)."""
        request_id = response.request.headers[REQUEST_ID]
        # nginx writes the line once the answer is sent, so it may come just after it.
        deadline = time.monotonic() + 5.0
        while True:
            lines = self.access_log.read_text().splitlines()
            found = [line.split()[-1] for line in lines if line.startswith(request_id + " ")]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.02)  # poll interval for the log line, not a synchronisation

    def cache_status(self, response: requests.Response) -> str:
        """Return nginx's cache status for a request that made no subrequest."""
        statuses = self.cache_statuses(response)
        assert len(statuses) == 1, f"{response.request.url}: logged {statuses}"
        return statuses[0]


def require_tls(front: Front) -> None:
    """Skip without a TLS address (no openssl to make a certificate), or fail if all must run."""
    if front.tls_url is None:
        if REQUIRE_ALL:
            pytest.fail("BLOG_REQUIRE_ALL_TESTS is set but openssl is missing")
        pytest.skip("openssl is missing: nginx was started without TLS")


def _self_signed(prefix: Path) -> bool:
    """Write a certificate for 127.0.0.1 and its key; tell whether openssl was there for it."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return False
    command = [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    command += ["-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
    command += ["-addext", "subjectAltName=IP:127.0.0.1"]
    command += ["-keyout", str(prefix / "tls.key"), "-out", str(prefix / "tls.crt")]
    subprocess.run(command, check=True, capture_output=True, timeout=30)
    return True


@contextmanager
def running_nginx(prefix: Path, upstream_port: int) -> Iterator[Front]:
    """Run nginx with the documented site block before upstream_port; stop it by its pid."""
    for folder in ("tmp", "cache"):
        (prefix / folder).mkdir(parents=True)
    port, tls_port = free_port(), free_port()
    tls = _self_signed(prefix)
    site = site_config(
        cache=prefix / "cache",
        upstream=f"127.0.0.1:{upstream_port}",
        listen=f"127.0.0.1:{port}",
        server_name="localhost",
        extra=TLS_LISTEN.format(port=tls_port) if tls else "",
    )
    (prefix / "site.conf").write_text(site)
    (prefix / "nginx.conf").write_text(
        HTTP_BLOCK.format(
            # Workers started by root would run as nobody, who may not enter the test's
            # private temporary folder: keep them as the user running the tests.
            user="user root;\n" if os.geteuid() == 0 else "",
            prefix=prefix,
            tls=TLS_FILES.format(prefix=prefix) if tls else "",
        )
    )
    access_log = prefix / "access.log"
    access_log.touch()
    command = [NGINX, "-p", str(prefix), "-c", "nginx.conf", "-e", str(prefix / "error.log")]
    with (prefix / "nginx.out").open("wb") as output:
        nginx = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        front = Front(
            url=f"http://127.0.0.1:{port}",
            tls_url=f"https://127.0.0.1:{tls_port}" if tls else None,
            certificate=prefix / "tls.crt" if tls else None,
            access_log=access_log,
        )
        _wait_answering(nginx, front, prefix)
        yield front
    finally:
        nginx.send_signal(signal.SIGTERM)
        try:
            nginx.wait(timeout=15)
        except subprocess.TimeoutExpired:
            nginx.send_signal(signal.SIGKILL)
            nginx.wait(timeout=15)


def _wait_answering(nginx: subprocess.Popen[bytes], front: Front, prefix: Path) -> None:
    """Wait (bounded) until nginx passes /healthz through to the app; raise with its log."""
    deadline = time.monotonic() + 20.0
    while time.monotonic() < deadline:
        if nginx.poll() is not None:
            break
        try:
            if requests.get(front.url + "/healthz", timeout=2.0).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)  # poll interval while nginx starts, not a synchronisation
    log = "\n".join(
        path.read_text(errors="replace")
        for path in (prefix / "nginx.out", prefix / "error.log")
        if path.exists()
    )
    raise RuntimeError(f"nginx did not pass /healthz through (exit {nginx.poll()}):\n{log}")


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    """nginx with the documented configuration before gunicorn on an SQLite file."""
    folder = tmp_path_factory.mktemp("nginx-front")
    database_url = sqlite_url(folder / "blog.sqlite3")
    seed_site(
        database_url,
        folder / "seed",
        settings=SETTINGS,
        articles=12,
        authors=[AUTHOR],
        password=PASSWORD,
    )
    # One worker: sign-in limits are counted per process without Redis, and the address
    # test needs one count of them.
    app = GunicornServer(database_url, workers=1, settings=SETTINGS, workdir=folder / "app")
    with app, running_nginx(folder / "nginx", app.port) as nginx:
        yield nginx
        logs = app.logs()
    assert log_alarms(logs) == []


def signed_in_author(front: Front) -> requests.Session:
    """Sign the author in through nginx, with the form's CSRF token, as a browser would."""
    author = requests.Session()
    assert sign_in(author, front.url, AUTHOR, PASSWORD) == 303
    return author


def canonical(page: requests.Response) -> tuple[str, str, str]:
    """Return the scheme, host and path of a page's canonical link."""
    found = CANONICAL.search(page.text)
    assert found, page.text[:500]
    return found[1], found[2], found[3]


def articles_on_home(front: Front) -> list[str]:
    """Return the paths of the articles the home page lists, newest first."""
    paths = list(dict.fromkeys(ARTICLE_LINK.findall(front.get("/").text)))
    assert len(paths) >= 2
    return paths


# --- the micro-cache -----------------------------------------------------------------------


def test_a_second_anonymous_visit_is_served_by_nginx_with_the_apps_validator(front: Front) -> None:
    first = front.get("/")
    assert first.status_code == 200
    assert front.cache_status(first) == "MISS"  # the module's first look at home
    etag = first.headers["ETag"]
    assert re.fullmatch(r'"\d+-\d+-[0-9a-f]{8}-[0-9a-f]{8}"', etag), etag
    assert first.headers["Cache-Control"] == (
        f"public, max-age=0, s-maxage={SHARED_CACHE_SECONDS}, must-revalidate"
    )

    second = front.get("/")
    assert front.cache_status(second) == "HIT"
    assert second.headers["ETag"] == etag
    assert second.content == first.content

    unchanged = front.get("/", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["ETag"] == etag
    assert front.cache_status(unchanged) == "HIT"

    # Once the copy expires nginx asks the app with that ETag, and the app's 304 renews it.
    deadline = time.monotonic() + SHARED_CACHE_SECONDS + GRACE_SECONDS
    statuses: list[str] = []
    while "REVALIDATED" not in statuses and time.monotonic() < deadline:
        statuses += front.cache_statuses(front.get("/"))
        time.sleep(0.1)  # poll interval until the copy expires, not a synchronisation
    assert "REVALIDATED" in statuses, statuses
    assert front.get("/").headers["ETag"] == etag


def test_readers_with_cookies_of_their_own_share_the_copy(front: Front) -> None:
    # A page depends on no cookie but the session and remember cookies, which bypass nginx.
    path = articles_on_home(front)[-3]  # listed, and read by no other test
    first = front.get(path, headers={"Cookie": "theme=dark"})
    assert first.status_code == 200
    assert "Cookie" in first.headers["Vary"]  # browsers still keep a copy per cookie

    for cookie in ("consent=yes", "theme=light; consent=no", None):
        headers = {"Cookie": cookie} if cookie else {}
        again = front.get(path, headers=headers)
        assert front.cache_status(again) in FROM_THE_COPY, cookie
        assert again.content == first.content


def test_each_visitor_of_the_sign_in_page_gets_their_own_token_and_cookie(front: Front) -> None:
    first, second = (front.get("/auth/login", requests.Session()) for _ in range(2))
    assert first.status_code == second.status_code == 200
    first_token, second_token = csrf_token(first.text), csrf_token(second.text)
    assert first_token and second_token and first_token != second_token
    assert "session" in first.cookies and "session" in second.cookies
    assert first.cookies["session"] != second.cookies["session"]
    for page in (first, second):
        assert front.cache_status(page) not in FROM_THE_COPY
        assert page.headers["Cache-Control"] == "private, no-store"


def test_a_signed_in_author_gets_fresh_pages_and_readers_never_get_theirs(front: Front) -> None:
    author = signed_in_author(front)
    desk = front.get("/admin/", author)
    assert desk.status_code == 200
    assert front.cache_status(desk) == "BYPASS"
    token = csrf_token(desk.text)
    assert token and AUTHOR in desk.text and 'class="admin-nav"' in desk.text
    theirs = (AUTHOR, 'class="admin-nav"', 'name="csrf_token"', token, "Sign out")

    draft_title = f"Draft kept from readers {uuid.uuid4().hex[:8]}"
    status, draft_id = save_article(
        author, front.url, title=draft_title, body="Not yet.", status="draft"
    )
    assert status in (302, 303) and draft_id
    moved = front.get(f"/article/{draft_id}", author)
    assert moved.status_code == 301
    draft_path = moved.headers["Location"]
    for path in ("/", draft_path):
        page = front.get(path, author)
        assert page.status_code == 200, path
        assert front.cache_status(page) == "BYPASS", path
        assert page.headers["Cache-Control"] == "private, no-store", path
        assert "ETag" not in page.headers, path
    assert draft_title in front.get(draft_path, author).text

    signed_out = front.post("/auth/logout", author, data={"csrf_token": token})
    assert signed_out.status_code == 303
    home = front.get("/", author)
    assert front.cache_status(home) == "BYPASS"
    assert "Signed out." in home.text

    # A reader right after, while anything nginx had kept of the author's would still live.
    for path, expected in (("/", 200), (draft_path, 404), ("/admin/", 302)):
        page = front.get(path)
        assert page.status_code == expected, path
        for text in (*theirs, draft_title, "Signed out."):
            assert text not in page.text, (path, text)
        # Nor a cookie of theirs: only the sign-in redirect sets one, the reader's own.
        assert "Set-Cookie" not in page.headers or path == "/admin/", path


def test_an_article_published_through_nginx_reaches_readers_in_time(front: Front) -> None:
    assert front.get("/").status_code == 200  # a copy of home nginx may keep
    author = signed_in_author(front)
    title = f"Published behind nginx {uuid.uuid4().hex[:8]}"
    status, article_id = save_article(
        author, front.url, title=title, body="Fresh news.", status="published"
    )
    saved = time.monotonic()
    assert status in (302, 303) and article_id

    deadline = saved + SHARED_CACHE_SECONDS + GRACE_SECONDS
    while title not in front.get("/").text:
        assert time.monotonic() < deadline, f"not on home {deadline - saved:.1f} s after saving"
        time.sleep(0.05)  # poll interval, not a synchronisation

    moved = front.get(f"/article/{article_id}")
    assert moved.status_code == 301
    page = front.get(moved.headers["Location"])
    assert page.status_code == 200
    assert title in page.text


# --- what passes through -------------------------------------------------------------------


def test_posts_always_reach_the_app(front: Front) -> None:
    # Two readers whose sessions ended send the article form: each is shown their own text.
    for words in ("Words the first reader typed", "Words the second reader typed"):
        form = {"title": words, "body": words, "status": "published", "save": "Save"}
        sent = front.post(
            "/admin/articles/new", data=form, headers={"Sec-Fetch-Site": "same-origin"}
        )
        assert sent.status_code == 400
        assert "Your article was not saved" in sent.text
        assert words in sent.text
        assert front.cache_status(sent) not in FROM_THE_COPY
        assert sent.headers["Cache-Control"] == "private, no-store"


def test_a_clients_forwarded_host_does_not_reach_other_readers(front: Front) -> None:
    path = articles_on_home(front)[-1]  # the oldest listed: no other test reads it
    forged = front.get(path, headers={"X-Forwarded-Host": "evil.example"})
    assert forged.status_code == 200
    assert "evil.example" not in forged.text
    scheme, host, link = canonical(forged)
    assert (scheme, link) == ("http", path)
    assert urlsplit(f"//{host}").hostname == "127.0.0.1"
    assert front.cache_status(forged) == "MISS"  # this visitor's answer is what nginx keeps

    reader = front.get(path)
    assert front.cache_status(reader) == "HIT"
    assert "evil.example" not in reader.text


class _FromAddress(HTTPAdapter):
    """Connect from a given loopback address, as a visitor from another host would."""

    def __init__(self, address: str) -> None:
        self._address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self._address, 0)
        super().init_poolmanager(*args, **kwargs)


def visitor_from(address: str) -> requests.Session:
    """Return a session whose connections come from the given loopback address."""
    session = requests.Session()
    session.mount("http://", _FromAddress(address))
    return session


def test_the_app_sees_the_client_address_nginx_saw(front: Front) -> None:
    # Both visitors reach nginx from their own address and nginx reaches the app from
    # 127.0.0.1; only X-Forwarded-For tells the app they are two. The first one claims
    # another address with each attempt, and that claim must not reset the count.
    sprayer = visitor_from("127.0.0.2")
    answers = []
    for attempt in range(ADDRESS_LIMIT + 1):
        sprayer.headers["X-Forwarded-For"] = f"198.51.100.{attempt + 1}"
        answers.append(sign_in(sprayer, front.url, f"nobody-{attempt}", "wrong password"))
    assert answers == [200] * ADDRESS_LIMIT + [429]

    neighbour = visitor_from("127.0.0.3")
    assert sign_in(neighbour, front.url, "somebody", "wrong password") == 200


def test_the_app_sees_the_scheme_nginx_was_reached_by(front: Front) -> None:
    require_tls(front)
    path = articles_on_home(front)[-2]  # listed, and read by no other test
    secure = front.get(path, secure=True)
    assert secure.status_code == 200
    assert canonical(secure)[0] == "https"

    # A plain-HTTP client's own claim of HTTPS is replaced by what nginx saw, and the page
    # it gets is not the copy kept for HTTPS readers.
    plain = front.get(path, headers={"X-Forwarded-Proto": "https"})
    assert canonical(plain)[0] == "http"
    assert front.cache_status(plain) == "MISS"
    again = front.get(path, secure=True)
    assert front.cache_status(again) == "HIT"
    assert canonical(again)[0] == "https"
