"""Times on the reader's own clock, and on the plan's in the PDF; never bare UTC."""

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend import timezones, web
from backend.export.pdf import render_pdf
from tests.unit.test_pdf import entry, pdf_text, snapshot

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
# Between the two spring changes of 2026: New York moved to summer time on
# 8 March, Berlin only on 29 March.
WINTER = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
BETWEEN = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
SUMMER = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "where", "shown"),
    [
        (WINTER, BERLIN, "15 January 2026, 13:00"),
        (BETWEEN, BERLIN, "20 March 2026, 13:00"),
        (SUMMER, BERLIN, "1 July 2026, 14:00"),
        (WINTER, NEW_YORK, "15 January 2026, 07:00"),
        (BETWEEN, NEW_YORK, "20 March 2026, 08:00"),
        (SUMMER, NEW_YORK, "1 July 2026, 08:00"),
    ],
)
def test_exact_time_on_the_readers_clock_across_summer_time(moment, where, shown):
    assert timezones.exact(moment, where) == shown
    with timezones.reading_in(where):
        assert web.exact(moment) == shown


def test_an_unknown_zone_is_shown_as_utc_and_says_so():
    assert timezones.exact(SUMMER, None) == "1 July 2026, 12:00 UTC"
    with timezones.reading_in(None):
        assert web.exact(SUMMER) == "1 July 2026, 12:00 UTC"
    # no reader set at all, as outside a request
    assert web.exact(SUMMER).endswith("12:00 UTC")


def test_a_reader_whose_clock_is_utc_needs_no_label():
    assert timezones.exact(SUMMER, timezones.zone("UTC")) == "1 July 2026, 12:00"


def test_naive_times_from_sqlite_are_read_as_utc():
    naive = datetime(2026, 7, 1, 12, 0)
    assert timezones.exact(naive, BERLIN) == "1 July 2026, 14:00"
    assert timezones.isotime(naive) == "2026-07-01T12:00:00.000Z"


@pytest.mark.parametrize("name", ["Europe/Berlin", "America/New_York", "UTC"])
def test_known_zone_names_are_taken(name):
    assert timezones.zone_name(name) == name
    assert timezones.zone(name) == ZoneInfo(name)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "../../etc",
        "../../etc/passwd",
        "/etc/localtime",
        "Europe/../../etc/passwd",
        "Europe/Berlin\x00",
        "europe/berlin",
        "Europe/Nowhere",
        "Europe/Berlin; Path=/",
        "A" * 65,
        "Europe/" + "x" * 100_000,
    ],
)
def test_anything_else_leaves_the_zone_unknown(value):
    assert timezones.zone_name(value) is None
    assert timezones.zone(value) is None


def test_older_moments_show_the_readers_date():
    late = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    now = late + timedelta(days=10)
    with timezones.reading_in(BERLIN):
        assert web.ago(late, now) == "21 Nov 2026"
    with timezones.reading_in(NEW_YORK):
        assert web.ago(late, now) == "20 Nov 2026"
    with timezones.reading_in(BERLIN):
        assert web.ago(late, late + timedelta(hours=3)) == "3 hours ago"


def test_the_reader_is_only_set_for_the_render_inside():
    with timezones.reading_in(BERLIN):
        assert timezones.reader_zone() == BERLIN
    assert timezones.reader_zone() is None


# A valid HTML global date and time, or a date: no more than milliseconds.
HTML_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?"
)


@pytest.mark.parametrize(
    ("moment", "written"),
    [
        (
            datetime(2026, 11, 30, 4, 21, 8, 123456, tzinfo=UTC),
            "2026-11-30T04:21:08.123Z",
        ),
        (datetime(2026, 11, 30, 5, 21, 8, tzinfo=BERLIN), "2026-11-30T04:21:08.000Z"),
        (date(2026, 11, 30), "2026-11-30"),
    ],
)
def test_datetime_attributes_are_valid_html_in_utc(moment, written):
    assert timezones.isotime(moment) == written
    assert HTML_TIME.fullmatch(written)


# ---------------------------------------------------------------- the PDF


def berlin_night_snapshot() -> dict:
    """Made at 23:30 UTC on 26 November: already the 27th in Berlin."""
    data = snapshot([entry("edge_responses", "We stay together.")])
    data["created_at"] = "2026-11-26T23:30:00+00:00"
    data["entries"][0]["consents"][1]["at"] = "2026-11-22T23:15:00Z"
    return data


@pytest.mark.slow
def test_the_pdf_is_on_the_plans_clock_and_names_it():
    text = pdf_text(render_pdf(berlin_night_snapshot(), time_zone="Europe/Berlin"))
    assert (
        "Agreed version 3 · 27 Nov 2026, 00:30 CET · every yes given 21\u201323 Nov"
        in text
    )
    assert "UTC" not in text


@pytest.mark.slow
def test_a_pdf_without_a_known_zone_is_in_utc_saying_so():
    for unknown in (None, "../../etc", "Mars/Olympus"):
        text = pdf_text(render_pdf(berlin_night_snapshot(), time_zone=unknown))
        assert (
            "Agreed version 3 · 26 Nov 2026, 23:30 UTC · every yes given 21\u201322"
            in text
        )
