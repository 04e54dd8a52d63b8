"""Unit tests for ``AppticsDataTrigger``: serialization, and how it turns polls into one event."""

from __future__ import annotations

import asyncio
import importlib
import json

import pytest

from airflow_provider_zoho.exceptions import ZohoAPIError, ZohoAuthError, ZohoConfigError
from airflow_provider_zoho.hooks.apptics import AppticsHook
from airflow_provider_zoho.hooks.zoho_http import UNREACHABLE
from airflow_provider_zoho.triggers.apptics import AppticsDataTrigger

WINDOW = {"resource": "crashes", "window_start": "2026-03-01", "window_end": "2026-03-07"}


def trigger(**overrides) -> AppticsDataTrigger:
    return AppticsDataTrigger(**{**WINDOW, "min_records": 5, "poll_interval": 7.0, **overrides})


def events(trig: AppticsDataTrigger) -> list[dict]:
    async def collect():
        return [event.payload async for event in trig.run()]

    return asyncio.run(collect())


@pytest.fixture
def polls(monkeypatch):
    """``acount_records`` answers from a script (a count, or an error to raise); sleeps are recorded."""
    script: list = []
    seen: list[tuple[tuple, dict]] = []
    slept: list[float] = []

    async def acount_records(self, *args, **kwargs):
        seen.append((args, kwargs))
        answer = script.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    async def sleep(seconds):
        slept.append(seconds)

    monkeypatch.setattr(AppticsHook, "acount_records", acount_records)
    monkeypatch.setattr(asyncio, "sleep", sleep)
    return script, seen, slept


def test_serialize_round_trips_through_plain_json():
    original = trigger(platforms=["iOS"], app_versions="2.4.1", mode=1, api_params={"timezone": "UTC"})
    classpath, kwargs = original.serialize()
    assert classpath == "airflow_provider_zoho.triggers.apptics.AppticsDataTrigger"
    assert json.loads(json.dumps(kwargs)) == kwargs
    module, _, name = classpath.rpartition(".")
    rebuilt = getattr(importlib.import_module(module), name)(**kwargs)  # what the triggerer does
    assert rebuilt.serialize() == (classpath, kwargs)
    assert kwargs == {
        **WINDOW,
        "min_records": 5,
        "zoho_conn_id": "zoho_default",
        "platforms": ["iOS"],
        "app_versions": "2.4.1",
        "mode": 1,
        "api_params": {"timezone": "UTC"},
        "poll_interval": 7.0,
    }


def test_one_poll_with_enough_records_fires_once(polls):
    script, seen, slept = polls
    script.append(5)
    assert events(trigger(platforms="iOS", api_params={"timezone": "UTC"})) == [
        {**WINDOW, "status": "success", "records": 5}
    ]
    ((args, kwargs),) = seen
    assert args == ("crashes", "2026-03-01", "2026-03-07")
    assert kwargs == {
        "at_least": 5,
        "platforms": "iOS",
        "app_versions": None,
        "mode": None,
        "timezone": "UTC",
    }
    assert slept == []


def test_polls_every_interval_until_enough_records(polls):
    script, seen, slept = polls
    script.extend([0, 4, 9])
    assert events(trigger()) == [{**WINDOW, "status": "success", "records": 9}]
    assert len(seen) == 3
    assert slept == [7.0, 7.0]


@pytest.mark.parametrize(
    "transient",
    [
        ZohoAPIError("down", status_code=503),
        ZohoAPIError("slow down", status_code=429),
        ZohoAPIError("Could not reach Zoho", code=UNREACHABLE),
        ZohoAPIError("truncated", status_code=200, code="malformed_response"),
    ],
    ids=["503", "429", "unreachable", "malformed"],
)
def test_transient_failures_only_mean_not_yet(polls, transient):
    script, seen, slept = polls
    script.extend([transient, 5])
    assert events(trigger()) == [{**WINDOW, "status": "success", "records": 5}]
    assert slept == [7.0]


@pytest.mark.parametrize(
    ("error", "auth"),
    [
        (ZohoAuthError("Zoho rejected a freshly issued access token", status_code=401), True),
        (ZohoAPIError("access denied", status_code=403), False),
        (ZohoConfigError("resource: 'crash' is not an Apptics resource"), False),
    ],
    ids=["auth", "forbidden", "config"],
)
def test_permanent_failures_fire_an_error_event_at_once(polls, error, auth):
    script, seen, slept = polls
    script.append(error)
    assert events(trigger()) == [{**WINDOW, "status": "error", "message": str(error), "auth": auth}]
    assert slept == []
