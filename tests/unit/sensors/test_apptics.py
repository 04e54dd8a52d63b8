"""Unit tests for ``AppticsDataSensor``: arguments, poking, deferral and the trigger's verdict."""

from __future__ import annotations

import datetime as dt

import pytest

from airflow_provider_zoho.exceptions import ZohoAPIError, ZohoAuthError, ZohoConfigError, ZohoError
from airflow_provider_zoho.sensors.apptics import AppticsDataSensor
from airflow_provider_zoho.triggers.apptics import AppticsDataTrigger

CONTEXT = {
    "data_interval_start": dt.datetime(2026, 3, 7, tzinfo=dt.timezone.utc),
    "data_interval_end": dt.datetime(2026, 3, 8, tzinfo=dt.timezone.utc),
    "logical_date": dt.datetime(2026, 3, 7, tzinfo=dt.timezone.utc),
}


def sensor(**kwargs) -> AppticsDataSensor:
    return AppticsDataSensor(**{"task_id": "wait", "resource": "crashes", "min_records": 3, **kwargs})


class FakeHook:
    """``iter_records`` yields ``records`` then raises ``error`` (if any), counting what was consumed."""

    def __init__(self, records: int, error: BaseException | None = None) -> None:
        self.records = records
        self.error = error
        self.consumed = 0
        self.calls: list[tuple[tuple, dict]] = []

    def iter_records(self, *args, **kwargs):
        self.calls.append((args, kwargs))
        return self._stream()

    def _stream(self):
        for index in range(self.records):
            self.consumed += 1
            yield {"n": index}
        if self.error is not None:
            raise self.error


def with_hook(task: AppticsDataSensor, hook: FakeHook) -> AppticsDataSensor:
    task.__dict__["hook"] = hook  # the cached property, set before first use
    return task


def test_init_only_stores_arguments():
    task = sensor(platforms=["iOS"], apptics_mode=1, api_params={"timezone": "UTC"}, deferrable=True)
    assert (task.resource, task.min_records, task.platforms, task.apptics_mode) == ("crashes", 3, ["iOS"], 1)
    assert task.api_params == {"timezone": "UTC"}
    assert task.deferrable is True
    assert "hook" not in task.__dict__  # no hook (and so no connection read) before execution


def test_every_argument_that_names_data_or_a_connection_is_templated():
    assert set(AppticsDataSensor.template_fields) == {
        "resource",
        "zoho_conn_id",
        "window_start",
        "window_end",
        "min_records",
        "platforms",
        "app_versions",
        "apptics_mode",
        "api_params",
    }


def test_deferrable_defaults_to_the_operators_setting():
    import inspect

    from airflow.providers.common.compat.sdk import conf

    default = inspect.signature(AppticsDataSensor.__init__).parameters["deferrable"].default
    assert default is conf.getboolean("operators", "default_deferrable", fallback=False)
    assert sensor().deferrable is default


def test_poke_reads_the_operators_window_and_stops_at_min_records():
    hook = FakeHook(records=10)
    task = with_hook(sensor(platforms="iOS", apptics_mode="1", api_params={"timezone": "UTC"}), hook)
    assert task.poke(CONTEXT) is True
    assert hook.consumed == 3
    ((args, kwargs),) = hook.calls
    assert args == ("crashes", dt.date(2026, 3, 7), dt.date(2026, 3, 7))
    assert kwargs == {"platforms": "iOS", "app_versions": None, "mode": "1", "timezone": "UTC"}


def test_poke_is_false_below_min_records():
    assert with_hook(sensor(), FakeHook(records=2)).poke(CONTEXT) is False


@pytest.mark.parametrize(
    "error",
    [ZohoAPIError("down", status_code=503), ZohoAPIError("Could not reach Zoho", code="unreachable")],
    ids=["503", "unreachable"],
)
def test_poke_treats_transient_failures_as_not_yet(error):
    assert with_hook(sensor(), FakeHook(records=1, error=error)).poke(CONTEXT) is False


@pytest.mark.parametrize(
    "error",
    [
        ZohoAuthError("rejected", status_code=401),
        ZohoAPIError("denied", status_code=403),
        ZohoConfigError("x"),
    ],
    ids=["auth", "forbidden", "config"],
)
def test_poke_raises_permanent_failures(error):
    with pytest.raises(type(error)):
        with_hook(sensor(), FakeHook(records=1, error=error)).poke(CONTEXT)


def test_deferrable_sensor_returns_at_once_when_the_data_is_there():
    task = with_hook(sensor(deferrable=True), FakeHook(records=3))
    assert task.execute(CONTEXT) is None


def test_deferrable_sensor_defers_to_the_trigger_with_plain_arguments():
    from airflow.providers.common.compat.sdk import TaskDeferred

    task = with_hook(
        sensor(deferrable=True, platforms=("iOS", "Android"), apptics_mode=1, poke_interval=30, timeout=600),
        FakeHook(records=0),
    )
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(CONTEXT)
    trigger = deferred.value.trigger
    assert isinstance(trigger, AppticsDataTrigger)
    assert trigger.serialize()[1] == {
        "resource": "crashes",
        "window_start": "2026-03-07",
        "window_end": "2026-03-07",
        "min_records": 3,
        "zoho_conn_id": "zoho_default",
        "platforms": ["iOS", "Android"],
        "app_versions": None,
        "mode": 1,
        "api_params": None,
        "poll_interval": 30,
    }
    assert deferred.value.method_name == "execute_complete"
    assert deferred.value.timeout == dt.timedelta(seconds=600)


def test_execute_complete_succeeds_on_success():
    assert sensor().execute_complete(CONTEXT, {"status": "success", "records": 4}) is None


@pytest.mark.parametrize(("auth", "kind"), [(True, ZohoAuthError), (False, ZohoError)], ids=["auth", "other"])
def test_execute_complete_fails_with_the_triggers_reason(auth, kind):
    with pytest.raises(kind, match="^the reason$") as error:
        sensor().execute_complete(CONTEXT, {"status": "error", "message": "the reason", "auth": auth})
    assert type(error.value) is kind
