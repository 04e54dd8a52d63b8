from __future__ import annotations

import datetime as dt
import time

from airflow_provider_zoho.sandbox.data import (
    APP_VERSIONS,
    COUNTRIES,
    DAY_MS,
    EVENTS,
    HOUR_MS,
    MODELS,
    OS_VERSIONS,
)
from airflow_provider_zoho.sandbox.model import AppticsModel, day_ms, user_of
from airflow_provider_zoho.sandbox.query import RESOURCES, parse_query

TODAY = dt.date(2024, 6, 1)


def q(resource: str, start: str, end: str, crash_id: str | None = None, **params: str):
    return parse_query(RESOURCES[resource], {"startdate": start, "enddate": end, **params}, crash_id, TODAY)


def by_day(buckets):
    return {b.start_ms: b.counts for b in buckets}


def test_same_seed_same_data_other_seed_other_data():
    query = q("crashes", "01-03-2024", "14-03-2024")
    assert AppticsModel(5).crash_list(query) == AppticsModel(5).crash_list(query)
    assert AppticsModel(5).crash_list(query) != AppticsModel(6).crash_list(query)
    assert AppticsModel("a").multigroup("active", q("active_devices", "01-03-2024", "03-03-2024")) != (
        AppticsModel("b").multigroup("active", q("active_devices", "01-03-2024", "03-03-2024"))
    )


def test_overlapping_windows_agree_per_day():
    model = AppticsModel(3)
    first = q("crash_counts_by_date", "01-03-2024", "10-03-2024")
    second = q("crash_counts_by_date", "05-03-2024", "20-03-2024")
    for platform in ("iOS", "Android"):
        a, b = by_day(model.crash_buckets(first, platform)), by_day(model.crash_buckets(second, platform))
        shared = set(a) & set(b)
        assert len(shared) == 6
        assert {d: a[d] for d in shared} == {d: b[d] for d in shared}
        # and a fresh model (no caches) agrees too
        fresh = by_day(AppticsModel(3).crash_buckets(second, platform))
        assert fresh == b
    events_a = {
        r[0:3]: r[3]
        for r in model.event_by_date(q("event_counts_by_date", "01-03-2024", "10-03-2024"), "iOS")
    }
    events_b = {
        r[0:3]: r[3]
        for r in model.event_by_date(q("event_counts_by_date", "08-03-2024", "12-03-2024"), "iOS")
    }
    shared = set(events_a) & set(events_b)
    assert shared
    assert all(events_a[k] == events_b[k] for k in shared)


def test_window_totals_are_sums_of_days():
    model = AppticsModel(1)
    week = q("crashes", "01-03-2024", "07-03-2024")
    total = {row.issue.crash_id: row.crashes for row in model.crash_list(week)}
    per_day: dict[str, int] = {}
    for day in range(1, 8):
        one = q("crashes", f"{day:02d}-03-2024", f"{day:02d}-03-2024")
        for row in model.crash_list(one):
            per_day[row.issue.crash_id] = per_day.get(row.issue.crash_id, 0) + row.crashes
    assert total == per_day


def test_data_depends_on_dates_and_platforms():
    model = AppticsModel(0)
    march = model.crash_list(q("crashes", "01-03-2024", "07-03-2024"))
    april = model.crash_list(q("crashes", "01-04-2024", "07-04-2024"))
    assert march != april
    ios = model.crash_list(q("crashes", "01-03-2024", "07-03-2024", platform="iOS"))
    assert ios
    assert {row.issue.platform for row in ios} == {"iOS"}
    both = {row.issue.crash_id for row in march}
    assert {row.issue.crash_id for row in ios} < both
    assert model.event_summary(q("event_summary", "01-03-2024", "07-03-2024"), "iOS") != model.event_summary(
        q("event_summary", "01-03-2024", "07-03-2024"), "Android"
    )


def test_app_version_filter():
    model = AppticsModel(0)
    rows = model.crash_list(q("crashes", "01-03-2024", "31-03-2024", appversion="2.4.1"))
    assert rows
    assert {row.issue.app_version for row in rows} == {"2.4.1"}
    assert model.crash_list(q("crashes", "01-03-2024", "31-03-2024", appversion="9.9.9")) == []


def test_crash_invariants():
    model = AppticsModel(2)
    query = q("crashes", "01-01-2024", "31-01-2024", platform="iOS,Android,macOS,tvOS,watchOS")
    rows = model.crash_list(query)
    assert 10 <= len(rows) <= 30
    for row in rows:
        assert row.crashes >= row.devices >= row.users >= 1
    assert [r.crashes for r in rows] == sorted((r.crashes for r in rows), reverse=True)


def test_hourly_buckets_add_up_to_the_day():
    model = AppticsModel(4)
    day = q("crash_counts_by_date", "05-03-2024", "05-03-2024")
    week = q("crash_counts_by_date", "01-03-2024", "07-03-2024")
    hourly = model.crash_buckets(day, "Android")
    assert len(hourly) == 24
    assert [b.start_ms for b in hourly] == [
        day_ms(dt.date(2024, 3, 5).toordinal()) + h * HOUR_MS for h in range(24)
    ]
    daily = by_day(model.crash_buckets(week, "Android"))[day_ms(dt.date(2024, 3, 5).toordinal())]
    assert sum(b.counts.crashes for b in hourly) == daily.crashes
    assert sum(b.counts.devices for b in hourly) >= daily.devices


def test_daily_buckets_are_utc_midnights():
    buckets = AppticsModel(0).crash_buckets(q("crash_counts_by_date", "30-12-2023", "02-01-2024"), "iOS")
    assert [b.start_ms for b in buckets] == [1703894400000 + i * DAY_MS for i in range(4)]


def test_multigroup_is_consistent_with_active_by_date():
    model = AppticsModel(9)
    by_date = q("active_devices_by_date", "01-03-2024", "03-03-2024", platform="iOS,Android")
    per_day = {(p, ms): c for p in ("iOS", "Android") for ms, c in model.active_by_date(by_date, p)}
    grouped = model.multigroup(
        "active", q("active_devices", "01-03-2024", "03-03-2024", group="platform,date")
    )
    assert len(grouped) == 6
    for (platform, date), count in grouped:
        day = dt.datetime.strptime(date, "%d-%m-%Y").date()
        assert per_day[(platform, day_ms(day.toordinal()))] == count
    by_country = model.multigroup("active", q("active_devices", "01-03-2024", "03-03-2024", group="country"))
    assert sum(count for _, count in by_country) == sum(per_day.values())
    names = [values[0] for values, _ in by_country]
    assert names == [c for c in COUNTRIES if c in names]
    three = model.multigroup(
        "active", q("active_devices", "01-03-2024", "03-03-2024", group="appversion,devicetype,bundle")
    )
    assert sum(count for _, count in three) == sum(per_day.values())
    assert all(len(values) == 3 for values, _ in three)


def test_multigroup_filters():
    model = AppticsModel(0)
    screens = model.multigroup("screens", q("screens", "01-03-2024", "02-03-2024", screenname="CartScreen"))
    assert screens
    assert {values[1] for values, _ in screens} == {"CartScreen"}
    lite = model.multigroup(
        "active",
        q("active_devices", "01-03-2024", "02-03-2024", group="bundle", bundle="com.acme.mobile.lite"),
    )
    assert [values for values, _ in lite] == [("com.acme.mobile.lite",)]


def test_event_devices_are_not_additive():
    model = AppticsModel(0)
    whole = dict(
        ((g, n), c) for g, n, c in model.event_devices(q("event_device_counts", "01-03-2024", "10-03-2024"))
    )
    first = dict(
        ((g, n), c) for g, n, c in model.event_devices(q("event_device_counts", "01-03-2024", "05-03-2024"))
    )
    second = dict(
        ((g, n), c) for g, n, c in model.event_devices(q("event_device_counts", "06-03-2024", "10-03-2024"))
    )
    key = EVENTS[0]
    assert whole[key] < first[key] + second[key]
    development = model.event_devices(q("event_device_counts", "01-03-2024", "10-03-2024", mode="0"))
    assert sum(c for *_, c in development) < sum(whole.values())


def test_mode_changes_crash_data():
    model = AppticsModel(0)
    production = model.crash_list(q("crashes", "01-03-2024", "31-03-2024"))
    development = model.crash_list(q("crashes", "01-03-2024", "31-03-2024", mode="0"))
    assert sum(r.crashes for r in development) < sum(r.crashes for r in production)


def test_override_rows_are_lazy_and_stable():
    model = AppticsModel(0)
    query = q("crashes", "01-03-2024", "07-03-2024")
    start = time.perf_counter()
    far = [model.crash_override_row(i, query) for i in range(999_500, 1_000_000)]
    assert time.perf_counter() - start < 0.5
    assert far[0] == AppticsModel(0).crash_override_row(999_500, query)
    ids = {row.issue.crash_id for row in far}
    assert len(ids) == 500
    # an override crash id resolves to the same issue on the detail endpoints
    row = far[7]
    issue = model.find_issue(row.issue.crash_id, crash_rows=1_000_000)
    assert issue is not None
    assert (issue.platform, issue.app_version) == (
        row.issue.platform,
        row.issue.app_version,
    )
    assert model.find_issue(row.issue.crash_id, crash_rows=10) is None
    assert model.find_issue(row.issue.crash_id, crash_rows=None) is None
    versions = {
        model.crash_override_row(
            i, q("crashes", "01-03-2024", "07-03-2024", appversion="2.3.0")
        ).issue.app_version
        for i in range(20)
    }
    assert versions == {"2.3.0"}
    assert {r.issue.platform for r in (model.crash_override_row(i, query) for i in range(10))} == {
        "iOS",
        "Android",
    }
    assert APP_VERSIONS


def test_affected_devices_sorted_and_inside_window():
    model = AppticsModel(0)
    query = q("affected_devices", "01-03-2024", "03-03-2024")
    rows = model.affected_devices(query)
    start = day_ms(dt.date(2024, 3, 1).toordinal())
    assert rows
    assert all(start <= r.time_ms < start + 3 * DAY_MS for r in rows)
    assert [r.time_ms for r in rows] == sorted(r.time_ms for r in rows)
    override = [model.affected_override_row(i, 1000, query) for i in range(1000)]
    assert all(start <= r.time_ms < start + 3 * DAY_MS for r in override)
    assert [r.time_ms for r in override] == sorted(r.time_ms for r in override)


def test_users_are_four_fifths_of_devices():
    assert [user_of(d) for d in range(6)] == [0, 0, 1, 2, 3, 4]
    model = AppticsModel(0)
    device = model.device("iOS", 10)
    assert device.user_id == 91_000_000_000 + 2 * 1_000_000 + user_of(10)


def test_counts_of_a_window_are_sums_of_its_issues_days():
    model = AppticsModel(6)
    query = q("crashes", "01-03-2024", "10-03-2024")
    issues = model.issues[:12]
    total = model.counts(issues, query.ordinals, query)
    days = [model.counts(issues, range(o, o + 1), query) for o in query.ordinals]
    assert total.crashes == sum(d.crashes for d in days)
    assert total.devices == sum(d.devices for d in days)
    assert total.users == sum(d.users for d in days)
    rows = {row.issue.crash_id: row for row in model.crash_list(query)}
    assert total.issues == sum(1 for issue in issues if issue.crash_id in rows)


def test_crashes_by_device_attribute_add_up_to_the_issue():
    model = AppticsModel(1)
    query = q("crash_os_versions", "01-03-2024", "31-03-2024", "7340000000100007")
    issue = model.issues[0]
    by_os = model.crashes_by_device(query, issue, "os_version")
    by_model = model.crashes_by_device(query, issue, "model")
    crashes = model.counts((issue,), query.ordinals, query).crashes
    assert sum(c for _, c in by_os) == sum(c for _, c in by_model) == crashes > 0
    assert {v for v, _ in by_os} <= set(OS_VERSIONS["iOS"])
    assert {v for v, _ in by_model} <= set(MODELS["iOS"])
    assert [c for _, c in by_os] == sorted((c for _, c in by_os), reverse=True)
