from __future__ import annotations

import json

import pendulum

from tests.integration.conftest import run_dag, task_states

LOGICAL = pendulum.datetime(2026, 3, 8, tz="UTC")
SENSORS = {("wait_poke", -1), ("wait_reschedule", -1), ("wait_deferrable", -1)}


def test_every_mode_succeeds_when_the_window_has_data(sandbox):
    dag_run = run_dag("it_sensor", LOGICAL)
    assert task_states(dag_run) == dict.fromkeys(SENSORS, "success")


def test_deferrable_sensor_waits_through_transient_errors(sandbox, fast_retries):
    # The worker's first poke meets 503s until its retries run out, so the sensor defers; the trigger
    # then meets two more and succeeds.
    sandbox.add_fault(path="/cx/api/v1/activedevice/countbydate", kind="status", status=503, times=8)
    dag_run = run_dag("it_sensor", LOGICAL)
    assert task_states(dag_run)[("wait_deferrable", -1)] == "success"
    assert sandbox.stats()["faults_fired"] == 8


def test_auth_error_fails_every_mode_at_once(sandbox, monkeypatch):
    connection = sandbox.connection()
    connection["password"] = "not-the-secret"
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_DEFAULT", json.dumps(connection))
    dag_run = run_dag("it_sensor", LOGICAL)
    assert task_states(dag_run) == dict.fromkeys(SENSORS, "failed")
    # one token request per sensor: nobody kept poking a connection that cannot work
    assert sandbox.stats()["token_requests"] == 3
