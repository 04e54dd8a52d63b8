"""
Unit tests for ``ZohoDeskHook`` and its paging.

The paging cursors are pure: they are driven here by an in-memory Desk search (:class:`FakeSearch`) that
can read each bound of ``modifiedTimeRange`` inclusively or not, cap ``from``, and edit rows between pages,
and property tests show every row of a window taken exactly once. The hook's HTTP side runs against
requests-mock.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_zoho.exceptions import ZohoAPIError, ZohoAuthError, ZohoConfigError, ZohoRateLimitError
from airflow_provider_zoho.hooks import desk as desk_module
from airflow_provider_zoho.hooks.desk import SCOPES, SearchCursor, SnapshotCursor, ZohoDeskHook
from airflow_provider_zoho.hooks.desk_resources import format_ms, instant_ms
from airflow_provider_zoho.hooks.zoho import ZohoOAuthHook
from tests.unit.conftest import APPTICS, CLIENT_SECRET, TOKEN_URL, connection_json
from tests.unit.hooks.test_token_cache import JSON

DESK = "https://desk.example.test"
ORG = "60012345678"
SEARCH = f"{DESK}/api/v1/tickets/search"
WINDOW = ("2026-03-10T05:00:00Z", "2026-03-10T06:00:00Z")
T0 = instant_ms("2026-03-10T05:00:00Z")


# -- an in-memory Desk search ----------------------------------------------------------------------------


class BeyondTheCap(AssertionError):
    """The client asked for a ``from`` Desk would refuse."""


class FakeSearch:
    """
    Desk's search over ``rows`` (id -> modified ms), sorted by ``(modifiedTime, id)``.

    :param start_inclusive: whether the start of ``modifiedTimeRange`` is inclusive.
    :param end_inclusive: whether its end is inclusive.
    :param max_from: the largest ``from`` accepted.
    :param max_window: when set, ``from + limit`` must not exceed it.
    """

    def __init__(
        self,
        rows: dict[int, int],
        *,
        start_inclusive: bool = True,
        end_inclusive: bool = True,
        max_from: int = 10**9,
        max_window: int | None = None,
    ) -> None:
        self.rows = dict(rows)
        self.start_inclusive = start_inclusive
        self.end_inclusive = end_inclusive
        self.max_from = max_from
        self.max_window = max_window
        self.calls = 0
        self.offsets: list[int] = []

    def search(self, params: dict[str, str]) -> list[dict[str, Any]]:
        self.calls += 1
        assert self.calls < 5000, "paging does not end"
        assert params["sortBy"] == "modifiedTime"
        low, high = (instant_ms(bound) for bound in params["modifiedTimeRange"].split(","))
        low += 0 if self.start_inclusive else 1
        high -= 0 if self.end_inclusive else 1
        start, limit = int(params["from"]), int(params["limit"])
        self.offsets.append(start)
        if start > self.max_from or (self.max_window is not None and start + limit > self.max_window):
            raise BeyondTheCap(f"from={start} limit={limit}")
        hits = sorted((at, identity) for identity, at in self.rows.items() if low <= at <= high)
        return [
            {"id": str(identity), "modifiedTime": format_ms(at)}
            for at, identity in hits[start : start + limit]
        ]


def extract(
    fake: FakeSearch, start: int, end: int, limit: int, max_results: int, between_pages: Any = None
) -> list[tuple[int, int]]:
    """``(id, modified ms)`` of every row a :class:`SearchCursor` takes from ``fake``."""
    cursor = SearchCursor("tickets", start, end, limit, max_results)
    taken: list[tuple[int, int]] = []
    more, page = True, 0
    while more:
        kept, more = cursor.advance(fake.search(cursor.params))
        taken.extend((int(row["id"]), instant_ms(row["modifiedTime"])) for row in kept)
        if between_pages is not None:
            between_pages(page, fake)
        page += 1
    return taken


def in_window(rows: dict[int, int], start: int, end: int) -> list[tuple[int, int]]:
    return [(identity, at) for at, identity in sorted((at, i) for i, at in rows.items() if start <= at < end)]


def reach(limit: int, max_results: int) -> int:
    """How many rows sharing the start of a query a cursor can page through."""
    return max_results // limit * limit


# -- SearchCursor ----------------------------------------------------------------------------------------


def test_the_first_query_covers_both_readings_of_each_bound():
    cursor = SearchCursor("tickets", T0, T0 + 3_600_000, 100, 1000)
    assert cursor.params == {
        "modifiedTimeRange": "2026-03-10T04:59:59.999Z,2026-03-10T06:00:00.000Z",
        "sortBy": "modifiedTime",
        "from": "0",
        "limit": "100",
    }


def test_each_query_starts_at_the_last_instant_taken_and_skips_its_ids():
    rows = {identity: 10 * identity for identity in range(12)}  # one row per instant
    fake = FakeSearch(rows)
    assert extract(fake, 0, 1000, 5, 1000) == in_window(rows, 0, 1000)
    # Keyset: every query starts 1 ms before the last row taken (re-read, skipped by id), from=0.
    assert fake.offsets == [0, 0, 0]
    assert fake.calls == 3  # 5 rows, then 4 new + 1 re-read, then 3 new: a short page ends it


@pytest.mark.parametrize(
    ("rows_at_one_instant", "offsets"),
    [
        (4, [0, 0]),  # 4 rows at 50 and the one at 60, then the one at 60 again: a short page
        (5, [0, 0, 5]),  # a full page at 50 brings the anchor no further: page inside the instant
        (14, [0, 0, 5, 10, 0]),
        (19, [0, 0, 5, 10, 15, 0]),  # the deepest page a search with 20 results allows (from 15)
    ],
)
def test_rows_sharing_one_instant_are_paged_with_from_inside_it(rows_at_one_instant, offsets):
    rows = {identity: 50 for identity in range(rows_at_one_instant)} | {100: 60}
    fake = FakeSearch(rows, max_from=15)
    assert extract(fake, 0, 100, 5, 20) == in_window(rows, 0, 100)
    assert fake.offsets == offsets


@pytest.mark.parametrize("rows_at_one_instant", [20, 21, 500])
def test_more_rows_at_one_instant_than_a_search_reaches_is_an_error_that_says_so(rows_at_one_instant):
    # 20 rows fill every result a search reaches: whether a 21st shares their instant cannot be known.
    rows = {identity: 50 for identity in range(rows_at_one_instant)} | {1000: 60}
    with pytest.raises(
        ZohoAPIError, match=r"more tickets at the modifiedTime 1970-01-01T00:00:00.050Z .*20 results"
    ):
        extract(FakeSearch(rows, max_from=15), 0, 100, 5, 20)


def test_a_row_past_the_window_ends_it_without_another_query():
    rows = {identity: identity for identity in range(10)}
    fake = FakeSearch(rows)
    assert extract(fake, 0, 3, 5, 1000) == in_window(rows, 0, 3)
    assert fake.calls == 1


def test_rows_out_of_order_stop_the_extraction():
    cursor = SearchCursor("tickets", 0, 100, 5, 1000)
    rows = [{"id": "1", "modifiedTime": format_ms(20)}, {"id": "2", "modifiedTime": format_ms(10)}]
    with pytest.raises(ZohoAPIError) as error:
        cursor.advance(rows)
    assert str(error.value) == (
        "Zoho Desk answered 'tickets' rows out of modifiedTime order (1970-01-01T00:00:00.010Z after "
        "1970-01-01T00:00:00.020Z) although sortBy=modifiedTime: paging by time would skip rows, so the "
        "extraction stops."
    )


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            {"id": "1"},
            "a search row has no usable modifiedTime (None), so the window cannot be paged by time: "
            "{'id': '1'}",
        ),
        (
            {"id": "1", "modifiedTime": "yesterday"},
            "a search row has no usable modifiedTime ('yesterday'), so the window cannot be paged by time: "
            "{'id': '1', 'modifiedTime': 'yesterday'}",
        ),
        (
            {"modifiedTime": format_ms(1)},
            "a row has no usable id: {'modifiedTime': '1970-01-01T00:00:00.001Z'}",
        ),
        (["1"], "expected each row to be a JSON object, got ['1']"),
    ],
    ids=["no-time", "bad-time", "no-id", "not-an-object"],
)
def test_rows_that_cannot_be_paged_by_time_are_errors_that_show_the_row(row, message):
    with pytest.raises(ZohoAPIError) as error:
        SearchCursor("tickets", 0, 100, 5, 1000).advance([row])
    assert str(error.value) == f"Zoho Desk resource 'tickets': {message}"


SERVER_VARIANTS = st.sampled_from(
    [
        {"start_inclusive": True, "end_inclusive": True},
        {"start_inclusive": True, "end_inclusive": False},
        {"start_inclusive": False, "end_inclusive": True},
        {"start_inclusive": False, "end_inclusive": False},
    ]
)


@settings(max_examples=300)
@given(
    times=st.lists(st.integers(min_value=0, max_value=40), max_size=90),
    bounds=st.tuples(st.integers(-2, 45), st.integers(-2, 45)).filter(lambda b: b[0] < b[1]),
    limit=st.integers(min_value=1, max_value=8),
    pages=st.integers(min_value=1, max_value=4),
    window_rule=st.booleans(),
    variant=SERVER_VARIANTS,
)
def test_every_row_of_the_window_exactly_once_whatever_desk_reads(
    times, bounds, limit, pages, window_rule, variant
):
    rows = dict(enumerate(times))
    max_results = pages * limit
    # Desk's cap: "from <= max_from" (999, 4999) or "from + limit <= max_window" (5000); the hook's
    # search_max_results keeps every query within either.
    cap = {"max_window": max_results} if window_rule else {"max_from": max_results - 1}
    fake = FakeSearch(rows, **variant, **cap)
    start, end = bounds
    counts = Counter(times)
    crowded = max((counts[at - 1] + counts[at] for at in range(start, end)), default=0) >= reach(
        limit, max_results
    )
    outcome: list[tuple[int, int]] | ZohoAPIError
    try:
        outcome = extract(fake, start, end, limit, max_results)
    except ZohoAPIError as error:
        outcome = error
    if isinstance(outcome, ZohoAPIError):
        assert crowded, f"no instant holds more rows than a search reaches, yet: {outcome}"
        assert "cannot all be extracted" in str(outcome)
    else:
        assert outcome == in_window(rows, start, end)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), limit=st.integers(min_value=3, max_value=8), variant=SERVER_VARIANTS)
def test_rows_edited_while_the_window_is_read_never_make_it_skip_a_row(data, limit, variant):
    # Fewer than half a page per instant: no query needs from > 0, where an edit could shift a page.
    per_instant = (limit - 1) // 2
    times = data.draw(
        st.lists(st.integers(0, 99), max_size=60).filter(
            lambda ts: max(Counter(ts).values(), default=0) <= per_instant
        ),
        "times",
    )
    rows = dict(enumerate(times))
    start = data.draw(st.integers(-1, 60), "start")
    end = data.draw(st.integers(start + 1, 130), "end")  # past 100: the edits land in the window
    batch = st.lists(st.sampled_from(sorted(rows)), max_size=3) if rows else st.just([])
    edits = data.draw(st.lists(batch, max_size=30), "edits")
    now = [100]
    states: dict[int, set[int]] = {identity: {at} for identity, at in rows.items()}
    edited: set[int] = set()

    def edit(page: int, fake: FakeSearch) -> None:
        for identity in edits[page] if page < len(edits) else ():
            fake.rows[identity] = now[0]  # an edit stamps the row with "now", later than every row
            states[identity].add(now[0])
            edited.add(identity)
            now[0] += 1

    taken = extract(FakeSearch(rows, **variant), start, end, limit, 1000, between_pages=edit)
    assert len(taken) == len(set(taken)), "a row state was taken twice"
    assert all(start <= at < end and at in states[identity] for identity, at in taken)
    untouched = [(identity, at) for identity, at in in_window(rows, start, end) if identity not in edited]
    assert set(untouched) <= set(taken), "a row nobody edited was skipped"
    assert Counter(identity for identity, _ in taken if identity not in edited) == Counter(
        i for i, _ in untouched
    )


# -- SnapshotCursor ------------------------------------------------------------------------------------------


def snapshot(
    rows: list[str], base: int, client_base: int, limit: int, ignores_from: bool = False
) -> tuple[list[str], int]:
    cursor = SnapshotCursor("agents", limit, client_base)
    taken, more, calls = [], True, 0
    while more:
        calls += 1
        assert calls < 100
        start = 0 if ignores_from else max(int(cursor.params["from"]) - base, 0)
        page = [{"id": identity} for identity in rows[start : start + int(cursor.params["limit"])]]
        kept, more = cursor.advance(page)
        taken.extend(row["id"] for row in kept)
    return taken, calls


@pytest.mark.parametrize("size", [0, 1, 4, 5, 12, 13])
@pytest.mark.parametrize("desk_base", [0, 1])
def test_a_snapshot_from_zero_takes_every_row_once_whatever_desk_counts_from(size, desk_base):
    rows = [str(1000 + n) for n in range(size)]
    assert snapshot(rows, desk_base, client_base=0, limit=4)[0] == rows


def test_a_list_that_ignores_from_is_an_error_not_a_loop():
    rows = [str(n) for n in range(10)]
    with pytest.raises(ZohoAPIError) as error:
        snapshot(rows, 0, 0, 4, ignores_from=True)
    assert str(error.value) == (
        "Zoho Desk answered from=4 of 'agents' with rows it had already sent: the API ignores from, so "
        "paging would never end."
    )


def test_a_snapshot_starts_from_zero_unless_told_otherwise():
    assert SnapshotCursor("agents", 5).params == {"from": "0", "limit": "5"}


def test_a_snapshot_row_that_is_not_an_object_is_shown_in_the_error():
    with pytest.raises(ZohoAPIError) as error:
        SnapshotCursor("agents", 5).advance([{"id": "1"}, ["not", "a", "row"]])
    assert str(error.value) == (
        "Zoho Desk resource 'agents': expected each row to be a JSON object, got ['not', 'a', 'row']"
    )


# -- the hook over HTTP (requests-mock) -------------------------------------------------------------------


def token_answer(token: str = "1000.tok") -> dict:
    # api_domain is www.zohoapis.com: Desk must never be called there.
    return {"json": {"access_token": token, "api_domain": "https://www.zohoapis.com", "expires_in": 3600}}


def ticket(identity: int, at: int) -> dict[str, Any]:
    return {"id": str(identity), "modifiedTime": format_ms(at), "threadCount": "2", "cf": {"cf_plan": "Pro"}}


@pytest.fixture
def desk(monkeypatch, requests_mock):
    """``zoho_default`` set up for Desk at ``DESK``, a token endpoint, and fast retries."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_ZOHO_DEFAULT", connection_json(extra={"desk_url": DESK, "desk_org_id": ORG})
    )
    monkeypatch.setattr(desk_module.ZohoDeskHook, "retry_base_seconds", 0.0)
    requests_mock.post(TOKEN_URL, **token_answer())
    return requests_mock


def desk_calls(requests_mock) -> list:
    return [request for request in requests_mock.request_history if request.url.startswith(DESK)]


def query(request) -> dict[str, list[str]]:
    """The query string of ``request`` as sent (requests-mock's ``qs`` lowercases names and values)."""
    return parse_qs(urlsplit(request.url).query)


def test_every_call_sends_org_id_to_the_desk_host(desk):
    desk.get(SEARCH, json={"data": [ticket(1, T0), ticket(2, T0 + 5)], "count": 2})
    hook = ZohoDeskHook()
    records = list(hook.iter_records("tickets", *WINDOW))
    assert [record["id"] for record in records] == ["1", "2"]
    assert records[0]["thread_count"] == 2
    assert records[0]["cf"] == {"cf_plan": "Pro"}
    (call,) = desk_calls(desk)
    assert call.headers["orgId"] == ORG
    assert call.headers["Authorization"] == "Zoho-oauthtoken 1000.tok"
    assert query(call) == {
        "modifiedTimeRange": ["2026-03-10T04:59:59.999Z,2026-03-10T06:00:00.000Z"],
        "sortBy": ["modifiedTime"],
        "from": ["0"],
        "limit": ["100"],
    }
    assert not [r for r in desk.request_history if "zohoapis" in r.url]
    assert hook.api_calls == 1


def test_the_hook_reads_the_connection_it_is_given(desk, monkeypatch):
    other = "https://desk.other.test"
    extra = {"desk_url": other, "desk_org_id": "70099"}
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_OTHER", connection_json(extra=extra))
    desk.get(f"{other}/api/v1/agents", status_code=204)
    hook = ZohoDeskHook(zoho_conn_id="zoho_other")
    assert list(hook.iter_records("agents")) == []
    assert (hook.zoho_conn_id, hook.settings.desk_org_id) == ("zoho_other", "70099")
    (call,) = [request for request in desk.request_history if request.url.startswith(other)]
    assert call.headers["orgId"] == "70099"
    assert desk_calls(desk) == []  # zoho_default's Desk is never called


def test_the_hook_passes_airflows_arguments_on(desk):
    assert ZohoDeskHook(logger_name="zoho_desk").log.name == "airflow.task.hooks.zoho_desk"


def test_the_desk_host_follows_the_data_center_never_the_token(monkeypatch, requests_mock):
    extra = {"data_center": "ca", "accounts_url": None, "desk_org_id": ORG}
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_DEFAULT", connection_json(extra=extra))
    requests_mock.post("https://accounts.zohocloud.ca/oauth/v2/token", **token_answer())
    requests_mock.get("https://desk.zohocloud.ca/api/v1/agents", status_code=204)
    assert list(ZohoDeskHook().iter_records("agents")) == []
    assert requests_mock.call_count == 2


def test_snapshots_page_from_zero_until_a_short_page(desk):
    agents = [{"id": str(n), "firstName": f"A{n}"} for n in range(5)]
    desk.get(f"{DESK}/api/v1/agents", [{"json": {"data": agents[:3]}}, {"json": {"data": agents[3:]}}])
    hook = ZohoDeskHook()
    hook.page_limit = 3
    records = list(hook.iter_records("agents", "ignored", None))  # the window does not apply
    assert [record["id"] for record in records] == ["0", "1", "2", "3", "4"]
    assert [call.qs["from"] for call in desk_calls(desk)] == [["0"], ["3"]]
    assert all(call.headers["orgId"] == ORG for call in desk_calls(desk))


def test_204_is_the_end_of_data(desk):
    desk.get(SEARCH, status_code=204)
    assert list(ZohoDeskHook().iter_records("tickets", *WINDOW)) == []
    assert len(desk_calls(desk)) == 1


def test_list_organizations_without_a_data_list_is_an_error(monkeypatch, requests_mock):
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_DEFAULT", connection_json(extra={"desk_url": DESK}))
    requests_mock.post(TOKEN_URL, **token_answer())
    requests_mock.get(f"{DESK}/api/v1/organizations", json={"organizations": []})
    with pytest.raises(ZohoAPIError, match="^Zoho Desk answered 'organizations' without a data list"):
        ZohoDeskHook().list_organizations()


def test_list_organizations_needs_no_org_id(monkeypatch, requests_mock):
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_DEFAULT", connection_json(extra={"desk_url": DESK}))
    requests_mock.post(TOKEN_URL, **token_answer())
    requests_mock.get(
        f"{DESK}/api/v1/organizations", json={"data": [{"id": 60012345678, "companyName": "Acme"}]}
    )
    (org,) = ZohoDeskHook().list_organizations()
    assert (org["id"], org["company_name"]) == (ORG, "Acme")
    assert "orgId" not in requests_mock.last_request.headers


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"desk_url": DESK}, "need the extra field desk_org_id"),
        ({"desk_url": DESK, "desk_org_id": "acme"}, "desk_org_id must be a number made of the digits 0-9"),
        ({"desk_url": DESK, "desk_org_id": "6001 2345"}, "desk_org_id must be a number"),
        ({"desk_url": "desk.zoho.com", "desk_org_id": ORG}, "desk_url must be an http(s) URL"),
    ],
    ids=["missing", "letters", "space", "url"],
)
def test_a_bad_desk_connection_is_a_config_error_before_any_request(
    monkeypatch, requests_mock, extra, message
):
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_DEFAULT", connection_json(extra=extra))
    with pytest.raises(ZohoConfigError) as error:
        ZohoDeskHook().iter_records("tickets", *WINDOW)  # raised on the call, before the stream starts
    assert message in str(error.value)
    assert requests_mock.call_count == 0  # no mint, no Desk call


def test_a_connection_without_desk_fields_still_serves_apptics(zoho_conn, requests_mock):
    settings_ = ZohoOAuthHook().settings
    assert settings_.desk_org_id is None
    assert ZohoDeskHook().check_access() is None  # test_connection skips Desk


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("tickets", "2026-03-10T05:00:00", WINDOW[1]), "modified_from must be an aware datetime.*no zone"),
        (("tickets", WINDOW[0], "2026-03-10 06:00"), "modified_to must be an aware datetime.*no zone"),
        (("tickets", WINDOW[1], WINDOW[0]), r"modified_to \(.*\) must be after modified_from"),
        (("tickets", WINDOW[0], WINDOW[0]), "must be after modified_from"),
        (("contacts", WINDOW[0], None), "give modified_from and modified_to"),
        (("Tickets", *WINDOW), "resource must be one of"),
    ],
    ids=["naive-from", "naive-to", "reversed", "empty", "missing", "resource"],
)
def test_bad_arguments_are_config_errors_before_any_request(desk, arguments, message):
    with pytest.raises(ZohoConfigError, match=message):
        ZohoDeskHook().iter_records(*arguments)
    assert desk.call_count == 0


def test_extra_query_parameters_pass_through_but_not_the_hooks_own(desk):
    desk.get(SEARCH, status_code=204)
    list(ZohoDeskHook().iter_records("tickets", *WINDOW, departmentId="1892000000006907", include=True))
    assert desk.last_request.qs["departmentid"] == ["1892000000006907"]
    assert desk.last_request.qs["include"] == ["true"]
    for name in ("limit", "sortBy", "modifiedTimeRange", "orgId"):
        with pytest.raises(ZohoConfigError, match=f"{name} cannot be passed"):
            ZohoDeskHook().iter_records("tickets", *WINDOW, **{name: "1"})
    with pytest.raises(ZohoConfigError, match="departmentId must be text"):
        ZohoDeskHook().iter_records("tickets", *WINDOW, departmentId=["1", "2"])


def test_threshold_exceeded_is_not_retried_and_says_why(desk):
    body = {"errorCode": "THRESHOLD_EXCEEDED", "message": "The API credits for the day have been used up."}
    desk.get(SEARCH, status_code=429, json=body, headers={"Retry-After": "3600"})
    with pytest.raises(ZohoRateLimitError) as error:
        list(ZohoDeskHook().iter_records("tickets", *WINDOW))
    text = str(error.value)
    assert "daily API credits are spent" in text
    assert "reset daily" in text
    assert "shared with every other integration of the portal" in text
    assert (error.value.status_code, error.value.code, error.value.retry_after) == (
        429,
        "THRESHOLD_EXCEEDED",
        3600,
    )
    assert len(desk_calls(desk)) == 1  # not retried: nothing heals before the reset


def test_too_many_requests_is_retried_with_back_off(desk):
    busy = {"status_code": 429, "json": {"errorCode": "TOO_MANY_REQUESTS", "message": "concurrency"}}
    desk.get(SEARCH, [busy, busy, {"json": {"data": [ticket(1, T0)]}}])
    assert [record["id"] for record in ZohoDeskHook().iter_records("tickets", *WINDOW)] == ["1"]
    assert len(desk_calls(desk)) == 3


def test_too_many_requests_that_outlasts_the_retries_says_what_to_do(desk):
    desk.get(SEARCH, status_code=429, json={"errorCode": "TOO_MANY_REQUESTS", "message": "concurrency"})
    with pytest.raises(ZohoRateLimitError, match="too many simultaneous calls.*an Airflow pool"):
        list(ZohoDeskHook().iter_records("tickets", *WINDOW))
    assert len(desk_calls(desk)) == ZohoDeskHook.max_attempts


def test_invalid_oauth_refreshes_the_token_once(desk):
    desk.post(TOKEN_URL, [token_answer("1000.first"), token_answer("1000.second")])
    invalid = {"status_code": 401, "json": {"errorCode": "INVALID_OAUTH", "message": "invalid"}}
    desk.get(SEARCH, [invalid, {"json": {"data": [ticket(1, T0)]}}])
    assert len(list(ZohoDeskHook().iter_records("tickets", *WINDOW))) == 1
    assert [call.headers["Authorization"] for call in desk_calls(desk)] == [
        "Zoho-oauthtoken 1000.first",
        "Zoho-oauthtoken 1000.second",
    ]


def test_a_second_invalid_oauth_names_the_desk_scopes(desk):
    desk.get(SEARCH, status_code=401, json={"errorCode": "INVALID_OAUTH", "message": "invalid"})
    with pytest.raises(ZohoAuthError, match="freshly issued") as error:
        list(ZohoDeskHook().iter_records("tickets", *WINDOW))
    assert SCOPES in str(error.value)
    assert error.value.code == "INVALID_OAUTH"


@pytest.mark.parametrize(
    ("status", "code", "hint"),
    [
        (403, "OAUTH_ORG_MISMATCH", "not valid for the connection's desk_org_id"),
        (403, "SCOPE_MISMATCH", SCOPES),
        (404, "URL_NOT_FOUND", "check desk_url / the data center"),
        (422, "UNPROCESSABLE_ENTITY", "Desk refused a parameter"),
    ],
)
def test_desk_errors_are_explained_and_not_retried(desk, status, code, hint):
    desk.get(SEARCH, status_code=status, json={"errorCode": code, "message": f"{code} happened"})
    with pytest.raises(ZohoAPIError) as error:
        list(ZohoDeskHook().iter_records("tickets", *WINDOW))
    assert hint in str(error.value)
    assert f"Desk said '{code} happened'" in str(error.value)
    assert (error.value.status_code, error.value.code) == (status, code)
    assert len(desk_calls(desk)) == 1


def test_desk_text_in_errors_is_scrubbed_of_secrets(desk):
    message = f"bad token 1000.tok and secret {CLIENT_SECRET}"
    desk.get(SEARCH, status_code=422, json={"errorCode": "UNPROCESSABLE_ENTITY", "message": message})
    with pytest.raises(ZohoAPIError) as error:
        list(ZohoDeskHook().iter_records("tickets", *WINDOW))
    assert "1000.tok" not in str(error.value)
    assert CLIENT_SECRET not in str(error.value)
    assert "bad token *** and secret ***" in str(error.value)


@pytest.mark.parametrize(
    "answer",
    [
        {"json": ["not", "an", "object"]},
        {"text": "<html>Bad Gateway</html>"},
        {"json": {"errorCode": "UNPROCESSABLE_ENTITY"}},
        {"json": {"errorCode": "UNPROCESSABLE_ENTITY", "message": "  "}},
        {"json": {"errorCode": "UNPROCESSABLE_ENTITY", "message": 42}},
    ],
    ids=["list", "not-json", "no-message", "blank-message", "number"],
)
def test_an_error_without_a_desk_message_is_mapped_all_the_same(desk, answer):
    desk.get(SEARCH, status_code=422, **answer)
    with pytest.raises(ZohoAPIError) as error:
        list(ZohoDeskHook().iter_records("tickets", *WINDOW))
    assert "Desk refused a parameter" in str(error.value)
    assert "Desk said" not in str(error.value)
    assert error.value.status_code == 422


def test_a_long_desk_message_is_cut_to_300_characters(desk):
    said = "x" * 299 + "yz"
    desk.get(SEARCH, status_code=422, json={"errorCode": "UNPROCESSABLE_ENTITY", "message": f" {said} "})
    with pytest.raises(ZohoAPIError) as error:
        list(ZohoDeskHook().iter_records("tickets", *WINDOW))
    assert f"(Desk said {said[:300]!r})" in str(error.value)
    assert "xyz" not in str(error.value)


def test_the_access_token_is_scrubbed_from_desks_error_code_too(desk):
    desk.get(SEARCH, status_code=422, json={"errorCode": "BAD_1000.tok", "message": "no"})
    with pytest.raises(ZohoAPIError) as error:
        list(ZohoDeskHook().iter_records("tickets", *WINDOW))
    assert "1000.tok" not in str(error.value)
    assert "1000.tok" not in str(error.value.code)


def test_an_answer_without_a_data_list_is_an_error(desk):
    desk.get(SEARCH, json={"tickets": []})
    with pytest.raises(ZohoAPIError, match="without a data list"):
        list(ZohoDeskHook().iter_records("tickets", *WINDOW))


def test_check_access_finds_the_organization_and_reads_it(desk):
    orgs = {"data": [{"id": 1, "companyName": "Other"}, {"id": int(ORG), "companyName": "Acme"}]}
    desk.get(f"{DESK}/api/v1/organizations", json=orgs)
    desk.get(f"{DESK}/api/v1/departments", json={"data": [{"id": "5"}]})
    assert ZohoDeskHook().check_access() == (True, f"Zoho Desk organization {ORG} (Acme) is readable.")
    assert desk.last_request.headers["orgId"] == ORG
    assert query(desk.last_request) == {"from": ["0"], "limit": ["1"]}
    # Listed, but the token is bound to another organization of the user.
    mismatch = {
        "errorCode": "OAUTH_ORG_MISMATCH",
        "message": "The OAuthToken is not valid for specified organization.",
    }
    desk.get(f"{DESK}/api/v1/departments", status_code=403, json=mismatch)
    ok, message = ZohoDeskHook().check_access()
    assert not ok
    assert message.startswith(f"Zoho Desk organization {ORG} is listed, but reading it failed")
    assert "not valid for the connection's desk_org_id" in message
    for listed, organizations in [("1", [1]), ("1, 2", [1, 2]), ("none", [])]:
        desk.get(f"{DESK}/api/v1/organizations", json={"data": [{"id": n} for n in organizations]})
        assert ZohoDeskHook().check_access() == (
            False,
            f"Zoho Desk organization {ORG} is not among the organizations this account belongs to "
            f"({listed}); set the connection's desk_org_id to one of them.",
        )


def test_test_connection_runs_the_desk_check(desk):
    projects = {"result": [{"zsoid": "766556673", "projects": [{"projectId": "782000000004007"}]}]}
    desk.get(f"{APPTICS}/cx/api/v1/userprojects", json=projects)
    desk.get(f"{DESK}/api/v1/organizations", json={"data": [{"id": int(ORG), "companyName": "Acme"}]})
    desk.get(f"{DESK}/api/v1/departments", json={"data": [{"id": "5"}]})
    ok, message = ZohoOAuthHook().test_connection()
    assert ok, message
    assert message.endswith(f"are readable. Zoho Desk organization {ORG} (Acme) is readable.")
    desk.get(f"{DESK}/api/v1/organizations", json={"data": []})
    ok, message = ZohoOAuthHook().test_connection()
    assert not ok
    assert message.startswith(f"Token OK, but Zoho Desk organization {ORG} is not among the organizations")


def test_a_window_that_just_ended_waits_for_the_search_lag(desk, monkeypatch):
    end_s = T0 / 1000 + 3600
    slept: list[float] = []
    monkeypatch.setattr(desk_module.time, "time", lambda: end_s + 1.0)
    monkeypatch.setattr(desk_module.time, "sleep", slept.append)
    desk.get(SEARCH, status_code=204)
    hook = ZohoDeskHook()
    hook.search_lag_seconds = 5.0
    list(hook.iter_records("tickets", *WINDOW))
    assert slept == [pytest.approx(4.0)]
    slept.clear()
    hook.search_lag_seconds = 0.0  # the documented default: no wait
    list(hook.iter_records("tickets", *WINDOW))
    assert slept == []


def test_a_window_that_ends_right_now_waits_for_the_search_lag(desk, monkeypatch, caplog):
    slept: list[float] = []
    monkeypatch.setattr(desk_module.time, "time", lambda: T0 / 1000 + 3600)  # the window's end
    monkeypatch.setattr(desk_module.time, "sleep", slept.append)
    desk.get(SEARCH, status_code=204)
    hook = ZohoDeskHook()
    hook.search_lag_seconds = 5.0
    with caplog.at_level(logging.WARNING, logger="airflow_provider_zoho.hooks.desk"):
        list(hook.iter_records("tickets", *WINDOW))
    assert slept == [5.0]
    assert "in the future" not in caplog.text


def test_a_window_that_is_not_over_is_extracted_with_a_warning(desk, monkeypatch, caplog):
    monkeypatch.setattr(desk_module.time, "time", lambda: T0 / 1000)
    monkeypatch.setattr(desk_module.time, "sleep", lambda s: pytest.fail("must not wait for the future"))
    desk.get(SEARCH, status_code=204)
    hook = ZohoDeskHook()
    hook.search_lag_seconds = 5.0
    with caplog.at_level(logging.WARNING, logger="airflow_provider_zoho.hooks.desk"):
        list(hook.iter_records("tickets", *WINDOW))
    (warning,) = [record for record in caplog.records if record.name == desk_module.log.name]
    assert warning.getMessage() == (
        "The window ends at 2026-03-10T06:00:00.000Z, in the future: rows modified after now are not in "
        "this extraction (extract a window once it is over, or re-extract it with lookback)."
    )


def test_records_are_streamed_one_page_at_a_time(desk):
    # Pages of 3: rows 0-2, then (re-reading row 2) 3-4, then (re-reading row 4) 5 alone: a short page.
    pages = [[0, 1, 2], [2, 3, 4], [4, 5]]
    desk.get(SEARCH, [{"json": {"data": [ticket(n, T0 + n) for n in page]}} for page in pages])
    hook = ZohoDeskHook()
    hook.page_limit = 3
    stream = hook.iter_records("tickets", *WINDOW)
    assert len(desk_calls(desk)) == 0  # nothing fetched before the first record is asked for
    assert next(stream)["id"] == "0"
    assert len(desk_calls(desk)) == 1
    assert [record["id"] for record in stream] == ["1", "2", "3", "4", "5"]
    assert len(desk_calls(desk)) == 3
    assert [call.qs["modifiedtimerange"][0][:24] for call in desk_calls(desk)] == [
        "2026-03-10t04:59:59.999z",
        "2026-03-10t05:00:00.001z",  # 1 ms before row 2, the last one taken
        "2026-03-10t05:00:00.003z",
    ]


# -- property: whatever Desk answers, records or a ZohoAPIError ----------------------------------------------

PLAUSIBLE_TIMES = st.sampled_from(
    [
        "2026-03-10T05:00:00.000Z",
        "2026-03-10T05:30:00+05:30",
        "1773118800000",
        "2026-03-10T05:00:00",
        "",
        "soon",
    ]
)
OTHER_FIELDS = {
    "threadCount": JSON | st.sampled_from(["7", "7.0", "x", 7]),
    "createdTime": JSON | PLAUSIBLE_TIMES | st.just(10**30),
    "cf": JSON,
    "isSpam": JSON,
}
#: Rows the window keeps (at its first instant, ids of any shape), with anything in their other fields.
KEPT = st.fixed_dictionaries(
    {
        "id": st.integers(0, 10**19) | st.text(min_size=1, max_size=20),
        "modifiedTime": st.sampled_from(["2026-03-10T05:00:00.000Z", "1773118800000", 1773118800000]),
    },
    optional=OTHER_FIELDS,
)
ANY_ROW = st.fixed_dictionaries(
    {}, optional={"id": JSON, "modifiedTime": JSON | PLAUSIBLE_TIMES | st.integers(), **OTHER_FIELDS}
)
BODIES = st.one_of(
    JSON,
    st.fixed_dictionaries({"data": st.lists(ANY_ROW | KEPT | JSON, max_size=6)}, optional={"count": JSON}),
    st.fixed_dictionaries({"data": st.lists(KEPT, min_size=1, max_size=6)}),
)


@settings(max_examples=300)
@given(body=BODIES, incremental=st.booleans())
def test_any_desk_answer_gives_records_or_a_zoho_api_error(body, incremental):
    hook = ZohoDeskHook()
    spec = desk_module.RESOURCES["tickets" if incremental else "agents"]
    cursor = (
        SearchCursor("tickets", T0, T0 + 3_600_000, 5, 20) if incremental else SnapshotCursor("agents", 5)
    )
    try:
        kept, _ = cursor.advance(hook._rows(spec, body))
        records = spec.mapper.map_rows(kept)
    except ZohoAPIError:
        return  # described: the row, the field or the shape that cannot be used
    for record in records:
        assert isinstance(record["id"], str)
        assert list(record)[: len(spec.fields)] == list(spec.fields)
        if incremental:
            assert T0 <= instant_ms(record["modified_time"]) < T0 + 3_600_000
            assert record["thread_count"] is None or type(record["thread_count"]) is int


# -- what the hook passes on, and what it says --------------------------------------------------------------


def test_rows_without_an_id_name_the_resource_they_came_from(desk):
    desk.get(f"{DESK}/api/v1/agents", json={"data": [{"firstName": "A"}]})
    with pytest.raises(ZohoAPIError, match=r"^Zoho Desk resource 'agents': a row has no usable id"):
        list(ZohoDeskHook().iter_records("agents"))
    desk.get(SEARCH, json={"data": [{"modifiedTime": format_ms(T0)}]})
    with pytest.raises(ZohoAPIError, match=r"^Zoho Desk resource 'tickets': a row has no usable id"):
        list(ZohoDeskHook().iter_records("tickets", *WINDOW))


def test_snapshots_start_at_the_hooks_list_from_base(desk):
    desk.get(f"{DESK}/api/v1/departments", json={"data": [{"id": "1"}]})
    hook = ZohoDeskHook()
    hook.list_from_base = 1
    assert [record["id"] for record in hook.iter_records("departments")] == ["1"]
    assert query(desk.last_request)["from"] == ["1"]


def test_a_crowded_instant_is_paged_only_as_deep_as_the_hooks_search_max_results(desk):
    page = [ticket(n, T0) for n in range(3)]
    desk.get(SEARCH, [{"json": {"data": page}}, {"json": {"data": [ticket(n, T0) for n in range(3, 6)]}}])
    hook = ZohoDeskHook()
    hook.page_limit = 3
    hook.search_max_results = 6
    with pytest.raises(ZohoAPIError) as error:
        list(hook.iter_records("tickets", *WINDOW))
    assert str(error.value) == (
        "Zoho Desk holds more tickets at the modifiedTime 2026-03-10T05:00:00.000Z (or the millisecond "
        "before) than one search can reach (6 results): they cannot all be extracted. If Desk lets your "
        "portal search deeper, raise ZohoDeskHook.search_max_results."
    )
    assert [query(call)["from"] for call in desk_calls(desk)] == [["0"], ["3"]]


def test_api_calls_counts_every_desk_answer(desk):
    pages = [[0, 1], [1, 2], [2]]
    desk.get(SEARCH, [{"json": {"data": [ticket(n, T0 + n) for n in page]}} for page in pages])
    hook = ZohoDeskHook()
    hook.page_limit = 2
    assert len(list(hook.iter_records("tickets", *WINDOW))) == 3
    assert hook.api_calls == 3


def test_progress_is_logged_every_progress_interval_and_at_the_end(desk, monkeypatch, caplog):
    pages = [[0, 1], [1, 2], [2]]
    desk.get(SEARCH, [{"json": {"data": [ticket(n, T0 + n) for n in page]}} for page in pages])
    # started, then after each of the three pages, then the total.
    clock = iter([100.0, 110.0, 115.0, 121.0, 125.5])
    # The hook's own clock only: the token cache and retries read time.monotonic too.
    monkeypatch.setattr(desk_module, "time", SimpleNamespace(monotonic=lambda: next(clock), time=time.time))
    hook = ZohoDeskHook()
    hook.page_limit = 2
    hook.progress_interval = 10.0
    with caplog.at_level(logging.INFO, logger=desk_module.log.name):
        list(hook.iter_records("tickets", *WINDOW))
    assert [r.getMessage() for r in caplog.records if r.name == desk_module.log.name] == [
        "Desk tickets: 2 records from 1 pages so far.",  # 10 s after the start: one interval
        "Desk tickets: 3 records from 3 pages so far.",  # 11 s after the last line (5 s: none)
        "Desk tickets: 3 records from 3 pages in 25.5 s.",
    ]


@pytest.mark.parametrize(
    ("ago", "waits"), [(5.0, []), (4.5, [0.5])], ids=["exactly-the-lag", "half-a-second"]
)
def test_the_search_lag_wait_is_what_is_left_of_it(desk, monkeypatch, caplog, ago, waits):
    slept: list[float] = []
    monkeypatch.setattr(desk_module.time, "time", lambda: T0 / 1000 + 3600 + ago)
    monkeypatch.setattr(desk_module.time, "sleep", slept.append)
    desk.get(SEARCH, status_code=204)
    hook = ZohoDeskHook()
    hook.search_lag_seconds = 5.0
    with caplog.at_level(logging.INFO, logger=desk_module.log.name):
        list(hook.iter_records("tickets", *WINDOW))
    assert slept == [pytest.approx(wait) for wait in waits]
    said = [
        r.getMessage()
        for r in caplog.records
        if r.name == desk_module.log.name and "Waiting" in r.getMessage()
    ]
    assert said == [
        f"Waiting {wait:.1f} s for Desk's search to index the window's last edits." for wait in waits
    ]


def test_sub_millisecond_bounds_round_up_to_the_next_millisecond(desk):
    desk.get(SEARCH, json={"data": [ticket(1, T0), ticket(2, T0 + 1), ticket(3, T0 + 3_600_000)]})
    window = ("2026-03-10T05:00:00.000500Z", "2026-03-10T06:00:00.000500Z")
    records = list(ZohoDeskHook().iter_records("tickets", *window))
    assert [record["id"] for record in records] == ["2", "3"]  # [05:00:00.001, 06:00:00.001)
    assert query(desk.last_request)["modifiedTimeRange"] == [
        "2026-03-10T05:00:00.000Z,2026-03-10T06:00:00.001Z"
    ]


def test_boolean_query_parameters_are_sent_as_desk_spells_them(desk):
    desk.get(SEARCH, status_code=204)
    list(ZohoDeskHook().iter_records("tickets", *WINDOW, include=True, exclude=False))
    assert query(desk.last_request)["include"] == ["true"]
    assert query(desk.last_request)["exclude"] == ["false"]


@pytest.mark.parametrize(
    ("arguments", "params", "message"),
    [
        (
            ("contacts", WINDOW[0], None),
            {},
            "contacts are read by modification time: give modified_from and modified_to, the window "
            "[modified_from, modified_to) as aware datetimes or ISO-8601 strings with a zone.",
        ),
        (
            ("tickets", WINDOW[1], WINDOW[0]),
            {},
            "modified_to (2026-03-10T05:00:00+00:00) must be after modified_from "
            "(2026-03-10T06:00:00+00:00): the window [modified_from, modified_to) is half-open.",
        ),
        (
            ("tickets", *WINDOW),
            {"sortBy": "x", "limit": "1"},
            "limit, sortBy cannot be passed to ZohoDeskHook.iter_records: the hook sets them itself (the "
            "window through modified_from/modified_to).",
        ),
        (
            ("tickets", *WINDOW),
            {"departmentId": 1.5},
            "the Desk query parameter departmentId must be text, a number or a boolean, got float.",
        ),
    ],
    ids=["missing-bound", "reversed", "reserved", "type"],
)
def test_argument_errors_say_what_to_do(desk, arguments, params, message):
    with pytest.raises(ZohoConfigError) as error:
        ZohoDeskHook().iter_records(*arguments, **params)
    assert str(error.value) == message


def test_a_missing_desk_org_id_says_where_to_find_it(monkeypatch, requests_mock):
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_DEFAULT", connection_json(extra={"desk_url": DESK}))
    with pytest.raises(ZohoConfigError) as error:
        ZohoDeskHook().iter_records("agents")
    assert str(error.value) == (
        "Zoho connection 'zoho_default': Zoho Desk calls need the extra field desk_org_id (digits), sent as "
        "the orgId header. Desk shows it under Setup, Developer Space, API; "
        "ZohoDeskHook().list_organizations() lists the ids this account can read."
    )


@pytest.mark.parametrize(
    ("size", "shown"),
    [(111, "{'x': '" + "a" * 111 + "'}"), (112, "{'x': '" + "a" * 112 + "'...")],
    ids=["120", "121"],
)
def test_an_unexpected_answer_is_shown_up_to_120_characters(desk, size, shown):
    desk.get(SEARCH, json={"x": "a" * size})
    with pytest.raises(ZohoAPIError) as error:
        list(ZohoDeskHook().iter_records("tickets", *WINDOW))
    assert str(error.value).endswith(f"got {shown}")
