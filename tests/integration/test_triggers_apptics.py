from __future__ import annotations

import asyncio
import json

import pytest

from airflow_provider_zoho.triggers.apptics import AppticsDataTrigger


def trigger(**overrides) -> AppticsDataTrigger:
    kwargs = {
        "resource": "active_devices_by_date",
        "window_start": "2026-03-01",
        "window_end": "2026-03-07",
        "min_records": 1,
        "poll_interval": 0.05,
        **overrides,
    }
    return AppticsDataTrigger(**kwargs)


async def first_event(trig: AppticsDataTrigger):
    async for event in trig.run():
        return event.payload
    raise AssertionError("the trigger ended without an event")


def test_trigger_fires_once_with_the_count(sandbox):
    expected = sandbox.expected("active_devices_by_date", startdate="01-03-2026", enddate="07-03-2026")
    event = asyncio.run(first_event(trigger(min_records=len(expected))))
    assert event == {
        "resource": "active_devices_by_date",
        "window_start": "2026-03-01",
        "window_end": "2026-03-07",
        "status": "success",
        "records": len(expected),
    }


def test_trigger_counts_across_pages_and_stops_early(sandbox):
    sandbox.set_rows("crashes", 1200)
    event = asyncio.run(first_event(trigger(resource="crashes", min_records=600)))
    assert event["status"] == "success"
    assert event["records"] == 1000  # whole pages are counted; no third page was needed
    assert sandbox.stats()["requests_by_path"]["/cx/api/v1/crash/list"] == 2


def test_trigger_keeps_waiting_through_503_and_reset(sandbox):
    sandbox.add_fault(path="/cx/api/v1/activedevice/countbydate", kind="status", status=503, times=2)
    sandbox.add_fault(path="/cx/api/v1/activedevice/countbydate", kind="reset", after=2)
    event = asyncio.run(asyncio.wait_for(first_event(trigger()), timeout=30))
    assert event["status"] == "success"
    assert sandbox.stats()["faults_fired"] == 3


def test_trigger_refreshes_once_on_401(sandbox):
    sandbox.add_fault(path="/cx/api/v1/activedevice/countbydate", kind="unauthorized")
    event = asyncio.run(first_event(trigger()))
    assert event["status"] == "success"
    assert sandbox.stats()["mints"] == 2


@pytest.mark.parametrize(
    ("break_connection", "auth"),
    [({"password": "wrong"}, True), ({"extra": {"project_id": "1"}}, False)],
    ids=["bad-secret", "unknown-project"],
)
def test_trigger_reports_permanent_errors_at_once(sandbox, monkeypatch, break_connection, auth):
    connection = sandbox.connection()
    extra = {**connection["extra"], **break_connection.pop("extra", {})}
    monkeypatch.setenv(
        "AIRFLOW_CONN_ZOHO_DEFAULT", json.dumps({**connection, **break_connection, "extra": extra})
    )
    event = asyncio.run(asyncio.wait_for(first_event(trigger()), timeout=30))
    assert event["status"] == "error"
    assert event["auth"] is auth
    assert ("HTTP 403" in event["message"]) is not auth
