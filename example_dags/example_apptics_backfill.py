"""
Backfill-friendly Zoho Apptics extraction.

Each run extracts exactly the day of its data interval into its own partition, so any range of days can
be (re)loaded in parallel and re-running a day replaces its partition byte for byte::

    airflow backfill create --dag-id example_zoho_apptics_backfill \\
        --from-date 2026-02-01 --to-date 2026-02-28 --reprocess-behavior completed

``max_active_runs`` keeps the number of days loaded at once (and so the load on Apptics) bounded; all
runs share one access token through the provider's token cache.
"""

from __future__ import annotations

import os

import pendulum
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_zoho.operators.apptics import AppticsToStorageOperator

DESTINATION = os.environ.get("ZOHO_APPTICS_DESTINATION", "file:///tmp/zoho-apptics")

with DAG(
    dag_id="example_zoho_apptics_backfill",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 2, 1, tz="UTC"),
    catchup=True,
    max_active_runs=3,
    default_args={"retries": 2, "retry_delay": pendulum.duration(minutes=5)},
    tags=["example", "zoho", "apptics"],
):
    # [START howto_operator_apptics_to_storage_window]
    AppticsToStorageOperator(
        task_id="extract_crash_counts",
        resource="crash_counts_by_date",
        destination=DESTINATION,
        # The day before the data interval's end: the day that just finished, on Airflow 3's cron
        # timetable (empty intervals) and Airflow 2's (one-day intervals) alike. This is the default
        # window of a daily DAG; spelled out here to show the templates.
        window_start="{{ macros.ds_add(data_interval_end | ds, -1) }}",
        window_end="{{ macros.ds_add(data_interval_end | ds, -1) }}",
        platforms=["iOS", "Android"],
        file_format="csv",
    )
    # [END howto_operator_apptics_to_storage_window]

    # [START howto_operator_apptics_to_storage_parquet]
    AppticsToStorageOperator(
        task_id="extract_events_by_country",
        resource="event_counts_by_country",
        destination=DESTINATION,
        file_format="parquet",  # needs the extra: pip install 'airflow-provider-zoho[parquet]'
        compression="gzip",
    )
    # [END howto_operator_apptics_to_storage_parquet]

    # [START howto_operator_apptics_to_storage_multigroup]
    AppticsToStorageOperator(
        task_id="extract_screens_by_country",
        resource="screens",
        destination=DESTINATION,
        api_params={"group": "date,country"},
    )
    # [END howto_operator_apptics_to_storage_multigroup]
