from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from airflow_provider_zoho.sandbox import ZohoSandbox
from airflow_provider_zoho.sandbox.desk_api import DeskSettings
from tests.unit.sandbox.client import desk_get, desk_search_all

if TYPE_CHECKING:
    import requests

DAY = ("2026-03-10T00:00:00.000Z", "2026-03-11T00:00:00.000Z")
SEARCH = {"modifiedTimeRange": ",".join(DAY), "sortBy": "modifiedTime"}


def error(response: requests.Response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["errorCode"], body["message"]


# ---------------------------------------------------------------------- organizations, auth, orgId
def test_organizations_need_a_token_but_no_org_id(client):
    response = desk_get(client, "/organizations", org_id=None)
    assert response.status_code == 200
    organizations = response.json()["data"]
    first = organizations[0]
    assert {"id", "companyName", "portalName", "portalURL", "edition", "isDefault"} <= set(first)
    assert type(first["id"]) is int  # a JSON number, unlike every other Desk id
    assert str(first["id"]) == client.sandbox.desk_org_id
    assert first["isDefault"] is True
    assert '"id":60012345678' in response.text
    no_token = client.session.get(f"{client.url}/api/v1/organizations", timeout=5)
    assert error(no_token)[:2] == (401, "INVALID_OAUTH")


def test_bad_tokens_and_org_ids(client):
    assert error(desk_get(client, "/tickets/search", SEARCH, token="1000.forged.token")) == (
        401,
        "INVALID_OAUTH",
        "The OAuth Token you provided is invalid.",
    )
    missing = desk_get(client, "/tickets/search", SEARCH, org_id=None)
    assert missing.status_code == 400
    assert missing.json()["errorCode"]
    assert "orgId" in missing.json()["message"]
    opaque = desk_get(client, "/tickets/search", SEARCH, org_id="acme")
    assert error(opaque)[:2] == (500, "INTERNAL_SERVER_ERROR")
    assert "orgId" not in opaque.text  # as opaque as Zoho's
    other = desk_get(client, "/tickets/search", SEARCH, org_id="60012349999")
    assert error(other) == (
        403,
        "OAUTH_ORG_MISMATCH",
        "The OAuthToken is not valid for specified organization.",
    )
    for path in ("/tickets", "/contacts/search", "/departments", "/agents"):
        assert desk_get(client, path, org_id=None).status_code == 400
    assert error(desk_get(client, "/nothing"))[:2] == (404, "URL_NOT_FOUND")
    post = client.session.post(f"{client.url}/api/v1/tickets", headers={"orgId": "1"}, timeout=5)
    assert error(post)[:2] == (405, "METHOD_NOT_ALLOWED")


def test_an_expired_token_is_invalid_oauth():
    with ZohoSandbox(token_ttl=0.01) as sandbox:
        from tests.unit.sandbox.client import SandboxClient

        with SandboxClient(sandbox) as client:
            token = client.mint()
            import time

            time.sleep(0.05)
            assert error(desk_get(client, "/agents", token=token))[:2] == (401, "INVALID_OAUTH")


# ---------------------------------------------------------------------- search
@pytest.mark.parametrize("resource", ["tickets", "contacts"])
def test_search_pages_a_window_in_modified_time_then_id_order(client, resource):
    rows = []
    for start in range(0, 1000, 25):
        response = desk_get(client, f"/{resource}/search", {**SEARCH, "from": start, "limit": 25})
        if response.status_code == 204:
            assert response.content == b""
            break
        body = response.json()
        assert set(body) == {"data", "count"}
        rows.extend(body["data"])
        total = body["count"]
    assert rows
    assert len(rows) == total
    assert all(DAY[0] <= row["modifiedTime"] <= DAY[1] for row in rows)
    keys = [(row["modifiedTime"], int(row["id"])) for row in rows]
    assert keys == sorted(keys)
    assert len({row["id"] for row in rows}) == len(rows)
    assert {"cf", "customFields", "modifiedTime"} <= set(rows[0])


def test_search_sorted_descending_keeps_ties_in_ascending_id(client):
    client.sandbox.add_desk_rows("tickets", 30, "2026-03-10T12:00:00Z")  # 30 tickets, one instant
    body = desk_get(client, "/tickets/search", {**SEARCH, "sortBy": "-modifiedTime", "limit": 100}).json()
    keys = [(row["modifiedTime"], int(row["id"])) for row in body["data"]]
    assert all(a[0] > b[0] or (a[0] == b[0] and a[1] < b[1]) for a, b in zip(keys, keys[1:], strict=False))
    tied = [row_id for stamp, row_id in keys if stamp == "2026-03-10T12:00:00.000Z"]
    assert len(tied) == 30
    assert tied == sorted(tied)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": 0}, "The value passed for field 'limit' exceeds the range of '1-100'"),
        ({"limit": 101}, "The value passed for field 'limit' exceeds the range of '1-100'"),
        ({"from": 1000}, "The value passed for field 'from' exceeds the range of '0-999'"),
        ({"from": -1}, "The value passed for field 'from' exceeds the range of '0-999'"),
        ({"from": "x"}, "The value passed for field 'from' exceeds the range of '0-999'"),
        ({"sortOrder": "asc"}, "Extra query parameter 'sortOrder' is present in the input."),
        (
            {"modifiedTimeRange": "2026-03-10T00:00:00Z,2026-03-11T00:00:00.000Z"},
            "'modifiedTimeRange' is invalid",
        ),
        ({"modifiedTimeRange": "2026-03-10T00:00:00.000Z"}, "'modifiedTimeRange' is invalid"),
        ({"modifiedTimeRange": "2026-03-11T00:00:00.000Z,2026-03-10T00:00:00.000Z"}, "is invalid"),
        ({"sortBy": "subject"}, "'sortBy' is invalid"),
    ],
)
def test_search_refuses_bad_parameters_with_422(client, params, message):
    status, code, text = error(desk_get(client, "/tickets/search", {**SEARCH, **params}))
    assert (status, code) == (422, "UNPROCESSABLE_ENTITY")
    assert message in text


def test_search_depth_cap_variants(client):
    client.sandbox.add_desk_rows("tickets", 6000, "2026-05-01T00:00:00Z", "2026-05-01T01:00:00Z")
    window = {
        "modifiedTimeRange": "2026-05-01T00:00:00.000Z,2026-05-01T00:59:59.999Z",
        "sortBy": "modifiedTime",
    }
    assert desk_get(client, "/tickets/search", {**window, "from": 999, "limit": 100}).status_code == 200
    assert desk_get(client, "/tickets/search", {**window, "from": 1000}).status_code == 422
    assert client.sandbox.configure_desk(search_max_from=4999)["search_max_from"] == 4999
    assert desk_get(client, "/tickets/search", {**window, "from": 4999, "limit": 100}).status_code == 200
    too_deep = error(desk_get(client, "/tickets/search", {**window, "from": 5000}))
    assert too_deep == (
        422,
        "UNPROCESSABLE_ENTITY",
        "The value passed for field 'from' exceeds the range of '0-4999'",
    )
    client.control("POST", "desk", {"search_max_window": 5000})
    assert desk_get(client, "/tickets/search", {**window, "from": 4900, "limit": 100}).status_code == 200
    assert error(desk_get(client, "/tickets/search", {**window, "from": 4901, "limit": 100})) == (
        422,
        "UNPROCESSABLE_ENTITY",
        "Max search result iterable is 5000",
    )
    count = desk_get(client, "/tickets/search", {**window, "limit": 1}).json()["count"]
    assert count >= 6000  # the count is the whole match, not what from can reach
    client.control("POST", "reset")
    assert client.control("GET", "desk").json() == DeskSettings().to_dict()


def test_range_end_inclusive_by_default_exclusive_as_a_setting(client):
    client.sandbox.add_desk_rows("tickets", 2, "2026-03-10T06:00:00Z")
    client.sandbox.add_desk_rows("tickets", 1, "2026-03-10T07:00:00Z")
    window = {
        "modifiedTimeRange": "2026-03-10T06:00:00.000Z,2026-03-10T07:00:00.000Z",
        "sortBy": "modifiedTime",
    }

    def stamps() -> list[str]:
        return [
            row["modifiedTime"]
            for row in desk_get(client, "/tickets/search", {**window, "limit": 100}).json()["data"]
        ]

    inclusive = stamps()
    assert inclusive[:2] == ["2026-03-10T06:00:00.000Z"] * 2  # the start is inclusive
    assert inclusive[-1] == "2026-03-10T07:00:00.000Z"
    client.sandbox.configure_desk(range_end_inclusive=False)
    exclusive = stamps()
    assert exclusive == [s for s in inclusive if s != "2026-03-10T07:00:00.000Z"]


def test_search_lag_hides_what_was_just_modified(client):
    import datetime as dt

    now = dt.datetime.now(dt.timezone.utc)
    client.sandbox.add_desk_rows("tickets", 3, now - dt.timedelta(seconds=5))
    client.sandbox.add_desk_rows("tickets", 2, now - dt.timedelta(seconds=120))
    start, end = (now - dt.timedelta(minutes=10)), (now + dt.timedelta(minutes=1))
    window = {
        "modifiedTimeRange": f"{start:%Y-%m-%dT%H:%M:%S}.000Z,{end:%Y-%m-%dT%H:%M:%S}.000Z",
        "sortBy": "modifiedTime",
    }
    assert desk_get(client, "/tickets/search", window).json()["count"] == 5
    client.sandbox.configure_desk(search_lag_seconds=60)
    assert desk_get(client, "/tickets/search", window).json()["count"] == 2
    assert len(client.sandbox.expected_desk("tickets", start, end)) == 5  # the truth does not lag


# ---------------------------------------------------------------------- lists and snapshots
def test_lists_leave_out_modified_time_cf_and_description(client):
    body = desk_get(client, "/tickets", {"limit": 100}).json()
    assert len(body["data"]) == 100
    assert set(body) == {"data"}
    for row in body["data"]:
        assert not {"modifiedTime", "cf", "description"} & set(row)
        assert "customFields" in row
    contacts = desk_get(client, "/contacts", {"from": 0, "limit": 5}).json()["data"]
    assert not {"modifiedTime", "cf", "description"} & set(contacts[0])
    assert error(desk_get(client, "/tickets", {"limit": 101}))[0] == 422
    assert error(desk_get(client, "/tickets", {"from": 5000}))[0] == 422
    assert "modifiedTimeRange" in error(desk_get(client, "/tickets", {"modifiedTimeRange": ",".join(DAY)}))[2]


def test_list_from_base_zero_or_one(client):
    def ids(params: dict) -> list[str]:
        return [row["id"] for row in desk_get(client, "/tickets", {**params, "limit": 5}).json()["data"]]

    zero_based = ids({"from": 0}) + ids({"from": 5})
    client.sandbox.configure_desk(list_from_base=1)
    assert ids({"from": 1}) + ids({"from": 6}) == zero_based
    assert ids({"from": 0}) == ids({"from": 1})  # from=0 repeats the first row on a 1-based list
    assert ids({"from": 5})[0] == zero_based[4]


@pytest.mark.parametrize(("path", "size"), [("/departments", 4), ("/agents", 12)])
def test_snapshots_page_from_zero_and_end_with_204(client, path, size):
    whole = desk_get(client, path, {"from": 0, "limit": 100}).json()["data"]
    assert len(whole) == size
    firsts = desk_get(client, path, {"from": 0, "limit": 3}).json()["data"]
    rest = desk_get(client, path, {"from": 3, "limit": 100}).json()["data"]
    assert firsts + rest == whole
    end = desk_get(client, path, {"from": size, "limit": 100})
    assert (end.status_code, end.content) == (204, b"")
    assert all(row["id"].isdigit() for row in whole)
    assert error(desk_get(client, path, {"limit": 200}))[0] == 422


@pytest.mark.parametrize("path", ["/departments", "/agents"])
def test_snapshot_from_base_follows_the_list_setting(client, path):
    def ids(start: int) -> list[str]:
        body = desk_get(client, path, {"from": start, "limit": 3}).json()
        return [row["id"] for row in body["data"]]

    zero_based = ids(0) + ids(3)
    client.sandbox.configure_desk(list_from_base=1)
    assert ids(1) + ids(4) == zero_based
    assert ids(0) == ids(1)  # from=0 reads like from=1 on a 1-based list
    assert ids(3)[0] == zero_based[2]  # a 0-based client's second page repeats a row


# ---------------------------------------------------------------------- faults, stats, budget, connection
def test_desk_faults(client):
    client.token  # noqa: B018
    client.sandbox.add_fault(kind="threshold_exceeded")
    spent = desk_get(client, "/tickets/search", SEARCH)
    status, code, message = error(spent)
    assert (status, code) == (429, "THRESHOLD_EXCEEDED")
    assert "day" in message
    client.sandbox.add_fault(kind="too_many_requests")
    busy = desk_get(client, "/tickets/search", SEARCH)
    assert error(busy) == (
        429,
        "TOO_MANY_REQUESTS",
        "The maximum number of Concurrent API Calls that can be made has been exceeded.",
    )
    assert "Retry-After" not in busy.headers
    client.sandbox.add_fault(kind="status", status=503, path="/api/v1/tickets")
    assert error(desk_get(client, "/tickets/search", SEARCH))[:2] == (503, "INTERNAL_SERVER_ERROR")
    client.sandbox.add_fault(kind="status", status=500, path="/api/v1", offset=20, times=None)
    assert desk_get(client, "/tickets/search", {**SEARCH, "from": 10}).status_code == 200
    assert desk_get(client, "/tickets/search", {**SEARCH, "from": 20}).status_code == 500  # offset is `from`
    client.sandbox.clear_faults()
    token = client.token
    client.sandbox.add_fault(kind="unauthorized", path="/api/v1")
    assert error(desk_get(client, "/agents"))[:2] == (401, "INVALID_OAUTH")
    assert desk_get(client, "/agents", token=token).status_code == 401  # the token was revoked
    assert client.resource("projects", token=client.mint()).status_code == 200  # Apptics untouched
    assert client.stats()["faults_by_kind"] == {
        "threshold_exceeded": 1,
        "too_many_requests": 1,
        "status": 2,
        "unauthorized": 1,
    }


def test_stats_count_desk_calls_per_path(client):
    desk_get(client, "/tickets/search", SEARCH)
    desk_get(client, "/tickets/search", SEARCH)
    desk_get(client, "/agents")
    client.resource("projects")
    stats = client.stats()
    assert stats["desk_requests"] == 3
    assert stats["api_requests"] == 1
    assert stats["requests_by_path"]["/api/v1/tickets/search"] == 2
    assert stats["requests_by_path"]["/api/v1/agents"] == 1


@pytest.mark.zoho_sandbox(max_requests=2)
def test_the_request_budget_answers_desk_in_desk_shape(client):
    client.mint()
    desk_get(client, "/agents")
    assert error(desk_get(client, "/agents"))[:2] == (400, "SANDBOX_REQUEST_BUDGET_SPENT")


def test_connection_points_desk_at_the_sandbox(zoho_sandbox):
    extra = zoho_sandbox.connection()["extra"]
    assert extra["desk_url"] == zoho_sandbox.url
    assert extra["desk_org_id"] == "60012345678"
    with pytest.raises(ValueError, match="desk_org_id"):
        ZohoSandbox(desk_org_id="acme")


def test_desk_control_endpoints_validate(client):
    assert client.control("GET", "desk").json()["search_max_from"] == 999
    for bad in ({"search_max_from": -1}, {"list_from_base": 2}, {"colour": 1}, {"range_end_inclusive": "no"}):
        response = client.control("POST", "desk", bad)
        assert (response.status_code, response.json()["error"]["code"]) == (400, "INVALID_REQUEST")
    rows = {"resource": "tickets", "rows": 3, "start": "2026-02-01T00:00:00Z", "end": "2026-02-01T00:00:03Z"}
    assert client.control("POST", "desk/rows", rows).json()["rows"][0]["rows"] == 3
    for bad in (
        {**rows, "resource": "agents"},
        {**rows, "rows": 0},
        {**rows, "start": "2026-02-01T00:00:00"},  # naive
        {**rows, "end": "2026-01-01T00:00:00Z"},  # before start
        {**rows, "colour": 1},
    ):
        assert client.control("POST", "desk/rows", bad).status_code == 400
    assert client.control("DELETE", "desk/rows").json() == {"rows": []}


def test_a_deep_page_of_a_crowded_window_is_the_right_slice(client):
    client.sandbox.add_desk_rows("tickets", 5000, "2026-04-01T00:00:00Z", "2026-04-02T00:00:00Z")
    window = {
        "modifiedTimeRange": "2026-04-01T00:00:00.000Z,2026-04-01T23:59:59.999Z",
        "sortBy": "modifiedTime",
    }
    body = desk_get(client, "/tickets/search", {**window, "from": 900, "limit": 100}).json()
    truth = client.sandbox.expected_desk("tickets", "2026-04-01T00:00:00Z", "2026-04-02T00:00:00Z")
    assert body["count"] == len(truth) > 5000
    assert [row["id"] for row in body["data"]] == [record["id"] for record in truth[900:1000]]


def test_search_all_of_a_day_equals_the_oracle(client):
    assert desk_search_all(client, "tickets", *DAY) == client.sandbox.expected_desk("tickets", *DAY)
