from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from airflow_provider_zoho.exceptions import ZohoConfigError
from airflow_provider_zoho.hooks.apptics_planning import (
    MAX_CRASH_CONCURRENCY,
    ApiCall,
    check_concurrency,
    crash_id_text,
    dataset_columns,
    dataset_identity,
    fans_out,
    plan_calls,
    plan_crash_fan_out,
)
from airflow_provider_zoho.hooks.apptics_resources import (
    MAX_APP_VERSIONS,
    MAX_PLATFORMS,
    PLATFORMS,
    RESOURCES,
)
from airflow_provider_zoho.schema import column_names
from tests.conftest import case_id

DATA = Path(__file__).resolve().parents[1] / "data" / "apptics"
MAR_12, MAR_13 = "2022-03-12", "2022-03-13"
CRASH_ID = "7340000000123007"


def _call(resource: str, **kwargs) -> ApiCall:
    if not RESOURCES[resource].dated:
        return plan_calls(resource, None, None, **kwargs)[0]
    (call,) = plan_calls(resource, MAR_12, MAR_13, **kwargs)
    return call


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
    (crash_call,) = plan_calls("crash_os_versions", "2024-07-01", "2024-07-01", crash_id=CRASH_ID)
    assert (crash_call.crash_id, crash_call.group) == (CRASH_ID, ())


def test_projects_ignore_dates_and_send_no_project_headers():
    (call,) = plan_calls("projects", "2024-01-01", date(2024, 1, 2))
    assert (call.params, call.window_start, call.window_end, call.resource.project_headers) == (
        {},
        None,
        None,
        False,
    )
    assert _call("crashes").resource.project_headers is True


@pytest.mark.parametrize("argument", ["start_date", "end_date"])
def test_dates_given_to_an_undated_resource_are_still_checked(argument):
    with pytest.raises(ZohoConfigError) as excinfo:
        plan_calls("projects", **{"start_date": None, "end_date": None, argument: "yesterday"})
    assert str(excinfo.value) == (
        f"{argument} must be a date, a datetime or a 'YYYY-MM-DD' string (a template such as "
        "'{{ ds }}' works too), got 'yesterday'."
    )


def test_an_undated_call_carries_its_crash_id_and_group():
    per_crash = dataclasses.replace(RESOURCES["crash_os_versions"], dated=False)
    (call,) = plan_calls(per_crash, None, None, crash_id=CRASH_ID)
    assert (call.path, call.crash_id, call.group) == (f"/crash/{CRASH_ID}/osversion", CRASH_ID, ())
    multigroup = dataclasses.replace(RESOURCES["screens"], dated=False)
    (call,) = plan_calls(multigroup, None, None, group="screen,date")
    assert (call.crash_id, call.group) == (None, ("screen", "date"))


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


def test_page_params_default_to_the_first_page():
    assert _call("crashes").page_params() == _call("crashes").page_params(0)


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
def test_window_bounds_accept_dates_datetimes_and_iso_text(value, expected):
    (call,) = plan_calls("crashes", value, value)
    assert (call.window_start, call.window_end) == (expected, expected)


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
            "start_date must be a date, a datetime or a 'YYYY-MM-DD' string (a template such as "
            "'{{ ds }}' works too), got '2024/03/01'.",
        ),
        (
            ("crashes", MAR_12, "2024-02-30"),
            {},
            "end_date must be a date, a datetime or a 'YYYY-MM-DD' string (a template such as "
            "'{{ ds }}' works too), got '2024-02-30'.",
        ),
        (
            ("crashes", MAR_12, 20240301),
            {},
            "end_date must be a date, a datetime or a 'YYYY-MM-DD' string (a template such as "
            "'{{ ds }}' works too), got 20240301.",
        ),
        (
            ("crashes", "20240301", MAR_13),
            {},
            "start_date must be a date, a datetime or a 'YYYY-MM-DD' string (a template such as "
            "'{{ ds }}' works too), got '20240301'.",
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
            "start_date must be a date, a datetime or a 'YYYY-MM-DD' string (a template such as "
            "'{{ ds }}' works too), got 'yesterday'.",
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
                "record); pass crash_id=... (or read every crash issue of the window with "
                "AppticsHook.iter_crash_records)"
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
            "limit: paging is the hook's job (limit=500, offset stepping by limit); remove it",
        ),
        (
            VALID,
            {"offset": 500},
            "offset: paging is the hook's job (limit=500, offset stepping by limit); remove it",
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


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"group": ["date", 1.5]}, "group: 1.5 is a float; pass names as strings ('1.10' and '1.1' differ)"),
        ({"group": ["date", None]}, "group: expected strings, got NoneType None"),
        ({"group": ["date", True]}, "group: expected strings, got bool True"),
        ({"platforms": ["iOS", {"name": "Android"}]},
         "platforms: expected strings, got dict {'name': 'Android'}"),
        ({"apiname": ["login", 1.5]},
         "apiname: expected a string, a number, a boolean or a list of strings, got list ['login', 1.5]"),
        ({"apiname": ["login", None]},
         "apiname: expected a string, a number, a boolean or a list of strings, got list ['login', None]"),
    ],
    ids=["group-float", "group-none", "group-bool", "platforms-dict", "param-list-float", "param-list-none"],
)  # fmt: skip
def test_list_items_of_the_wrong_type_are_rejected_naming_the_argument(kwargs, message):
    resource = "crashes" if "platforms" in kwargs else "api_stats"
    with pytest.raises(ZohoConfigError) as excinfo:
        plan_calls(resource, MAR_12, MAR_13, **kwargs)
    assert str(excinfo.value) == message


def test_an_api_parameter_set_to_none_is_left_out_and_the_next_ones_are_sent():
    (call,) = plan_calls("affected_devices", MAR_12, MAR_13, bundle=None, timezone="UTC", daterangekey="D")
    assert call.params == {
        "startdate": "12-03-2022",
        "enddate": "13-03-2022",
        "timezone": "UTC",
        "daterangekey": "D",
    }


@pytest.mark.parametrize(("needed", "given"), [("app_versions", "2.4.1"), ("mode", 1)])
def test_a_parameter_that_requires_a_filter_is_taken_with_it(needed, given):
    spec = dataclasses.replace(RESOURCES["crashes"], requires={"bundle": needed})
    (call,) = plan_calls(spec, MAR_12, MAR_13, bundle="com.acme.app", **{needed: given})
    assert call.params["bundle"] == "com.acme.app"
    with pytest.raises(ZohoConfigError) as excinfo:
        plan_calls(spec, MAR_12, MAR_13, bundle="com.acme.app")
    assert str(excinfo.value) == (
        f"bundle: resource 'crashes' only takes bundle together with {needed}; pass {needed}=... too"
    )


def test_a_resource_that_is_not_a_name_is_refused_naming_the_argument():
    with pytest.raises(ZohoConfigError) as excinfo:
        plan_calls(["crashes"], MAR_12, MAR_13)
    assert str(excinfo.value).startswith("resource: ['crashes'] is not an Apptics resource; choose one of: ")


def test_filters_at_their_limits_are_accepted():
    (call,) = plan_calls("crashes", MAR_12, MAR_13, platforms=PLATFORMS[:MAX_PLATFORMS], mode=" 1 ")
    assert call.params["platform"] == ",".join(PLATFORMS[:MAX_PLATFORMS])
    assert call.params["mode"] == "1"


def test_the_app_version_limit_is_spelled_in_the_plural_above_one():
    two = dataclasses.replace(RESOURCES["crash_issue_counts_by_date"], max_app_versions=2)
    with pytest.raises(ZohoConfigError) as excinfo:
        plan_calls(two, MAR_12, MAR_13, crash_id=CRASH_ID, app_versions="1,2,3")
    assert str(excinfo.value) == (
        "app_versions: resource 'crash_issue_counts_by_date' takes at most 2 app versions per call, got 3 "
        "(1, 2, 3); pass fewer"
    )


@pytest.mark.parametrize(("value", "sent"), [(True, "true"), (False, "false")])
def test_boolean_api_parameters_are_sent_in_lower_case(value, sent):
    (call,) = plan_calls("affected_devices", MAR_12, MAR_13, happendat=value)
    assert call.params["happendat"] == sent


@pytest.mark.parametrize("value", [1, 4, MAX_CRASH_CONCURRENCY])
def test_check_concurrency_accepts_1_to_the_maximum(value):
    assert check_concurrency(value) == value


@pytest.mark.parametrize("value", [0, MAX_CRASH_CONCURRENCY + 1, True, 2.0, "4", None])
def test_check_concurrency_rejects_naming_the_argument(value):
    with pytest.raises(ZohoConfigError) as excinfo:
        check_concurrency(value, "max_active")
    assert str(excinfo.value) == (
        f"max_active: expected a whole number from 1 to {MAX_CRASH_CONCURRENCY} (crash issues fetched at "
        f"once), got {value!r}"
    )


def test_plan_calls_treats_empty_filters_as_no_filter():
    (call,) = plan_calls("crashes", MAR_12, MAR_13, platforms="", app_versions=[], mode=None)
    assert call.params == {"startdate": "12-03-2022", "enddate": "13-03-2022"}


# --------------------------------------------------------------------------------------------------------
# Dataset identity
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "kwargs", "identity"),
    [
        ("crashes", {}, []),
        ("crashes", {"platforms": ["iOS"]}, [("platforms", "iOS")]),
        ("crashes", {"platforms": "iOS,Android,iOS"}, [("platforms", "Android+iOS")]),
        ("crashes", {"app_versions": ["2.4.1", "2.4.0"], "mode": 1},
         [("app_versions", "2.4.0+2.4.1"), ("mode", "1")]),
        ("crashes", {"platforms": "", "app_versions": [], "mode": None}, []),
        ("active_devices", {}, []),
        ("active_devices", {"group": "date,platform"}, []),
        ("active_devices", {"group": "platform,date"}, []),
        ("active_devices", {"group": "country"}, [("group", "country")]),
        ("active_devices", {"group": ["Platform", "country"]}, [("group", "country+platform")]),
        ("crash_os_versions", {"crash_id": " 7340000000123007 "}, [("crash_id", "7340000000123007")]),
        ("crash_os_versions", {}, []),
        ("crash_os_versions", {"platforms": ["iOS"], "mode": 1}, [("platforms", "iOS"), ("mode", "1")]),
        (
            "screens",
            {"platforms": "iOS", "screenname": "Home", "group": "screen", "timezone": "Asia/Kolkata"},
            [("group", "screen"), ("platforms", "iOS"), ("screenname", "Home"), ("timezone", "Asia/Kolkata")],
        ),
        ("api_stats", {"apiname": ["logout", "login"], "bundle": None}, [("apiname", "login+logout")]),
        ("crash_os_versions", {"crash_id": 73, "mode": "0", "app_versions": "2.4.0"},
         [("crash_id", "73"), ("app_versions", "2.4.0"), ("mode", "0")]),
        ("crashes", {"app_versions": ["1.0+5", "2.0%"]}, [("app_versions", "1.0%2B5+2.0%25")]),
        ("crashes", {"app_versions": ["1.0", "5"]}, [("app_versions", "1.0+5")]),
        ("affected_devices", {"timezone": "GMT+05:30"}, [("timezone", "GMT%2B05:30")]),
    ],
    ids=["plain", "one-platform", "platforms-sorted-once", "versions-and-mode", "empty-filters",
         "default-group", "default-group-given", "default-group-reordered", "other-group",
         "group-keeps-its-order", "crash-id", "fan-out-no-crash-id", "fan-out-filters", "params-by-name",
         "list-param", "named-order", "plus-in-an-item", "two-items", "plus-in-a-value"],
)  # fmt: skip
def test_dataset_identity(resource, kwargs, identity):
    assert dataset_identity(resource, **kwargs) == identity


@pytest.mark.parametrize(
    ("resource", "kwargs", "message"),
    [
        ("crashes", {"platforms": "Linux"}, "platforms: 'Linux' is not an Apptics platform"),
        ("crashes", {"group": "date"}, "group: resource 'crashes' does not take group"),
        ("crashes", {"crash_id": "1"}, "crash_id: resource 'crashes' does not take crash_id"),
        ("crashes", {"offset": 5}, "offset: paging is the hook's job"),
        ("crash_os_versions", {"crash_id": "../x"}, "crash_id: expected a crash id"),
        ("event_device_counts", {"bundle": "com.acme"}, "bundle: resource 'event_device_counts' only takes"),
        ("crash_detail", {"app_versions": ["1", "2"]}, "app_versions: resource 'crash_detail' takes at most"),
        ("crash_os_versions", {"platforms": ["Linux"]}, "platforms: 'Linux' is not an Apptics platform"),
        ("affected_devices", {"time/zone": "UTC"}, "'time/zone': an API parameter name is made of letters"),
    ],
    ids=["bad-platform", "group-not-taken", "crash-id-not-taken", "reserved-param", "bad-crash-id",
         "requirement", "fan-out-issue-filter", "fan-out-list-filter", "param-name"],
)  # fmt: skip
def test_dataset_identity_checks_like_plan_calls(resource, kwargs, message):
    with pytest.raises(ZohoConfigError, match=re.escape(message)):
        dataset_identity(resource, **kwargs)


@pytest.mark.parametrize("name", ["time/zone", "../x", "a=b", "", "1st", "zone name", "é"], ids=case_id)
def test_api_parameter_names_are_identifiers(name):
    with pytest.raises(ZohoConfigError) as excinfo:
        plan_calls("affected_devices", MAR_12, MAR_13, **{name: "x"})
    assert str(excinfo.value) == (
        f"{name!r}: an API parameter name is made of letters, digits and '_' (it becomes a query parameter "
        "and a partition level); check the name"
    )


# Untrusted values (app versions and API parameters come from DAG authors and templates): two requests
# that send different items never share an identity, and two that send the same items (in any order)
# always do.
_ITEM = st.text(st.characters(codec="utf-8", exclude_characters=","), min_size=1, max_size=6).filter(
    lambda item: item.strip() == item and item
)


@given(
    st.lists(_ITEM, min_size=1, max_size=4, unique=True), st.lists(_ITEM, min_size=1, max_size=4, unique=True)
)
def test_identity_values_tell_different_items_apart(first, second):
    def identity(items):
        return dataset_identity("crashes", app_versions=items)

    assert (identity(first) == identity(second)) == (set(first) == set(second))
    assert identity(first) == identity(list(reversed(first)))


@given(st.lists(_ITEM, min_size=1, max_size=MAX_APP_VERSIONS, unique=True))
@example(["2.4 beta", "2.4 rc"])
@example(["1.XX", "XX.2"])  # a separator other than "," inside the string would cut these elsewhere
def test_a_comma_separated_string_reads_like_the_list_of_its_items(names):
    (as_text,) = plan_calls("crashes", MAR_12, MAR_13, app_versions=",".join(names))
    (as_list,) = plan_calls("crashes", MAR_12, MAR_13, app_versions=names)
    assert as_text.params["appversion"] == as_list.params["appversion"] == ",".join(names)


def test_a_list_item_holding_commas_counts_as_the_names_it_holds():
    # A list item such as "iOS,Android" (a rendered template, a list built from comma strings) is read like
    # the names it holds: each one checked, de-duplicated and counted against the resource's limit.
    call = _call("crashes", platforms=["iOS, Android", "iOS"], app_versions=("2.4.1,2.4.0", "2.4.0,"))
    assert (call.params["platform"], call.params["appversion"]) == ("iOS,Android", "2.4.1,2.4.0")
    (screens,) = plan_calls("screens", MAR_12, MAR_13, group=["country, date"])
    assert screens.group == ("country", "date")
    with pytest.raises(ZohoConfigError) as excinfo:
        plan_calls("crash_detail", MAR_12, MAR_13, crash_id=CRASH_ID, app_versions=["2.4.0,2.4.1"])
    assert str(excinfo.value) == (
        "app_versions: resource 'crash_detail' takes at most 1 app version per call, got 2 (2.4.0, 2.4.1); "
        "pass fewer"
    )


@given(st.lists(_ITEM, min_size=1, max_size=3), st.lists(_ITEM, min_size=1, max_size=3))
def test_identity_of_an_api_parameter_is_that_of_the_items_sent(first, second):
    def identity(items):
        return dataset_identity("affected_devices", timezone=items)

    assert (identity(first) == identity(second)) == (sorted(first) == sorted(second))


# --------------------------------------------------------------------------------------------------------
# Per-crash resources for every crash issue of a window
# --------------------------------------------------------------------------------------------------------


def test_fan_out_lists_crashes_with_the_filters_it_takes_and_sends_the_rest_per_issue():
    plan = plan_crash_fan_out(
        "crash_os_versions", MAR_12, MAR_13, platforms=["iOS"], app_versions="2.4.0", mode=1, timezone="UTC"
    )
    (listing,) = plan.list_calls
    assert (listing.resource.name, listing.path) == ("crashes", "/crash/list")
    assert listing.params == {
        "startdate": "12-03-2022",
        "enddate": "13-03-2022",
        "platform": "iOS",
        "appversion": "2.4.0",
        "mode": "1",
    }
    (call,) = plan.calls_for(CRASH_ID)
    assert (call.resource.name, call.path, call.crash_id) == (
        "crash_os_versions",
        f"/crash/{CRASH_ID}/osversion",
        CRASH_ID,
    )
    # platforms narrow the list only: crash_os_versions does not take them.
    assert call.params == {
        "startdate": "12-03-2022",
        "enddate": "13-03-2022",
        "appversion": "2.4.0",
        "mode": "1",
        "timezone": "UTC",
    }
    assert call == _call("crash_os_versions", crash_id=CRASH_ID, app_versions="2.4.0", mode=1, timezone="UTC")


def test_fan_out_issue_calls_are_planned_once_and_filled_per_crash():
    plan = plan_crash_fan_out("crash_detail", MAR_12, MAR_13)
    assert [call.path for call in plan.issue_calls] == ["/crash/{crash_id}/summarywithtrace"]
    assert [call.path for call in plan.calls_for("a-1_B")] == ["/crash/a-1_B/summarywithtrace"]
    assert [call.path for call in plan.calls_for("2")] == ["/crash/2/summarywithtrace"]
    for bad in ["../list", "", " 2", "1/2"]:
        with pytest.raises(ValueError, match="not a crash id"):
            plan.calls_for(bad)


@pytest.mark.parametrize(
    ("resource", "kwargs", "message"),
    [
        ("crashes", {}, "resource: 'crashes' is not a per-crash resource; reading every crash issue of a "
         "window applies to crash_issue_counts_by_date, crash_detail, crash_os_versions, crash_device_models "
         "(read 'crashes' with iter_records)"),
        ("crashez", {}, "resource: 'crashez' is not an Apptics resource"),
        ("crash_os_versions", {"crash_id": "1"}, "crash_id: reading every crash issue of the window takes no "
         "crash_id; read one crash with iter_records('crash_os_versions', ..., crash_id=...)"),
        ("crash_detail", {"app_versions": "1,2"}, "app_versions: resource 'crash_detail' takes at most 1"),
        ("crash_os_versions", {"platforms": "Linux"}, "platforms: 'Linux' is not an Apptics platform"),
        ("crash_os_versions", {"group": "date"}, "group: resource 'crash_os_versions' does not take group"),
        ("crash_os_versions", {"offset": 0}, "offset: paging is the hook's job"),
        ("crash_os_versions", {"mode": 3}, "mode: expected 0 (development) or 1 (production), got 3"),
    ],
    ids=["not-per-crash", "unknown", "crash-id", "issue-app-versions", "list-platforms", "group", "reserved",
         "mode"],
)  # fmt: skip
def test_fan_out_rejects_with_a_message_naming_the_argument(resource, kwargs, message):
    with pytest.raises(ZohoConfigError, match=re.escape(message)):
        plan_crash_fan_out(resource, MAR_12, MAR_13, **kwargs)


def test_fan_out_checks_the_window():
    with pytest.raises(ZohoConfigError, match="end_date: 2022-03-12 is before start_date 2022-03-13"):
        plan_crash_fan_out("crash_os_versions", MAR_13, MAR_12)


@pytest.mark.parametrize(
    ("resource", "crash_id", "expected"),
    [
        ("crash_os_versions", None, True),
        ("crash_os_versions", "1", False),
        ("crash_detail", None, True),
        ("crashes", None, False),
        ("active_devices", None, False),
    ],
)
def test_fans_out(resource, crash_id, expected):
    assert fans_out(resource, crash_id) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7340000000123007", "7340000000123007"),
        (" 73 ", "73"),
        (73, "73"),
        ("a-B_9", "a-B_9"),
        ("../x", None),
        ("", None),
        (None, None),
        (True, None),
        (7.3, None),
        ("7 3", None),
        ("٣", None),
    ],
    ids=case_id,
)
def test_crash_id_text(value, expected):
    assert crash_id_text(value) == expected


# --------------------------------------------------------------------------------------------------------
# Dataset columns (the files' schema)
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "group", "names"),
    [
        ("crashes", None, column_names(RESOURCES["crashes"].columns)),
        ("active_devices", None, ("date", "platform", "count")),
        ("active_devices", "platform,date", ("date", "platform", "count")),
        ("active_devices", ["Platform", " DATE"], ("date", "platform", "count")),
        ("active_devices", "country,devicetype,date", ("date", "country", "devicetype", "count")),
        ("screens", "screen,platform", ("platform", "screen", "count")),
        ("api_stats", "api", ("api", "count")),
    ],
    ids=["plain", "default-group", "default-group-reordered", "list", "three", "screens", "api_stats"],
)
def test_dataset_columns(resource, group, names):
    assert column_names(dataset_columns(resource, group)) == names


def test_dataset_columns_are_one_schema_for_every_order_of_a_group():
    for first, second in [("date,platform", "platform,date"), ("country,date", "date,country")]:
        assert dataset_columns("active_devices", first) == dataset_columns("active_devices", second)


@pytest.mark.parametrize(
    ("resource", "group", "message"),
    [
        ("crashes", "date", "group: resource 'crashes' does not take group"),
        ("active_devices", "date,date", "group: 'date,date' names an entity twice"),
        ("active_devices", "screen", "group: 'screen' is not a group entity of resource 'active_devices'"),
        ("nope", None, "resource: 'nope' is not an Apptics resource"),
    ],
    ids=["not-multigroup", "twice", "not-an-entity", "unknown-resource"],
)
def test_dataset_columns_checks_the_group_like_plan_calls(resource, group, message):
    with pytest.raises(ZohoConfigError, match=message):
        dataset_columns(resource, group)
    if resource in RESOURCES:
        with pytest.raises(ZohoConfigError, match=message):
            plan_calls(resource, "2026-03-01", "2026-03-01", group=group)
