"""DAGs driven by the integration tests (``dag.test()`` with ``run_conf``)."""

from __future__ import annotations

import pendulum
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_zoho.operators.apptics import AppticsToStorageOperator
from airflow_provider_zoho.sensors.apptics import AppticsDataSensor

START = pendulum.datetime(2026, 1, 1, tz="UTC")
COMMON = {"start_date": START, "catchup": False, "render_template_as_native_obj": True}

with DAG(
    "it_extract",
    schedule="@daily",
    params={
        "resource": "crashes",
        "destination": "file:///tmp/zoho-it",
        "file_format": "jsonl",
        "compression": None,
        "api_params": {},
        "platforms": None,
        "app_versions": None,
        "mode": None,
        "window_start": None,
        "window_end": None,
        "dest_conn_id": None,
    },
    **COMMON,
):
    AppticsToStorageOperator(
        task_id="extract",
        resource="{{ params.resource }}",
        destination="{{ params.destination }}",
        dest_conn_id="{{ params.dest_conn_id }}",
        file_format="{{ params.file_format }}",
        compression="{{ params.compression }}",
        api_params="{{ params.api_params }}",
        platforms="{{ params.platforms }}",
        app_versions="{{ params.app_versions }}",
        mode="{{ params.mode }}",
        window_start="{{ params.window_start }}",
        window_end="{{ params.window_end }}",
    )

with DAG(
    "it_lookback",
    schedule="@daily",
    params={
        "destination": "file:///tmp/zoho-it",
        "resource": "active_devices_by_date",
        "window_start": None,
        "window_end": None,
    },
    **COMMON,
):
    AppticsToStorageOperator(
        task_id="extract",
        resource="{{ params.resource }}",
        destination="{{ params.destination }}",
        window_start="{{ params.window_start }}",
        window_end="{{ params.window_end }}",
        lookback_days=2,
    )

with DAG("it_fixed_asset", schedule="@daily", **COMMON):
    AppticsToStorageOperator(
        task_id="extract", resource="event_summary", destination="file:///tmp/zoho-it-fixed-asset"
    )

with DAG("it_mapped", schedule="@daily", params={"destination": "file:///tmp/zoho-it"}, **COMMON):
    AppticsToStorageOperator.partial(task_id="extract", destination="{{ params.destination }}").expand(
        resource=["crashes", "active_devices_by_date", "screens"]
    )

#: Two crash issues of the integration sandbox (seed 11) with crashes on 2026-03-07.
CRASH_IDS = ["7340000000107007", "7340000000108007"]

with DAG("it_per_crash_mapped", schedule="@daily", params={"destination": "file:///tmp/zoho-it"}, **COMMON):
    AppticsToStorageOperator.partial(
        task_id="extract", resource="crash_os_versions", destination="{{ params.destination }}"
    ).expand(api_params=[{"crash_id": crash_id} for crash_id in CRASH_IDS])

with DAG(
    "it_sensor",
    schedule="@daily",
    params={"resource": "active_devices_by_date", "min_records": 1},
    **COMMON,
):
    for name, kwargs in {
        "poke": {"mode": "poke"},
        "reschedule": {"mode": "reschedule"},
        "deferrable": {"deferrable": True},
    }.items():
        AppticsDataSensor(
            task_id=f"wait_{name}",
            resource="{{ params.resource }}",
            min_records="{{ params.min_records }}",
            poke_interval=1,
            timeout=60,
            **kwargs,
        )
