from __future__ import annotations

import json
import math
import time

import pytest
import requests

from airflow_provider_zoho.sandbox.faults import (
    MAX_DELAY_SECONDS,
    MAX_RETRY_AFTER_SECONDS,
    FaultInjector,
    FaultRule,
    FaultRuleError,
)

WEEK = {"startdate": "01-03-2024", "enddate": "07-03-2024"}


# ---------------------------------------------------------------------- rules (no HTTP)
def test_rule_defaults_and_validation():
    rule = FaultRule.from_dict({"kind": "status", "status": 503})
    assert (rule.path, rule.after, rule.times, rule.offset) == ("/cx/api/v1", 0, 1, None)
    assert FaultRule.from_dict({"kind": "throttle"}).path == "/oauth/v2/token"
    assert FaultRule.from_dict({"kind": "reset", "times": None}).times is None
    for bad in (
        {"kind": "explode"},
        {"kind": "status", "stauts": 500},
        {"kind": "delay", "seconds": -1},
        {"kind": "status", "status": 42},
        {"kind": "status", "path": "cx"},
        ["kind"],
        {"kind": "status", "after": "x"},
    ):
        with pytest.raises(FaultRuleError):
            FaultRule.from_dict(bad)


@pytest.mark.parametrize(
    "seconds", [1e9, MAX_DELAY_SECONDS + 1, -1, -0.5, math.nan, math.inf, "nan", True, "x"]
)
def test_absurd_delays_are_refused_naming_seconds_and_the_cap(seconds):
    with pytest.raises(FaultRuleError, match=r"seconds must be a number of seconds from 0 to 300\b"):
        FaultRule.from_dict({"kind": "delay", "seconds": seconds})


def test_delays_up_to_the_cap_are_accepted():
    assert MAX_DELAY_SECONDS == 300
    assert FaultRule.from_dict({"kind": "delay", "seconds": 300}).seconds == 300.0
    assert FaultRule.from_dict({"kind": "delay", "seconds": "0.25"}).seconds == 0.25


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("retry_after", -1),
        ("retry_after", math.nan),
        ("retry_after", math.inf),
        ("retry_after", MAX_RETRY_AFTER_SECONDS * 2),
        ("retry_after", False),
        ("after", -1),
        ("after", 1.5),
        ("after", True),
        ("times", -2),
        ("times", 2.5),
        ("offset", -500),
        ("offset", "5x"),
        ("status", 42.0),
    ],
)
def test_other_absurd_fault_values_are_refused_naming_the_field(field, value):
    with pytest.raises(FaultRuleError, match=field):
        FaultRule.from_dict({"kind": "status", field: value})


def test_whole_numbers_may_come_as_strings():
    rule = FaultRule.from_dict(
        {"kind": "status", "after": "2", "times": "3", "offset": "500", "status": "503"}
    )
    assert (rule.after, rule.times, rule.offset, rule.status) == (2, 3, 500, 503)
    assert (
        FaultRule.from_dict({"kind": "status", "retry_after": MAX_RETRY_AFTER_SECONDS}).retry_after == 86_400
    )


def test_after_times_and_offset_matching():
    faults = FaultInjector()
    faults.add([{"kind": "status", "status": 500, "after": 2, "times": 2}])
    fired = [faults.match("/cx/api/v1/crash/list", None) is not None for _ in range(6)]
    assert fired == [False, False, True, True, False, False]

    faults.reset()
    faults.add([{"kind": "status", "offset": 500, "times": None}])
    assert faults.match("/cx/api/v1/crash/list", "0") is None
    assert faults.match("/cx/api/v1/crash/list", None) is None
    assert faults.match("/cx/api/v1/crash/list", "500") is not None
    assert faults.match("/cx/api/v1/crash/list", "500") is not None
    assert faults.match("/oauth/v2/token", "500") is None  # other path

    faults.reset()
    faults.add([{"kind": "status", "offset": 0}])
    assert faults.match("/cx/api/v1/crash/list", None) is not None  # a missing offset is offset 0


def test_rules_count_independently_and_first_due_fires():
    faults = FaultInjector()
    faults.add([{"kind": "status", "times": 2}, {"kind": "reset", "after": 3}])
    kinds = [getattr(faults.match("/cx/api/v1/x", None), "kind", None) for _ in range(5)]
    assert kinds == ["status", "status", None, "reset", None]
    assert faults.stats()["faults_fired"] == 3
    assert [r["fired"] for r in faults.rules()] == [2, 1]
    assert [r["seen"] for r in faults.rules()] == [5, 5]


# ---------------------------------------------------------------------- over HTTP
def test_status_fault_with_retry_after(client):
    client.token  # noqa: B018 - mint before the fault is armed
    client.sandbox.add_fault(kind="status", status=429, retry_after=7)
    throttled = client.resource("crashes", WEEK)
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "7"
    assert throttled.json()["error"]["code"] == "TOO_MANY_REQUESTS"
    assert client.resource("crashes", WEEK).status_code == 200  # times defaults to 1
    client.sandbox.add_fault(kind="status", status=503, body={"message": "down"})
    down = client.resource("crashes", WEEK)
    assert (down.status_code, down.json()) == (503, {"message": "down"})
    assert "Retry-After" not in down.headers
    assert client.stats()["faults_fired"] == 2


def test_reset_fault_is_a_connection_error(client):
    client.token  # noqa: B018
    response = client.control("POST", "faults", {"kind": "reset"})
    assert response.json()["faults"][0]["kind"] == "reset"
    with pytest.raises(requests.exceptions.ConnectionError) as caught:
        client.resource("crashes", WEEK)
    assert "reset by peer" in str(caught.value)  # a real RST, not a polite close
    assert client.resource("crashes", WEEK).status_code == 200  # the session reconnects
    assert client.stats()["faults_by_kind"] == {"reset": 1}


def test_reset_fault_on_a_fresh_connection():
    from airflow_provider_zoho.sandbox import ZohoSandbox

    with ZohoSandbox() as sandbox:
        sandbox.add_fault(kind="reset", path="/oauth/v2/token")
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.post(f"{sandbox.url}/oauth/v2/token", data={"grant_type": "refresh_token"}, timeout=5)


def test_delay_fault(client):
    client.token  # noqa: B018
    client.sandbox.add_fault(kind="delay", seconds=0.3)
    start = time.perf_counter()
    response = client.resource("crashes", WEEK)
    assert response.status_code == 200
    assert time.perf_counter() - start >= 0.3
    client.sandbox.add_fault(kind="delay", seconds=0.5)
    with pytest.raises(requests.exceptions.Timeout):
        client.session.get(
            f"{client.url}/cx/api/v1/crash/list", params=WEEK, headers=client.headers(), timeout=0.1
        )


def test_malformed_fault(client):
    client.token  # noqa: B018
    client.sandbox.add_fault(kind="malformed")
    response = client.resource("crashes", WEEK)
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(response.content) > 0
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert response.json  # the session is still usable
    assert client.resource("crashes", WEEK).status_code == 200


def test_unauthorized_fault_revokes_the_token(client):
    token = client.token
    client.sandbox.add_fault(kind="unauthorized")
    first = client.resource("crashes", WEEK)
    assert (first.status_code, first.json()["error"]["code"]) == (401, "INVALID_OAUTHTOKEN")
    retry = client.resource("crashes", WEEK, token=token)  # the fault is spent, the token is not back
    assert retry.status_code == 401
    fresh = client.mint()
    assert client.resource("crashes", WEEK, token=fresh).status_code == 200


def test_throttle_fault(client):
    client.sandbox.add_fault(kind="throttle", times=2)
    for _ in range(2):
        denied = client.refresh()
        assert denied.status_code == 400
        assert denied.json()["error"] == "Access Denied"
    assert client.refresh().status_code == 200
    stats = client.stats()
    assert (stats["mints"], stats["throttled"], stats["faults_fired"]) == (1, 2, 2)


def test_offset_and_after_over_http(client):
    client.sandbox.set_rows("crashes", 1200)
    client.token  # noqa: B018
    client.sandbox.add_fault(kind="status", status=500, offset=500, after=1, times=None)
    assert client.resource("crashes", {**WEEK, "offset": 500}).status_code == 200  # let through (after=1)
    assert client.resource("crashes", {**WEEK, "offset": 0}).status_code == 200  # other offset
    assert client.resource("crashes", {**WEEK, "offset": 500}).status_code == 500
    assert client.resource("crashes", {**WEEK, "offset": 500}).status_code == 500  # forever
    assert client.resource("crashes", {**WEEK, "offset": 1000}).status_code == 200
    listed = client.control("GET", "faults").json()["faults"]
    assert (listed[0]["seen"], listed[0]["fired"]) == (3, 2)
    assert client.control("DELETE", "faults").json() == {"faults": []}
    assert client.resource("crashes", {**WEEK, "offset": 500}).status_code == 200


def test_fault_path_prefix(client):
    client.token  # noqa: B018
    client.control("POST", "faults", [{"kind": "status", "status": 502, "path": "/cx/api/v1/event"}])
    assert client.resource("crashes", WEEK).status_code == 200
    assert client.resource("event_summary", WEEK).status_code == 502


def test_bad_rule_over_http(client):
    response = client.control("POST", "faults", {"kind": "status", "colour": "red"})
    assert (response.status_code, response.json()["error"]["code"]) == (400, "INVALID_FAULT")
    for seconds in ("1e9", "-1", "NaN", "Infinity"):  # the JSON text a client may send
        response = client.session.post(
            f"{client.url}/__sandbox__/faults", data=f'{{"kind": "delay", "seconds": {seconds}}}', timeout=5
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "INVALID_FAULT"
        assert "seconds" in response.json()["error"]["message"]
        assert "300" in response.json()["error"]["message"]
    assert client.control("GET", "faults").json() == {"faults": []}
    with pytest.raises(ValueError, match="kind must be"):
        client.sandbox.add_fault(kind="nope")
