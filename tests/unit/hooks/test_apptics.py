from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time

import pytest
import requests

from airflow_provider_zoho.exceptions import ZohoAPIError, ZohoConfigError
from airflow_provider_zoho.hooks.apptics import RESOURCES, AppticsHook, PageCursor
from airflow_provider_zoho.hooks.apptics_planning import plan_calls
from tests.unit.conftest import APPTICS, TOKEN_URL, connection_json

CRASHES = f"{APPTICS}/cx/api/v1/crash/list"


def crash_rows(start: int, count: int) -> list[dict]:
    return [
        {
            "AppVersion": "2.4.1",
            "Status": 1,
            "UniqueMessageID": f"73400000{n:08d}",
            "AppVersionID": 734000000001,
            "PID": 2,
            "ExceptionType": "NSInvalidArgumentException",
            "OS": "iOS",
            "CrashCount": str(n),
            "UsersCount": "1",
            "DevicesCount": "1",
            "Exception": "boom",
        }
        for n in range(start, start + count)
    ]


@pytest.fixture
def apptics(zoho_conn, requests_mock):
    requests_mock.post(TOKEN_URL, json={"access_token": "tok", "expires_in": 3600})
    return requests_mock


def pages_of(requests_mock, total: int, limit: int = 500) -> None:
    """Serve ``total`` crash rows through offset/limit paging, like the API."""

    def answer(request, context):
        offset = int(request.qs["offset"][0])
        return {"data": crash_rows(offset, max(0, min(limit, total - offset)))}

    requests_mock.get(CRASHES, json=answer)


def api_requests(requests_mock) -> list:
    return [r for r in requests_mock.request_history if r.method == "GET"]


@pytest.mark.parametrize(
    ("total", "requests"),
    [(0, 1), (1, 1), (499, 1), (500, 2), (501, 2), (1000, 3), (1001, 3)],
    ids=lambda v: str(v),
)
def test_pages_until_a_page_is_not_full(apptics, total, requests):
    pages_of(apptics, total)
    records = list(AppticsHook().iter_records("crashes", "2026-03-01", "2026-03-02"))
    assert [r["crash_id"] for r in records] == [f"73400000{n:08d}" for n in range(total)]
    sent = api_requests(apptics)
    assert len(sent) == requests
    assert [r.qs["offset"] for r in sent] == [[str(500 * i)] for i in range(requests)]
    assert all(r.qs["limit"] == ["500"] for r in sent)


def test_sends_dates_filters_and_project_headers(apptics):
    pages_of(apptics, 3)
    hook = AppticsHook()
    list(
        hook.iter_records(
            "crashes",
            dt.date(2026, 3, 1),
            dt.datetime(2026, 3, 7, 13, 0),
            platforms=["iOS", "Android"],
            app_versions="2.4.1,2.4.2",
            mode=1,
        )
    )
    sent = api_requests(apptics)[0]
    assert sent.qs == {
        "startdate": ["01-03-2026"],
        "enddate": ["07-03-2026"],
        "platform": ["ios,android"],  # requests-mock lower-cases query values
        "appversion": ["2.4.1,2.4.2"],
        "mode": ["1"],
        "limit": ["500"],
        "offset": ["0"],
    }
    assert "platform=iOS%2CAndroid" in sent.url or "platform=iOS,Android" in sent.url
    assert sent.headers["zsoid"] == "766556673"
    assert sent.headers["projectid"] == "782000000004007"
    assert sent.headers["Authorization"] == "Zoho-oauthtoken tok"


def test_records_are_normalized(apptics):
    pages_of(apptics, 1)
    (record,) = AppticsHook().iter_records("crashes", "2026-03-01", "2026-03-01")
    assert record == {
        "crash_id": "7340000000000000",
        "app_version": "2.4.1",
        "status": 1,
        "os": "iOS",
        "exception": "boom",
        "exception_type": "NSInvalidArgumentException",
        "crash_count": 0,
        "device_count": 1,
        "user_count": 1,
        "platform_id": "2",
        "app_version_id": "734000000001",
    }


def test_streams_page_by_page_two_pages_ahead_at_most(apptics):
    pages_of(apptics, 5000)  # ten full pages and an empty one
    records = AppticsHook().iter_records("crashes", "2026-03-01", "2026-03-01")
    assert len(api_requests(apptics)) == 0  # nothing is fetched before the first record is wanted
    next(records)
    time.sleep(0.3)  # the fetcher runs ahead while the consumer holds page 1...
    # ...but only by the page in the hand-over queue, the one it holds until the next request is sent and
    # that request's: memory stays flat
    assert len(api_requests(apptics)) <= 4
    assert sum(1 for _ in records) == 4999
    assert len(api_requests(apptics)) == 11


def test_a_consumer_that_stops_early_stops_the_fetcher(apptics):
    pages_of(apptics, 5000)
    records = AppticsHook().iter_records("crashes", "2026-03-01", "2026-03-01")
    next(records)
    records.close()
    for fetcher in [t for t in threading.enumerate() if t.name == "apptics-fetch"]:
        fetcher.join(timeout=10)
        assert not fetcher.is_alive()  # it ended on its own, without being handed another page
    assert len(api_requests(apptics)) <= 4  # pages 1 and 2, the one it held, at most the one it was fetching


def test_a_fetch_error_reaches_the_consumer_after_the_pages_before_it(apptics, no_retry_wait):
    apptics.get(
        CRASHES,
        [{"json": {"data": crash_rows(0, 500)}}, {"status_code": 403, "json": {"error": {"code": "NOPE"}}}],
    )
    records = AppticsHook().iter_records("crashes", "2026-03-01", "2026-03-01")
    got = []

    def consume() -> None:
        for record in records:
            got.append(record)

    with pytest.raises(ZohoAPIError) as error:
        consume()
    assert len(got) == 500  # the first page arrived complete before the failure surfaced
    assert error.value.status_code == 403


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"resource": "crashez"}, "crashez"),
        ({"start_date": "2026-03-05", "end_date": "2026-03-01"}, "before"),
        ({"platforms": ["iOS", "Android", "macOS", "tvOS", "watchOS", "Windows"]}, "platforms"),
        ({"app_versions": [str(n) for n in range(11)]}, "app_versions"),
        ({"start_date": "03/01/2026"}, "start_date"),
        ({"resource": "crash_detail"}, "crash_id"),
    ],
    ids=["resource", "order", "platforms", "app-versions", "date-format", "crash-id"],
)
def test_bad_arguments_fail_before_any_request(apptics, kwargs, message):
    args = {"resource": "crashes", "start_date": "2026-03-01", "end_date": "2026-03-02", **kwargs}
    resource, start, end = args.pop("resource"), args.pop("start_date"), args.pop("end_date")
    with pytest.raises(ZohoConfigError, match=re.escape(message)):
        AppticsHook().iter_records(resource, start, end, **args)  # raises on the call itself
    assert apptics.call_count == 0


def test_missing_portal_or_project_is_a_config_error(monkeypatch, requests_mock):
    monkeypatch.setenv(
        "AIRFLOW_CONN_ZOHO_DEFAULT", connection_json(extra={"portal_id": "", "project_id": ""})
    )
    with pytest.raises(ZohoConfigError, match="portal_id and project_id"):
        AppticsHook().iter_records("crashes", "2026-03-01", "2026-03-01")
    assert requests_mock.call_count == 0


def test_projects_need_no_portal_and_list_projects(monkeypatch, requests_mock):
    monkeypatch.setenv(
        "AIRFLOW_CONN_ZOHO_DEFAULT", connection_json(extra={"portal_id": "", "project_id": ""})
    )
    requests_mock.post(TOKEN_URL, json={"access_token": "tok", "expires_in": 3600})
    requests_mock.get(
        f"{APPTICS}/cx/api/v1/userprojects",
        json={
            "result": [
                {
                    "zsoid": 766556673,
                    "portalName": "Acme",
                    "projects": [
                        {"projectId": 782000000004007, "projectName": "Acme Mobile", "platforms": ["iOS"]}
                    ],
                }
            ],
            "status": 200,
        },
    )
    assert AppticsHook().list_projects() == [
        {
            "portal_id": "766556673",
            "portal_name": "Acme",
            "project_id": "782000000004007",
            "project_name": "Acme Mobile",
            "platforms": ["iOS"],
        }
    ]
    sent = api_requests(requests_mock)[0]
    assert "zsoid" not in sent.headers
    assert "offset" not in sent.qs


def test_api_that_ignores_offset_raises_instead_of_looping(apptics):
    apptics.get(CRASHES, json={"data": crash_rows(0, 500)})
    records = AppticsHook().iter_records("crashes", "2026-03-01", "2026-03-01")
    with pytest.raises(ZohoAPIError, match="ignores offset"):
        list(records)
    assert len(api_requests(apptics)) == 2


def test_event_device_counts_are_split_into_60_day_chunks(apptics):
    url = f"{APPTICS}/cx/api/v1/event/devicecount"
    apptics.get(url, json={"result": {"Rated(AppStore)": 3}, "status": 200})
    records = list(AppticsHook().iter_records("event_device_counts", "2026-01-01", "2026-04-30"))
    windows = [(r.qs["startdate"][0], r.qs["enddate"][0]) for r in api_requests(apptics)]
    assert windows == [("01-01-2026", "01-03-2026"), ("02-03-2026", "30-04-2026")]
    assert [(r["window_start"], r["window_end"], r["device_count"]) for r in records] == [
        ("2026-01-01", "2026-03-01", 3),
        ("2026-03-02", "2026-04-30", 3),
    ]


def test_malformed_body_is_retried(apptics, no_retry_wait):
    apptics.get(CRASHES, [{"text": '{"data": [{"Unique'}, {"json": {"data": crash_rows(0, 2)}}])
    assert len(list(AppticsHook().iter_records("crashes", "2026-03-01", "2026-03-01"))) == 2


def test_empty_204_answer_means_no_records(apptics):
    apptics.get(CRASHES, status_code=204, text="")
    assert list(AppticsHook().iter_records("crashes", "2026-03-01", "2026-03-01")) == []


def test_api_calls_are_counted(apptics):
    pages_of(apptics, 1001)
    hook = AppticsHook()
    list(hook.iter_records("crashes", "2026-03-01", "2026-03-01"))
    assert hook.api_calls == 3


def test_catalog_has_every_resource_of_the_design():
    assert set(RESOURCES) == {
        "projects",
        "crashes",
        "crash_summary",
        "crash_counts_by_date",
        "crash_issue_counts_by_date",
        "crash_detail",
        "crash_os_versions",
        "crash_device_models",
        "affected_devices",
        "active_devices_by_date",
        "active_devices",
        "event_summary",
        "event_counts_by_date",
        "event_counts_by_country",
        "event_device_counts",
        "screens",
        "api_stats",
    }
    assert AppticsHook.RESOURCES is RESOURCES


def test_multigroup_records_follow_the_group_order(apptics):
    url = f"{APPTICS}/cx/api/v1/screen/multigroup"
    apptics.get(url, json={"result": {"Home": {"02-03-2026": "5"}}, "status": 200})
    records = list(AppticsHook().iter_records("screens", "2026-03-02", "2026-03-02", group="screen,date"))
    assert records == [{"screen": "Home", "date": "2026-03-02", "count": 5}]
    sent = api_requests(apptics)[0]
    assert sent.qs["group"] == ["screen,date"]
    assert sent.qs["responseformat"] == ["nestedjson"]


def test_hook_uses_the_apptics_url_of_the_data_center(monkeypatch, requests_mock):
    monkeypatch.setenv(
        "AIRFLOW_CONN_ZOHO_DEFAULT",
        connection_json(extra={"data_center": "eu", "accounts_url": None, "apptics_url": None}),
    )
    requests_mock.post(
        "https://accounts.zoho.eu/oauth/v2/token", json={"access_token": "t", "expires_in": 3600}
    )
    requests_mock.get("https://apptics.zoho.eu/cx/api/v1/crash/list", json={"data": []})
    assert list(AppticsHook().iter_records("crashes", "2026-03-01", "2026-03-01")) == []
    assert json.loads(json.dumps(requests_mock.call_count)) == 2


# -- PageCursor: the paging rule shared by the stream and the asynchronous count ---------------------------

ROW = {"UniqueMessageID": "1", "CrashCount": "1"}


def _cursor() -> PageCursor:
    (call,) = plan_calls("crashes", "2026-03-07", "2026-03-07")
    return PageCursor(call, f"{APPTICS}/cx/api/v1/crash/list?secret=1")


def test_cursor_steps_by_the_page_limit_while_pages_are_full():
    cursor = _cursor()
    assert cursor.params["offset"] == "0"
    assert cursor.advance({"data": [ROW] * 500}) is True
    assert (cursor.offset, cursor.params["offset"], cursor.params["limit"]) == (500, "500", "500")
    assert cursor.advance({"data": [{**ROW, "UniqueMessageID": "2"}] * 500}) is True
    assert cursor.advance({"data": [ROW] * 499}) is False
    assert cursor.offset == 1000


def test_cursor_stops_at_an_empty_page():
    cursor = _cursor()
    assert cursor.advance(None) is False
    assert cursor.offset == 0


def test_cursor_refuses_a_full_page_that_repeats_the_previous_one():
    cursor = _cursor()
    page = {"data": [ROW] * 500}
    assert cursor.advance(page) is True
    with pytest.raises(ZohoAPIError) as error:
        cursor.advance({"data": [ROW] * 500})
    assert error.value.message == (
        "Apptics answered offset 500 of 'crashes' with the same page as offset 0: the API ignores offset, "
        "so paging would never end."
    )
    assert error.value.url == f"{APPTICS}/cx/api/v1/crash/list"


def test_cursor_accepts_a_short_last_page_equal_to_nothing_before():
    cursor = _cursor()
    assert cursor.advance({"data": [ROW] * 500}) is True
    assert cursor.advance({"data": [ROW]}) is False  # not a repeat: shorter, the end


# -- iter_crash_records: a per-crash resource for every crash issue of a window -----------------------------


def json_response(url, body) -> requests.Response:
    """A successful ``requests.Response`` carrying ``body`` as JSON."""
    response = requests.Response()
    response.status_code, response.url, response._content = 200, url, json.dumps(body).encode()
    return response


class FakeApptics:
    """
    Stands in for the hook's ``request_json``: the crash list holds ``crash_ids`` (paged like the API),
    and each ``/crash/{id}/osversion`` answers ``rows`` OS versions. Thread-safe; records every call.

    :param crash_ids: the list's ``UniqueMessageID`` values, in order.
    :param before_issue: called with the crash id inside each per-crash call, before it answers.
    """

    def __init__(self, crash_ids, rows=2, before_issue=None) -> None:
        self.crash_ids = list(crash_ids)
        self.rows = rows
        self.before_issue = before_issue or (lambda crash_id: None)
        self.lock = threading.Lock()
        self.calls: list[tuple[str, dict]] = []
        self.answered: list[str] = []  # crash ids whose call has answered, in answer order
        self.in_flight = self.most_in_flight = 0

    def __call__(self, method, url, *, params=None, headers=None, decode=None):
        body = self.answer(url, params)
        return body if decode is None else decode(json_response(url, body))

    def answer(self, url, params):
        path = url.split("/cx/api/v1", 1)[1]
        with self.lock:
            self.calls.append((path, dict(params or {})))
        if path == "/crash/list":
            offset = int(params["offset"])
            rows = [
                {**crash_rows(0, 1)[0], "UniqueMessageID": crash_id}
                for crash_id in self.crash_ids[offset : offset + 500]
            ]
            return {"data": rows}
        crash_id = path.split("/")[2]
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            self.before_issue(crash_id)
            return {"data": [{"OSVersion": f"{n}.0", "Count": str(n)} for n in range(self.rows)]}
        finally:
            with self.lock:
                self.in_flight -= 1
                self.answered.append(crash_id)

    def issue_calls(self) -> list[str]:
        return [path for path, _ in self.calls if path != "/crash/list"]


def fan_out_hook(fake: FakeApptics) -> AppticsHook:
    hook = AppticsHook()
    hook.request_json = fake  # the focused double: everything else is the real hook
    return hook


def os_versions(hook: AppticsHook, **kwargs) -> list[dict]:
    return list(hook.iter_crash_records("crash_os_versions", "2026-03-07", "2026-03-07", **kwargs))


def expected_os_versions(crash_ids, rows=2) -> list[dict]:
    return [
        {"crash_id": crash_id, "os_version": f"{n}.0", "crash_count": n}
        for crash_id in crash_ids
        for n in range(rows)
    ]


def crash_threads_end() -> None:
    for thread in [t for t in threading.enumerate() if t.name.startswith(("apptics-crash", "apptics-fetch"))]:
        thread.join(timeout=10)
        assert not thread.is_alive(), thread.name


def test_fan_out_reads_every_listed_issue_once_in_list_order_with_the_fewest_calls(zoho_conn):
    crash_ids = [f"73{n:06d}" for n in range(1200)]  # three pages of the list: 500, 500, 200
    fake = FakeApptics([*crash_ids[:700], crash_ids[3], *crash_ids[700:]])  # one issue listed twice
    hook = fan_out_hook(fake)
    assert os_versions(hook, concurrency=8) == expected_os_versions(crash_ids)
    list_calls = [params["offset"] for path, params in fake.calls if path == "/crash/list"]
    assert list_calls == ["0", "500", "1000"]
    assert sorted(fake.issue_calls()) == sorted(f"/crash/{crash_id}/osversion" for crash_id in crash_ids)
    assert hook.api_calls == 3 + 1200


def test_a_window_without_crash_issues_gives_no_records_after_one_call(zoho_conn):
    fake = FakeApptics([])
    hook = fan_out_hook(fake)
    assert os_versions(hook) == []
    assert (fake.calls, hook.api_calls) == ([("/crash/list", fake.calls[0][1])], 1)


def test_fan_out_sends_each_filter_where_it_is_taken(zoho_conn):
    fake = FakeApptics(["11", "12"])
    os_versions(
        fan_out_hook(fake), platforms=["iOS", "Android"], app_versions="2.4.0", mode=1, timezone="UTC"
    )
    listing = {"startdate": "07-03-2026", "enddate": "07-03-2026", "platform": "iOS,Android",
               "appversion": "2.4.0", "mode": "1", "limit": "500", "offset": "0"}  # fmt: skip
    per_issue = {"startdate": "07-03-2026", "enddate": "07-03-2026", "appversion": "2.4.0", "mode": "1",
                 "timezone": "UTC", "limit": "500", "offset": "0"}  # fmt: skip
    assert fake.calls[0] == ("/crash/list", listing)
    assert sorted(fake.calls[1:]) == [("/crash/11/osversion", per_issue), ("/crash/12/osversion", per_issue)]


def test_fan_out_keeps_the_list_order_when_answers_arrive_out_of_order(zoho_conn):
    crash_ids = [str(n) for n in range(1, 11)]
    later_ones_answered = threading.Event()

    def before_issue(crash_id):
        if crash_id == "1":  # the first issue answers only after the three issues fetched beside it
            later_ones_answered.wait(timeout=10)
        elif crash_id == "4":
            later_ones_answered.set()

    fake = FakeApptics(crash_ids, before_issue=before_issue)
    records = os_versions(fan_out_hook(fake), concurrency=4)
    assert records == expected_os_versions(crash_ids)
    assert fake.answered.index("1") > fake.answered.index("4")  # the answers did arrive out of order


@pytest.mark.parametrize("concurrency", [1, 3, 4])
def test_fan_out_fetches_at_most_concurrency_issues_at_once(zoho_conn, concurrency):
    all_in = threading.Barrier(concurrency, timeout=10)

    def before_issue(crash_id):
        if int(crash_id) <= concurrency:
            all_in.wait()  # the first `concurrency` issues are all in flight together, or this times out

    crash_ids = [str(n) for n in range(1, 21)]
    fake = FakeApptics(crash_ids, before_issue=before_issue)
    assert os_versions(fan_out_hook(fake), concurrency=concurrency) == expected_os_versions(crash_ids)
    assert fake.most_in_flight == concurrency


def test_fan_out_holds_the_records_of_at_most_concurrency_issues(zoho_conn):
    crash_ids = [str(n) for n in range(1, 61)]
    fake = FakeApptics(crash_ids, rows=3)
    held = []
    for record in fan_out_hook(fake).iter_crash_records(
        "crash_os_versions", "2026-03-07", "2026-03-07", concurrency=4
    ):
        handed_out = crash_ids.index(record["crash_id"])  # the issues before this one are all handed out
        with fake.lock:
            held.append(sum(1 for crash_id in fake.answered if crash_ids.index(crash_id) >= handed_out))
    assert max(held) <= 4
    assert len(held) == 180


def test_a_failing_issue_ends_the_stream_with_its_error(zoho_conn):
    failure = ZohoAPIError("Zoho API call failed", status_code=500, code="INTERNAL_SERVER_ERROR")

    def before_issue(crash_id):
        if crash_id == "6":
            raise failure

    crash_ids = [str(n) for n in range(1, 41)]
    fake = FakeApptics(crash_ids, before_issue=before_issue)
    hook = fan_out_hook(fake)
    records = hook.iter_crash_records("crash_os_versions", "2026-03-07", "2026-03-07", concurrency=4)
    got = []

    def consume() -> None:
        for record in records:
            got.append(record)

    with pytest.raises(ZohoAPIError) as error:
        consume()
    assert error.value is failure
    assert got == expected_os_versions(crash_ids[:5])  # the issues before it, whole
    crash_threads_end()
    # No issue is submitted once the failure is seen: at most the failing one and the 3 beside it.
    assert len(fake.issue_calls()) <= 6 + 3
    assert hook.api_calls == 1 + len(fake.issue_calls()) - 1  # the failed call was not answered


def test_a_consumer_that_stops_early_stops_the_fan_out(zoho_conn):
    crash_ids = [str(n) for n in range(1, 41)]
    fake = FakeApptics(crash_ids)
    records = fan_out_hook(fake).iter_crash_records(
        "crash_os_versions", "2026-03-07", "2026-03-07", concurrency=4
    )
    next(records)
    records.close()
    crash_threads_end()
    assert len(fake.issue_calls()) <= 4


def test_a_listed_issue_without_a_usable_id_fails_before_its_calls(zoho_conn):
    fake = FakeApptics(["1", "../userprojects", "3"])
    with pytest.raises(ZohoAPIError, match=r"row 2 of 'crashes' for the window\) whose id '../userprojects'"):
        os_versions(fan_out_hook(fake), concurrency=1)
    crash_threads_end()
    assert fake.issue_calls() == ["/crash/1/osversion"]


def test_fan_out_over_http(apptics):
    apptics.get(CRASHES, json={"data": crash_rows(0, 2)})
    apptics.get(
        re.compile(r".*/cx/api/v1/crash/7340000000000\d{3}/devicemodel"),
        json=[{"model": "iPhone15,2", "count": 3}],
    )
    records = list(AppticsHook().iter_crash_records("crash_device_models", "2026-03-07", "2026-03-07"))
    assert records == [
        {"crash_id": "7340000000000000", "model": "iPhone15,2", "crash_count": 3},
        {"crash_id": "7340000000000001", "model": "iPhone15,2", "crash_count": 3},
    ]
    sent = api_requests(apptics)
    assert sorted(r.path for r in sent) == [
        "/cx/api/v1/crash/7340000000000000/devicemodel",
        "/cx/api/v1/crash/7340000000000001/devicemodel",
        "/cx/api/v1/crash/list",
    ]
    assert all(r.headers["zsoid"] == "766556673" and r.headers["projectid"] for r in sent)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"resource": "crashes"}, "resource: 'crashes' is not a per-crash resource"),
        ({"crash_id": "1"}, "crash_id: reading every crash issue of the window takes no crash_id"),
        ({"concurrency": 0}, "concurrency: expected a whole number from 1 to 16"),
        ({"concurrency": 17}, "concurrency: expected a whole number from 1 to 16"),
        ({"concurrency": True}, "concurrency: expected a whole number from 1 to 16"),
        ({"concurrency": "4"}, "concurrency: expected a whole number from 1 to 16"),
        ({"concurrency": 2.0}, "concurrency: expected a whole number from 1 to 16"),
        ({"platforms": ["Linux"]}, "platforms: 'Linux' is not an Apptics platform"),
        ({"resource": "crash_detail", "app_versions": ["1", "2"]}, "app_versions: resource 'crash_detail'"),
        ({"start_date": "2026-03-08"}, "end_date: 2026-03-07 is before start_date 2026-03-08"),
        ({"group": "date"}, "group: resource 'crash_os_versions' does not take group"),
        ({"time zone": "UTC"}, "'time zone': an API parameter name is made of letters"),
    ],
    ids=["not-per-crash", "crash-id", "zero", "too-many", "bool", "text", "float", "platform", "versions",
         "window", "group", "param-name"],
)  # fmt: skip
def test_fan_out_arguments_fail_before_any_request(apptics, kwargs, message):
    args = {"resource": "crash_os_versions", "start_date": "2026-03-07", "end_date": "2026-03-07", **kwargs}
    resource, start, end = args.pop("resource"), args.pop("start_date"), args.pop("end_date")
    with pytest.raises(ZohoConfigError, match=re.escape(message)):
        AppticsHook().iter_crash_records(resource, start, end, **args)  # raises on the call itself
    assert apptics.call_count == 0


def test_iter_records_keeps_its_rule_for_per_crash_resources(apptics):
    with pytest.raises(ZohoConfigError, match="crash_id: resource 'crash_os_versions' needs the crash's id"):
        AppticsHook().iter_records("crash_os_versions", "2026-03-07", "2026-03-07")
    assert apptics.call_count == 0
