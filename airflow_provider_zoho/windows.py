"""
Extraction windows: which days a task run extracts.

A window is a pair of inclusive dates. Operators and sensors derive it the same way from the run's data
interval, so a sensor waits for exactly the days its downstream extraction reads.
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
                    dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
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
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ]|$)")


def _utc(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        return None
    if value.tzinfo is None:
        return value
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
