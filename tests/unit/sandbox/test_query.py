from __future__ import annotations

import datetime as dt

import pytest

from airflow_provider_zoho.sandbox.query import (
    RESOURCES,
    AppticsRequestError,
    match_path,
    parse_query,
)

TODAY = dt.date(2024, 3, 15)
WEEK = {"startdate": "01-03-2024", "enddate": "07-03-2024"}


def parse(resource: str, crash_id: str | None = None, **params: str):
    return parse_query(RESOURCES[resource], params, crash_id, today=TODAY)


def error_of(resource: str, crash_id: str | None = None, **params: str) -> tuple[int, str]:
    with pytest.raises(AppticsRequestError) as caught:
        parse(resource, crash_id, **params)
    return caught.value.status, caught.value.code


@pytest.mark.parametrize(
    ("path", "resource", "crash_id"),
    [
        ("/userprojects", "projects", None),
        ("/crash/list", "crashes", None),
        ("/crash/list/", "crashes", None),
        ("/crash/summary", "crash_summary", None),
        ("/crash/countbydate", "crash_counts_by_date", None),
        ("/crash/42/countbydate", "crash_issue_counts_by_date", "42"),
        ("/crash/42/summarywithtrace", "crash_detail", "42"),
        ("/crash/42/osversion", "crash_os_versions", "42"),
        ("/crash/42/devicemodel", "crash_device_models", "42"),
        ("/crash/affecteddevice", "affected_devices", None),
        ("/activedevice/countbydate", "active_devices_by_date", None),
        ("/activedevice/multigroup", "active_devices", None),
        ("/event/summary", "event_summary", None),
        ("/event/countbydate", "event_counts_by_date", None),
        ("/event/countrysummary", "event_counts_by_country", None),
        ("/event/devicecount", "event_device_counts", None),
        ("/screen/multigroup", "screens", None),
        ("/api/multigroup", "api_stats", None),
    ],
)
def test_match_path(path, resource, crash_id):
    spec, found_id = match_path(path)
    assert (spec.name, found_id) == (resource, crash_id)


@pytest.mark.parametrize("path", ["/crash", "/crash/42/unknown", "/nope", "/crash//osversion", "/"])
def test_match_path_unknown(path):
    assert match_path(path) is None


def test_defaults():
    query = parse("crashes")
    assert (query.start, query.end) == (dt.date(2024, 3, 8), dt.date(2024, 3, 14))
    assert query.platforms == ("iOS", "Android")
    assert (query.limit, query.offset, query.mode) == (500, 0, 1)
    assert not query.hourly


def test_dates_and_window():
    query = parse("crashes", **WEEK)
    assert (query.start, query.end) == (dt.date(2024, 3, 1), dt.date(2024, 3, 7))
    assert len(query.ordinals) == 7
    assert parse("crash_counts_by_date", startdate="05-03-2024", enddate="05-03-2024").hourly


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"startdate": "2024-03-01"}, "INVALID_DATE"),
        ({"startdate": "31-02-2024"}, "INVALID_DATE"),
        ({"enddate": "1-3-2024"}, "INVALID_DATE"),
        ({"startdate": "07-03-2024", "enddate": "01-03-2024"}, "INVALID_DATE_RANGE"),
        ({**WEEK, "platform": "ios"}, "INVALID_PLATFORM"),
        ({**WEEK, "platform": "iOS,Android,macOS,tvOS,watchOS,Windows"}, "INVALID_PLATFORM"),
        ({**WEEK, "appversion": ",".join(str(i) for i in range(11))}, "INVALID_APPVERSION"),
        ({**WEEK, "mode": "3"}, "INVALID_MODE"),
        ({**WEEK, "mode": "x"}, "INVALID_MODE"),
        ({**WEEK, "limit": "501"}, "INVALID_LIMIT"),
        ({**WEEK, "limit": "0"}, "INVALID_LIMIT"),
        ({**WEEK, "limit": "ten"}, "INVALID_LIMIT"),
        ({**WEEK, "offset": "-1"}, "INVALID_OFFSET"),
    ],
)
def test_rejected(params, code):
    assert error_of("crashes", **params) == (400, code)


def test_platforms_and_versions():
    query = parse("crashes", platform="Android, iOS,Android", appversion="2.4.1,2.4.0", **WEEK)
    assert query.platforms == ("Android", "iOS")
    assert query.app_versions == ("2.4.1", "2.4.0")
    assert parse("crashes", platform="iOS,Android,macOS,tvOS,watchOS", **WEEK).platforms[-1] == "watchOS"


def test_filters_that_do_not_apply_are_ignored():
    query = parse("affected_devices", platform="nonsense", appversion="1,2,3", **WEEK)
    assert query.platforms == ("iOS", "Android")
    assert query.app_versions == ()
    summary = parse("crash_summary", limit="100000", offset="-5", **WEEK)  # not paged
    assert (summary.limit, summary.offset) == (500, 0)


def test_single_app_version_resources():
    assert error_of("crash_detail", "7", appversion="1,2", **WEEK) == (400, "INVALID_APPVERSION")
    assert error_of("crash_issue_counts_by_date", "7", appversion="1,2", **WEEK) == (
        400,
        "INVALID_APPVERSION",
    )
    assert parse("crash_os_versions", "7", appversion="1,2", **WEEK).app_versions == ("1", "2")


def test_crash_id_must_be_numeric():
    assert error_of("crash_detail", "abc", **WEEK) == (400, "INVALID_UNIQUEID")
    assert parse("crash_detail", "7340000000100007", **WEEK).crash_id == "7340000000100007"


def test_sixty_day_rule():
    assert parse("event_device_counts", startdate="01-01-2024", enddate="01-03-2024").end == dt.date(
        2024, 3, 1
    )
    assert error_of("event_device_counts", startdate="01-01-2024", enddate="02-03-2024") == (
        400,
        "INVALID_DATE_RANGE",
    )
    # other resources accept long windows
    assert parse("crashes", startdate="01-01-2023", enddate="31-12-2023").start == dt.date(2023, 1, 1)


def test_groups():
    assert parse("active_devices", **WEEK).group == ("date", "platform")
    assert parse("screens", **WEEK).group == ("date", "screen")
    assert parse("api_stats", **WEEK).group == ("date", "api")
    assert parse("active_devices", group="country,platform,date", **WEEK).group == (
        "country",
        "platform",
        "date",
    )
    assert error_of("active_devices", group="screen", **WEEK) == (400, "INVALID_GROUP")
    assert error_of("active_devices", group="date,date", **WEEK) == (400, "INVALID_GROUP")
    assert error_of("screens", group="date,platform,country,bundle", **WEEK) == (400, "INVALID_GROUP")
    assert error_of("screens", responseformat="csvjson", **WEEK) == (400, "INVALID_RESPONSEFORMAT")
    assert parse("screens", screenname="HomeScreen", **WEEK).filter("screenname") == "HomeScreen"


def test_error_body():
    error = AppticsRequestError(400, "INVALID_LIMIT", "too big")
    assert error.body() == {"status": "failure", "error": {"code": "INVALID_LIMIT", "message": "too big"}}
