"""parse_rfc3339: every spelling RFC 3339 allows names the same instant; anything else is a ValueError."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tools.ops.timestamps import parse_rfc3339

offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59)
instants = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9998, 12, 30), timezones=st.just(UTC))


def spell(instant: datetime, offset_minutes: int, separator: str, zulu: str, digits: int) -> str:
    local = instant.astimezone(timezone(timedelta(minutes=offset_minutes)))
    text = local.strftime(f"%Y-%m-%d{separator}%H:%M:%S")
    if digits:
        text += "." + f"{local.microsecond:06d}{'0' * max(0, digits - 6)}"[:digits]
    if offset_minutes == 0 and zulu:
        return text + zulu
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


@settings(max_examples=500)
@given(
    instants,
    offsets,
    st.sampled_from(["T", "t", " "]),
    st.sampled_from(["Z", "z", ""]),
    st.integers(min_value=0, max_value=9),
)
def test_every_spelling_names_the_same_instant(instant, offset, separator, zulu, digits) -> None:
    text = spell(instant, offset, separator, zulu, digits)
    expected = instant.replace(microsecond=int(f"{instant.microsecond:06d}"[:digits].ljust(6, "0")))
    assert parse_rfc3339(text) == expected


def test_leap_second_and_negative_zero_offset() -> None:
    assert parse_rfc3339("2016-12-31T23:59:60Z") == datetime(2017, 1, 1, tzinfo=UTC)
    assert parse_rfc3339("1990-12-31T15:59:60-08:00") == datetime(1991, 1, 1, tzinfo=UTC)
    assert parse_rfc3339("2026-11-27T03:20:00-00:00") == datetime(2026, 11, 27, 3, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-27",  # a date alone
        "2026-11-27T03:20:00",  # no offset: not an instant
        "2026-11-27T03:20Z",  # seconds are required
        "2026-13-01T00:00:00Z",
        "2026-11-27T24:00:00Z",
        "2026-11-27T03:20:61Z",
        "2026-11-27T03:20:00+24:00",
        "2026-11-27T03:20:00.Z",
        "٢٠٢٦-11-27T03:20:00Z",  # non-ASCII digits
        "yesterday",
    ],
)
def test_not_rfc3339(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rfc3339(text)
