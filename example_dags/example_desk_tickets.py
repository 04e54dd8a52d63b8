"""
Hourly Zoho Desk tickets.

Every hour, extract the tickets modified in the hour that just ended, ``[start, end)`` of the run's data
interval, into one idempotent partition, and re-extract the two hours before it as well, so tickets Desk's
search indexed late refresh their hour in place. Every ticket modified in a window is extracted exactly
once, however many share the window or one instant (see ``ZohoDeskHook``); a ticket modified in several
hours is in each of their partitions, and "latest ``modified_time`` per ``id`` wins" when they are read
together (the README has the DuckDB query).

It runs as-is against the bundled sandbox (``make demo``). For a real portal, give the ``zoho_default``
connection the Desk scopes and its ``desk_org_id`` (see the README) and set ``ZOHO_DESK_DESTINATION``
(e.g. ``s3://my-bucket/zoho``, with ``dest_conn_id`` for its AWS connection).
"""

from __future__ import annotations

import os

import pendulum
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_zoho.operators.desk import ZohoDeskToStorageOperator

try:
    from airflow.sdk import CronDataIntervalTimetable
except ImportError:  # Airflow 2
    from airflow.timetables.interval import CronDataIntervalTimetable  # type: ignore[no-redef]

DESTINATION = os.environ.get("ZOHO_DESK_DESTINATION", "file:///tmp/zoho-desk")

with DAG(
    dag_id="example_zoho_desk_tickets",
    # Data intervals: each run covers the hour before it (Airflow 3's "@hourly" would give an instant).
    schedule=CronDataIntervalTimetable("0 * * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # one writer per window: overlapping lookbacks of parallel runs would race
    default_args={"zoho_conn_id": "zoho_default", "retries": 2, "retry_delay": pendulum.duration(minutes=5)},
    tags=["example", "zoho", "desk"],
):
    # [START howto_operator_desk_to_storage]
    ZohoDeskToStorageOperator(
        task_id="extract_tickets",
        resource="tickets",
        destination=DESTINATION,
        lookback=pendulum.duration(hours=2),
    )
    # [END howto_operator_desk_to_storage]
