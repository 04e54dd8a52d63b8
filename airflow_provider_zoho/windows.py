"""
Extraction windows: which days, or which instants, a task run extracts.

An Apptics window is a pair of inclusive dates. Operators and sensors derive it the same way from the run's
data interval, so a sensor waits for exactly the days its downstream extraction reads. A Zoho Desk window
is half-open on instants, ``[start, end)`` in UTC (:func:`parse_instant`, :func:`interval_instants`); its
partition keys are inclusive days when it covers whole UTC days, else its two bounds
(:func:`instant_keys`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from airflow_provider_zoho.exceptions import ZohoConfigError

Window = tuple[dt.date, dt.date]


def parse_day(value: Any, argument: str) -> dt.date:
    """
    Turn a ``date``, ``datetime`` or ISO ``YYYY-MM-DD`` string into a date.

    :param value: the value to parse.
    :param argument: the argument name, for the error message.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if _ISO_DAY.match(text):
            try:
                day = dt.date.fromisoformat(text[:10])
                if len(text) > 10:  # a time part ('T10:30:00+00:00', ' 10:30', 'T00:00:00Z') must be valid
                    dt.datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text)
                return day
            except ValueError:
                pass
    raise ZohoConfigError(
        f"{argument} must be a date, a datetime or a 'YYYY-MM-DD' string (a template such as "
        f"'{{{{ ds }}}}' works too), got {value!r}."
    )


def resolve_window(
    window_start: Any,
    window_end: Any,
    context: Any,
) -> Window:
    """
    The inclusive dates a run extracts.

    Explicit ``window_start`` / ``window_end`` win. Otherwise the window is the whole UTC days of the run's
    data interval ``[start, end)``; when the interval holds no whole day (Airflow 3's default cron
    timetable gives ``start == end == logical date``), it is the single day before the interval's end,
    i.e. the day that just finished.

    :param window_start: explicit first day, or ``None``.
    :param window_end: explicit last day, or ``None``.
    :param context: the task context (``data_interval_start``/``data_interval_end``/``logical_date``).
    """
    start = parse_day(window_start, "window_start") if window_start not in (None, "") else None
    end = parse_day(window_end, "window_end") if window_end not in (None, "") else None
    if start is None or end is None:
        default_start, default_end = interval_days(context)
        start = start or default_start
        end = end or default_end
    if end < start:
        raise ZohoConfigError(f"window_end {end} is before window_start {start}; both bounds are inclusive.")
    return start, end


def interval_days(context: Any) -> Window:
    """Whole UTC days of the context's data interval, or the day before its end when there are none."""
    interval_start = _utc(context.get("data_interval_start"))
    interval_end = _utc(context.get("data_interval_end"))
    logical = _utc(context.get("logical_date"))
    if interval_end is None:
        interval_end = logical
    if interval_end is None:
        raise ZohoConfigError(
            "No window: this run has no data interval or logical date (e.g. a manual run of a DAG "
            "with schedule=None). Set window_start and window_end."
        )
    if interval_start is None:
        interval_start = interval_end
    if interval_end.date() == dt.date.min:
        raise ZohoConfigError(
            f"No window: the run's data interval ends on {dt.date.min}, so no day before its end exists. "
            "Set window_start and window_end."
        )
    last = interval_end.date() - _DAY
    first = interval_start.date()
    if interval_start.time() != dt.time(0):  # a partial first day: the whole days start at the next midnight
        if first == dt.date.max:
            return last, last
        first += _DAY
    if last < first:  # no whole day inside: the day that just finished
        return last, last
    return first, last


def day_keys(start: dt.date, end: dt.date) -> tuple[tuple[str, str], tuple[str, str]]:
    """The partition keys of an inclusive window of days: ``(("start", "YYYY-MM-DD"), ("end", ...))``."""
    return ("start", start.isoformat()), ("end", end.isoformat())


def parse_instant(value: Any, argument: str) -> dt.datetime:
    """
    Turn an aware ``datetime`` or an ISO-8601 string with a zone into an aware UTC ``datetime``.

    :param value: the value to parse (``2024-03-10T05:00:00Z``, ``2024-03-10T10:30:00+05:30``, a
        ``datetime`` with a ``tzinfo``, such as the run's ``data_interval_start``).
    :param argument: the argument name, for the error message.
    :raises ZohoConfigError: for anything else, a naive value (no zone: which instant it names depends on
        the machine) included.
    """
    parsed: Any = value
    if isinstance(value, str):
        text = value.strip()
        if text[-1:] in ("Z", "z"):
            text = text[:-1] + "+00:00"
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            parsed = None
    if isinstance(parsed, dt.datetime) and parsed.utcoffset() is not None:
        try:
            utc = parsed.astimezone(dt.timezone.utc)
        except OverflowError:
            pass
        else:  # a plain datetime (pendulum's DateTime computes differently with a foreign tzinfo)
            return dt.datetime(*utc.timetuple()[:6], utc.microsecond, tzinfo=dt.timezone.utc)
    naive = isinstance(parsed, dt.datetime) and parsed.utcoffset() is None
    why = ": it has no zone, so the instant it names would depend on the machine" if naive else ""
    raise ZohoConfigError(
        f"{argument} must be an aware datetime or an ISO-8601 instant with a zone, such as "
        f"'2024-03-10T05:00:00Z' (a template such as '{{{{ data_interval_start }}}}' works too), got "
        f"{value!r}{why}."
    )


def interval_instants(context: Any) -> tuple[dt.datetime, dt.datetime]:
    """
    The run's data interval as a half-open window of UTC instants ``[start, end)``.

    :param context: the task context (``data_interval_start``/``data_interval_end``).
    :raises ZohoConfigError: when the run has no data interval, or an empty one (Airflow 3's default cron
        timetable gives ``start == end``: a point in time, not a period).
    """
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if start is None or end is None:
        raise ZohoConfigError(
            "No window: this run has no data interval (e.g. a manual run of a DAG with schedule=None). Set "
            "modified_from and modified_to."
        )
    first, last = parse_instant(start, "data_interval_start"), parse_instant(end, "data_interval_end")
    if last <= first:
        raise ZohoConfigError(
            f"No window: the run's data interval is empty ({first.isoformat()} to {last.isoformat()}), as "
            "Airflow 3's default timetables for cron and timedelta schedules make it. Give the DAG a "
            "timetable with data intervals, e.g. schedule=CronDataIntervalTimetable('0 * * * *', "
            "timezone='UTC'), or set modified_from and modified_to."
        )
    return first, last


def instant_keys(start: dt.datetime, end: dt.datetime) -> tuple[tuple[str, str], tuple[str, str]]:
    """
    The partition keys of a half-open window of instants ``[start, end)``.

    Whole UTC days give the inclusive days, as for Apptics (``start=2026-03-07/end=2026-03-07`` for one
    day); any other window gives its two bounds as ``YYYY-MM-DDTHHMMSSZ``
    (``start=2026-03-07T230000Z/end=2026-03-08T000000Z``).

    :param start: the first instant, aware.
    :param end: the instant after the last one, aware.
    :raises ZohoConfigError: when a bound is not a whole second (the keys could not tell windows apart).
    """
    first, last = start.astimezone(dt.timezone.utc), end.astimezone(dt.timezone.utc)
    if first.microsecond or last.microsecond:
        raise ZohoConfigError(
            f"The window {first.isoformat()} to {last.isoformat()} has a bound that is not a whole second; "
            "partition keys name whole seconds."
        )
    if first.time() == last.time() == dt.time(0) and last > first:
        return day_keys(first.date(), last.date() - _DAY)
    return ("start", first.strftime(_KEY_FORMAT)), ("end", last.strftime(_KEY_FORMAT))


def preceding_windows(
    start: dt.datetime, end: dt.datetime, lookback: Any
) -> list[tuple[dt.datetime, dt.datetime]]:
    """
    The windows of the same length as ``[start, end)`` that cover ``lookback`` before it, oldest first.

    :param start: the window's first instant.
    :param end: the instant after its last one.
    :param lookback: a ``timedelta`` (pendulum's ``duration`` too), a whole multiple of the window's length;
        ``None`` or zero: none.
    :raises ZohoConfigError: for anything else.
    """
    if lookback is None:
        return []
    length = end - start
    if isinstance(lookback, dt.timedelta):  # a plain one: pendulum's Duration cannot divide by timedelta
        lookback = dt.timedelta(lookback.days, lookback.seconds, lookback.microseconds)
    if not isinstance(lookback, dt.timedelta) or lookback < dt.timedelta(0) or lookback % length:
        raise ZohoConfigError(
            f"lookback must be a timedelta that is a whole number of windows ({_duration(length)} each: "
            f"the run's window), such as timedelta(hours=2) for hourly windows; got {lookback!r}."
        )
    count = lookback // length
    try:
        return [(start - n * length, end - n * length) for n in range(count, 0, -1)]
    except OverflowError:
        raise ZohoConfigError(
            f"lookback={lookback!r} reaches before the first instant a datetime can name."
        ) from None


def lookback_windows(start: dt.date, lookback_days: int) -> list[Window]:
    """One single-day window for each of the ``lookback_days`` days before ``start``, oldest first."""
    if isinstance(lookback_days, bool) or not isinstance(lookback_days, int) or lookback_days < 0:
        raise ZohoConfigError(f"lookback_days must be a whole number >= 0, got {lookback_days!r}.")
    try:
        first = start - dt.timedelta(days=lookback_days)
    except OverflowError:
        raise ZohoConfigError(
            f"lookback_days={lookback_days} reaches before {dt.date.min}, the first day a date can name, "
            f"from the window's first day {start}; use fewer lookback days."
        ) from None
    return [(first + dt.timedelta(days=n), first + dt.timedelta(days=n)) for n in range(lookback_days)]


_DAY = dt.timedelta(days=1)
_KEY_FORMAT = "%Y-%m-%dT%H%M%SZ"
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ]|$)")


def _duration(length: dt.timedelta) -> str:
    seconds = int(length.total_seconds())
    for unit, size in (("day", 86_400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{length.total_seconds():g} seconds"


def _utc(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        return None
    if value.tzinfo is None:
        return value
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
