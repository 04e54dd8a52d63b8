"""
Daily Zoho Apptics extraction.

Every day, wait until Apptics has data for the day that just finished, then extract several resources in
parallel, one idempotent partition per resource and day, re-extracting the two days before as well so
late-arriving events refresh them in place: the day's crashes, events, screens and active devices, the OS
versions and device models of every crash issue of the day, and active devices by country beside their
default grouping (date, platform).

It runs as-is against the bundled sandbox (``make demo``). For a real account, create the ``zoho_default``
connection (see the README) and set ``ZOHO_APPTICS_DESTINATION`` (e.g. ``s3://my-bucket/zoho``, with
``dest_conn_id`` for its AWS connection).
"""

from __future__ import annotations

import os

import pendulum
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_zoho.operators.apptics import AppticsToStorageOperator
from airflow_provider_zoho.sensors.apptics import AppticsDataSensor

DESTINATION = os.environ.get("ZOHO_APPTICS_DESTINATION", "file:///tmp/zoho-apptics")

with DAG(
    dag_id="example_zoho_apptics_daily",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    default_args={"zoho_conn_id": "zoho_default", "retries": 2, "retry_delay": pendulum.duration(minutes=5)},
    tags=["example", "zoho", "apptics"],
):
    # [START howto_sensor_apptics_data]
    wait_for_data = AppticsDataSensor(
        task_id="wait_for_active_devices",
        resource="active_devices_by_date",
        mode="reschedule",  # frees the worker slot between pokes; or deferrable=True with a triggerer
        poke_interval=15 * 60,
        timeout=12 * 60 * 60,
    )
    # [END howto_sensor_apptics_data]

    # [START howto_operator_apptics_to_storage_mapped]
    extract = AppticsToStorageOperator.partial(
        task_id="extract",
        destination=DESTINATION,
        compression="gzip",
        lookback_days=2,
    ).expand(
        resource=[
            "crashes",
            "crash_counts_by_date",
            "active_devices_by_date",
            "active_devices",
            "event_summary",
            "event_counts_by_date",
            "screens",
            "api_stats",
        ]
    )
    # [END howto_operator_apptics_to_storage_mapped]

    # [START howto_operator_apptics_to_storage_per_crash]
    # Without a crash_id, a per-crash resource covers every crash issue that `crashes` lists for the day,
    # crash_concurrency issues at a time; each record carries its crash_id.
    extract_per_crash = AppticsToStorageOperator.partial(
        task_id="extract_per_crash",
        destination=DESTINATION,
        compression="gzip",
        lookback_days=2,
        crash_concurrency=4,
    ).expand(resource=["crash_os_versions", "crash_device_models"])
    # [END howto_operator_apptics_to_storage_per_crash]

    # [START howto_operator_apptics_to_storage_second_grouping]
    # Another grouping of active_devices, beside the default one (date, platform) above: its partitions
    # have a folder of their own, <destination>/active_devices/group=country+date/start=.../end=.../
    extract_by_country = AppticsToStorageOperator(
        task_id="extract_active_devices_by_country",
        resource="active_devices",
        destination=DESTINATION,
        compression="gzip",
        lookback_days=2,
        api_params={"group": "date,country"},
    )
    # [END howto_operator_apptics_to_storage_second_grouping]

    wait_for_data >> [extract, extract_per_crash, extract_by_country]
