"""
The DAG the end-to-end test runs on a real Airflow deployment.

32 mapped ``AppticsToStorageOperator`` tasks (one per resource and day) and a deferrable
``AppticsDataSensor``. On 2 cores the scheduler starts tasks 0.3-0.5 s apart, so a cold burst does not
happen by itself: the test-only subclasses below hold every task in ``pre_execute`` until all
``BARRIER_PARTIES`` tasks have arrived at a file barrier, and only then let them talk to Zoho. None of them
has seen a token before, and no token Variable exists until one of them writes it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG, ObjectStoragePath, Param
from e2e_plan import (
    BARRIER_PARTIES,
    BARRIER_TIMEOUT_SECONDS,
    DAG_ID,
    EXTRACT_TASK_ID,
    PARTITIONS,
    SENSOR,
    SENSOR_TASK_ID,
)

from airflow_provider_zoho.operators.apptics import AppticsToStorageOperator
from airflow_provider_zoho.sensors.apptics import AppticsDataSensor


def warm_up(task: Any) -> None:
    """
    Do the slow local work of the first Zoho call before the barrier, so the burst stays a burst.

    Reads the connection (from the environment) and builds the HTTP session; touches neither Zoho nor
    the token cache.
    """
    task.hook.settings  # noqa: B018 (a cached property: reading it parses and validates the connection)
    task.hook.get_conn()


def wait_at_barrier(task: Any, context: Any) -> None:
    """
    Block until ``barrier_parties`` tasks have created their marker in ``barrier_dir``/arrived.

    Each task then writes ``barrier_dir``/released/<name> with the release time. A task that already
    arrived (the sensor resuming after its trigger fired) passes straight through.
    """
    params = context["params"]
    directory = Path(params["barrier_dir"])
    parties = int(params["barrier_parties"])
    name = f"{task.task_id}.{context['ti'].map_index}"
    arrived = directory / "arrived"
    arrived.mkdir(parents=True, exist_ok=True)
    marker = arrived / name
    if marker.exists():
        task.log.info("Already passed the cold-burst barrier (resumed task); not waiting again.")
        return
    marker.write_text(f"{time.time():.6f}")
    started = time.monotonic()
    deadline = started + BARRIER_TIMEOUT_SECONDS
    while (count := sum(1 for _ in arrived.iterdir())) < parties:
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"Cold-burst barrier: only {count} of {parties} tasks arrived within "
                f"{BARRIER_TIMEOUT_SECONDS:.0f} s; raise [core] parallelism / max_active_tasks."
            )
        time.sleep(0.05)
    released = directory / "released"
    released.mkdir(parents=True, exist_ok=True)
    (released / name).write_text(f"{time.time():.6f}")
    task.log.info(
        "Cold-burst barrier open: %d of %d tasks arrived after %.1f s; calling Zoho now.",
        count,
        parties,
        time.monotonic() - started,
    )


class BurstAppticsToStorageOperator(AppticsToStorageOperator):
    """``AppticsToStorageOperator`` that waits at the cold-burst barrier first (test only)."""

    def pre_execute(self, context: Any) -> None:
        # The first object-storage use in a process imports every provider's filesystem module (the
        # amazon provider's pulls in boto3): 32 of those after the barrier took ~12 s on 2 cores, and the
        # first task minted long before the others even looked at the cache. So do it before.
        ObjectStoragePath(self.destination, conn_id=self.dest_conn_id).fs  # noqa: B018
        warm_up(self)
        wait_at_barrier(self, context)
        super().pre_execute(context)


class BurstAppticsDataSensor(AppticsDataSensor):
    """``AppticsDataSensor`` that waits at the cold-burst barrier first (test only)."""

    def pre_execute(self, context: Any) -> None:
        warm_up(self)
        wait_at_barrier(self, context)
        super().pre_execute(context)


with DAG(
    DAG_ID,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_tasks=64,
    params={
        "destination": Param(type="string", description="file:// URI the partitions go to"),
        "barrier_dir": Param(type="string", description="directory of the cold-burst barrier"),
        "barrier_parties": Param(BARRIER_PARTIES, type="integer"),
    },
    tags=["e2e"],
):
    BurstAppticsToStorageOperator.partial(task_id=EXTRACT_TASK_ID).expand_kwargs(PARTITIONS)

    BurstAppticsDataSensor(
        task_id=SENSOR_TASK_ID,
        resource=SENSOR["resource"],
        window_start=SENSOR["window_start"],
        window_end=SENSOR["window_end"],
        min_records=1,
        deferrable=True,
        poke_interval=1,
        timeout=300,
    )
