from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from airflow_provider_zoho.exceptions import ZohoAPIError, ZohoConfigError
from airflow_provider_zoho.hooks.apptics_catalog import (
    PAGE_LIMIT,
    RESOURCES,
    ApiCall,
    Page,
    parse_date,
    parse_page,
    plan_calls,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "apptics"
MAR_12, MAR_13 = "2022-03-12", "2022-03-13"
CRASH_ID = "7340000000123007"


def _call(resource: str, **kwargs) -> ApiCall:
    if not RESOURCES[resource].dated:
        return plan_calls(resource, None, None, **kwargs)[0]
    (call,) = plan_calls(resource, MAR_12, MAR_13, **kwargs)
    return call


def _fixture(name: str) -> bytes:
    return (DATA / name).read_bytes()


# --------------------------------------------------------------------------------------------------------
# The catalog
# --------------------------------------------------------------------------------------------------------


def test_resources_are_the_contract_in_contract_order():
    assert [(name, resource.name, resource.path) for name, resource in RESOURCES.items()] == [
        ("projects", "projects", "/userprojects"),
        ("crashes", "crashes", "/crash/list"),
        ("crash_summary", "crash_summary", "/crash/summary"),
        ("crash_counts_by_date", "crash_counts_by_date", "/crash/countbydate"),
        ("crash_issue_counts_by_date", "crash_issue_counts_by_date", "/crash/{crash_id}/countbydate"),
        ("crash_detail", "crash_detail", "/crash/{crash_id}/summarywithtrace"),
        ("crash_os_versions", "crash_os_versions", "/crash/{crash_id}/osversion"),
        ("crash_device_models", "crash_device_models", "/crash/{crash_id}/devicemodel"),
        ("affected_devices", "affected_devices", "/crash/affecteddevice"),
        ("active_devices_by_date", "active_devices_by_date", "/activedevice/countbydate"),
        ("active_devices", "active_devices", "/activedevice/multigroup"),
        ("event_summary", "event_summary", "/event/summary"),
        ("event_counts_by_date", "event_counts_by_date", "/event/countbydate"),
        ("event_counts_by_country", "event_counts_by_country", "/event/countrysummary"),
        ("event_device_counts", "event_device_counts", "/event/devicecount"),
        ("screens", "screens", "/screen/multigroup"),
        ("api_stats", "api_stats", "/api/multigroup"),
    ]


def test_resource_flags_follow_the_contract_table():
    table = {
        name: (r.paged, r.platforms, r.max_app_versions, r.mode, r.project_headers, r.max_days, r.group)
        for name, r in RESOURCES.items()
    }
    assert table == {
        "projects": (False, False, 0, False, False, None, ()),
        "crashes": (True, True, 10, True, True, None, ()),
        "crash_summary": (False, True, 10, True, True, None, ()),
        "crash_counts_by_date": (True, True, 10, True, True, None, ()),
        "crash_issue_counts_by_date": (True, False, 1, True, True, None, ()),
        "crash_detail": (False, False, 1, True, True, None, ()),
        "crash_os_versions": (True, False, 10, True, True, None, ()),
        "crash_device_models": (True, False, 10, True, True, None, ()),
        "affected_devices": (True, False, 0, True, True, None, ()),
        "active_devices_by_date": (True, True, 0, False, True, None, ()),
        "active_devices": (True, True, 0, False, True, None, ("date", "platform")),
        "event_summary": (True, True, 0, False, True, None, ()),
        "event_counts_by_date": (True, True, 0, False, True, None, ()),
        "event_counts_by_country": (True, True, 0, False, True, None, ()),
        "event_device_counts": (True, True, 0, True, True, 60, ()),
        "screens": (True, True, 0, False, True, None, ("date", "screen")),
        "api_stats": (True, True, 0, False, True, None, ("date", "api")),
    }


@pytest.mark.parametrize(
    ("resource", "fields"),
    [
        ("projects", ("portal_id", "portal_name", "project_id", "project_name", "platforms")),
        (
            "crashes",
            (
                "crash_id",
                "app_version",
                "status",
                "os",
                "exception",
                "exception_type",
                "crash_count",
                "device_count",
                "user_count",
                "platform_id",
                "app_version_id",
            ),
        ),
        (
            "crash_summary",
            (
                "crash_count",
                "issue_count",
                "device_count",
                "user_count",
                "previous_crash_count",
                "previous_issue_count",
                "previous_device_count",
                "previous_user_count",
                "crash_free_users",
            ),
        ),
        (
            "crash_counts_by_date",
            ("platform", "bucket_start", "crash_count", "device_count", "user_count", "issue_count"),
        ),
        (
            "crash_issue_counts_by_date",
            ("crash_id", "bucket_start", "crash_count", "device_count", "user_count", "issue_count"),
        ),
        ("crash_os_versions", ("crash_id", "os_version", "crash_count")),
        ("crash_device_models", ("crash_id", "model", "crash_count")),
        (
            "affected_devices",
            ("device_id", "user_id", "model", "os_version", "app_version", "happened_at", "date"),
        ),
        ("active_devices_by_date", ("platform", "bucket_start", "active_devices")),
        ("event_summary", ("platform", "event_group", "event_name", "event_count")),
        ("event_counts_by_date", ("platform", "bucket_start", "event_group", "event_name", "event_count")),
        ("event_counts_by_country", ("country", "event_count")),
        ("event_device_counts", ("window_start", "window_end", "event_name", "event_group", "device_count")),
        ("active_devices", ()),
    ],
    ids=[
        "projects",
        "crashes",
        "crash_summary",
        "crash_counts_by_date",
        "crash_issue_counts_by_date",
        "crash_os_versions",
        "crash_device_models",
        "affected_devices",
        "active_devices_by_date",
        "event_summary",
        "event_counts_by_date",
        "event_counts_by_country",
        "event_device_counts",
        "multigroup",
    ],
)
def test_resource_fields(resource, fields):
    assert RESOURCES[resource].fields == fields


def test_crash_detail_fields():
    assert RESOURCES["crash_detail"].fields == (
        "crash_id",
        "date",
        "happened_at",
        "session_start_time",
        "message",
        "exception",
        "issue_name",
        "os",
        "os_version",
        "model",
        "screen",
        "device_id",
        "user_id",
        "network_status",
        "battery_status",
        "platform_id",
        "app_version",
        "app_version_id",
        "app_release_version",
        "sdk_version",
        "edge",
        "custom_properties",
    )


# --------------------------------------------------------------------------------------------------------
# Planning
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "start", "end", "kwargs", "path", "params"),
    [
        ("projects", None, None, {}, "/userprojects", {}),
        (
            "crashes",
            date(2024, 3, 1),
            date(2024, 3, 31),
            {"platforms": ["iOS", "Android"], "app_versions": "2.4.1, 2.4.0", "mode": 1},
            "/crash/list",
            {
                "startdate": "01-03-2024",
                "enddate": "31-03-2024",
                "platform": "iOS,Android",
                "appversion": "2.4.1,2.4.0",
                "mode": "1",
            },
        ),
        (
            "crash_detail",
            datetime(2024, 3, 1, 23, 30, tzinfo=timezone.utc),
            "2024-03-01",
            {"crash_id": 7340000000123007, "app_versions": ("2.4.1",), "mode": "0"},
            "/crash/7340000000123007/summarywithtrace",
            {"startdate": "01-03-2024", "enddate": "01-03-2024", "appversion": "2.4.1", "mode": "0"},
        ),
        (
            "crash_os_versions",
            "2024-03-01",
            "2024-03-02",
            {"crash_id": f" {CRASH_ID} "},
            f"/crash/{CRASH_ID}/osversion",
            {"startdate": "01-03-2024", "enddate": "02-03-2024"},
        ),
        (
            "affected_devices",
            "2024-03-01",
            "2024-03-02",
            {"mode": 1, "happendat": True, "daterangekey": "D", "timezone": "Asia/Kolkata", "bundle": None},
            "/crash/affecteddevice",
            {
                "startdate": "01-03-2024",
                "enddate": "02-03-2024",
                "mode": "1",
                "happendat": "true",
                "daterangekey": "D",
                "timezone": "Asia/Kolkata",
            },
        ),
        (
            "active_devices",
            "2024-07-01",
            "2024-07-31",
            {"platforms": "iOS"},
            "/activedevice/multigroup",
            {
                "startdate": "01-07-2024",
                "enddate": "31-07-2024",
                "platform": "iOS",
                "group": "date,platform",
                "responseformat": "nestedjson",
            },
        ),
        (
            "screens",
            "2024-07-01",
            "2024-07-31",
            {"group": ["Platform", " country", "screen"], "screenname": "Home"},
            "/screen/multigroup",
            {
                "startdate": "01-07-2024",
                "enddate": "31-07-2024",
                "group": "platform,country,screen",
                "responseformat": "nestedjson",
                "screenname": "Home",
            },
        ),
        (
            "api_stats",
            "2024-07-01",
            "2024-07-31",
            {"group": "api", "apiname": ["login", "logout"]},
            "/api/multigroup",
            {
                "startdate": "01-07-2024",
                "enddate": "31-07-2024",
                "group": "api",
                "responseformat": "nestedjson",
                "apiname": "login,logout",
            },
        ),
        (
            "event_device_counts",
            "2024-03-01",
            "2024-03-02",
            {"platforms": "iOS,iOS", "bundle": "com.acme.app", "mode": 1, "timezone": "UTC"},
            "/event/devicecount",
            {
                "startdate": "01-03-2024",
                "enddate": "02-03-2024",
                "platform": "iOS",
                "mode": "1",
                "bundle": "com.acme.app",
                "timezone": "UTC",
            },
        ),
    ],
    ids=[
        "projects-no-dates",
        "crashes-all-filters",
        "crash-detail-datetime-and-int-id",
        "crash-id-stripped",
        "passthrough-params",
        "multigroup-default-group",
        "multigroup-chosen-group",
        "api-stats-list-param",
        "device-counts-bundle-with-platform",
    ],
)
def test_plan_calls_params(resource, start, end, kwargs, path, params):
    (call,) = plan_calls(resource, start, end, **kwargs)
    assert call.path == path
    assert list(call.params.items()) == list(params.items())
    assert call.paged is RESOURCES[resource].paged
    assert "limit" not in call.params
    assert "offset" not in call.params


def test_plan_calls_carries_context_for_the_parser():
    (call,) = plan_calls("screens", "2024-07-01", "2024-07-02", group="country,date")
    assert (call.window_start, call.window_end, call.crash_id, call.group) == (
        date(2024, 7, 1),
        date(2024, 7, 2),
        None,
        ("country", "date"),
    )
    assert call.fields == ("country", "date", "count")
    (crash_call,) = plan_calls("crash_os_versions", "2024-07-01", "2024-07-01", crash_id=CRASH_ID)
    assert (crash_call.crash_id, crash_call.group, crash_call.fields) == (
        CRASH_ID,
        (),
        ("crash_id", "os_version", "crash_count"),
    )


def test_projects_ignore_dates_and_send_no_project_headers():
    (call,) = plan_calls("projects", "2024-01-01", date(2024, 1, 2))
    assert (call.params, call.window_start, call.window_end, call.project_headers) == ({}, None, None, False)
    assert _call("crashes").project_headers is True


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (0, {"startdate": "12-03-2022", "enddate": "13-03-2022", "limit": "500", "offset": "0"}),
        (1000, {"startdate": "12-03-2022", "enddate": "13-03-2022", "limit": "500", "offset": "1000"}),
    ],
    ids=["first-page", "third-page"],
)
def test_page_params_of_a_paged_call(offset, expected):
    call = _call("crashes")
    assert call.page_params(offset) == expected
    assert call.params == {"startdate": "12-03-2022", "enddate": "13-03-2022"}


def test_page_params_of_an_unpaged_call_have_no_paging():
    assert _call("crash_summary").page_params(500) == {"startdate": "12-03-2022", "enddate": "13-03-2022"}


@pytest.mark.parametrize(
    ("start", "end", "chunks"),
    [
        ("2024-01-01", "2024-02-29", [("01-01-2024", "29-02-2024")]),
        ("2024-01-01", "2024-03-01", [("01-01-2024", "29-02-2024"), ("01-03-2024", "01-03-2024")]),
        (
            "2024-01-01",
            "2024-05-01",
            [("01-01-2024", "29-02-2024"), ("01-03-2024", "29-04-2024"), ("30-04-2024", "01-05-2024")],
        ),
        ("2024-01-01", "2024-01-01", [("01-01-2024", "01-01-2024")]),
    ],
    ids=["exactly-60-days", "61-days", "122-days", "one-day"],
)
def test_event_device_counts_windows_are_chunked_to_60_days(start, end, chunks):
    calls = plan_calls("event_device_counts", start, end, platforms="Android")
    assert [(call.params["startdate"], call.params["enddate"]) for call in calls] == chunks
    assert all(call.params["platform"] == "Android" for call in calls)
    assert [(call.window_end - call.window_start).days + 1 for call in calls] == [
        min(60, (date.fromisoformat(end) - call.window_start).days + 1) for call in calls
    ]


def test_other_resources_are_not_chunked():
    (call,) = plan_calls("crashes", "2023-01-01", "2024-12-31")
    assert (call.params["startdate"], call.params["enddate"]) == ("01-01-2023", "31-12-2024")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2024, 2, 29), date(2024, 2, 29)),
        (datetime(2024, 2, 29, 23, 59), date(2024, 2, 29)),
        ("2024-02-29", date(2024, 2, 29)),
        (" 2024-02-29 ", date(2024, 2, 29)),
    ],
    ids=["date", "datetime", "iso", "iso-padded"],
)
def test_parse_date(value, expected):
    assert parse_date(value, "start_date") == expected


VALID = ("crashes", MAR_12, MAR_13)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (
            ("crash", MAR_12, MAR_13),
            {},
            (
                "resource: 'crash' is not an Apptics resource; choose one of: projects, crashes, "
                "crash_summary, "
                "crash_counts_by_date, crash_issue_counts_by_date, crash_detail, crash_os_versions, "
                "crash_device_models, affected_devices, active_devices_by_date, active_devices, "
                "event_summary, "
                "event_counts_by_date, event_counts_by_country, event_device_counts, screens, api_stats"
            ),
        ),
        (
            ("crashes", "2024/03/01", MAR_13),
            {},
            "start_date: expected a date, a datetime or an ISO 'YYYY-MM-DD' string, got '2024/03/01'",
        ),
        (
            ("crashes", MAR_12, "2024-02-30"),
            {},
            "end_date: expected a date, a datetime or an ISO 'YYYY-MM-DD' string, got '2024-02-30'",
        ),
        (
            ("crashes", MAR_12, 20240301),
            {},
            "end_date: expected a date, a datetime or an ISO 'YYYY-MM-DD' string, got 20240301",
        ),
        (
            ("crashes", "20240301", MAR_13),
            {},
            "start_date: expected a date, a datetime or an ISO 'YYYY-MM-DD' string, got '20240301'",
        ),
        (
            ("crashes", MAR_13, MAR_12),
            {},
            (
                "end_date: 2022-03-12 is before start_date 2022-03-13; both bounds are inclusive, so a "
                "one-day "
                "window has end_date == start_date"
            ),
        ),
        (
            ("crashes", None, MAR_13),
            {},
            "start_date: resource 'crashes' needs a window; pass start_date and end_date (inclusive dates)",
        ),
        (
            ("crashes", MAR_12, None),
            {},
            "end_date: resource 'crashes' needs a window; pass start_date and end_date (inclusive dates)",
        ),
        (
            ("projects", "yesterday", None),
            {},
            "start_date: expected a date, a datetime or an ISO 'YYYY-MM-DD' string, got 'yesterday'",
        ),
        (
            VALID,
            {"platforms": "iOS,Android,macOS,tvOS,watchOS,Windows"},
            (
                "platforms: at most 5 platforms per call, got 6 (iOS, Android, macOS, tvOS, watchOS, "
                "Windows); "
                "pass fewer"
            ),
        ),
        (
            VALID,
            {"platforms": ["ios"]},
            (
                "platforms: 'ios' is not an Apptics platform; use iOS, Android, macOS, tvOS, watchOS, "
                "Windows "
                "(case-sensitive)"
            ),
        ),
        (
            VALID,
            {"platforms": {"iOS"}},
            "platforms: expected a list or a comma-separated string, got set {'iOS'}",
        ),
        (
            VALID,
            {"app_versions": [f"1.{n}" for n in range(11)]},
            (
                "app_versions: resource 'crashes' takes at most 10 app versions per call, got 11 "
                "(1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 1.10); pass fewer"
            ),
        ),
        (
            ("crash_detail", MAR_12, MAR_13),
            {"crash_id": CRASH_ID, "app_versions": "2.4.0,2.4.1"},
            (
                "app_versions: resource 'crash_detail' takes at most 1 app version per call, got 2 "
                "(2.4.0, 2.4.1); pass fewer"
            ),
        ),
        (
            ("crash_issue_counts_by_date", MAR_12, MAR_13),
            {"crash_id": CRASH_ID, "app_versions": ["2.4.0", "2.4.1"]},
            (
                "app_versions: resource 'crash_issue_counts_by_date' takes at most 1 app version per call, "
                "got 2 (2.4.0, 2.4.1); pass fewer"
            ),
        ),
        (
            VALID,
            {"app_versions": [1.1]},
            "app_versions: 1.1 is a float; pass names as strings ('1.10' and '1.1' differ)",
        ),
        (
            ("affected_devices", MAR_12, MAR_13),
            {"platforms": "iOS"},
            "platforms: resource 'affected_devices' does not take platforms; remove it (it takes: mode)",
        ),
        (
            ("event_summary", MAR_12, MAR_13),
            {"mode": 1},
            "mode: resource 'event_summary' does not take mode; remove it (it takes: platforms)",
        ),
        (
            ("screens", MAR_12, MAR_13),
            {"app_versions": "1.0"},
            (
                "app_versions: resource 'screens' does not take app_versions; remove it (it takes: "
                "platforms, "
                "group)"
            ),
        ),
        (
            ("crash_os_versions", MAR_12, MAR_13),
            {"crash_id": CRASH_ID, "platforms": "iOS"},
            (
                "platforms: resource 'crash_os_versions' does not take platforms; remove it (it takes: "
                "app_versions, mode, crash_id)"
            ),
        ),
        (
            ("projects", None, None),
            {"mode": 1},
            "mode: resource 'projects' does not take mode; remove it (it takes: no filters)",
        ),
        (VALID, {"mode": 2}, "mode: expected 0 (development) or 1 (production), got 2"),
        (VALID, {"mode": True}, "mode: expected 0 (development) or 1 (production), got True"),
        (VALID, {"mode": "production"}, "mode: expected 0 (development) or 1 (production), got 'production'"),
        (
            ("crash_detail", MAR_12, MAR_13),
            {},
            (
                "crash_id: resource 'crash_detail' needs the crash's id (the UniqueMessageID of a 'crashes' "
                "record); pass crash_id=..."
            ),
        ),
        (
            ("crash_device_models", MAR_12, MAR_13),
            {"crash_id": "../list"},
            (
                "crash_id: expected a crash id of letters, digits, '-' or '_' (the UniqueMessageID of a "
                "'crashes' record), got '../list'"
            ),
        ),
        (
            ("crash_issue_counts_by_date", MAR_12, MAR_13),
            {"crash_id": ""},
            (
                "crash_id: expected a crash id of letters, digits, '-' or '_' (the UniqueMessageID of a "
                "'crashes' record), got ''"
            ),
        ),
        (
            ("crash_issue_counts_by_date", MAR_12, MAR_13),
            {"crash_id": True},
            (
                "crash_id: expected a crash id of letters, digits, '-' or '_' (the UniqueMessageID of a "
                "'crashes' record), got True"
            ),
        ),
        (
            VALID,
            {"crash_id": CRASH_ID},
            (
                "crash_id: resource 'crashes' does not take crash_id; remove it (it takes: platforms, "
                "app_versions, mode)"
            ),
        ),
        (
            ("active_devices", MAR_12, MAR_13),
            {"group": "date,event"},
            (
                "group: 'event' is not a group entity of resource 'active_devices'; choose from date, "
                "platform, "
                "bundle, country, appversion, devicetype"
            ),
        ),
        (
            ("active_devices", MAR_12, MAR_13),
            {"group": "screen"},
            (
                "group: 'screen' is not a group entity of resource 'active_devices'; choose from date, "
                "platform, bundle, country, appversion, devicetype"
            ),
        ),
        (
            ("screens", MAR_12, MAR_13),
            {"group": ["date", "platform", "country", "screen"]},
            (
                "group: resource 'screens' takes 1 to 3 group entities, got 4 (['date', 'platform', "
                "'country', "
                "'screen'])"
            ),
        ),
        (
            ("api_stats", MAR_12, MAR_13),
            {"group": ""},
            "group: resource 'api_stats' takes 1 to 3 group entities, got 0 ('')",
        ),
        (
            ("api_stats", MAR_12, MAR_13),
            {"group": "date,Date"},
            "group: 'date,Date' names an entity twice; name each entity once",
        ),
        (
            VALID,
            {"group": "date"},
            (
                "group: resource 'crashes' does not take group; remove it (it takes: platforms, "
                "app_versions, "
                "mode)"
            ),
        ),
        (
            VALID,
            {"limit": 100},
            "limit: paging is the catalog's job (limit=500, offset stepping by limit); remove it",
        ),
        (
            VALID,
            {"offset": 500},
            "offset: paging is the catalog's job (limit=500, offset stepping by limit); remove it",
        ),
        (VALID, {"startdate": "01-03-2024"}, "startdate: pass the window as start_date/end_date instead"),
        (VALID, {"platform": "iOS"}, "platform: pass platforms=... instead"),
        (VALID, {"AppVersion": "1.0"}, "AppVersion: pass app_versions=... instead"),
        (
            ("screens", MAR_12, MAR_13),
            {"responseformat": "csvjson"},
            "responseformat: multigroup resources are always read as nestedjson; remove it",
        ),
        (
            VALID,
            {"timezone": {"name": "UTC"}},
            "timezone: expected a string, a number, a boolean or a list of strings, got dict {'name': 'UTC'}",
        ),
        (
            ("event_device_counts", MAR_12, MAR_13),
            {"bundle": "com.acme.app"},
            (
                "bundle: resource 'event_device_counts' only takes bundle together with platforms; pass "
                "platforms=... too"
            ),
        ),
    ],
    ids=[
        "unknown-resource",
        "slash-date",
        "impossible-date",
        "int-date",
        "compact-iso-date",
        "end-before-start",
        "missing-start",
        "missing-end",
        "undated-resource-bad-date",
        "six-platforms",
        "platform-case",
        "platforms-set",
        "eleven-app-versions",
        "detail-two-app-versions",
        "issue-counts-two-app-versions",
        "float-app-version",
        "platforms-not-taken",
        "mode-not-taken",
        "app-versions-not-taken",
        "platforms-not-taken-by-crash-resource",
        "projects-take-nothing",
        "mode-2",
        "mode-bool",
        "mode-word",
        "missing-crash-id",
        "path-traversal-crash-id",
        "blank-crash-id",
        "bool-crash-id",
        "crash-id-not-taken",
        "unknown-group-entity",
        "screen-entity-only-for-screens",
        "four-group-entities",
        "empty-group",
        "duplicate-group-entity",
        "group-not-taken",
        "limit",
        "offset",
        "startdate-param",
        "platform-param",
        "appversion-param-any-case",
        "responseformat-param",
        "object-param",
        "bundle-needs-platforms",
    ],
)
def test_plan_calls_rejects_with_a_message_naming_the_argument(args, kwargs, message):
    with pytest.raises(ZohoConfigError) as excinfo:
        plan_calls(*args, **kwargs)
    assert str(excinfo.value) == message


def test_plan_calls_treats_empty_filters_as_no_filter():
    (call,) = plan_calls("crashes", MAR_12, MAR_13, platforms="", app_versions=[], mode=None)
    assert call.params == {"startdate": "12-03-2022", "enddate": "13-03-2022"}


# --------------------------------------------------------------------------------------------------------
# Parsing the documented sample bodies
# --------------------------------------------------------------------------------------------------------

CRASH_ROW = {
    "crash_id": CRASH_ID,
    "app_version": "2.4.1",
    "status": 1,
    "os": "iOS",
    "exception": "-[__NSArrayM objectAtIndex:]: index 3 beyond bounds",
    "exception_type": "NSInvalidArgumentException",
    "crash_count": 12,
    "device_count": 10,
    "user_count": 9,
    "platform_id": "2",
    "app_version_id": "734000000001",
}

SAMPLES = [
    ("projects.json", "projects", {}, [
        {
            "portal_id": "766556673",
            "portal_name": "Acme",
            "project_id": "782000000004007",
            "project_name": "Acme Mobile",
            "platforms": ["iOS", "Android"],
        }
    ]),
    ("crashes.json", "crashes", {}, [CRASH_ROW]),
    ("crashes_bare_list.json", "crashes", {}, [
        {
            "crash_id": "7340000000200011",
            "app_version": "1.0.3",
            "status": 0,
            "os": "Android",
            "exception": "java.lang.NullPointerException: Attempt to invoke virtual method",
            "exception_type": None,
            "crash_count": 3,
            "device_count": 1,
            "user_count": 1,
            "platform_id": "1",
            "app_version_id": "734000000002",
        }
    ]),
    ("crash_summary.json", "crash_summary", {}, [
        {
            "crash_count": 11,
            "issue_count": 3,
            "device_count": 6,
            "user_count": 6,
            "previous_crash_count": 7,
            "previous_issue_count": 2,
            "previous_device_count": 5,
            "previous_user_count": 4,
            "crash_free_users": 99.2,
        }
    ]),
    ("crash_counts_by_date.json", "crash_counts_by_date", {}, [
        {
            "platform": "ios",
            "bucket_start": "2022-03-12T00:00:00Z",
            "crash_count": 3,
            "device_count": 2,
            "user_count": 2,
            "issue_count": 1,
        },
        {
            "platform": "android",
            "bucket_start": "2022-03-12T00:00:00Z",
            "crash_count": 5,
            "device_count": 4,
            "user_count": 4,
            "issue_count": 2,
        },
    ]),
    ("crash_issue_counts_by_date.json", "crash_issue_counts_by_date", {"crash_id": CRASH_ID}, [
        {
            "crash_id": CRASH_ID,
            "bucket_start": "2018-09-11T07:00:00Z",
            "crash_count": 2,
            "device_count": 2,
            "user_count": 2,
            "issue_count": 1,
        },
        {
            "crash_id": CRASH_ID,
            "bucket_start": "2018-09-12T07:00:00Z",
            "crash_count": 1,
            "device_count": 1,
            "user_count": 1,
            "issue_count": 1,
        },
    ]),
    ("crash_detail.json", "crash_detail", {"crash_id": CRASH_ID}, [
        {
            "crash_id": CRASH_ID,
            "date": "2022-03-12",
            "happened_at": "2022-03-12T09:00:00Z",
            "session_start_time": "2022-03-12T08:00:00Z",
            "message": "index 3 beyond bounds [0 .. 2]",
            "exception": "-[__NSArrayM objectAtIndex:]: index 3 beyond bounds",
            "issue_name": "NSInvalidArgumentException",
            "os": "iOS",
            "os_version": "15.5",
            "model": "iPhone13,2",
            "screen": "CartViewController",
            "device_id": "734000000007001",
            "user_id": "u-42",
            "network_status": "wifi",
            "battery_status": "charging",
            "platform_id": "2",
            "app_version": "2.4.1",
            "app_version_id": "734000000001",
            "app_release_version": "241",
            "sdk_version": "3.2.1",
            "edge": False,
            "custom_properties": {"cart_items": "3", "tier": "gold"},
        }
    ]),
    ("crash_os_versions.json", "crash_os_versions", {"crash_id": CRASH_ID}, [
        {"crash_id": CRASH_ID, "os_version": "15.5", "crash_count": 1}
    ]),
    ("crash_device_models.json", "crash_device_models", {"crash_id": CRASH_ID}, [
        {"crash_id": CRASH_ID, "model": "iPhone13,2", "crash_count": 6}
    ]),
    ("affected_devices.json", "affected_devices", {}, [
        {
            "device_id": "734000000007001",
            "user_id": "u-42",
            "model": "iPhone13,2",
            "os_version": "15.5",
            "app_version": "2.4.1",
            "happened_at": "2022-03-12T09:00:00Z",
            "date": "2022-03-12",
        }
    ]),
    ("active_devices_by_date.json", "active_devices_by_date", {}, [
        {"platform": "iOS", "bucket_start": "2022-03-12T08:00:00Z", "active_devices": 4}
    ]),
    ("event_summary.json", "event_summary", {}, [
        {
            "platform": "tvOS",
            "event_group": "j_applifecycle",
            "event_name": "ja_application_launched",
            "event_count": 1,
        }
    ]),
    ("event_counts_by_date.json", "event_counts_by_date", {}, [
        {
            "platform": "iOS",
            "bucket_start": "2022-03-12T08:00:00Z",
            "event_group": "j_applifecycle",
            "event_name": "ja_application_launched",
            "event_count": 1,
        }
    ]),
    ("event_counts_by_country.json", "event_counts_by_country", {}, [
        {"country": "CANADA", "event_count": 2},
        {"country": "INDIA", "event_count": 5},
    ]),
    ("event_device_counts.json", "event_device_counts", {}, [
        {
            "window_start": "2022-03-12",
            "window_end": "2022-03-13",
            "event_name": "Ratings_Given",
            "event_group": "AppStore",
            "device_count": 129,
        }
    ]),
    ("active_devices.json", "active_devices", {}, [
        {"date": "2020-01-01", "platform": "iOS", "count": 2},
        {"date": "2020-01-01", "platform": "Android", "count": 5},
    ]),
    ("active_devices_by_appversion.json", "active_devices", {"group": "appversion"}, [
        {"appversion": "1.2.3", "count": 181}
    ]),
    ("api_stats.json", "api_stats", {"group": "platform,date"}, [
        {"platform": "iOS", "date": "2020-01-01", "count": 2}
    ]),
    ("screens.json", "screens", {}, [
        {"date": "2024-07-01", "screen": "CartViewController", "count": 12},
        {"date": "2024-07-01", "screen": "HomeViewController", "count": 30},
        {"date": "2024-07-02", "screen": "HomeViewController", "count": 7},
    ]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fixture", "resource", "kwargs", "records"),
    SAMPLES,
    ids=[sample[0].removesuffix(".json") for sample in SAMPLES],
)
def test_parse_page_documented_samples(fixture, resource, kwargs, records):
    call = _call(resource, **kwargs)
    page = parse_page(call, _fixture(fixture))
    assert page == Page(records, full=False)
    # Exact field order, not just equal dicts.
    assert [list(record) for record in page.records] == [list(record) for record in records]


@pytest.mark.parametrize(
    "body",
    ["bytes", "str", "decoded"],
    ids=["bytes", "str", "decoded-json"],
)
def test_parse_page_accepts_raw_or_decoded_bodies(body):
    raw = _fixture("crashes.json")
    given = {"bytes": raw, "str": raw.decode(), "decoded": json.loads(raw)}[body]
    assert parse_page(_call("crashes"), given) == Page([CRASH_ROW], full=False)


@pytest.mark.parametrize(
    "body",
    [_fixture("empty_204.json"), b"", "  \n", None, b"null", b"[]", b"{}", b'{"data": []}',
     b'{"data": [], "status": "success"}', b'{"data": {"result": {}}, "status": 200}',
     b'{"result": {}, "status": 200}'],
    ids=["204-fixture", "empty-bytes", "blank-str", "none", "json-null", "empty-list", "empty-object",
         "empty-data", "empty-data-status", "empty-data-result", "empty-result"],
)  # fmt: skip
@pytest.mark.parametrize("resource", list(RESOURCES), ids=list(RESOURCES))
def test_parse_page_empty_bodies_give_no_records_and_are_not_full(resource, body):
    kwargs = {"crash_id": CRASH_ID} if RESOURCES[resource].needs_crash_id else {}
    assert parse_page(_call(resource, **kwargs), body, limit=1) == Page([], full=False)


# --------------------------------------------------------------------------------------------------------
# The fullness rule (limit=2 keeps the pages small)
# --------------------------------------------------------------------------------------------------------

ROW = {"UniqueMessageID": "1", "CrashCount": "1"}
FULLNESS = [
    ("crashes", {}, {"data": [ROW, ROW]}, True),
    ("crashes", {}, [ROW], False),
    ("crashes", {}, [ROW, ROW, ROW], True),
    ("crash_os_versions", {"crash_id": "1"}, {"data": [{"OSVersion": "1", "Count": 1}] * 2}, True),
    ("crash_device_models", {"crash_id": "1"}, [{"model": "a", "count": 1}], False),
    ("affected_devices", {}, {"data": [{"DeviceID": 1}] * 2, "status": "success"}, True),
    (
        "active_devices_by_date",
        {},
        {"data": {"result": {"iOS": [{"DATE": 0}], "Android": [{"DATE": 0}, {"DATE": 1}]}}},
        True,
    ),
    (
        "active_devices_by_date",
        {},
        {"data": {"result": {"iOS": [{"DATE": 0}], "Android": [{"DATE": 0}]}}},
        False,
    ),
    ("event_summary", {}, {"data": {"result": {"tvOS": [{"GROUP": "g"}] * 2}}}, True),
    ("event_counts_by_date", {}, {"data": {"result": {"iOS": [{"DATE": 0}]}}}, False),
    (
        "crash_counts_by_date",
        {},
        {
            "ios": {"crashcount": {"0": 1}},
            "android": {"crashcount": {"0": 1}, "userschart": {"0": 1, "1": 1}},
        },
        True,
    ),
    (
        "crash_counts_by_date",
        {},
        {"ios": {"crashcount": {"0": 1}, "usercount": {"0": 1}}, "android": {"crashcount": {"0": 1}}},
        False,
    ),
    ("crash_issue_counts_by_date", {"crash_id": "1"}, {"crashcount": {"0": 1, "1": 1}}, True),
    ("crash_issue_counts_by_date", {"crash_id": "1"}, {"crashcount": {"0": 1}, "usercount": {"1": 1}}, False),
    ("event_counts_by_country", {}, {"data": {"result": {"A": 1, "B": 2}, "userParams": {}}}, True),
    ("event_counts_by_country", {}, {"data": {"result": {"A": 1}}}, False),
    ("event_device_counts", {}, {"result": {"a(b)": 1, "c(d)": 2}}, True),
    ("active_devices", {}, {"result": {"01-01-2020": {"iOS": 1}, "02-01-2020": {"iOS": 1}}}, True),
    ("active_devices", {}, {"result": {"01-01-2020": {"iOS": 1, "Android": 2}}}, False),
    ("screens", {"group": "screen"}, {"result": {"Home": 1, "Cart": 2}}, True),
    ("crash_summary", {}, {"crashcount": {"crashcount": 1, "usercount": 1}}, False),
    ("crash_detail", {"crash_id": "1"}, {"data": [{"OS": "iOS"}, {"OS": "iOS"}]}, False),
    ("projects", {}, {"result": [{"zsoid": 1}, {"zsoid": 2}]}, False),
]


@pytest.mark.parametrize(
    ("resource", "kwargs", "body", "full"),
    FULLNESS,
    ids=[
        "list-full",
        "list-short",
        "list-over-limit",
        "os-versions-full",
        "device-models-short",
        "affected-devices-full",
        "one-platform-list-full",
        "platform-lists-short",
        "event-summary-full",
        "event-counts-by-date-short",
        "one-metric-map-full",
        "metric-maps-short",
        "issue-metric-map-full",
        "issue-metric-maps-short",
        "country-map-full",
        "country-map-short",
        "device-count-map-full",
        "multigroup-outer-full",
        "multigroup-inner-not-counted",
        "multigroup-one-level-full",
        "unpaged-summary",
        "unpaged-detail",
        "unpaged-projects",
    ],
)
def test_parse_page_fullness_rule(resource, kwargs, body, full):
    assert parse_page(_call(resource, **kwargs), json.dumps(body), limit=2).full is full


def test_parse_page_default_limit_is_500():
    call = _call("crashes")
    assert parse_page(call, [ROW] * PAGE_LIMIT).full is True
    assert parse_page(call, [ROW] * (PAGE_LIMIT - 1)).full is False


# --------------------------------------------------------------------------------------------------------
# Normalization details
# --------------------------------------------------------------------------------------------------------


def test_unknown_keys_follow_known_fields_in_api_order():
    body = {
        "data": [
            {
                "NewField": "x",
                "CrashCount": "2",
                "UniqueMessageID": 42,
                "Extra Info ": {"a": 1},
                "AppVersion": "1.0",
            }
        ]
    }
    (record,) = parse_page(_call("crashes"), body).records
    assert list(record.items()) == [
        ("crash_id", "42"),
        ("app_version", "1.0"),
        ("status", None),
        ("os", None),
        ("exception", None),
        ("exception_type", None),
        ("crash_count", 2),
        ("device_count", None),
        ("user_count", None),
        ("platform_id", None),
        ("app_version_id", None),
        ("new_field", "x"),
        ("extra_info", {"a": 1}),
    ]


def test_event_summary_accepts_both_spellings_of_name_and_count():
    body = {
        "data": {
            "result": {
                "iOS": [{"GROUP": "g", "EVENT NAME": "a", "EVENT COUNT": "3"}],
                "Android": [{"EVENTS COUNT": 4, "EVENTS NAME ": "b", "GROUP": "h"}],
            }
        },
        "status": 200,
    }
    assert parse_page(_call("event_summary"), body).records == [
        {"platform": "iOS", "event_group": "g", "event_name": "a", "event_count": 3},
        {"platform": "Android", "event_group": "h", "event_name": "b", "event_count": 4},
    ]


def test_affected_devices_accept_the_correct_spelling_too():
    body = {"data": [{"HappenedAt": "1647075600000", "DeviceID": "d1"}]}
    (record,) = parse_page(_call("affected_devices"), body).records
    assert (record["happened_at"], record["device_id"]) == ("2022-03-12T09:00:00Z", "d1")


def test_a_row_key_named_like_a_context_field_is_kept():
    body = {"data": {"result": {"iOS": [{"Platform": "iPadOS", "DATE": 0, "ActiveDevices COUNT": "1"}]}}}
    assert parse_page(_call("active_devices_by_date"), body).records == [
        {
            "platform": "iOS",
            "bucket_start": "1970-01-01T00:00:00Z",
            "active_devices": 1,
            "platform_2": "iPadOS",
        }
    ]


def test_crash_counts_by_date_merges_metrics_per_bucket_and_keeps_unknown_metrics():
    body = {
        "ios": {
            "crashcount": {"1647043200000": 3, "1647129600000": "4"},
            "sessioncount": {"1647129600000": "90"},
            "usercount": {"1647043200000": 1},
        }
    }
    assert [list(r.items()) for r in parse_page(_call("crash_counts_by_date"), body).records] == [
        [
            ("platform", "ios"),
            ("bucket_start", "2022-03-12T00:00:00Z"),
            ("crash_count", 3),
            ("device_count", None),
            ("user_count", 1),
            ("issue_count", None),
            ("sessioncount", None),
        ],
        [
            ("platform", "ios"),
            ("bucket_start", "2022-03-13T00:00:00Z"),
            ("crash_count", 4),
            ("device_count", None),
            ("user_count", None),
            ("issue_count", None),
            ("sessioncount", "90"),
        ],
    ]


def test_crash_counts_by_date_keeps_both_values_of_duplicate_aliases():
    body = {"ios": {"crashcount": {"0": 1}, "crashecount": {"0": "2"}}}
    assert parse_page(_call("crash_counts_by_date"), body).records == [
        {
            "platform": "ios",
            "bucket_start": "1970-01-01T00:00:00Z",
            "crash_count": 1,
            "device_count": None,
            "user_count": None,
            "issue_count": None,
            "crashecount": "2",
        }
    ]


def test_crash_counts_by_date_without_platform_level():
    body = {"crashcount": {"0": 1}, "deviceschart": {"0": "1"}}
    assert parse_page(_call("crash_counts_by_date"), body).records == [
        {
            "platform": None,
            "bucket_start": "1970-01-01T00:00:00Z",
            "crash_count": 1,
            "device_count": 1,
            "user_count": None,
            "issue_count": None,
        }
    ]


def test_crash_summary_keeps_unknown_keys_prefixed_by_their_block():
    body = {"crashcount": {"crashcount": "1", "anrcount": 2}, "precrashcount": {}, "trend": "up"}
    assert list(parse_page(_call("crash_summary"), body).records[0].items()) == [
        ("crash_count", 1),
        ("issue_count", None),
        ("device_count", None),
        ("user_count", None),
        ("previous_crash_count", None),
        ("previous_issue_count", None),
        ("previous_device_count", None),
        ("previous_user_count", None),
        ("crash_free_users", None),
        ("crashcount_anrcount", 2),
        ("trend", "up"),
    ]


def test_crash_detail_falls_back_to_the_requested_crash_id():
    (record,) = parse_page(_call("crash_detail", crash_id=CRASH_ID), {"data": {"OS": "iOS"}}).records
    assert (record["crash_id"], record["os"]) == (CRASH_ID, "iOS")


@pytest.mark.parametrize(
    ("key", "name", "group"),
    [
        ("Ratings_Given(AppStore)", "Ratings_Given", "AppStore"),
        ("a(b)(c)", "a(b)", "c"),
        ("no_group", "no_group", None),
        ("(only)", "(only)", None),
        ("open(ended", "open(ended", None),
        ("empty()", "empty", ""),
    ],
    ids=["documented", "split-at-last-paren", "no-group", "nothing-before-paren", "unclosed", "empty-group"],
)
def test_event_device_counts_split_name_and_group(key, name, group):
    (call, *_) = plan_calls("event_device_counts", "2024-01-01", "2024-03-01")
    assert parse_page(call, {"result": {key: "7"}, "status": 200}).records == [
        {
            "window_start": "2024-01-01",
            "window_end": "2024-02-29",
            "event_name": name,
            "event_group": group,
            "device_count": 7,
        }
    ]


def test_multigroup_three_levels_in_group_order():
    call = _call("api_stats", group="api,date,platform")
    body = {
        "result": {"login": {"01-07-2024": {"iOS": "3", "Android": 1}}, "logout": {"02-07-2024": {"iOS": 2}}}
    }
    assert [list(r.items()) for r in parse_page(call, body).records] == [
        [("api", "login"), ("date", "2024-07-01"), ("platform", "iOS"), ("count", 3)],
        [("api", "login"), ("date", "2024-07-01"), ("platform", "Android"), ("count", 1)],
        [("api", "logout"), ("date", "2024-07-02"), ("platform", "iOS"), ("count", 2)],
    ]


def test_projects_one_record_per_project_and_portals_without_projects_kept():
    body = {
        "result": [
            {
                "zsoid": 766556673,
                "portalName": "Acme",
                "role": "admin",
                "projects": [
                    {"projectId": 1, "projectName": "A", "platforms": ["iOS"], "role": "viewer"},
                    {"projectName": "B", "projectId": "2", "platforms": []},
                ],
            },
            {"portalName": "Empty", "zsoid": "9", "projects": []},
        ],
        "status": 200,
    }
    records = parse_page(_call("projects"), body).records
    assert [list(record.items()) for record in records] == [
        [
            ("portal_id", "766556673"),
            ("portal_name", "Acme"),
            ("project_id", "1"),
            ("project_name", "A"),
            ("platforms", ["iOS"]),
            ("portal_role", "admin"),
            ("role", "viewer"),
        ],
        [
            ("portal_id", "766556673"),
            ("portal_name", "Acme"),
            ("project_id", "2"),
            ("project_name", "B"),
            ("platforms", []),
            ("role", "admin"),
        ],
        [
            ("portal_id", "9"),
            ("portal_name", "Empty"),
            ("project_id", None),
            ("project_name", None),
            ("platforms", None),
        ],
    ]


def test_projects_accept_the_unwrapped_list():
    body = [{"zsoid": "1", "portalName": "P", "projects": [{"projectId": "2", "projectName": "Q"}]}]
    assert parse_page(_call("projects"), body).records == [
        {"portal_id": "1", "portal_name": "P", "project_id": "2", "project_name": "Q", "platforms": None}
    ]


# --------------------------------------------------------------------------------------------------------
# Unusable bodies
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "kwargs", "body", "message", "code"),
    [
        (
            "crashes",
            {},
            b"<html>Bad gateway</html>",
            (
                "Apptics resource 'crashes' answered with a body that is not valid JSON (expected "
                "{\"data\": [row...]} or a bare [row...]): b'<html>Bad gateway</html>'"
            ),
            None,
        ),
        (
            "crashes",
            {},
            {"data": {"UniqueMessageID": "1"}},
            (
                "Apptics resource 'crashes' answered with an unexpected shape: expected {\"data\": "
                "[row...]} or a "
                "bare [row...], got dict {'UniqueMessageID': '1'}"
            ),
            None,
        ),
        (
            "crashes",
            {},
            {"data": [["1", "2"]]},
            "Apptics resource 'crashes': expected each row to be a JSON object, got list ['1', '2']",
            None,
        ),
        (
            "crashes",
            {},
            {"data": [{"CrashCount": "many"}]},
            (
                "Apptics resource 'crashes': field 'crash_count' (API key 'CrashCount') has an unusable "
                "value: "
                "'many' is not a count"
            ),
            None,
        ),
        (
            "event_summary",
            {},
            {"data": {"result": {"iOS": {"GROUP": "g"}}}},
            (
                "Apptics resource 'event_summary' answered with an unexpected shape at platform 'iOS': "
                "expected "
                '{"data": {"result": {platform: [row...]}}, "status": 200}, got dict {\'GROUP\': \'g\'}'
            ),
            None,
        ),
        (
            "crash_counts_by_date",
            {},
            {"ios": {"crashcount": [1, 2]}},
            (
                "Apptics resource 'crash_counts_by_date' answered with an unexpected shape at platform 'ios' "
                "metric 'crashcount': expected {platform: {metric: {epoch_ms: count}}}, got list [1, 2]"
            ),
            None,
        ),
        (
            "crash_counts_by_date",
            {},
            {"ios": 5},
            (
                "Apptics resource 'crash_counts_by_date' answered with an unexpected shape at platform "
                "'ios': "
                "expected {platform: {metric: {epoch_ms: count}}}, got int 5"
            ),
            None,
        ),
        (
            "event_counts_by_country",
            {},
            {"data": {"result": {"INDIA": {"count": 5}}}},
            "Apptics resource 'event_counts_by_country': unusable value ({'count': 5} is not a count)",
            None,
        ),
        (
            "active_devices",
            {},
            {"result": {"01-01-2020": 5}},
            (
                "Apptics resource 'active_devices' answered with an unexpected shape at 2020-01-01: expected "
                "counts nested 2 level(s) deep in group order (date, platform), got int 5"
            ),
            None,
        ),
        (
            "active_devices",
            {"group": "platform"},
            {"result": {"iOS": {"01-01-2020": 5}}},
            (
                "Apptics resource 'active_devices' answered with an unexpected shape at iOS: expected counts "
                "nested 1 level(s) deep in group order (platform), got dict {'01-01-2020': 5}"
            ),
            None,
        ),
        (
            "projects",
            {},
            {"result": "none"},
            (
                "Apptics resource 'projects' answered with an unexpected shape: expected {\"result\": "
                "[portal...], \"status\": 200}, got str 'none'"
            ),
            None,
        ),
        (
            "crashes",
            {},
            {"status": "failure", "error": {"code": "INVALID_OAUTHTOKEN", "message": "Invalid token"}},
            "Apptics resource 'crashes' answered with an error: Invalid token",
            "INVALID_OAUTHTOKEN",
        ),
        (
            "screens",
            {},
            {"error": "LIMIT_EXCEEDED"},
            "Apptics resource 'screens' answered with an error: {'error': 'LIMIT_EXCEEDED'}",
            "LIMIT_EXCEEDED",
        ),
        (
            "crash_summary",
            {},
            {"code": "7005", "message": "Invalid project"},
            "Apptics resource 'crash_summary' answered with an error: Invalid project",
            "7005",
        ),
    ],
    ids=[
        "not-json",
        "object-instead-of-list",
        "row-not-object",
        "count-not-number",
        "platform-value-not-list",
        "metric-not-map",
        "platform-value-not-object",
        "country-count-not-number",
        "multigroup-too-shallow",
        "multigroup-too-deep",
        "projects-not-list",
        "error-object",
        "error-string",
        "bare-code",
    ],
)
def test_parse_page_rejects_unusable_bodies(resource, kwargs, body, message, code):
    with pytest.raises(ZohoAPIError) as excinfo:
        parse_page(_call(resource, **kwargs), body)
    assert excinfo.value.message == message
    assert excinfo.value.code == code


def test_parse_page_rejects_a_non_positive_limit():
    with pytest.raises(ValueError, match="limit must be a positive number of rows, got 0"):
        parse_page(_call("crashes"), b"[]", limit=0)


def test_a_resource_that_is_not_paged_never_reports_a_full_page():
    unpaged = dataclasses.replace(RESOURCES["crashes"], paged=False)
    (call,) = plan_calls(unpaged, MAR_12, MAR_13)
    assert call.page_params(500) == {"startdate": "12-03-2022", "enddate": "13-03-2022"}
    page = parse_page(call, [ROW, ROW], limit=2)
    assert page.full is False
    assert [record["crash_id"] for record in page.records] == ["1", "1"]
