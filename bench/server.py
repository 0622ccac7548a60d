"""Servers under test: gunicorn with the repo's gunicorn.conf.py, started and stopped by pid."""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from . import LOGS, ROOT, VENV_BIN

STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(url: str, timeout: float = 30.0) -> tuple[int | None, bytes]:
    """GET url without following redirects; return (status, body), status None if no answer."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=timeout) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return int(error.code), b""
    except (OSError, http.client.HTTPException):
        return None, b""


class Process:
    """A foreground server process with its log file, stopped by its own pid only."""

    def __init__(self, name: str, command: list[str], env: Mapping[str, str], port: int) -> None:
        self.name = name
        self.command = command
        self.env = dict(env)
        self.port = port
        self.log_path = LOGS / f"{name}.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def __enter__(self) -> Process:
        LOGS.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            self.wait_healthy("/healthz")
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def wait_healthy(self, path: str) -> None:
        """Poll path until it answers 200 (bounded); raise with the log's tail if it does not."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited before it was healthy:\n{self.tail()}")
            if fetch(self.url + path, timeout=2.0)[0] == 200:
                return
            time.sleep(0.2)  # poll interval while the server boots
        raise TimeoutError(f"{self.name} not healthy after {STARTUP_TIMEOUT:.0f} s:\n{self.tail()}")

    def stop(self) -> None:
        """SIGTERM the process, wait (bounded), SIGKILL it if it is still there."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=STOP_TIMEOUT)

    def tail(self, chars: int = 3000) -> str:
        """Return the end of the process's log."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


class Gunicorn(Process):
    """`gunicorn <module> -c gunicorn.conf.py` on a free loopback port."""

    def __init__(self, name: str, module: str, env: Mapping[str, str], workers: int | None) -> None:
        port = free_port()
        env = {**env, "BLOG_BIND": f"127.0.0.1:{port}"}
        if workers:
            env["BLOG_WORKERS"] = str(workers)
        command = [str(VENV_BIN / "gunicorn"), module, "-c", "gunicorn.conf.py"]
        super().__init__(name, command + _control_socket_option(), env, port)
        self.workers = 0
        self.peak_rss_kib = 0
        self.workers_seen: set[int] = set()

    def worker_pids(self) -> list[int]:
        """Return the master's current workers (its children in /proc)."""
        try:
            text = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text()
        except OSError:
            return []
        return [int(part) for part in text.split()]

    def sample_rss(self) -> None:
        """Record the highest VmHWM of the current workers, and which workers there were."""
        for pid in self.worker_pids():
            self.workers_seen.add(pid)
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_rss_kib = max(self.peak_rss_kib, int(line.split()[1]))

    @property
    def restarts(self) -> int:
        """Workers seen beyond the first set: gunicorn's max_requests recycling."""
        return max(0, len(self.workers_seen) - self.workers)

    def wait_workers(self, timeout: float = 30.0) -> int:
        """Wait until the worker count stops changing; return it."""
        deadline, last, stable_since = time.monotonic() + timeout, -1, time.monotonic()
        while time.monotonic() < deadline:
            count = len(self.worker_pids())
            if count != last:
                last, stable_since = count, time.monotonic()
            elif count and time.monotonic() - stable_since > 1.0:
                break
            time.sleep(0.1)  # poll interval for forks to show in /proc
        self.workers = last
        self.workers_seen.update(self.worker_pids())
        return last


def _control_socket_option() -> list[str]:
    """Keep gunicorn's per-user control socket from clashing with other servers on this host."""
    from gunicorn.config import KNOWN_SETTINGS

    if any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS):
        return ["--no-control-socket"]
    return []
