"""The benchmark's arithmetic: a load measured in slices, and the round that counts."""

from __future__ import annotations

import pytest

from bench.report import Pair, Section
from bench.wrk import Result, Settings, join


def result(requests: int, seconds: float, p50: float = 1.0, p99: float = 2.0) -> Result:
    return Result(
        requests=requests,
        seconds=seconds,
        rps=requests / seconds,
        p50_ms=p50,
        p90_ms=p50,
        p99_ms=p99,
        max_ms=p99,
        failed=0,
        socket_errors=0,
    )


def test_a_load_in_slices_is_rated_over_their_whole_time() -> None:
    fast, slow = result(3000, 1.0, p50=2.0, p99=5.0), result(1000, 2.0, p50=6.0, p99=30.0)

    joined = join([fast, slow])

    assert joined.requests == 4000
    assert joined.rps == pytest.approx(4000 / 3)  # not the slices' mean rate, 1,750
    assert joined.p50_ms == pytest.approx((3000 * 2.0 + 1000 * 6.0) / 4000)
    assert joined.p99_ms == 30.0  # the worst slice's


def test_the_median_round_counts_and_the_floor_row_sums_up_every_round() -> None:
    floors = [result(5000, 2.0), result(4000, 2.0), result(6000, 2.0)]
    pages = [result(r, 2.0) for r in (1500, 1000, 2100)]  # 0.30, 0.25 and 0.35 of the floor
    section = Section(database=None)  # type: ignore[arg-type]
    section.rounds["day"] = [
        Pair(floor, page, other)
        for floor, page, other in zip(floors, pages, (0.01, 0.2, 0.03), strict=True)
    ]

    assert section.median("day").page.requests == 1500
    assert section.median("day").ratio() == pytest.approx(0.30)
    assert section.floor is not None and section.floor.rps == pytest.approx(2500)
    assert section.floor_other == 0.2


def test_slices_split_the_duration() -> None:
    settings = Settings(threads=2, connections=16, duration=6, slices=3)

    assert settings.slice.duration == 2
    assert settings.describe() == "wrk -t2 -c16 -d2s --latency"
