"""Zoho Desk DAGs driven by the integration tests (``dag.test()`` with ``run_conf``)."""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_zoho.operators.desk import ZohoDeskToStorageOperator

try:
    from airflow.sdk import CronDataIntervalTimetable
except ImportError:  # Airflow 2
    from airflow.timetables.interval import CronDataIntervalTimetable  # type: ignore[no-redef]

HOURLY = CronDataIntervalTimetable("0 * * * *", timezone="UTC")
COMMON = {
    "start_date": pendulum.datetime(2026, 1, 1, tz="UTC"),
    "catchup": False,
    "render_template_as_native_obj": True,
}

with DAG(
    "it_desk",
    schedule=HOURLY,
    params={
        "resource": "tickets",
        "destination": "file:///tmp/zoho-it-desk",
        "modified_from": None,
        "modified_to": None,
        "file_format": "jsonl",
        "compression": None,
    },
    **COMMON,
):
    ZohoDeskToStorageOperator(
        task_id="extract",
        resource="{{ params.resource }}",
        destination="{{ params.destination }}",
        modified_from="{{ params.modified_from }}",
        modified_to="{{ params.modified_to }}",
        file_format="{{ params.file_format }}",
        compression="{{ params.compression }}",
    )

with DAG("it_desk_lookback", schedule=HOURLY, params={"destination": "file:///tmp/zoho-it-desk"}, **COMMON):
    ZohoDeskToStorageOperator(
        task_id="extract",
        resource="tickets",
        destination="{{ params.destination }}",
        lookback=dt.timedelta(hours=2),
    )
