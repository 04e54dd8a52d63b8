from __future__ import annotations

import datetime as dt

import pytest
import requests

from airflow_provider_zoho.sandbox.desk_expected import snake_case, tidy, window_ms
from tests.unit.sandbox.client import desk_get, desk_search_all, desk_tidy

WINDOWS = [
    ("2026-03-10T00:00:00.000Z", "2026-03-11T00:00:00.000Z"),
    ("2026-01-01T00:00:00.000Z", "2026-01-01T06:00:00.000Z"),
    ("2026-06-30T22:00:00.000Z", "2026-07-01T00:00:00.000Z"),
    ("2026-02-14T10:17:00.000Z", "2026-02-14T10:43:30.500Z"),
]


@pytest.mark.parametrize("resource", ["tickets", "contacts"])
@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("inclusive_end", [True, False])
def test_oracle_equals_what_a_client_extracts_from_search(client, resource, window, inclusive_end):
    client.sandbox.configure_desk(range_end_inclusive=inclusive_end)
    expected = client.sandbox.expected_desk(resource, *window)
    assert expected or resource == "contacts"
    assert desk_search_all(client, resource, *window) == expected
    over_http = client.session.get(
        f"{client.url}/__sandbox__/expected/desk/{resource}",
        params={"modified_from": window[0], "modified_to": window[1]},
        timeout=30,
    )
    assert over_http.json() == {"records": expected}


def test_the_window_is_half_open_and_burst_rows_are_included(client):
    client.sandbox.add_desk_rows("tickets", 3, "2026-03-10T05:00:00Z")
    client.sandbox.add_desk_rows("tickets", 2, "2026-03-10T06:00:00Z")
    first = client.sandbox.expected_desk("tickets", "2026-03-10T05:00:00Z", "2026-03-10T06:00:00Z")
    second = client.sandbox.expected_desk("tickets", "2026-03-10T06:00:00+00:00", "2026-03-10T07:00:00Z")
    assert [r["modified_time"] for r in first][:3] == ["2026-03-10T05:00:00.000Z"] * 3
    assert "2026-03-10T06:00:00.000Z" not in {r["modified_time"] for r in first}
    assert [r["modified_time"] for r in second][:2] == ["2026-03-10T06:00:00.000Z"] * 2
    both = client.sandbox.expected_desk("tickets", "2026-03-10T05:00:00Z", "2026-03-10T07:00:00Z")
    assert both == first + second
    keys = [(r["modified_time"], int(r["id"])) for r in both]
    assert keys == sorted(keys)
    aware = dt.datetime(2026, 3, 10, 5, tzinfo=dt.timezone.utc)
    assert client.sandbox.expected_desk("tickets", aware, aware + dt.timedelta(hours=1)) == first


def test_records_follow_the_normalization_rules(client):
    [record, *_] = client.sandbox.expected_desk("tickets", *WINDOWS[0])
    assert list(record)[:6] == ["phone", "assignee_id", "subject", "time_entry_count", "resolution", "id"]
    assert isinstance(record["id"], str)
    assert type(record["thread_count"]) is int
    assert type(record["time_entry_count"]) is int
    assert record["modified_time"].endswith("Z")
    assert len(record["modified_time"]) == len("2026-03-10T00:00:00.000Z")
    assert isinstance(record["custom_fields"], dict)
    assert set(record["cf"]) == {"cf_location", "cf_plan"}
    assert record["status_type"] in ("Open", "On Hold", "Closed")
    assert isinstance(record["source"], dict)
    contact = client.sandbox.expected_desk("contacts", "2026-03-01T00:00:00Z", "2026-03-05T00:00:00Z")[0]
    assert {"photo_url", "zoho_crm_contact", "customer_happiness", "is_end_user", "web_url"} <= set(contact)
    assert isinstance(contact["customer_happiness"]["goodPercentage"], str)  # nested objects as sent


def test_rules_on_odd_values():
    assert [
        snake_case(k) for k in ("modifiedTime", "customFields", "photoURL", "zohoCRMContact", "cf", "id")
    ] == [
        "modified_time",
        "custom_fields",
        "photo_url",
        "zoho_crm_contact",
        "cf",
        "id",
    ]
    row = {
        "id": 1892,
        "ownerId": 5,
        "threadCount": "07",
        "dueDate": "2026-03-10T05:00:00.100Z",
        "teamId": None,
    }
    assert tidy(row) == {
        "id": "1892",
        "owner_id": "5",
        "thread_count": 7,
        "due_date": "2026-03-10T05:00:00.100Z",
        "team_id": None,
    }
    assert tidy(row) == desk_tidy(row)


@pytest.mark.parametrize("resource", ["departments", "agents"])
def test_snapshots_ignore_the_window(client, resource):
    rows = desk_get(client, f"/{resource}", {"limit": 100}).json()["data"]
    expected = client.sandbox.expected_desk(resource)
    assert expected == [desk_tidy(row) for row in rows]
    assert client.sandbox.expected_desk(resource, "2020-01-01T00:00:00Z", "2020-01-02T00:00:00Z") == expected


def test_oracle_errors(client):
    with pytest.raises(KeyError):
        client.sandbox.expected_desk("threads")
    for bounds in ((None, "2026-03-10T00:00:00Z"), ("2026-03-10T00:00:00", "2026-03-11T00:00:00Z")):
        with pytest.raises(ValueError, match="modified_"):
            client.sandbox.expected_desk("tickets", *bounds)
    with pytest.raises(ValueError, match="after"):
        client.sandbox.expected_desk("tickets", "2026-03-10T00:00:00Z", "2026-03-10T00:00:00Z")
    url = f"{client.url}/__sandbox__/expected/desk"
    assert requests.get(f"{url}/threads", timeout=5).status_code == 404
    naive = requests.get(
        f"{url}/tickets",
        params={"modified_from": "2026-03-10T00:00:00", "modified_to": "2026-03-11T00:00:00Z"},
        timeout=5,
    )
    assert naive.status_code == 400
    assert requests.get(f"{url}/tickets", params={"from": "x"}, timeout=5).status_code == 400
    assert window_ms("1970-01-01T00:00:01.5+00:00", "x") == 1500
