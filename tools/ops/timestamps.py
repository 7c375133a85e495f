"""RFC 3339 timestamps as GitHub and `pulumi stack history` write them, parsed to aware UTC datetimes.

`datetime.strptime` with one format breaks on the first timestamp that uses another legal spelling
(fractional seconds, an offset instead of `Z`, a lowercase `t`). RFC 3339 section 5.6 allows:
`T`/`t` (or, by its note, a space) between date and time, any number of fractional-second digits,
`Z`/`z` or a `±hh:mm` offset, and a leap second (`:60`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

_RFC3339 = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})"
    r"(?:\.(?P<fraction>\d+))?(?P<offset>[Zz]|[+-]\d{2}:\d{2})",
    re.ASCII,
)


def parse_rfc3339(text: str) -> datetime:
    """The instant `text` names, in UTC; ValueError if it is not an RFC 3339 date-time."""
    match = _RFC3339.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an RFC 3339 date-time (e.g. 2026-11-27T03:20:00Z)")
    offset = match["offset"]
    if offset in ("Z", "z"):
        zone = UTC
    else:
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:
            raise ValueError(f"{text!r} has an impossible UTC offset {offset}")
        sign = -1 if offset[0] == "-" else 1
        zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    second = int(match["second"])
    if second > 60:
        raise ValueError(f"{text!r} has second {second}")
    fraction = (match["fraction"] or "0")[:6].ljust(6, "0")
    year, month, day = (int(part) for part in match["date"].split("-"))
    # A leap second (:60) is the instant one second after :59 (datetime cannot hold second 60).
    stamp = datetime(year, month, day, int(match["hour"]), int(match["minute"]), min(second, 59), int(fraction), zone)
    return (stamp + timedelta(seconds=second - min(second, 59))).astimezone(UTC)
