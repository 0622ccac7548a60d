"""models.UTCDateTime on SQLite: the text it stores and reads back, no Flask app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.sqlite.base import DATETIME

from blog.models import UTCDateTime

DIALECT = sqlite.dialect()
RIYADH = timezone(timedelta(hours=3))
HONOLULU = timezone(timedelta(hours=-10))

INSTANTS = [
    datetime(2026, 3, 26, 6, 51, tzinfo=UTC),
    datetime(2026, 3, 26, 6, 51, 0, 123, tzinfo=UTC),
    # 00:10 and 23:50 local, far from UTC on either side: stored as the UTC instant.
    datetime(2026, 3, 27, 0, 10, tzinfo=RIYADH),
    datetime(2026, 3, 26, 23, 50, tzinfo=HONOLULU),
    datetime(1, 1, 2, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
]


@pytest.mark.parametrize("instant", INSTANTS, ids=str)
def test_binds_the_text_sqlalchemy_would_store(instant: datetime) -> None:
    column = UTCDateTime()
    bind = column.bind_processor(DIALECT)
    sqlalchemys = DATETIME().bind_processor(DIALECT)
    expected = sqlalchemys(instant.astimezone(UTC).replace(tzinfo=None))
    assert bind(instant) == expected
    # ...and reads back as the same instant, in UTC.
    assert column.result_processor(DIALECT, None)(expected) == instant
    assert column.result_processor(DIALECT, None)(expected).tzinfo is UTC


def test_local_evening_sorts_after_the_utc_afternoon_before_it() -> None:
    bind = UTCDateTime().bind_processor(DIALECT)
    evening_in_honolulu = datetime(2026, 3, 26, 23, 50, tzinfo=HONOLULU)  # 09:50 UTC on the 27th
    afternoon_utc = datetime(2026, 3, 27, 9, 49, tzinfo=UTC)
    assert bind(afternoon_utc) < bind(evening_in_honolulu)


def test_refuses_a_naive_datetime_and_passes_none() -> None:
    bind = UTCDateTime().bind_processor(DIALECT)
    with pytest.raises(ValueError, match="naive"):
        bind(datetime(2026, 3, 26, 6, 51))
    assert bind(None) is None
