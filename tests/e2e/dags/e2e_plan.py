"""
What the end-to-end DAG does, shared by the DAG file and the test that checks its output.

Standard library only, so the test can import it without starting the orchestrator's machinery.
"""

from __future__ import annotations

import datetime as dt

DAG_ID = "zoho_e2e_cold_burst"
EXTRACT_TASK_ID = "extract"
SENSOR_TASK_ID = "wait_for_late_data"

#: Four resources times eight single days: 32 distinct partitions, one per mapped task, each under its
#: day's destination (``<lake>/<day>``), so each task publishes its own asset ``<lake>/<day>/<resource>``.
#: (Airflow 3.3 links an AssetAlias to a new asset with an unguarded insert: tasks publishing the first
#: event of one asset through the alias at the same instant make all but one fail. See the README.)
RESOURCES = ("crashes", "crash_counts_by_date", "active_devices_by_date", "event_counts_by_date")
DAYS = tuple((dt.date(2026, 3, 1) + dt.timedelta(days=offset)).isoformat() for offset in range(8))
PARTITIONS = [
    {
        "destination": "{{ params.destination }}/" + day,
        "resource": resource,
        "window_start": day,
        "window_end": day,
    }
    for resource in RESOURCES
    for day in DAYS
]

#: The deferrable sensor waits for data the test releases only once the sensor is deferred.
SENSOR = {"resource": "affected_devices", "window_start": "2026-03-09", "window_end": "2026-03-09"}

#: Every mapped extraction and the sensor meet at the barrier, so all of them start with a cold cache.
BARRIER_PARTIES = len(PARTITIONS) + 1
#: Longest wait at the barrier before the task fails (the burst did not happen).
BARRIER_TIMEOUT_SECONDS = 90.0
