"""Tests for ``airflow_provider_zoho.windows``: which days, or which instants, a run extracts."""

from __future__ import annotations

import datetime as dt
import time

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_zoho.exceptions import ZohoConfigError
from airflow_provider_zoho.windows import (
    instant_keys,
    interval_days,
    interval_instants,
    lookback_windows,
    parse_day,
    parse_instant,
    preceding_windows,
    resolve_window,
)

UTC = pendulum.UTC


def at(*args: int, tz: str = "UTC") -> pendulum.DateTime:
    return pendulum.datetime(*args, tz=tz)


def context(start=None, end=None, logical=None) -> dict:
    """A task context as Airflow passes it (only the keys the window reads, plus noise)."""
    return {
        "data_interval_start": start,
        "data_interval_end": end,
        "logical_date": logical,
        "ds": "ignored",
        "run_id": "scheduled__x",
    }


D = dt.date


@pytest.fixture
def machine_zone(monkeypatch):
    """Set the machine's local time zone (``TZ``) for one test; the original zone is back afterwards."""

    def set_zone(zone: str) -> None:
        monkeypatch.setenv("TZ", zone)
        time.tzset()

    yield set_zone
    monkeypatch.undo()
    time.tzset()


class TestParseDay:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (D(2024, 2, 29), D(2024, 2, 29)),
            (dt.datetime(2024, 3, 1, 23, 59), D(2024, 3, 1)),
            (at(2024, 3, 1, 23, 30, tz="Asia/Tokyo"), D(2024, 3, 1)),
            (pendulum.date(2024, 3, 1), D(2024, 3, 1)),
            ("2024-03-01", D(2024, 3, 1)),
            ("  2024-03-01\n", D(2024, 3, 1)),
            ("2024-03-01T10:30:00", D(2024, 3, 1)),
            ("2024-03-01T23:30:00+09:00", D(2024, 3, 1)),
            ("2024-03-01 00:00:00+00:00", D(2024, 3, 1)),
            ("2024-03-01T00:00:00.123456Z", D(2024, 3, 1)),
            ("2024-03-01T10:30", D(2024, 3, 1)),
            ("2024-03-01T10:30:00Z", D(2024, 3, 1)),
            ("2024-03-01T10:30:00z", D(2024, 3, 1)),
        ],
        ids=[
            "date",
            "naive-datetime",
            "aware-datetime-keeps-its-own-calendar-day",
            "pendulum-date",
            "iso-day",
            "surrounding-whitespace",
            "iso-with-time",
            "iso-with-offset-keeps-written-day",
            "rendered-pendulum-with-space",
            "zulu-with-microseconds",
            "hours-minutes-only",
            "zulu",
            "lower-case-zulu",
        ],
    )
    def test_accepts(self, value, expected):
        day = parse_day(value, "window_start")
        assert day == expected
        assert type(day) is not dt.datetime  # a date, never a datetime posing as one

    @pytest.mark.parametrize(
        "value",
        [
            "2024-13-01",
            "2024-02-30",
            "03/01/2024",
            "yesterday",
            "2024-03-011",
            "2024-03-01garbage",
            "2024-03-01T25:00:00",
            "2024-03-01T",
            "2024-03",
            "20240301",
            "",
            "   ",
            20240301,
            1.5,
            ["2024-03-01"],
        ],
        ids=[
            "month-13",
            "feb-30",
            "us-format",
            "word",
            "extra-digit",
            "trailing-garbage",
            "bad-hour",
            "no-time-after-t",
            "month-only",
            "basic-iso-format",
            "empty",
            "blank",
            "int",
            "float",
            "list",
        ],
    )
    def test_rejects_with_argument_name(self, value):
        with pytest.raises(ZohoConfigError) as error:
            parse_day(value, "window_end")
        message = str(error.value)
        assert "window_end" in message
        assert "YYYY-MM-DD" in message
        assert repr(value) in message


class TestIntervalDays:
    @pytest.mark.parametrize(
        ("ctx", "expected"),
        [
            (context(at(2024, 3, 4), at(2024, 3, 5), at(2024, 3, 4)), (D(2024, 3, 4), D(2024, 3, 4))),
            (context(at(2024, 3, 4), at(2024, 3, 11), at(2024, 3, 4)), (D(2024, 3, 4), D(2024, 3, 10))),
            (context(at(2024, 2, 1), at(2024, 3, 1), at(2024, 2, 1)), (D(2024, 2, 1), D(2024, 2, 29))),
            (
                context(at(2024, 3, 4, 6), at(2024, 3, 7, 6), at(2024, 3, 4, 6)),
                (D(2024, 3, 5), D(2024, 3, 6)),
            ),
            (
                context(at(2024, 3, 4, 0, 0, 1), at(2024, 3, 6), at(2024, 3, 4)),
                (D(2024, 3, 5), D(2024, 3, 5)),
            ),
            (
                context(at(2024, 3, 4, 13), at(2024, 3, 4, 14), at(2024, 3, 4, 13)),
                (D(2024, 3, 3), D(2024, 3, 3)),
            ),
            (
                context(at(2024, 3, 4, 23), at(2024, 3, 5, 0), at(2024, 3, 4, 23)),
                (D(2024, 3, 4), D(2024, 3, 4)),
            ),
            (
                context(at(2024, 3, 4, 6), at(2024, 3, 5, 6), at(2024, 3, 4, 6)),
                (D(2024, 3, 4), D(2024, 3, 4)),
            ),
            (context(at(2024, 3, 5), at(2024, 3, 5), at(2024, 3, 5)), (D(2024, 3, 4), D(2024, 3, 4))),
            (
                context(at(2024, 3, 5, 7, 30), at(2024, 3, 5, 7, 30), at(2024, 3, 5, 7, 30)),
                (D(2024, 3, 4), D(2024, 3, 4)),
            ),
            (context(logical=at(2024, 1, 1)), (D(2023, 12, 31), D(2023, 12, 31))),
            (context(start=at(2024, 3, 1), logical=at(2024, 3, 3)), (D(2024, 3, 1), D(2024, 3, 2))),
            ({"data_interval_end": at(2024, 3, 5)}, (D(2024, 3, 4), D(2024, 3, 4))),
        ],
        ids=[
            "daily",
            "weekly",
            "monthly-leap-february",
            "not-aligned-to-midnight-keeps-only-whole-days",
            "start-one-second-after-midnight-skips-that-day",
            "hourly-no-whole-day-gives-day-before-end",
            "last-hour-of-day-ending-at-midnight",
            "daily-offset-6h-no-whole-day",
            "airflow3-empty-interval",
            "airflow3-empty-interval-mid-day",
            "logical-date-only",
            "start-and-logical-date-no-end",
            "end-only",
        ],
    )
    def test_window(self, ctx, expected):
        assert interval_days(ctx) == expected

    @pytest.mark.parametrize(
        ("ctx", "expected"),
        [
            (
                # 2024-03-04 00:00 in New York is 05:00 UTC: whole UTC days 03-05 .. 03-10.
                context(at(2024, 3, 4, tz="America/New_York"), at(2024, 3, 11, tz="America/New_York")),
                (D(2024, 3, 5), D(2024, 3, 10)),
            ),
            (
                # 2024-03-05 00:00 in Tokyo is 03-04 15:00 UTC: the UTC day 03-04 is not over yet, so
                # the interval holds no whole UTC day and the day before its (UTC) end is 03-03.
                context(at(2024, 3, 4, tz="Asia/Tokyo"), at(2024, 3, 5, tz="Asia/Tokyo")),
                (D(2024, 3, 3), D(2024, 3, 3)),
            ),
            (
                # 01:00+01:00 is midnight UTC: the interval is exactly the UTC day 03-04.
                context(at(2024, 3, 4, 1, tz="Europe/Paris"), at(2024, 3, 5, 1, tz="Europe/Paris")),
                (D(2024, 3, 4), D(2024, 3, 4)),
            ),
            (
                context(
                    dt.datetime(2024, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=5))),
                    dt.datetime(2024, 3, 6, 5, tzinfo=dt.timezone(dt.timedelta(hours=5))),
                ),
                (D(2024, 3, 4), D(2024, 3, 5)),
            ),
            (
                context(logical=at(2024, 3, 5, 3, tz="Asia/Kolkata")),  # 03-04 21:30 UTC
                (D(2024, 3, 3), D(2024, 3, 3)),
            ),
            (context(dt.datetime(2024, 3, 4), dt.datetime(2024, 3, 6)), (D(2024, 3, 4), D(2024, 3, 5))),
        ],
        ids=[
            "new-york-weekly",
            "tokyo-daily",
            "paris-aligned-to-utc-midnight",
            "stdlib-fixed-offset",
            "kolkata-logical-date-only",
            "naive-taken-as-utc",
        ],
    )
    def test_non_utc_datetimes_count_in_utc(self, ctx, expected):
        assert interval_days(ctx) == expected

    @pytest.mark.parametrize(
        "ctx",
        [{}, context(), {"data_interval_start": at(2024, 3, 4)}],
        ids=["empty-context", "all-none", "start-only"],
    )
    def test_no_interval_and_no_logical_date(self, ctx):
        with pytest.raises(ZohoConfigError) as error:
            interval_days(ctx)
        assert str(error.value) == (
            "No window: this run has no data interval or logical date (e.g. a manual run of a DAG with "
            "schedule=None). Set window_start and window_end."
        )

    @pytest.mark.parametrize(
        "ctx",
        [context(dt.datetime(1, 1, 1), dt.datetime(1, 1, 1)), {"logical_date": dt.datetime(1, 1, 1, 12)}],
        ids=["empty-interval", "logical-date-only"],
    )
    def test_interval_ending_on_the_first_day_a_date_can_name(self, ctx):
        with pytest.raises(ZohoConfigError) as error:
            interval_days(ctx)
        assert str(error.value) == (
            "No window: the run's data interval ends on 0001-01-01, so no day before its end exists. "
            "Set window_start and window_end."
        )

    @pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/Los_Angeles"])
    def test_the_machines_time_zone_does_not_matter(self, machine_zone, zone):
        # 03-03 16:00 in Los Angeles and 03-07 09:00 in Tokyo are midnights UTC: the UTC days 03-04 to
        # 03-06, which counted in the machine's zone would start or end a day off.
        ctx = context(at(2024, 3, 3, 16, tz="America/Los_Angeles"), at(2024, 3, 7, 9, tz="Asia/Tokyo"))
        machine_zone(zone)
        assert interval_days(ctx) == (D(2024, 3, 4), D(2024, 3, 6))

    @pytest.mark.parametrize(
        ("ctx", "expected"),
        [
            (context(dt.datetime(9999, 12, 31, 1), dt.datetime(9999, 12, 31, 23)), (D(9999, 12, 30),) * 2),
            (context(dt.datetime(9999, 12, 30), dt.datetime(9999, 12, 31)), (D(9999, 12, 30),) * 2),
            (context(dt.datetime(1, 1, 1), dt.datetime(1, 1, 2)), (D(1, 1, 1),) * 2),
            (context(dt.datetime(1, 1, 1, 6), dt.datetime(1, 1, 2, 6)), (D(1, 1, 1),) * 2),
        ],
        ids=["partial-last-day", "whole-second-last-day", "whole-first-day", "partial-first-day"],
    )
    def test_intervals_at_the_ends_of_the_calendar(self, ctx, expected):
        assert interval_days(ctx) == expected


class TestResolveWindow:
    DAILY = context(at(2024, 3, 4), at(2024, 3, 5), at(2024, 3, 4))

    def test_interval_when_nothing_explicit(self):
        assert resolve_window(None, None, self.DAILY) == (D(2024, 3, 4), D(2024, 3, 4))

    def test_empty_strings_mean_not_set(self):
        # An unset templated argument renders as "".
        assert resolve_window("", "", self.DAILY) == (D(2024, 3, 4), D(2024, 3, 4))

    def test_both_explicit_ignore_the_context(self):
        window = resolve_window("2024-01-01", D(2024, 1, 31), {})
        assert window == (D(2024, 1, 1), D(2024, 1, 31))

    @pytest.mark.parametrize(
        ("start", "end", "expected"),
        [
            ("2024-03-01", None, (D(2024, 3, 1), D(2024, 3, 4))),
            (None, "2024-03-10", (D(2024, 3, 4), D(2024, 3, 10))),
            (at(2024, 3, 2, 22, tz="America/Los_Angeles"), None, (D(2024, 3, 2), D(2024, 3, 4))),
            (None, dt.datetime(2024, 3, 6, 12), (D(2024, 3, 4), D(2024, 3, 6))),
            ("2024-03-04", "2024-03-04", (D(2024, 3, 4), D(2024, 3, 4))),
        ],
        ids=["start-only", "end-only", "aware-start", "naive-end", "single-day"],
    )
    def test_each_bound_overrides_independently(self, start, end, expected):
        assert resolve_window(start, end, self.DAILY) == expected

    @pytest.mark.parametrize(
        ("start", "end", "argument"),
        [("2024-3-1", None, "window_start"), (None, "soon", "window_end"), ("2024-03-01", 7, "window_end")],
        ids=["bad-start", "bad-end", "end-wrong-type"],
    )
    def test_bad_value_names_the_argument(self, start, end, argument):
        with pytest.raises(ZohoConfigError, match=rf"^{argument} must be a date"):
            resolve_window(start, end, self.DAILY)

    @pytest.mark.parametrize(
        ("start", "end"),
        [("2024-03-05", "2024-03-04"), (None, "2024-03-01"), ("2024-03-09", None)],
        ids=["both-explicit", "explicit-end-before-interval", "explicit-start-after-interval"],
    )
    def test_end_before_start(self, start, end):
        with pytest.raises(ZohoConfigError, match="before window_start"):
            resolve_window(start, end, self.DAILY)

    def test_no_interval_says_what_to_set(self):
        with pytest.raises(ZohoConfigError) as error:
            resolve_window(None, None, context())
        assert "window_start" in str(error.value)
        assert "window_end" in str(error.value)

    def test_one_explicit_bound_still_needs_an_interval(self):
        with pytest.raises(ZohoConfigError, match="Set window_start and window_end"):
            resolve_window("2024-03-01", None, {})

    def test_airflow3_empty_interval_extracts_the_day_that_just_finished(self):
        run = at(2024, 3, 5)
        assert resolve_window(None, None, context(run, run, run)) == (D(2024, 3, 4), D(2024, 3, 4))


class TestLookbackWindows:
    def test_days_before_start_oldest_first(self):
        assert lookback_windows(D(2024, 3, 2), 3) == [
            (D(2024, 2, 28), D(2024, 2, 28)),
            (D(2024, 2, 29), D(2024, 2, 29)),
            (D(2024, 3, 1), D(2024, 3, 1)),
        ]

    def test_crosses_year_boundary(self):
        assert lookback_windows(D(2024, 1, 1), 1) == [(D(2023, 12, 31), D(2023, 12, 31))]

    def test_zero_is_none(self):
        assert lookback_windows(D(2024, 3, 2), 0) == []

    def test_windows_are_single_days_and_never_reach_start(self):
        windows = lookback_windows(D(2024, 3, 31), 30)
        assert len(windows) == 30
        assert all(first == last for first, last in windows)
        assert windows[0][0] == D(2024, 3, 1)
        assert windows[-1][0] == D(2024, 3, 30)
        assert [first for first, _ in windows] == sorted({first for first, _ in windows})

    @pytest.mark.parametrize(
        "value",
        [True, False, -1, 1.0, "3", None],
        ids=["true", "false", "negative", "float", "string", "none"],
    )
    def test_rejects(self, value):
        with pytest.raises(ZohoConfigError, match="lookback_days must be a whole number >= 0") as error:
            lookback_windows(D(2024, 3, 2), value)
        assert repr(value) in str(error.value)

    @pytest.mark.parametrize(
        ("start", "lookback_days"),
        [(D(2024, 3, 2), 10**6), (D(2024, 3, 2), 10**10), (D(1, 1, 1), 1), (D(1, 1, 3), 3)],
        ids=["a-million-days", "past-timedelta", "first-day", "one-too-many"],
    )
    def test_reaching_before_the_first_day_names_lookback_days(self, start, lookback_days):
        with pytest.raises(ZohoConfigError) as error:
            lookback_windows(start, lookback_days)
        message = str(error.value)
        assert message.startswith(f"lookback_days={lookback_days} reaches before 0001-01-01")
        assert str(start) in message

    def test_reaching_exactly_the_first_day(self):
        assert lookback_windows(D(1, 1, 3), 2) == [(D(1, 1, 1), D(1, 1, 1)), (D(1, 1, 2), D(1, 1, 2))]


# -- Zoho Desk: half-open windows of instants ------------------------------------------------------------

T = dt.timezone.utc
H = dt.timedelta(hours=1)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=T)


class TestParseInstant:
    @pytest.mark.parametrize("zone", ["Asia/Kolkata", "America/Los_Angeles"])
    def test_the_instant_is_utc_whatever_the_machines_time_zone(self, machine_zone, zone):
        machine_zone(zone)
        assert parse_instant("2024-03-10T10:30:00+05:30", "x") == utc(2024, 3, 10, 5)
        assert parse_instant(at(2024, 3, 10, 14, tz="Asia/Tokyo"), "x") == utc(2024, 3, 10, 5)

    @pytest.mark.parametrize(
        ("value", "why"),
        [
            ("soon", ""),
            ("2024-03-10T05:00:00", ": it has no zone, so the instant it names would depend on the machine"),
        ],
        ids=["not-an-instant", "naive"],
    )
    def test_the_refusal_says_what_an_instant_is(self, value, why):
        with pytest.raises(ZohoConfigError) as error:
            parse_instant(value, "modified_from")
        assert str(error.value) == (
            "modified_from must be an aware datetime or an ISO-8601 instant with a zone, such as "
            "'2024-03-10T05:00:00Z' (a template such as '{{ data_interval_start }}' works too), got "
            f"{value!r}{why}."
        )

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("2024-03-10T05:00:00Z", utc(2024, 3, 10, 5)),
            ("2024-03-10T05:00:00.123z", utc(2024, 3, 10, 5, 0, 0, 123000)),
            (" 2024-03-10T10:30:00+05:30 ", utc(2024, 3, 10, 5)),
            ("2024-03-10 05:00:00+00:00", utc(2024, 3, 10, 5)),
            (at(2024, 3, 10, 14, tz="Asia/Tokyo"), utc(2024, 3, 10, 5)),
            (dt.datetime(2024, 3, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))), utc(2024, 3, 10, 5)),
        ],
        ids=repr,
    )
    def test_accepts_aware_instants_and_gives_utc(self, value, expected):
        parsed = parse_instant(value, "modified_from")
        assert parsed == expected
        assert parsed.tzinfo is T
        assert type(parsed) is dt.datetime  # not pendulum's DateTime, whose arithmetic differs
        assert parsed - H == expected - H

    @pytest.mark.parametrize(
        "value",
        ["2024-03-10T05:00:00", dt.datetime(2024, 3, 10, 5), "2024-03-10"],
        ids=["naive-text", "naive-datetime", "a-day"],
    )
    def test_a_naive_value_says_it_has_no_zone(self, value):
        with pytest.raises(ZohoConfigError, match="modified_to must be an aware datetime") as error:
            parse_instant(value, "modified_to")
        assert "no zone" in str(error.value)

    @pytest.mark.parametrize("value", ["", "soon", "2024-13-01T00:00:00Z", None, 1710046800, D(2024, 3, 10)])
    def test_anything_else_names_the_argument(self, value):
        with pytest.raises(ZohoConfigError, match="modified_from must be an aware datetime"):
            parse_instant(value, "modified_from")

    @given(st.datetimes(timezones=st.timezones(), allow_imaginary=False))
    def test_any_aware_instant_survives_its_iso_text(self, moment):
        try:
            expected = moment.astimezone(T)
        except OverflowError:
            return  # not an instant UTC can name
        assert parse_instant(moment.isoformat(), "x") == expected == parse_instant(moment, "x")


class TestIntervalInstants:
    def test_the_data_interval(self):
        ctx = context(at(2026, 3, 7, 23), at(2026, 3, 8))
        assert interval_instants(ctx) == (utc(2026, 3, 7, 23), utc(2026, 3, 8))

    def test_an_empty_interval_is_a_config_error_that_says_how_to_fix_it(self):
        ctx = context(at(2026, 3, 8), at(2026, 3, 8), at(2026, 3, 8))
        with pytest.raises(ZohoConfigError) as error:
            interval_instants(ctx)
        assert str(error.value) == (
            "No window: the run's data interval is empty (2026-03-08T00:00:00+00:00 to "
            "2026-03-08T00:00:00+00:00), as Airflow 3's default timetables for cron and timedelta schedules "
            "make it. Give the DAG a timetable with data intervals, e.g. "
            "schedule=CronDataIntervalTimetable('0 * * * *', timezone='UTC'), or set modified_from and "
            "modified_to."
        )

    def test_an_interval_that_ends_before_it_starts_is_empty_too(self):
        with pytest.raises(ZohoConfigError, match="data interval is empty"):
            interval_instants(context(at(2026, 3, 8), at(2026, 3, 7, 23)))

    @pytest.mark.parametrize(
        "ctx",
        [context(logical=at(2026, 3, 8)), context(start=at(2026, 3, 8)), context(end=at(2026, 3, 8))],
        ids=["none", "start-only", "end-only"],
    )
    def test_no_interval(self, ctx):
        with pytest.raises(ZohoConfigError) as error:
            interval_instants(ctx)
        assert str(error.value) == (
            "No window: this run has no data interval (e.g. a manual run of a DAG with schedule=None). Set "
            "modified_from and modified_to."
        )

    @pytest.mark.parametrize(
        ("ctx", "bound"),
        [
            (context(dt.datetime(2026, 3, 7, 23), at(2026, 3, 8)), "data_interval_start"),
            (context(at(2026, 3, 7, 23), dt.datetime(2026, 3, 8)), "data_interval_end"),
        ],
        ids=["start", "end"],
    )
    def test_a_naive_bound_is_named(self, ctx, bound):
        with pytest.raises(ZohoConfigError, match=rf"^{bound} must be an aware datetime .*no zone"):
            interval_instants(ctx)


class TestInstantKeys:
    @pytest.mark.parametrize(
        ("start", "end", "keys"),
        [
            (utc(2026, 3, 7), utc(2026, 3, 8), ("2026-03-07", "2026-03-07")),
            (utc(2026, 3, 1), utc(2026, 3, 8), ("2026-03-01", "2026-03-07")),
            (utc(2026, 3, 7, 23), utc(2026, 3, 8), ("2026-03-07T230000Z", "2026-03-08T000000Z")),
            (utc(2026, 3, 7), utc(2026, 3, 7, 1), ("2026-03-07T000000Z", "2026-03-07T010000Z")),
            (
                utc(2026, 3, 7, 0, 0, 30),
                utc(2026, 3, 8, 0, 0, 30),
                ("2026-03-07T000030Z", "2026-03-08T000030Z"),
            ),
            (
                at(2026, 3, 8, 9, tz="Asia/Tokyo"),
                at(2026, 3, 9, 9, tz="Asia/Tokyo"),
                ("2026-03-08", "2026-03-08"),
            ),
            (
                at(2026, 3, 8, tz="Asia/Tokyo"),
                at(2026, 3, 9, tz="Asia/Tokyo"),
                ("2026-03-07T150000Z", "2026-03-08T150000Z"),
            ),
        ],
        ids=["a-day", "a-week", "an-hour", "first-hour", "day-off-midnight", "tokyo-utc-day", "tokyo-day"],
    )
    def test_whole_utc_days_are_inclusive_days_else_the_bounds(self, start, end, keys):
        assert instant_keys(start, end) == (("start", keys[0]), ("end", keys[1]))

    @pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/Los_Angeles"])
    @pytest.mark.parametrize(
        ("start", "end", "keys"),
        [
            (
                at(2026, 3, 8, 9, tz="Asia/Tokyo"),
                at(2026, 3, 9, 9, tz="Asia/Tokyo"),
                ("2026-03-08", "2026-03-08"),
            ),
            (
                utc(2026, 3, 7, 23),
                at(2026, 3, 8, 9, tz="Asia/Tokyo"),
                ("2026-03-07T230000Z", "2026-03-08T000000Z"),
            ),
        ],
        ids=["day", "hour"],
    )
    def test_keys_are_utc_whatever_the_machines_time_zone(self, machine_zone, zone, start, end, keys):
        machine_zone(zone)
        assert instant_keys(start, end) == (("start", keys[0]), ("end", keys[1]))

    def test_an_empty_window_at_midnight_is_its_two_bounds_not_a_day_range_that_ends_before_it_starts(self):
        start = utc(2026, 3, 7)
        assert instant_keys(start, start) == (("start", "2026-03-07T000000Z"), ("end", "2026-03-07T000000Z"))

    @pytest.mark.parametrize("bound", ["start", "end"])
    def test_sub_second_bounds_are_refused(self, bound):
        start, end = utc(2026, 3, 7), utc(2026, 3, 8)
        if bound == "start":
            start = start.replace(microsecond=500)
        else:
            end = end.replace(microsecond=500)
        with pytest.raises(ZohoConfigError) as error:
            instant_keys(start, end)
        assert str(error.value) == (
            f"The window {start.isoformat()} to {end.isoformat()} has a bound that is not a whole second; "
            "partition keys name whole seconds."
        )

    @given(
        st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1)).map(
            lambda d: d.replace(microsecond=0, tzinfo=T)
        ),
        st.integers(min_value=1, max_value=400 * 86_400),
    )
    def test_different_windows_never_share_keys(self, start, seconds):
        end = start + dt.timedelta(seconds=seconds)
        other = (start, end + dt.timedelta(seconds=1))
        assert instant_keys(start, end) != instant_keys(*other)
        assert instant_keys(start, end) != instant_keys(start + dt.timedelta(seconds=1), end)


class TestPrecedingWindows:
    def test_whole_windows_before_the_window_oldest_first(self):
        start, end = utc(2026, 3, 7, 23), utc(2026, 3, 8)
        assert preceding_windows(start, end, 2 * H) == [
            (utc(2026, 3, 7, 21), utc(2026, 3, 7, 22)),
            (utc(2026, 3, 7, 22), utc(2026, 3, 7, 23)),
        ]

    def test_a_pendulum_duration_works_too(self):
        start, end = utc(2026, 3, 7, 23), utc(2026, 3, 8)
        assert preceding_windows(start, end, pendulum.duration(hours=2)) == preceding_windows(
            start, end, 2 * H
        )

    @pytest.mark.parametrize("lookback", [None, dt.timedelta(0)])
    def test_none(self, lookback):
        assert preceding_windows(utc(2026, 3, 7), utc(2026, 3, 8), lookback) == []

    @pytest.mark.parametrize(
        "lookback", [dt.timedelta(minutes=90), -H, 2, "PT2H", dt.timedelta(microseconds=1)], ids=repr
    )
    def test_anything_but_whole_windows_is_refused(self, lookback):
        with pytest.raises(ZohoConfigError, match=r"lookback must be a timedelta .*\(1 hour each"):
            preceding_windows(utc(2026, 3, 7, 23), utc(2026, 3, 8), lookback)

    @pytest.mark.parametrize(
        ("length", "each"),
        [
            (dt.timedelta(days=1), "1 day"),
            (dt.timedelta(days=2), "2 days"),
            (H, "1 hour"),
            (dt.timedelta(minutes=90), "90 minutes"),
            (dt.timedelta(minutes=1), "1 minute"),
            (dt.timedelta(seconds=30), "30 seconds"),
            (dt.timedelta(seconds=1.5), "1.5 seconds"),
        ],
        ids=repr,
    )
    def test_the_refusal_names_the_windows_length(self, length, each):
        start = utc(2026, 3, 7)
        with pytest.raises(ZohoConfigError) as error:
            preceding_windows(start, start + length, length / 3)
        assert str(error.value) == (
            f"lookback must be a timedelta that is a whole number of windows ({each} each: the run's "
            f"window), such as timedelta(hours=2) for hourly windows; got {length / 3!r}."
        )

    def test_reaching_before_the_calendar(self):
        with pytest.raises(ZohoConfigError, match="lookback"):
            preceding_windows(utc(1, 1, 1, 1), utc(1, 1, 1, 2), 2 * H)
