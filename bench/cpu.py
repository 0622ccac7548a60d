"""How much of the machine's CPU went to other work during a run (the machine is shared).

Busy time from /proc/stat, less what the server under test (its master and workers, from
/proc/<pid>/stat), wrk and this process used (getrusage), is what everything else used.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

TICKS = os.sysconf("SC_CLK_TCK")


def _machine_ticks() -> tuple[int, int]:
    """Return (busy, total) ticks of all CPUs since boot."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    total = sum(fields[:8])  # guest time is already inside user time
    return total - idle, total


def _process_ticks(pid: int) -> int:
    """CPU of a process and of the children it has reaped, in ticks (0 once it is gone).

    A worker gunicorn recycles during a run leaves; its CPU, before and during the run,
    moves into its master's count of reaped children, so the two still add up.
    """
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = raw[raw.rindex(")") + 2 :].split()
    return sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime


def _own_ticks() -> float:
    """CPU of this process and its reaped children (wrk), in ticks."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += (usage.ru_utime + usage.ru_stime) * TICKS
    return total


class Meter:
    """Measure, around a block, the share of all CPU time that other processes used."""

    def __init__(self, pids: Callable[[], list[int]]) -> None:
        self._pids = pids
        self.foreign = 0.0

    def __enter__(self) -> Meter:
        self._start_pids = set(self._pids())
        self._start = {pid: _process_ticks(pid) for pid in self._start_pids}
        self._own = _own_ticks()
        self._busy, self._total = _machine_ticks()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        busy, total = _machine_ticks()
        own = _own_ticks() - self._own
        for pid in self._start_pids | set(self._pids()):
            own += _process_ticks(pid) - self._start.get(pid, 0)
        elapsed = total - self._total
        if elapsed > 0:
            self.foreign = max(0.0, (busy - self._busy - own) / elapsed)


def other_share(seconds: float = 1.0) -> float:
    """Return the share of all CPU that other processes used over the next `seconds`."""
    with Meter(list) as meter:
        time.sleep(seconds)  # the sampling window
    return meter.foreign


class Patience:
    """A time budget, shared by a whole run, for waiting out other work on the machine."""

    def __init__(self, seconds: float, threshold: float = 0.15) -> None:
        self.left = seconds
        self.threshold = threshold

    def wait_quiet(self) -> None:
        """Wait (within the budget) until other processes use less than the threshold."""
        while self.left > 0:
            started = time.monotonic()
            share = other_share()
            self.left -= time.monotonic() - started
            if share < self.threshold:
                return

    def retry(self, share: float, cost: float) -> bool:
        """Tell whether a run disturbed by `share` of foreign CPU should run again."""
        if share < self.threshold or self.left < cost:
            return False
        self.left -= cost
        return True
