"""Times in the reader's own time zone, which their browser tells us in a cookie.

Rules this module keeps:
- The zone comes from the `tz` cookie our own script writes, and counts only if it
  names a zone this server knows; anything else (missing, "../../etc", a page of
  text) leaves the zone unknown.
- A known zone is the reader's own clock and needs no label. An unknown zone is
  shown as UTC and says so ("14:05 UTC"), so a time is never ambiguous.
- `<time datetime>` carries UTC with at most milliseconds and a Z: valid HTML, and
  what the browser's script reads.
- Stored times are UTC; SQLite hands them back without a zone, so a naive time is
  read as UTC.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

COOKIE = "tz"
NAME_MAX = 64  # the longest IANA name is 32 characters; Plan.time_zone holds 64

# The reader of the page being rendered. Templates' macros are imported without
# the render context (so Jinja can cache them), hence a context variable, set
# around each render by backend.web.render.
_reader: ContextVar[ZoneInfo | None] = ContextVar("reader_zone", default=None)


@cache
def known_zones() -> frozenset[str]:
    """Every IANA zone name this server can convert to; read from disk once."""
    return frozenset(available_timezones())


def zone_name(value: str | None) -> str | None:
    """`value` if it names a time zone we know, else None."""
    if not value or len(value) > NAME_MAX or value not in known_zones():
        return None
    return value


def zone(value: str | None) -> ZoneInfo | None:
    """The time zone `value` names, or None when it names none we know."""
    name = zone_name(value)
    return ZoneInfo(name) if name else None


@contextmanager
def reading_in(reader: ZoneInfo | None) -> Iterator[None]:
    """Render what happens inside for a reader in `reader` (None: unknown)."""
    token = _reader.set(reader)
    try:
        yield
    finally:
        _reader.reset(token)


def reader_zone() -> ZoneInfo | None:
    return _reader.get()


def as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def local(moment: datetime, where: ZoneInfo | None) -> datetime:
    """`moment` on the clock of `where`, or of UTC when the zone is unknown."""
    return as_utc(moment).astimezone(where or UTC)


def exact(moment: datetime, where: ZoneInfo | None) -> str:
    """'30 November 2026, 05:21' in a known zone; '… 04:21 UTC' in an unknown one."""
    at = local(moment, where)
    text = f"{at.day} {at:%B %Y, %H:%M}"
    return text if where else f"{text} UTC"


def isotime(moment: datetime | date) -> str:
    """A valid HTML date or time: '2026-11-30T04:21:08.123Z', or '2026-11-30'."""
    if isinstance(moment, datetime):
        stamp = as_utc(moment).isoformat(timespec="milliseconds")
        return stamp.removesuffix("+00:00") + "Z"
    return moment.isoformat()
