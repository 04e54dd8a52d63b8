from __future__ import annotations

import re

import pytest

from airflow_provider_zoho.sandbox import AppticsRequestError
from tests.unit.sandbox.client import PATHS, extract

MONTH = {"startdate": "01-03-2024", "enddate": "31-03-2024"}
CRASH = "7340000000100007"
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# The "Records" table of docs/apptics-resources.md: field names in order.
FIELDS = {
    "projects": ["portal_id", "portal_name", "project_id", "project_name", "platforms"],
    "crashes": [
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
    ],
    "crash_summary": [
        "crash_count",
        "issue_count",
        "device_count",
        "user_count",
        "previous_crash_count",
        "previous_issue_count",
        "previous_device_count",
        "previous_user_count",
        "crash_free_users",
    ],
    "crash_counts_by_date": [
        "platform",
        "bucket_start",
        "crash_count",
        "device_count",
        "user_count",
        "issue_count",
    ],
    "crash_issue_counts_by_date": [
        "crash_id",
        "bucket_start",
        "crash_count",
        "device_count",
        "user_count",
        "issue_count",
    ],
    "crash_detail": [
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
    ],
    "crash_os_versions": ["crash_id", "os_version", "crash_count"],
    "crash_device_models": ["crash_id", "model", "crash_count"],
    "affected_devices": ["device_id", "user_id", "model", "os_version", "app_version", "happened_at", "date"],
    "active_devices_by_date": ["platform", "bucket_start", "active_devices"],
    "event_summary": ["platform", "event_group", "event_name", "event_count"],
    "event_counts_by_date": ["platform", "bucket_start", "event_group", "event_name", "event_count"],
    "event_counts_by_country": ["country", "event_count"],
    "event_device_counts": ["window_start", "window_end", "event_name", "event_group", "device_count"],
    "active_devices": ["date", "platform", "count"],
    "screens": ["date", "screen", "count"],
    "api_stats": ["date", "api", "count"],
}
COUNTS = {
    "crash_count",
    "device_count",
    "user_count",
    "issue_count",
    "active_devices",
    "event_count",
    "count",
    "previous_crash_count",
    "previous_issue_count",
    "previous_device_count",
    "previous_user_count",
}
IDS = {"crash_id", "platform_id", "app_version_id", "device_id", "user_id", "portal_id", "project_id"}
TIMES = {"bucket_start", "happened_at", "session_start_time"}
DATES = {"date", "window_start", "window_end"}


def crash_id_for(resource: str) -> str | None:
    return CRASH if "{crash_id}" in PATHS[resource] else None


def check_types(records: list[dict]) -> None:
    for record in records:
        for name, value in record.items():
            if name in COUNTS:
                assert type(value) is int, name
            if name in IDS:
                assert type(value) is str, name
            if name in TIMES:
                assert ISO.match(value), (name, value)
            if name in DATES:
                assert DAY.match(value), (name, value)


@pytest.mark.parametrize("resource", list(PATHS))
def test_oracle_matches_the_api_for_every_resource(client, resource):
    crash_id = crash_id_for(resource)
    expected = client.expected(resource, MONTH, crash_id)
    assert expected, resource
    assert [list(r) for r in expected] == [FIELDS[resource]] * len(expected)
    check_types(expected)
    assert extract(client, resource, MONTH, crash_id) == expected


@pytest.mark.parametrize(
    ("resource", "params"),
    [
        ("crashes", {"platform": "Android,macOS", "appversion": "2.4.1,2.4.0", "mode": "0"}),
        ("crash_summary", {"platform": "watchOS"}),
        (
            "crash_counts_by_date",
            {"platform": "Windows,iOS,Android", "startdate": "09-03-2024", "enddate": "09-03-2024"},
        ),
        ("crash_counts_by_date", {"startdate": "01-01-2023", "enddate": "31-12-2024", "limit": "300"}),
        ("crash_issue_counts_by_date", {"startdate": "09-03-2024", "enddate": "09-03-2024"}),
        ("crash_issue_counts_by_date", {"appversion": "9.9"}),
        ("affected_devices", {"startdate": "01-01-2024", "enddate": "31-03-2024"}),
        (
            "active_devices_by_date",
            {"platform": "iOS,tvOS", "startdate": "01-01-2023", "enddate": "31-12-2024"},
        ),
        ("active_devices", {"group": "platform,country,appversion"}),
        ("active_devices", {"group": "devicetype,bundle", "platform": "Android"}),
        ("screens", {"group": "screen,date,platform", "limit": "4"}),
        ("api_stats", {"group": "country", "apiname": "/api/v2/orders"}),
        ("event_summary", {"platform": "macOS,watchOS,Windows", "limit": "3"}),
        ("event_counts_by_date", {"startdate": "01-01-2024", "enddate": "31-03-2024", "limit": "100"}),
        ("event_counts_by_country", {"platform": "tvOS", "limit": "5"}),
        ("event_device_counts", {"startdate": "01-01-2024", "enddate": "29-02-2024", "mode": "0"}),
    ],
)
def test_oracle_matches_the_api_with_parameters(client, resource, params):
    query = {**MONTH, **params}
    crash_id = crash_id_for(resource)
    expected = client.expected(resource, query, crash_id)
    check_types(expected)
    actual = extract(client, resource, query, crash_id, limit=int(params.get("limit", 500)))
    assert actual == expected


def test_multigroup_fields_follow_group_order(client):
    records = client.expected("active_devices", {**MONTH, "group": "country,date,platform"})
    assert list(records[0]) == ["country", "date", "platform", "count"]
    assert DAY.match(records[0]["date"])


def test_oracle_with_dataset_overrides(client):
    client.sandbox.set_rows("affected_devices", 1234)
    client.sandbox.set_rows("crashes", 777)
    expected = client.expected("affected_devices", MONTH)
    assert len(expected) == 1234
    assert extract(client, "affected_devices", MONTH) == expected
    crashes = client.sandbox.expected("crashes", **MONTH)
    assert len(crashes) == 777
    assert crashes == extract(client, "crashes", MONTH)
    client.sandbox.set_ignore_offset("affected_devices", True)
    assert len(client.expected("affected_devices", MONTH)) == 1234  # the truth does not change


def test_in_process_expected_converts_arguments(zoho_sandbox):
    import datetime as dt

    in_process = zoho_sandbox.expected(
        "event_summary",
        startdate=dt.date(2024, 3, 1),
        enddate=dt.date(2024, 3, 31),
        platform=["iOS", "tvOS"],
        limit=None,
    )
    assert {r["platform"] for r in in_process} == {"iOS", "tvOS"}
    with pytest.raises(AppticsRequestError) as caught:
        zoho_sandbox.expected("crashes", startdate="2024-03-01")
    assert caught.value.code == "INVALID_DATE"
    with pytest.raises(KeyError):
        zoho_sandbox.expected("nope")
    window = zoho_sandbox.expected("event_device_counts", startdate="01-03-2024", enddate="15-03-2024")
    assert {(r["window_start"], r["window_end"]) for r in window} == {("2024-03-01", "2024-03-15")}


def test_expected_endpoint_errors(client):
    assert client.control("GET", "expected/nope").status_code == 404
    bad = client.session.get(f"{client.url}/__sandbox__/expected/crashes", params={"limit": "900"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "INVALID_LIMIT")
    missing = client.session.get(f"{client.url}/__sandbox__/expected/crash_detail", params={"crash_id": "5"})
    assert missing.status_code == 404
