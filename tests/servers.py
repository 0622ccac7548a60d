"""Real gunicorn servers for black-box tests: start on a free port, wait for health, stop by pid.

Tests import it as `from servers import GunicornServer` (pytest puts tests/ on sys.path).
Every server is started and stopped by the test that uses it, by its own pids; nothing here
ever signals a process it did not start.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO

REPO_ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "test-server-secret"
# Inherited settings that would silently change what the server under test does.
_SCRUBBED_PREFIXES = ("BLOG_", "FLASK_", "GUNICORN_")
_SCRUBBED_NAMES = ("DATABASE_URL", "REDIS_URL")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def venv_bin(name: str) -> Path:
    """Return the path of a console script installed beside the running Python."""
    for folder in (Path(sys.executable).parent, REPO_ROOT / ".venv" / "bin"):
        candidate = folder / name
        if candidate.exists():
            return candidate
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed beside {sys.executable}")
    return Path(found)


def sqlite_url(path: Path) -> str:
    """Return the SQLAlchemy URL of an SQLite file."""
    return f"sqlite:///{Path(path).resolve()}"


def server_env(
    database_url: str,
    instance_path: Path,
    *,
    redis_url: str | None = None,
    settings: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Build a clean environment for the app: inherited BLOG_* and database variables dropped."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_SCRUBBED_PREFIXES) and key not in _SCRUBBED_NAMES
    }
    env.update(
        BLOG_SECRET_KEY=SECRET_KEY,
        BLOG_INSTANCE_PATH=str(instance_path),
        DATABASE_URL=database_url,
        PYTHONUNBUFFERED="1",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    for key, value in (settings or {}).items():
        env[key if key.startswith("BLOG_") else f"BLOG_{key}"] = str(value)
    return env


def prepare_database(
    database_url: str,
    instance_path: Path,
    *,
    settings: Mapping[str, str] | None = None,
    timeout: float = 120.0,
) -> None:
    """Create or migrate a database with the operator's command, `flask db upgrade`."""
    instance_path.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [str(venv_bin("flask")), "--app", "wsgi:app", "db", "upgrade"],
        cwd=REPO_ROOT,
        env=server_env(database_url, instance_path, settings=settings),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"flask db upgrade failed ({result.returncode}) for {database_url}:\n"
            f"{result.stdout}\n{result.stderr}"
        )


def migrated_sqlite(path: Path) -> str:
    """Build a fresh SQLite file at path with the project's migrations; return its URL."""
    path = Path(path)
    url = sqlite_url(path)
    prepare_database(url, path.parent / "migrate-instance")
    return url


def _proc_stat(pid: int) -> tuple[str, int, int] | None:
    """Return (state, parent pid, start time) of a process, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name may hold spaces and parentheses: split after its last ')'.
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[19])


def _alive(pid: int, start_time: int) -> bool:
    """Tell whether the process started at start_time still runs (pids can be reused)."""
    stat = _proc_stat(pid)
    return stat is not None and stat[2] == start_time and stat[0] not in ("Z", "X")


def child_pids(pid: int) -> list[int]:
    """Return the pids whose parent is pid, read from /proc."""
    children: set[int] = set()
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text()
            children.update(int(part) for part in text.split())
        return sorted(children)
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass  # no children file (kernel without CONFIG_PROC_CHILDREN): scan every process
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _proc_stat(int(entry.name))
            if stat is not None and stat[1] == pid and stat[0] != "Z":
                children.add(int(entry.name))
    return sorted(children)


def gunicorn_options() -> list[str]:
    """Return command-line options that keep test servers from sharing state with others."""
    from gunicorn.config import KNOWN_SETTINGS

    # Newer gunicorn opens a control socket at one fixed path per user by default; two servers
    # (parallel tests, a bench, `make run`) would take it from each other. Tests never use it.
    if any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS):
        return ["--no-control-socket"]
    return []


class GunicornServer:
    """`gunicorn wsgi:app -c gunicorn.conf.py` on a free loopback port, as a context manager."""

    def __init__(
        self,
        database_url: str,
        *,
        workers: int = 2,
        redis_url: str | None = None,
        settings: Mapping[str, str] | None = None,
        workdir: Path | None = None,
        startup_timeout: float = 20.0,
        stop_timeout: float = 15.0,
    ) -> None:
        self.database_url = database_url
        self.workers = workers
        self.redis_url = redis_url
        self.settings = dict(settings or {})
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        if workdir is None:
            self._tempdir = tempfile.TemporaryDirectory(prefix="gunicorn-")
            workdir = Path(self._tempdir.name)
        self.workdir = Path(workdir)
        self.instance_path = self.workdir / "instance"
        self.stdout_path = self.workdir / "gunicorn.stdout.log"
        self.stderr_path = self.workdir / "gunicorn.stderr.log"
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._logs: list[IO[bytes]] = []
        # Every worker ever seen, with its start time, so stop() can reap orphans safely.
        self._workers_seen: dict[int, int] = {}

    @property
    def url(self) -> str:
        """Return the base URL, without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """Return the master's pid."""
        if self._proc is None:
            raise RuntimeError("the server is not started")
        return self._proc.pid

    @property
    def running(self) -> bool:
        """Tell whether the master process is still running."""
        return self._proc is not None and self._proc.poll() is None

    def env(self) -> dict[str, str]:
        """Return the environment the server runs with."""
        env = server_env(
            self.database_url,
            self.instance_path,
            redis_url=self.redis_url,
            settings=self.settings,
        )
        env["BLOG_BIND"] = f"127.0.0.1:{self.port}"
        env["BLOG_WORKERS"] = str(self.workers)
        return env

    def start(self) -> GunicornServer:
        """Start the master and wait until /healthz answers 200; raise with its logs if not."""
        if self._proc is not None:
            raise RuntimeError("the server was already started")
        self.instance_path.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        command = [str(venv_bin("gunicorn")), "wsgi:app", "-c", "gunicorn.conf.py"]
        command += gunicorn_options()
        self._logs = [self.stdout_path.open("wb"), self.stderr_path.open("wb")]
        try:
            self._proc = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=self._logs[0],
                stderr=self._logs[1],
            )
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        last_error = "no answer yet"
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(
                    f"gunicorn exited with {self._proc and self._proc.returncode} "
                    f"before it was healthy:\n{self.logs()}"
                )
            status = self.get_status("/healthz", timeout=2.0)
            if status == 200:
                return
            last_error = f"/healthz answered {status}"
            time.sleep(0.1)  # poll interval while the master boots, not a synchronisation
        raise TimeoutError(
            f"gunicorn on {self.url} not healthy after {self.startup_timeout:.0f} s "
            f"({last_error}):\n{self.logs()}"
        )

    def get_status(self, path: str, timeout: float = 5.0) -> int | None:
        """Return the HTTP status of GET path, or None when the server does not answer."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            error.close()
            return int(error.code)
        except (OSError, http.client.HTTPException):
            return None

    def worker_pids(self) -> list[int]:
        """Return the pids of the master's current worker processes."""
        if not self.running:
            return []
        pids = child_pids(self.pid)
        for pid in pids:
            stat = _proc_stat(pid)
            if stat is not None:
                self._workers_seen.setdefault(pid, stat[2])
        return pids

    def wait_for_workers(self, count: int | None = None, timeout: float = 20.0) -> list[int]:
        """Wait until the master has `count` workers (default: as configured); return them."""
        wanted = self.workers if count is None else count
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.worker_pids()
            if len(pids) == wanted:
                return pids
            if not self.running:
                raise RuntimeError(f"gunicorn exited:\n{self.logs()}")
            time.sleep(0.05)  # poll interval for forks to show in /proc
        raise TimeoutError(f"expected {wanted} workers, have {self.worker_pids()}")

    def kill_master(self) -> None:
        """SIGKILL the master (its workers are left to notice and exit; stop() reaps them)."""
        if self._proc is None or self._proc.poll() is not None:
            return
        self.worker_pids()
        self._proc.send_signal(signal.SIGKILL)
        self._proc.wait(timeout=self.stop_timeout)

    def stop(self) -> int | None:
        """SIGTERM the master, wait (bounded), SIGKILL it if needed; return its exit code."""
        proc = self._proc
        if proc is None:
            self._close_logs()
            return None
        if proc.poll() is None:
            self.worker_pids()
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=self.stop_timeout)
        self._reap_orphans()
        self._close_logs()
        return proc.returncode

    def _reap_orphans(self) -> None:
        """SIGKILL workers this server started that outlived their master (after kill_master)."""
        leftovers = {pid: t for pid, t in self._workers_seen.items() if _alive(pid, t)}
        for pid, start_time in leftovers.items():
            if _alive(pid, start_time):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + self.stop_timeout
        while any(_alive(pid, t) for pid, t in leftovers.items()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"gunicorn workers did not exit: {sorted(leftovers)}")
            time.sleep(0.05)  # poll interval: they are not our children, we cannot wait()

    def _close_logs(self) -> None:
        for handle in self._logs:
            handle.close()
        self._logs = []

    def logs(self) -> str:
        """Return what the server wrote to stdout and stderr so far."""
        parts = []
        for path in (self.stdout_path, self.stderr_path):
            if path.exists():
                text = path.read_text(errors="replace")
                if text:
                    parts.append(f"--- {path.name} ---\n{text}")
        return "\n".join(parts) or "(no output)"

    def __enter__(self) -> GunicornServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self.stop()
        finally:
            if self._tempdir is not None:
                self._tempdir.cleanup()
                self._tempdir = None
