"""
``ZohoDeskHook`` against the sandbox over loopback: every ticket of a window exactly once, whatever Desk does.

Each test compares with the sandbox's oracle (``expected_desk``), under every variant of what Zoho leaves
undocumented (the search cap 999, 4999 or ``from + limit <= 5000``; an inclusive or exclusive end of
``modifiedTimeRange``; lists counting ``from`` from 0 or 1), with windows holding more tickets than one
search reaches and many tickets sharing one ``modifiedTime``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import types

import pytest

from airflow_provider_zoho.exceptions import ZohoAPIError, ZohoConfigError, ZohoError, ZohoRateLimitError
from airflow_provider_zoho.hooks import desk as desk_module
from airflow_provider_zoho.hooks.apptics import AppticsHook
from airflow_provider_zoho.hooks.desk import ZohoDeskHook
from airflow_provider_zoho.hooks.desk_resources import format_ms
from tests.integration.conftest import forget_tokens

HOUR = ("2026-03-10T05:00:00Z", "2026-03-10T06:00:00Z")
DAY = ("2026-03-10T00:00:00Z", "2026-03-11T00:00:00Z")
SEARCH = "/api/v1/tickets/search"
VARIANTS = {
    "cap-999": {},
    "cap-4999": {"search_max_from": 4999},
    "from+limit<=5000": {"search_max_from": 4999, "search_max_window": 5000},
    "exclusive-end": {"range_end_inclusive": False},
    "cap-4999-exclusive-end": {"search_max_from": 4999, "range_end_inclusive": False},
}


def minimum_searches(records: int, limit: int = 100) -> int:
    """
    The searches of a window of ``records`` tickets, none sharing an instant: each query is anchored on
    the last ticket taken and returns it again, so pages after the first bring ``limit - 1`` new ones,
    until a page is not full.
    """
    return 1 if records < limit else 2 + (records - limit) // (limit - 1)


def searches(sandbox, path: str = SEARCH) -> int:
    return sandbox.stats()["requests_by_path"].get(path, 0)


def ids(records) -> list[str]:
    return [record["id"] for record in records]


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_a_window_above_the_cap_with_a_crowded_instant_is_extracted_exactly_once(sandbox, variant):
    sandbox.configure_desk(**VARIANTS[variant])
    sandbox.add_desk_rows("tickets", 2500, *HOUR)  # 2.5 times what one search reaches
    sandbox.add_desk_rows("tickets", 640, "2026-03-10T05:30:00Z")  # 640 tickets share one modifiedTime
    sandbox.add_desk_rows("tickets", 3, "2026-03-10T04:59:59.999Z")  # 1 ms before the window: out
    sandbox.add_desk_rows("tickets", 3, HOUR[0])  # on the first instant: in
    sandbox.add_desk_rows("tickets", 3, "2026-03-10T05:59:59.999Z")  # on the last instant: in
    sandbox.add_desk_rows("tickets", 3, HOUR[1])  # on the end: out (half-open)
    expected = sandbox.expected_desk("tickets", *HOUR)
    assert len(expected) > 3000
    hook = ZohoDeskHook()
    records = list(hook.iter_records("tickets", *HOUR))
    assert records == expected
    assert len(set(ids(records))) == len(records)
    assert {r["modified_time"] for r in records} >= {"2026-03-10T05:00:00.000Z", "2026-03-10T05:59:59.999Z"}
    assert hook.api_calls == searches(sandbox)
    # No query deeper than one page but inside the crowded instant: about one call per 100 tickets.
    assert searches(sandbox) <= minimum_searches(len(expected)) + 640 // 100 + 2


@pytest.mark.parametrize("variant", ["cap-999", "cap-4999", "from+limit<=5000", "exclusive-end"])
@pytest.mark.parametrize("added", [1_000, 2_500, 4_321])
def test_the_minimum_calls_for_a_window_above_the_cap(sandbox, variant, added):
    sandbox.configure_desk(**VARIANTS[variant])
    sandbox.add_desk_rows("tickets", added, *HOUR)
    expected = sandbox.expected_desk("tickets", *HOUR)
    assert list(ZohoDeskHook().iter_records("tickets", *HOUR)) == expected
    assert searches(sandbox) == minimum_searches(len(expected))
    # About 1% more than offset paging's full pages and a short one, which stops at the cap.
    assert len(expected) // 100 + 1 <= searches(sandbox) <= len(expected) // 100 + 2


@pytest.mark.parametrize(
    ("crowd", "variant", "max_results"), [(999, "cap-999", 1000), (4000, "cap-4999", 5000)]
)
def test_many_tickets_sharing_one_modified_time_up_to_the_cap(sandbox, crowd, variant, max_results):
    sandbox.set_max_requests(2000)
    sandbox.configure_desk(**VARIANTS[variant])
    sandbox.add_desk_rows("tickets", crowd, "2026-03-10T05:20:00.123Z")
    hook = ZohoDeskHook()
    hook.search_max_results = max_results
    assert list(hook.iter_records("tickets", *HOUR)) == sandbox.expected_desk("tickets", *HOUR)


def test_more_tickets_at_one_instant_than_a_search_reaches_fail_saying_so(sandbox):
    sandbox.add_desk_rows("tickets", 1001, "2026-03-10T05:20:00.123Z")
    with pytest.raises(
        ZohoAPIError, match=r"more tickets at the modifiedTime 2026-03-10T05:20:00.123Z.*1000 results"
    ):
        list(ZohoDeskHook().iter_records("tickets", *HOUR))
    assert sandbox.stats()["responses_by_status"].get("422", 0) == 0  # never asked beyond Desk's cap


@pytest.mark.parametrize("resource", ["tickets", "contacts"])
def test_a_day_of_each_incremental_resource(sandbox, resource):
    expected = sandbox.expected_desk(resource, *DAY)
    assert expected
    assert list(ZohoDeskHook().iter_records(resource, *DAY)) == expected


@pytest.mark.parametrize("base", [0, 1])
@pytest.mark.parametrize("resource", ["departments", "agents"])
def test_snapshots_give_every_row_once_whatever_from_counts_from(sandbox, resource, base):
    sandbox.configure_desk(list_from_base=base)
    hook = ZohoDeskHook()
    hook.page_limit = 5  # several pages
    records = list(hook.iter_records(resource))
    assert records == sandbox.expected_desk(resource)
    assert len(records) == len(set(ids(records)))


def test_tickets_edited_during_the_extraction_never_make_it_skip_one(sandbox):
    # 600 tickets early in the window, then, after the first page, they are all edited out of the window
    # (the sandbox drops them): an offset pager would now skip the 600 rows after its offset.
    sandbox.add_desk_rows("tickets", 600, "2026-03-10T00:00:00Z", "2026-03-10T01:00:00Z")
    stream = ZohoDeskHook().iter_records("tickets", *DAY)
    taken = [next(stream) for _ in range(100)]
    sandbox.clear_desk_rows()
    taken += list(stream)
    after = sandbox.expected_desk("tickets", *DAY)
    assert len(after) > 50
    taken_ids = ids(taken)
    assert len(taken_ids) == len(set(taken_ids))  # nothing twice
    assert set(ids(after)) <= set(taken_ids)  # nothing skipped
    assert [r for r in taken if r["id"] in set(ids(after))] == after


def test_the_search_lag_attribute_waits_for_the_index(sandbox, monkeypatch):
    # One virtual clock for the sandbox's search index and the hook's wait: no real sleeping, no timing.
    clock = types.SimpleNamespace(now=time.time())
    clock.time = lambda: clock.now
    clock.sleep = lambda seconds: setattr(clock, "now", clock.now + seconds)
    clock.monotonic = time.monotonic
    monkeypatch.setattr(sandbox._desk, "clock", clock.time)
    monkeypatch.setattr(desk_module, "time", clock)
    now_ms = int(clock.now * 1000)
    window = (format_ms(now_ms - 3_600_000), format_ms(now_ms))
    sandbox.add_desk_rows("tickets", 5, format_ms(now_ms - 600), format_ms(now_ms - 100))
    sandbox.configure_desk(search_lag_seconds=30)  # edits show in search 30 s late
    expected = sandbox.expected_desk("tickets", *window)
    assert len(expected) == 5
    assert list(ZohoDeskHook().iter_records("tickets", *window)) == []  # default 0: searched too early
    hook = ZohoDeskHook()
    hook.search_lag_seconds = 30.0
    assert list(hook.iter_records("tickets", *window)) == expected
    assert clock.now * 1000 >= now_ms + 30_000  # it waited until the window's end was 30 s old


def test_organizations_and_the_connection_check(sandbox):
    hook = ZohoDeskHook()
    organizations = hook.list_organizations()
    assert sandbox.desk_org_id in ids(organizations)
    ok, message = hook.test_connection()
    assert ok, message
    assert f"Zoho Desk organization {sandbox.desk_org_id} (Acme) is readable." in message
    assert sandbox.stats()["requests_by_path"]["/api/v1/organizations"] == 2
    assert sandbox.stats()["requests_by_path"]["/api/v1/departments"] == 1


def test_an_organization_of_another_account_is_explained(sandbox, monkeypatch):
    connection = sandbox.connection()
    connection["extra"]["desk_org_id"] = "60012349999"
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_DEFAULT", json.dumps(connection))
    with pytest.raises(ZohoAPIError, match="not valid for the connection's desk_org_id") as error:
        list(ZohoDeskHook().iter_records("tickets", *HOUR))
    assert (error.value.status_code, error.value.code) == (403, "OAUTH_ORG_MISMATCH")
    # Desk lists both organizations of the user, but the token is bound to the other one.
    assert "60012349999" in ids(ZohoDeskHook().list_organizations())
    ok, message = ZohoDeskHook().test_connection()
    assert not ok
    assert "Zoho Desk organization 60012349999 is listed, but reading it failed" in message
    assert "OAUTH_ORG_MISMATCH" in message


def test_a_connection_without_org_id_fails_before_any_request(sandbox, monkeypatch):
    connection = sandbox.connection()
    del connection["extra"]["desk_org_id"]
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_DEFAULT", json.dumps(connection))
    with pytest.raises(ZohoConfigError, match="desk_org_id"):
        ZohoDeskHook().iter_records("tickets", *HOUR)
    assert sandbox.stats()["token_requests"] == 0
    assert sandbox.stats()["desk_requests"] == 0


def test_one_token_serves_apptics_and_desk(sandbox):
    list(AppticsHook().iter_records("crashes", "2026-03-07", "2026-03-07"))
    list(ZohoDeskHook().iter_records("tickets", *HOUR))
    list(ZohoDeskHook().iter_records("agents"))
    stats = sandbox.stats()
    assert stats["mints"] == 1
    assert stats["api_requests"] >= 1
    assert stats["desk_requests"] >= 2


# -- Desk's errors by errorCode ------------------------------------------------------------------------------


def test_threshold_exceeded_fails_at_once_explaining_the_credits(sandbox, fast_retries):
    sandbox.add_desk_rows("tickets", 250, *HOUR)
    sandbox.add_fault(kind="threshold_exceeded", path=SEARCH, after=1, times=None, retry_after=3600)
    stream = ZohoDeskHook().iter_records("tickets", *HOUR)
    with pytest.raises(ZohoRateLimitError) as error:
        list(stream)
    assert "daily API credits are spent" in str(error.value)
    assert "shared with every other integration of the portal" in str(error.value)
    assert (error.value.status_code, error.value.code) == (429, "THRESHOLD_EXCEEDED")
    assert searches(sandbox) == 2  # the first page, then one refused call: no retry


def test_too_many_requests_is_retried_and_the_records_are_exact(sandbox, fast_retries):
    sandbox.add_desk_rows("tickets", 250, *HOUR)
    sandbox.add_fault(kind="too_many_requests", path=SEARCH, after=1, times=3)
    assert list(ZohoDeskHook().iter_records("tickets", *HOUR)) == sandbox.expected_desk("tickets", *HOUR)
    assert sandbox.stats()["faults_fired"] == 3


def test_invalid_oauth_mid_extraction_costs_one_mint(sandbox):
    sandbox.add_desk_rows("tickets", 250, *HOUR)
    sandbox.add_fault(kind="unauthorized", path=SEARCH, after=1)
    assert list(ZohoDeskHook().iter_records("tickets", *HOUR)) == sandbox.expected_desk("tickets", *HOUR)
    assert sandbox.stats()["mints"] == 2


@pytest.mark.parametrize(
    ("fault", "error", "requests"),
    [
        ({"kind": "threshold_exceeded", "times": None}, ZohoRateLimitError, 1),
        ({"kind": "too_many_requests", "times": None}, ZohoRateLimitError, ZohoDeskHook.max_attempts),
        ({"kind": "too_many_requests", "times": 2}, None, 3),
        ({"kind": "status", "status": 422, "times": None}, ZohoAPIError, 1),
        ({"kind": "status", "status": 503, "times": 2}, None, 3),
    ],
    ids=["threshold-exceeded", "too-many-requests-forever", "too-many-requests-twice", "422", "503-twice"],
)
def test_the_sync_and_async_paths_share_one_retry_policy(sandbox, fast_retries, fault, error, requests):
    url = f"{sandbox.url}/api/v1/agents"
    headers = {"orgId": sandbox.desk_org_id}

    def sync() -> object:
        return ZohoDeskHook().request_json("GET", url, headers=headers)

    def asynchronous() -> object:
        async def run() -> object:
            hook = ZohoDeskHook()
            async with hook.async_client() as client:
                return await hook.arequest_json(client, "GET", url, headers=headers)

        return asyncio.run(run())

    outcomes = []
    for call in (sync, asynchronous):
        sandbox.reset()
        forget_tokens()
        sandbox.add_fault(path="/api/v1/agents", **fault)
        try:
            outcome: object = call()
        except ZohoError as raised:
            outcome = raised
        assert sandbox.stats()["requests_by_path"]["/api/v1/agents"] == requests, call.__name__
        outcomes.append(outcome)
    sync_outcome, async_outcome = outcomes
    if error is None:
        assert sync_outcome == async_outcome == {"data": sandbox.desk_model.agents()[:10]}
    else:
        assert type(sync_outcome) is type(async_outcome) is error
        assert str(sync_outcome) == str(async_outcome)


def test_naive_windows_are_refused_before_any_request(sandbox):
    with pytest.raises(ZohoConfigError, match="no zone"):
        ZohoDeskHook().iter_records("tickets", dt.datetime(2026, 3, 10, 5), dt.datetime(2026, 3, 10, 6))
    assert sandbox.stats()["desk_requests"] == 0
