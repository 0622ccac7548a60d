"""Run wrk with bench/urls.lua and read the summary line its done() hook prints."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

from . import BENCH

WRK = "/usr/bin/wrk"
SCRIPT = BENCH / "urls.lua"


@dataclass(frozen=True)
class Settings:
    """The wrk options shared by every run."""

    threads: int
    connections: int
    duration: int  # seconds of load per measurement
    slices: int = 1  # runs it is cut into, taken in turns with another load's

    @property
    def slice(self) -> Settings:
        """The settings of one slice's run."""
        return replace(self, duration=max(1, self.duration // self.slices), slices=1)

    def describe(self) -> str:
        return f"wrk -t{self.threads} -c{self.connections} -d{self.slice.duration}s --latency"


@dataclass(frozen=True)
class Result:
    """What one wrk run measured."""

    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    failed: int  # HTTP status above 399 (wrk's "Non-2xx or 3xx responses")
    socket_errors: int  # connect, read, write errors and timeouts


def mean(results: list[Result]) -> Result:
    """Average several runs of the same load (counts of requests and errors are summed)."""
    n = len(results)
    return Result(
        requests=sum(r.requests for r in results),
        seconds=sum(r.seconds for r in results),
        rps=sum(r.rps for r in results) / n,
        p50_ms=sum(r.p50_ms for r in results) / n,
        p90_ms=sum(r.p90_ms for r in results) / n,
        p99_ms=sum(r.p99_ms for r in results) / n,
        max_ms=max(r.max_ms for r in results),
        failed=sum(r.failed for r in results),
        socket_errors=sum(r.socket_errors for r in results),
    )


def join(slices: list[Result]) -> Result:
    """Make one run of a load measured in several slices: its rate over their whole time.

    p50 and p90 are the slices' weighted by their requests; p99 and max are the worst slice's.
    """
    requests = sum(r.requests for r in slices)
    seconds = sum(r.seconds for r in slices)
    weights = [r.requests / requests if requests else 1 / len(slices) for r in slices]
    return Result(
        requests=requests,
        seconds=seconds,
        rps=requests / seconds if seconds else 0.0,
        p50_ms=sum(w * r.p50_ms for w, r in zip(weights, slices, strict=True)),
        p90_ms=sum(w * r.p90_ms for w, r in zip(weights, slices, strict=True)),
        p99_ms=max(r.p99_ms for r in slices),
        max_ms=max(r.max_ms for r in slices),
        failed=sum(r.failed for r in slices),
        socket_errors=sum(r.socket_errors for r in slices),
    )


def run(base_url: str, urls: Path, settings: Settings, duration: int | None = None) -> Result:
    """Load base_url with the paths listed in `urls` (a random one per request)."""
    seconds = settings.duration if duration is None else duration
    command = [
        WRK,
        f"-t{settings.threads}",
        f"-c{settings.connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(SCRIPT),
        base_url,
        "--",
        str(urls),
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    match = re.search(r"^BENCH_JSON (\{.*\})$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    data = json.loads(match[1])
    elapsed = data["duration_us"] / 1e6
    return Result(
        requests=data["requests"],
        seconds=elapsed,
        rps=data["requests"] / elapsed,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        failed=data["status"],
        socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
    )
