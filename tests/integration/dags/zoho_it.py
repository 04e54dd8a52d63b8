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

#: The formats of ``it_lake``: task suffix -> (file_format, compression).
LAKE_FORMATS = {
    "jsonl": ("jsonl", None),
    "jsonl_gz": ("jsonl", "gzip"),
    "csv": ("csv", None),
    "csv_gz": ("csv", "gzip"),
    "parquet": ("parquet", None),
    "parquet_gz": ("parquet", "gzip"),
}
LAKE_DAYS = 28  # a month of daily partitions in one run: the window's day and 27 lookback days
#: ``it_lake_s3`` writes each format once (gzip for the text formats): S3 commits cost more.
LAKE_S3_FORMATS = ("jsonl_gz", "csv_gz", "parquet")

for lake_dag_id, lake_formats in {
    "it_lake": LAKE_FORMATS,
    "it_lake_s3": {suffix: LAKE_FORMATS[suffix] for suffix in LAKE_S3_FORMATS},
}.items():
    with DAG(
        lake_dag_id,
        schedule="@daily",
        params={
            "resource": "crashes",
            "destination": "file:///tmp/zoho-it-lake",
            "dest_conn_id": None,
            "api_params": {},
            "day": "2026-02-28",
        },
        **COMMON,
    ):
        for suffix, (file_format, compression) in lake_formats.items():
            AppticsToStorageOperator(
                task_id=f"extract_{suffix}",
                resource="{{ params.resource }}",
                destination="{{ params.destination }}/" + suffix,
                dest_conn_id="{{ params.dest_conn_id }}",
                file_format=file_format,
                compression=compression,
                api_params="{{ params.api_params }}",
                window_start="{{ params.day }}",
                window_end="{{ params.day }}",
                lookback_days=LAKE_DAYS - 1,
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
