from __future__ import annotations

import pytest

from airflow_provider_zoho.exceptions import ZohoAPIError, ZohoAuthError, ZohoError
from airflow_provider_zoho.hooks.apptics import AppticsHook

DAY = "2026-03-07"
QUERY = {"startdate": "07-03-2026", "enddate": "07-03-2026"}


def crash_list_calls(sandbox) -> int:
    return sandbox.stats()["requests_by_path"].get("/cx/api/v1/crash/list", 0)


@pytest.mark.parametrize(("rows", "requests"), [(0, 1), (499, 1), (500, 2), (501, 2), (1001, 3)])
def test_pagination_edges_give_exact_records_with_the_fewest_requests(sandbox, rows, requests):
    sandbox.set_rows("crashes", rows)
    records = list(AppticsHook().iter_records("crashes", DAY, DAY))
    assert len(records) == rows
    assert records == sandbox.expected("crashes", **QUERY)
    assert crash_list_calls(sandbox) == requests


def test_api_ignoring_offset_raises_within_a_few_requests(sandbox):
    sandbox.set_rows("crashes", 1200)
    sandbox.set_ignore_offset("crashes")
    with pytest.raises(ZohoAPIError, match="ignores offset"):
        list(AppticsHook().iter_records("crashes", DAY, DAY))
    assert crash_list_calls(sandbox) == 2


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "status", "status": 429, "retry_after": 1, "offset": 500},
        {"kind": "status", "status": 503, "times": 4},
        {"kind": "reset", "offset": 500},
        {"kind": "malformed", "offset": 1000},
        {"kind": "delay", "seconds": 0.5},
    ],
    ids=["429-retry-after", "503-burst", "connection-reset", "truncated-body", "slow"],
)
def test_transient_faults_end_with_complete_exact_records(sandbox, fast_retries, fault):
    sandbox.set_rows("crashes", 1100)
    sandbox.add_fault(path="/cx/api/v1/crash/list", **fault)
    records = list(AppticsHook().iter_records("crashes", DAY, DAY))
    assert records == sandbox.expected("crashes", **QUERY)
    stats = sandbox.stats()
    assert stats["faults_fired"] == fault.get("times", 1)
    assert stats["mints"] == 1


def test_429_waits_as_long_as_retry_after_says(sandbox, fast_retries):
    import time

    sandbox.add_fault(path="/cx/api/v1/crash/list", kind="status", status=429, retry_after=2)
    started = time.monotonic()
    list(AppticsHook().iter_records("crashes", DAY, DAY))
    assert time.monotonic() - started >= 2.0  # fast_retries shortens back-off, never Retry-After


def test_mid_extraction_401_costs_exactly_one_extra_mint(sandbox):
    sandbox.set_rows("crashes", 1100)
    sandbox.add_fault(path="/cx/api/v1/crash/list", kind="unauthorized", offset=500)
    records = list(AppticsHook().iter_records("crashes", DAY, DAY))
    assert records == sandbox.expected("crashes", **QUERY)
    assert sandbox.stats()["mints"] == 2


@pytest.mark.parametrize(
    ("fault", "error", "message"),
    [
        ({"kind": "status", "status": 403, "times": None}, ZohoAPIError, "portal_id and project_id"),
        ({"kind": "status", "status": 404, "times": None}, ZohoAPIError, "apptics_url"),
        ({"kind": "malformed", "times": None}, ZohoAPIError, "not valid JSON"),
        ({"kind": "status", "status": 500, "times": None}, ZohoAPIError, "HTTP 500"),
        ({"kind": "unauthorized", "times": None}, ZohoAuthError, "freshly issued access token"),
    ],
    ids=["403", "404", "malformed-forever", "500-forever", "401-forever"],
)
def test_permanent_faults_fail_fast_naming_the_cause(sandbox, fast_retries, fault, error, message):
    sandbox.add_fault(path="/cx/api/v1/crash/list", **fault)
    with pytest.raises(error, match=message):
        list(AppticsHook().iter_records("crashes", DAY, DAY))


def test_revoked_refresh_token_fails_fast(sandbox):
    import requests

    requests.post(f"{sandbox.url}/oauth/v2/token/revoke", params={"token": sandbox.refresh_token}, timeout=5)
    with pytest.raises(ZohoAuthError, match="revoked"):
        list(AppticsHook().iter_records("crashes", DAY, DAY))
    assert sandbox.stats()["token_requests"] == 1  # no retry of an auth error


def test_wrong_data_center_fails_fast_naming_it(sandbox, monkeypatch):
    import json

    from airflow_provider_zoho.sandbox import ZohoSandbox

    with ZohoSandbox(client_id="1000.OTHERDC", client_secret="other") as other_dc:
        connection = sandbox.connection()
        connection["extra"] = {**connection["extra"], "accounts_url": other_dc.url, "data_center": "eu"}
        monkeypatch.setenv("AIRFLOW_CONN_ZOHO_DEFAULT", json.dumps(connection))
        with pytest.raises(ZohoAuthError) as error:
            list(AppticsHook().iter_records("crashes", DAY, DAY))
        assert "data center 'eu'" in str(error.value)
        assert other_dc.url in str(error.value)
        assert other_dc.stats()["token_requests"] == 1


def test_list_projects_finds_the_configured_project(sandbox):
    projects = AppticsHook().list_projects()
    assert {(p["portal_id"], p["project_id"]) for p in projects} >= {(sandbox.portal_id, sandbox.project_id)}


def test_test_connection_against_the_sandbox(sandbox):
    ok, message = AppticsHook().test_connection()
    assert ok, message


# -- one HTTP core: the synchronous stream and the asynchronous count fail alike ---------------------------


def _sync_error(hook: AppticsHook) -> BaseException:
    with pytest.raises(ZohoError) as excinfo:
        list(hook.iter_records("crashes", DAY, DAY))
    return excinfo.value


def _async_error(hook: AppticsHook) -> BaseException:
    import asyncio

    with pytest.raises(ZohoError) as excinfo:
        asyncio.run(hook.acount_records("crashes", DAY, DAY, at_least=10**9))
    return excinfo.value


CRASH_LIST = "/cx/api/v1/crash/list"
FAULTS = {
    "500-forever": [{"kind": "status", "status": 500, "times": None}],
    "429-forever": [{"kind": "status", "status": 429, "retry_after": 0, "times": None}],
    "403": [{"kind": "status", "status": 403}],
    "404": [{"kind": "status", "status": 404, "body": {"error": {"code": "URL_NOT_FOUND"}}}],
    "401-twice": [{"kind": "unauthorized", "times": 2}],
    "truncated-forever": [{"kind": "malformed", "times": None}],
    "reset-forever": [{"kind": "reset", "times": None}],
    "error-body-at-200": [{"kind": "status", "status": 200, "body": {"status": "error", "data": []}}],
    "ignores-offset": [],
}


@pytest.mark.parametrize("fault", list(FAULTS), ids=list(FAULTS))
def test_sync_and_async_paths_raise_the_same_error_for_each_fault(sandbox, fast_retries, fault):
    errors = []
    for run in (_sync_error, _async_error):
        sandbox.reset()
        if fault == "ignores-offset":
            sandbox.set_rows("crashes", 1200)
            sandbox.set_ignore_offset("crashes")
        for rule in FAULTS[fault]:
            sandbox.add_fault(path=CRASH_LIST, **rule)
        errors.append(run(AppticsHook()))
    sync, asynchronous = errors
    assert type(sync) is type(asynchronous)
    assert str(sync) == str(asynchronous)
    assert (sync.status_code, sync.code, sync.url) == (
        asynchronous.status_code,
        asynchronous.code,
        asynchronous.url,
    )


def test_each_page_is_handed_over_only_once_the_next_request_is_sent(sandbox, monkeypatch):
    """Work on a page overlaps the wait for the next one: it never holds that request up (GIL)."""
    import queue

    import urllib3.connection

    from airflow_provider_zoho.hooks import apptics

    sandbox.set_rows("crashes", 2000)  # four full pages and an empty one
    sent: list[str] = []
    real_request = urllib3.connection.HTTPConnection.request

    def request(self, method, url, *args, **kwargs):
        real_request(self, method, url, *args, **kwargs)
        if "/crash/list" in url:
            sent.append(url)

    sent_at_hand_over: list[int] = []

    class Pages(queue.Queue):
        def put(self, item, *args, **kwargs):
            if isinstance(item, apptics.FetchedPage) or item is apptics._END:
                sent_at_hand_over.append(len(sent))
            super().put(item, *args, **kwargs)

    monkeypatch.setattr(urllib3.connection.HTTPConnection, "request", request)
    monkeypatch.setattr(apptics.queue, "Queue", Pages)
    records = list(AppticsHook().iter_records("crashes", DAY, DAY))
    assert records == sandbox.expected("crashes", **QUERY)
    # Page k goes to the consumer once request k+1 is out; the empty last page and the end once none is.
    assert sent_at_hand_over == [2, 3, 4, 5, 5, 5]
