from __future__ import annotations

import time

import pytest

from airflow_provider_zoho.sandbox import ZohoSandbox
from airflow_provider_zoho.sandbox.apptics import AppticsRenderer
from airflow_provider_zoho.sandbox.model import AppticsModel, Dataset
from airflow_provider_zoho.sandbox.query import RESOURCES, parse_query
from tests.unit.sandbox.client import PATHS, SandboxClient, extract, largest_container

WEEK = {"startdate": "01-03-2024", "enddate": "07-03-2024"}
MONTH = {"startdate": "01-03-2024", "enddate": "31-03-2024"}


def first_crash_id(client: SandboxClient, params=None) -> str:
    return client.resource("crashes", params or WEEK).json()["data"][0]["UniqueMessageID"]


# ---------------------------------------------------------------------- envelopes and quirks
def test_crash_list_passes_the_official_client_schema(client):
    body = client.resource("crashes", MONTH).json()
    assert list(body) == ["data"]
    types = {
        "AppVersion": str,
        "Status": int,
        "UniqueMessageID": str,
        "AppVersionID": int,
        "PID": int,
        "ExceptionType": str,
        "OS": str,
        "CrashCount": str,
        "UsersCount": str,
        "DevicesCount": str,
        "Exception": str,
    }
    assert len(body["data"]) > 5
    for row in body["data"]:
        assert set(row) == set(types)
        for key, expected in types.items():
            assert type(row[key]) is expected, key
        assert row["CrashCount"].isdigit()
        assert row["UniqueMessageID"].isdigit()


def test_crash_summary_quirks(client):
    body = client.resource("crash_summary", WEEK).json()
    assert set(body) == {"precrashcount", "crashcount", "crashfreeusers"}
    assert set(body["crashcount"]) == {"usercount", "issuecount", "crashecount", "devicecount"}
    assert all(isinstance(v, str) for v in body["precrashcount"].values())
    assert all(isinstance(v, int) for v in body["crashcount"].values())
    assert 0 <= body["crashfreeusers"] <= 100


def test_crash_counts_by_date_quirks(client):
    body = client.resource("crash_counts_by_date", {**WEEK, "platform": "iOS,Android,Windows"}).json()
    assert list(body) == ["ios", "android", "windows"]
    assert list(body["ios"]) == ["crashcount", "devicecount", "usercount", "issuecount"]
    assert list(body["android"]) == ["crashcount", "deviceschart", "userschart", "issueschart"]
    assert all(isinstance(v, int) for v in body["ios"]["crashcount"].values())
    assert all(isinstance(v, str) for v in body["android"]["userschart"].values())
    keys = list(body["ios"]["crashcount"])
    assert keys == [str(1709251200000 + i * 86_400_000) for i in range(7)]


def test_single_day_gives_hourly_buckets(client):
    body = client.resource(
        "crash_counts_by_date", {"startdate": "05-03-2024", "enddate": "05-03-2024"}
    ).json()
    keys = [int(k) for k in body["ios"]["crashcount"]]
    assert keys == [1709596800000 + h * 3_600_000 for h in range(24)]
    crash_id = first_crash_id(client, MONTH)
    issue = client.resource(
        "crash_issue_counts_by_date", {"startdate": "05-03-2024", "enddate": "05-03-2024"}, crash_id
    ).json()
    assert len(issue["crashcount"]) == 24
    daily = client.resource("crash_issue_counts_by_date", WEEK, crash_id).json()
    assert len(daily["crashcount"]) == 7
    assert set(daily) == {
        "crashcount",
        "devicecount",
        "usercount",
        "issuecount",
    }


def test_crash_issue_resources(client):
    crash_id = first_crash_id(client, MONTH)
    detail = client.resource("crash_detail", MONTH, crash_id).json()
    data = detail["data"]
    assert data["UniqueMessageID"] == crash_id
    assert isinstance(data["HappenedAt"], int)
    assert isinstance(data["SessionStartTime"], int)
    assert data["SessionStartTime"] <= data["HappenedAt"]
    assert isinstance(data["PID"], int)
    assert isinstance(data["AppVersionID"], int)
    assert len(data["date"]) == 10
    assert data["date"][2] == "-"
    assert isinstance(data["CustomProperties"], dict)
    os_versions = client.resource("crash_os_versions", MONTH, crash_id).json()
    assert os_versions["status"] == "success"
    assert all(isinstance(r["Count"], str) for r in os_versions["data"])
    models = client.resource("crash_device_models", MONTH, crash_id).json()
    assert isinstance(models, list)
    assert all(isinstance(r["count"], int) for r in models)
    total = sum(int(r["Count"]) for r in os_versions["data"])
    assert total == sum(r["count"] for r in models)
    listed = {
        r["UniqueMessageID"]: int(r["CrashCount"]) for r in client.resource("crashes", MONTH).json()["data"]
    }
    assert total == listed[crash_id]


def test_unknown_crash_id(client):
    response = client.resource("crash_detail", WEEK, "123")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "INVALID_UNIQUEID"
    assert client.resource("crash_os_versions", WEEK, "abc").status_code == 400


def test_affected_devices_quirks(client):
    body = client.resource("affected_devices", WEEK).json()
    assert body["status"] == "success"
    row = body["data"][0]
    assert list(row) == ["AppVersion", "UserID", "DeviceID", "Model", "OSVersion", "HappendAt", "Date"]
    assert isinstance(row["UserID"], int)
    assert isinstance(row["HappendAt"], int)
    assert row["Date"] == "01-03-2024"


def test_event_envelopes(client):
    summary = client.resource("event_summary", WEEK).json()
    assert summary["status"] == 200
    row = summary["data"]["result"]["iOS"][0]
    assert list(row) == ["GROUP", "EVENTS NAME ", "EVENTS COUNT"]
    by_date = client.resource("event_counts_by_date", WEEK).json()["data"]["result"]
    assert list(by_date) == ["iOS", "Android"]
    assert list(by_date["Android"][0]) == ["EVENT COUNT", "GROUP", "DATE", "EVENT NAME"]
    country = client.resource("event_counts_by_country", {**WEEK, "platform": "iOS"}).json()
    assert country["data"]["userParams"] == {
        "StartDate": "01-Mar-2024",
        "Platform": ["iOS"],
        "EndDate": "07-Mar-2024",
    }
    assert all(isinstance(v, int) for v in country["data"]["result"].values())
    devices = client.resource("event_device_counts", WEEK).json()
    assert devices["status"] == 200
    assert "Ratings_Given(AppStore)" in devices["result"] or all("(" in k for k in devices["result"])
    assert all(k.endswith(")") for k in devices["result"])


def test_active_devices_envelopes(client):
    body = client.resource("active_devices_by_date", {**WEEK, "platform": "tvOS"}).json()
    assert list(body["data"]["result"]) == ["tvOS"]
    assert list(body["data"]["result"]["tvOS"][0]) == ["DATE", "ActiveDevices COUNT"]
    grouped = client.resource(
        "active_devices", {**WEEK, "group": "date,platform", "responseformat": "nestedjson"}
    ).json()
    assert grouped["status"] == 200
    assert list(grouped["result"])[0] == "01-03-2024"
    day = grouped["result"]["01-03-2024"]
    assert isinstance(day["iOS"], int)
    assert isinstance(day["Android"], str)
    nested = client.resource("active_devices", {**WEEK, "group": "platform,appversion,date"}).json()["result"]
    assert list(nested) == ["iOS", "Android"]
    assert "01-03-2024" in next(iter(nested["iOS"].values()))
    screens = client.resource("screens", {**WEEK, "group": "screen"}).json()["result"]
    assert "HomeScreen" in screens
    apis = client.resource("api_stats", {**WEEK, "group": "api,platform"}).json()["result"]
    assert "/api/v2/login" in apis
    assert set(apis["/api/v2/login"]) <= {"iOS", "Android"}


def test_projects_need_no_project_headers(client):
    response = client.get("/userprojects", headers={"Authorization": f"Zoho-oauthtoken {client.token}"})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == 200
    assert body["result"][0]["zsoid"] == "766556673"
    assert body["result"][0]["projects"][0]["projectId"] == "782000000004007"


# ---------------------------------------------------------------------- auth, headers and parameters
def test_auth_and_headers(client):
    assert (
        client.get("/crash/list", WEEK, headers={"zsoid": "766556673", "projectid": "1"}).status_code == 401
    )
    bad = client.get("/crash/list", WEEK, token="1000.forged.token")
    assert bad.status_code == 401
    assert bad.json() == {
        "status": "failure",
        "error": {"code": "INVALID_OAUTHTOKEN", "message": bad.json()["error"]["message"]},
    }
    missing = client.get("/crash/list", WEEK, headers={"Authorization": f"Zoho-oauthtoken {client.token}"})
    assert missing.status_code == 400
    assert missing.json() == {
        "status": "failure",
        "error": {"code": "INVALID_HEADERS", "message": "zsoid and projectid headers are required"},
    }
    other = client.get("/crash/list", WEEK, headers={**client.headers(), "projectid": "1"})
    assert (other.status_code, other.json()["error"]["code"]) == (403, "UNAUTHORIZED_ACCESS")
    bearer = client.get(
        "/crash/list", WEEK, headers={**client.headers(), "Authorization": f"Bearer {client.token}"}
    )
    assert bearer.status_code == 200


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({**WEEK, "limit": 501}, "INVALID_LIMIT"),
        ({**WEEK, "limit": 0}, "INVALID_LIMIT"),
        ({"startdate": "2024-03-01"}, "INVALID_DATE"),
        ({"startdate": "07-03-2024", "enddate": "01-03-2024"}, "INVALID_DATE_RANGE"),
        ({**WEEK, "platform": "IOS"}, "INVALID_PLATFORM"),
    ],
)
def test_bad_parameters(client, params, code):
    response = client.resource("crashes", params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert response.json()["status"] == "failure"


def test_sixty_day_rule_over_http(client):
    ok = client.resource("event_device_counts", {"startdate": "01-01-2024", "enddate": "01-03-2024"})
    assert ok.status_code == 200
    too_long = client.resource("event_device_counts", {"startdate": "01-01-2024", "enddate": "02-03-2024"})
    assert (too_long.status_code, too_long.json()["error"]["code"]) == (400, "INVALID_DATE_RANGE")


def test_unknown_api_path_and_method(client):
    response = client.get("/crash/nothing")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "URL_NOT_FOUND")
    post = client.session.post(f"{client.url}/cx/api/v1/crash/list", headers=client.headers())
    assert post.status_code == 405


# ---------------------------------------------------------------------- paging
@pytest.mark.parametrize("rows", [0, 499, 500, 501, 1001])
def test_set_rows_paging(client, rows):
    client.sandbox.set_rows("crashes", rows)
    before = client.stats()["api_requests"]
    records = extract(client, "crashes", WEEK)
    assert len(records) == rows
    assert len({r["crash_id"] for r in records}) == rows
    assert client.stats()["api_requests"] - before == rows // 500 + 1


@pytest.mark.parametrize("resource", ["crash_os_versions", "crash_device_models", "affected_devices"])
def test_set_rows_other_resources(client, resource):
    response = client.control("POST", "dataset", {"resource": resource, "rows": 1001})
    assert response.json()["rows"] == {resource: 1001}
    crash_id = "7340000000100007" if "{crash_id}" in PATHS[resource] else None
    assert (
        len(extract(client, resource, {"startdate": "01-01-2020", "enddate": "01-01-2020"}, crash_id)) == 1001
    )


def test_set_rows_any_window_and_restore(client):
    client.sandbox.set_rows("crashes", 7)
    for params in (WEEK, {"startdate": "01-01-2001", "enddate": "31-12-2001"}):
        assert len(client.resource("crashes", params).json()["data"]) == 7
    client.sandbox.set_rows("crashes", None)
    assert client.resource("crashes", WEEK).json() == {
        "data": [
            row
            for row in client.resource("crashes", WEEK).json()["data"]
            if not row["UniqueMessageID"].startswith("7349")
        ]
    }
    with pytest.raises(ValueError, match="set_rows supports"):
        client.sandbox.set_rows("event_summary", 5)
    with pytest.raises(ValueError, match="rows must be"):
        client.sandbox.set_rows("crashes", -1)
    assert client.control("POST", "dataset", {"resource": "crashes", "rows": "x"}).status_code == 400


def test_override_crash_ids_resolve_on_issue_endpoints(client):
    client.sandbox.set_rows("crashes", 600)
    page = client.resource("crashes", {**WEEK, "offset": 500}).json()["data"]
    crash_id = page[-1]["UniqueMessageID"]
    detail = client.resource("crash_detail", {"startdate": "01-01-2024", "enddate": "31-03-2024"}, crash_id)
    assert detail.status_code == 200
    assert detail.json()["data"]["UniqueMessageID"] == crash_id
    client.sandbox.set_rows("crashes", None)
    assert client.resource("crash_detail", WEEK, crash_id).status_code == 404


def test_each_container_is_paged(client):
    params = {"startdate": "01-01-2024", "enddate": "31-03-2024", "platform": "iOS,Android", "limit": 40}
    first = client.resource("crash_counts_by_date", params).json()
    assert all(len(m) == 40 for platform in first.values() for m in platform.values())
    last = client.resource("crash_counts_by_date", {**params, "offset": 80}).json()
    assert all(len(m) == 11 for platform in last.values() for m in platform.values())
    events = client.resource("event_counts_by_date", {**params, "offset": 40}).json()["data"]["result"]
    assert all(len(rows) == 40 for rows in events.values())
    active = client.resource("active_devices_by_date", {**params, "offset": 90}).json()["data"]["result"]
    assert [len(rows) for rows in active.values()] == [1, 1]
    multigroup = client.resource("active_devices", {**params, "group": "date,country", "offset": 88}).json()
    assert list(multigroup["result"]) == ["29-03-2024", "30-03-2024", "31-03-2024"]
    assert all(len(v) >= 5 for v in multigroup["result"].values())  # nested values kept whole
    countries = client.resource("event_counts_by_country", {**params, "limit": 5, "offset": 10}).json()
    assert list(countries["data"]["result"]) == ["UNITED KINGDOM", "UNITED STATES"]


def test_paging_is_stable_and_complete(client):
    params = {"startdate": "01-02-2024", "enddate": "31-03-2024"}
    by_500 = [row for body in client.pages("affected_devices", params) for row in body["data"]]
    by_100 = [row for body in client.pages("affected_devices", params, limit=100) for row in body["data"]]
    assert len(by_500) > 1000  # three pages or more
    assert by_100 == by_500
    assert len({(r["DeviceID"], r["HappendAt"]) for r in by_500}) == len(by_500)


def test_ignore_offset(client):
    client.sandbox.set_rows("crashes", 1001)
    response = client.control("POST", "dataset", {"resource": "crashes", "ignore_offset": True})
    assert response.json()["ignore_offset"] == ["crashes"]
    first = client.resource("crashes", {**WEEK, "offset": 0})
    second = client.resource("crashes", {**WEEK, "offset": 500})
    assert first.content == second.content
    client.sandbox.set_ignore_offset("crashes", False)
    assert client.resource("crashes", {**WEEK, "offset": 500}).content != first.content
    with pytest.raises(ValueError, match="not a paged resource"):
        client.sandbox.set_ignore_offset("crash_summary", True)


# ---------------------------------------------------------------------- determinism
def _bodies(seed: object) -> list[bytes]:
    with ZohoSandbox(seed=seed) as sandbox, SandboxClient(sandbox) as client:
        bodies = []
        for resource in PATHS:
            crash_id = "7340000000100007" if "{crash_id}" in PATHS[resource] else None
            response = client.resource(resource, MONTH, crash_id)
            assert response.status_code == 200, (resource, response.text)
            bodies.append(response.content)
        return bodies


def test_same_seed_same_bytes_other_seed_other_data():
    first, again, other = _bodies(11), _bodies(11), _bodies(12)
    assert first == again
    changed = [a != b for a, b in zip(first, other, strict=True)]
    assert sum(changed) >= len(PATHS) - 1  # only /userprojects does not depend on the seed


def test_data_depends_on_platforms_and_dates(client):
    ios = client.resource("event_summary", {**WEEK, "platform": "iOS"}).json()["data"]["result"]["iOS"]
    both = client.resource("event_summary", {**WEEK, "platform": "Android,iOS"}).json()["data"]["result"]
    assert list(both) == ["Android", "iOS"]
    assert both["iOS"] == ios
    assert both["Android"] != ios
    later = client.resource(
        "event_summary", {"startdate": "08-03-2024", "enddate": "14-03-2024", "platform": "iOS"}
    ).json()["data"]["result"]["iOS"]
    assert later != ios


def test_overlapping_windows_agree_over_http(client):
    a = client.resource("event_counts_by_date", {"startdate": "01-03-2024", "enddate": "10-03-2024"}).json()
    b = client.resource("event_counts_by_date", {"startdate": "06-03-2024", "enddate": "20-03-2024"}).json()
    for platform in ("iOS", "Android"):
        day = 1709683200000  # 06-03-2024
        rows_a = [r for r in a["data"]["result"][platform] if day <= r["DATE"]]
        rows_b = [r for r in b["data"]["result"][platform] if r["DATE"] < day + 5 * 86_400_000]
        assert rows_a == rows_b
        assert rows_a


# ---------------------------------------------------------------------- speed
def test_a_500_row_page_renders_in_milliseconds():
    model = AppticsModel(0)
    renderer = AppticsRenderer(model)
    query = parse_query(RESOURCES["crashes"], {**WEEK, "offset": "999500"})
    renderer.render(query, Dataset(rows=1_000_000))
    start = time.perf_counter()
    for _ in range(5):
        body = renderer.render(query, Dataset(rows=1_000_000))
    per_page = (time.perf_counter() - start) / 5
    assert len(body["data"]) == 500
    assert per_page < 0.05, per_page


def test_largest_container_helper():
    assert largest_container("crashes", {"data": [1, 2]}) == 2


# ---------------------------------------------------------------------- per-crash resources (issue 13)
def _per_crash_totals(sandbox, crash_id: str, params: dict) -> dict[str, int]:
    """Crashes of one issue as each per-crash resource reports them (the oracle, which the API matches)."""
    return {
        "os_versions": sum(
            r["crash_count"] for r in sandbox.expected("crash_os_versions", crash_id=crash_id, **params)
        ),
        "device_models": sum(
            r["crash_count"] for r in sandbox.expected("crash_device_models", crash_id=crash_id, **params)
        ),
        "by_date": sum(
            r["crash_count"]
            for r in sandbox.expected("crash_issue_counts_by_date", crash_id=crash_id, **params)
        ),
        "detail": len(sandbox.expected("crash_detail", crash_id=crash_id, **params)),
    }


@pytest.mark.parametrize(
    "params", [WEEK, {**WEEK, "mode": "0", "appversion": "2.4.1", "platform": "Android,tvOS"}]
)
def test_every_crash_of_a_multi_page_list_answers_consistently_on_the_per_crash_endpoints(client, params):
    client.sandbox.set_rows("crashes", 1200)
    bodies = client.pages("crashes", params)
    assert len(bodies) == 3  # 500 + 500 + 200: more than one page of crash issues
    rows = [row for body in bodies for row in body["data"]]
    assert len({row["UniqueMessageID"] for row in rows}) == len(rows) == 1200
    start = 1709251200000  # 01-03-2024
    for row in rows:
        crashes = int(row["CrashCount"])
        totals = _per_crash_totals(client.sandbox, row["UniqueMessageID"], params)
        assert totals == {
            "os_versions": crashes,
            "device_models": crashes,
            "by_date": crashes,
            "detail": 1,
        }, row
    for row in rows[::150]:  # and the API answers exactly what the oracle says
        crash_id = row["UniqueMessageID"]
        for resource in (
            "crash_detail",
            "crash_os_versions",
            "crash_device_models",
            "crash_issue_counts_by_date",
        ):
            assert extract(client, resource, params, crash_id) == client.expected(resource, params, crash_id)
        detail = client.resource("crash_detail", params, crash_id).json()["data"]
        assert start <= detail["HappenedAt"] < start + 7 * 86_400_000
        assert (detail["OS"], detail["AppVersion"]) == (row["OS"], row["AppVersion"])
        assert detail["Exception"] == row["Exception"]
