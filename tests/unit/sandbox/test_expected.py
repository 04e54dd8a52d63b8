from __future__ import annotations

import datetime as dt
import re

import pytest
import requests

from airflow_provider_zoho.sandbox import AppticsRequestError, ZohoSandbox
from airflow_provider_zoho.sandbox.query import QUIRK_RESOURCES
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


# ---------------------------------------------------------------------- quirks (issue 10)
QUIRK_DAY = {"startdate": "05-03-2024", "enddate": "05-03-2024"}
TWO_DAYS = {"startdate": "05-03-2024", "enddate": "06-03-2024"}


def crash_of_the_day(client, resource: str) -> str | None:
    """A crash id with crashes on the quirk day, for the per-crash resources."""
    if "{crash_id}" not in PATHS[resource]:
        return None
    return client.resource("crashes", QUIRK_DAY).json()["data"][0]["UniqueMessageID"]


@pytest.mark.parametrize("resource", QUIRK_RESOURCES["extra_field"])
def test_extra_field_quirk_adds_an_undeclared_key_on_its_days_only(client, resource):
    crash_id = crash_of_the_day(client, resource)
    plain = client.expected(resource, QUIRK_DAY, crash_id)
    client.sandbox.set_quirks(resource, extra_field=["2024-03-05"])
    quirky = client.expected(resource, QUIRK_DAY, crash_id)
    assert plain
    assert len(quirky) == len(plain)
    channel = quirky[0]["release_channel"]
    assert channel in ("stable", "beta", "canary")
    for before, after in zip(plain, quirky, strict=True):
        assert list(after) == [*before, "release_channel"]  # the tidy key, after the known fields
        assert after == {**before, "release_channel": channel}
    assert '"ReleaseChannel":' in client.resource(resource, QUIRK_DAY, crash_id).text
    assert extract(client, resource, QUIRK_DAY, crash_id) == quirky
    # a window that is not wholly made of quirk days is untouched
    assert '"ReleaseChannel"' not in client.resource(resource, TWO_DAYS, crash_id).text
    assert all("release_channel" not in r for r in client.expected(resource, TWO_DAYS, crash_id))


def test_integer_rate_quirk_sends_and_keeps_a_whole_number(client):
    plain = client.resource("crash_summary", QUIRK_DAY).json()["crashfreeusers"]
    assert type(plain) is float
    client.sandbox.set_quirks("crash_summary", integer_rate=["2024-03-05"])
    sent = client.resource("crash_summary", QUIRK_DAY).json()["crashfreeusers"]
    assert type(sent) is int
    assert sent == round(plain)
    [record] = client.expected("crash_summary", QUIRK_DAY)
    assert type(record["crash_free_users"]) is int
    assert record["crash_free_users"] == sent
    assert extract(client, "crash_summary", QUIRK_DAY) == [record]
    assert type(client.resource("crash_summary", TWO_DAYS).json()["crashfreeusers"]) is float


@pytest.mark.parametrize("resource", QUIRK_RESOURCES["empty"])
def test_empty_quirk_gives_no_rows_on_its_days(client, resource):
    crash_id = crash_of_the_day(client, resource)
    assert client.expected(resource, QUIRK_DAY, crash_id)
    client.sandbox.set_quirks(resource, empty=[dt.date(2024, 3, 5)])
    assert client.expected(resource, QUIRK_DAY, crash_id) == []
    assert extract(client, resource, QUIRK_DAY, crash_id) == []
    assert client.expected(resource, TWO_DAYS, crash_id)  # the 6th has rows: this window is not empty
    assert extract(client, resource, TWO_DAYS, crash_id) == client.expected(resource, TWO_DAYS, crash_id)


def test_quirks_are_off_by_default_deterministic_and_validated(zoho_sandbox):
    assert zoho_sandbox.datasets()["quirks"] == {}
    zoho_sandbox.set_quirks("crashes", extra_field=["2024-03-05"], empty=["2024-03-09"])
    zoho_sandbox.set_quirks("crashes", empty=None)  # one quirk off, the other stays
    assert zoho_sandbox.datasets()["quirks"] == {"crashes": {"extra_field": ["2024-03-05"]}}
    with ZohoSandbox(seed=zoho_sandbox.seed) as twin:
        twin.set_quirks("crashes", extra_field=["2024-03-05"])
        assert twin.expected("crashes", **QUIRK_DAY) == zoho_sandbox.expected("crashes", **QUIRK_DAY)
    for bad, message in [
        ({"loud": ["2024-03-05"]}, "unknown quirk"),
        ({"integer_rate": ["2024-03-05"]}, "integer_rate quirk applies to crash_summary, not 'crashes'"),
        ({"empty": ["05-03-2024"]}, "YYYY-MM-DD"),
        ({"empty": [20240305]}, "YYYY-MM-DD"),
    ]:
        with pytest.raises(ValueError, match=message):
            zoho_sandbox.set_quirks("crashes", **bad)
        response = requests.post(
            f"{zoho_sandbox.url}/__sandbox__/dataset", json={"resource": "crashes", "quirks": bad}, timeout=5
        )
        assert (response.status_code, response.json()["error"]["code"]) == (400, "INVALID_REQUEST")
    with pytest.raises(ValueError, match="extra_field quirk applies to"):
        zoho_sandbox.set_quirks("screens", extra_field=["2024-03-05"])
    assert zoho_sandbox.datasets()["quirks"] == {"crashes": {"extra_field": ["2024-03-05"]}}  # unchanged
    zoho_sandbox.reset()
    assert zoho_sandbox.datasets()["quirks"] == {}
