"""
Fault and kill suite: every injectable sandbox fault, end to end through the operator.

Transient faults end with complete, exact output; permanent ones fail fast naming the cause; neither ever
leaves partial output at the final path. A task process killed with SIGKILL mid-extraction leaves no
partial partition, and its retry completes with exact output.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pendulum
import pytest

from airflow_provider_zoho.partitions import STAGING_ABANDONED_SECONDS
from tests.integration.conftest import run_dag, task_states
from tests.lake import as_written

LOGICAL = pendulum.datetime(2026, 3, 8, tz="UTC")
DAY = "2026-03-07"
QUERY = {"startdate": "07-03-2026", "enddate": "07-03-2026"}
# ``airflow tasks test`` reuses an existing run of its logical date, conf included: the kill test uses a
# date no other test runs, so its task really writes where its params say.
KILL_LOGICAL = pendulum.datetime(2026, 4, 8, tz="UTC")
KILL_DAY = "2026-04-07"
ROWS = 1100  # three pages: faults can hit the middle of an extraction
CRASH_LIST = "/cx/api/v1/crash/list"


def partition(dest, day: str = DAY):
    return dest / "crashes" / f"start={day}" / f"end={day}"


def final_files(dest, day: str = DAY) -> list[str]:
    folder = partition(dest, day)
    names = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    return [name for name in names if not name.startswith("_inprogress-")]


def staging_files(dest, day: str = DAY) -> list[str]:
    return sorted(p.name for p in partition(dest, day).glob("_inprogress-*"))


def assert_exact(dest, sandbox, day: str = DAY, staging: list[str] | None = None) -> None:
    """The partition is exactly the sandbox's records; besides it only ``staging`` objects (default none)."""
    folder = partition(dest, day)
    assert final_files(dest, day) == ["_manifest.json", "data.jsonl"]
    records = [json.loads(line) for line in (folder / "data.jsonl").read_text().splitlines()]
    api_day = f"{day[8:10]}-{day[5:7]}-{day[:4]}"
    assert records == as_written("crashes", sandbox.expected("crashes", startdate=api_day, enddate=api_day))
    assert json.loads((folder / "_manifest.json").read_text())["records"] == ROWS
    assert staging_files(dest, day) == (staging or [])


def extract(dest) -> str:
    dag_run = run_dag("it_extract", LOGICAL, destination=f"file://{dest}", resource="crashes")
    return task_states(dag_run)[("extract", -1)]


@pytest.mark.parametrize(
    ("fault", "fired"),
    [
        ({"kind": "status", "status": 429, "retry_after": 1, "offset": 500}, 1),
        ({"kind": "status", "status": 503, "times": 3}, 3),
        ({"kind": "status", "status": 500, "offset": 1000}, 1),
        ({"kind": "reset", "offset": 500}, 1),
        ({"kind": "malformed", "offset": 1000, "times": 2}, 2),
        ({"kind": "delay", "seconds": 1, "offset": 500}, 1),
        ({"kind": "unauthorized", "offset": 1000}, 1),
        ({"kind": "status", "status": 503, "path": "/oauth/v2/token", "times": 2}, 2),
        ({"kind": "reset", "path": "/oauth/v2/token"}, 1),
    ],
    ids=[
        "429-retry-after",
        "503-burst",
        "500-once",
        "connection-reset",
        "truncated-body",
        "slow-page",
        "401-mid-extraction",
        "token-endpoint-503",
        "token-endpoint-reset",
    ],
)
def test_transient_fault_ends_with_complete_exact_output(sandbox, tmp_path, fast_retries, fault, fired):
    sandbox.set_rows("crashes", ROWS)
    sandbox.add_fault(**{"path": CRASH_LIST, **fault})
    assert extract(tmp_path) == "success"
    assert_exact(tmp_path, sandbox)
    assert sandbox.stats()["faults_fired"] == fired
    assert sandbox.stats()["mints"] == (2 if fault["kind"] == "unauthorized" else 1)


def revoke_refresh_token(sandbox, monkeypatch):
    import requests

    requests.post(f"{sandbox.url}/oauth/v2/token/revoke", params={"token": sandbox.refresh_token}, timeout=5)


def wrong_data_center(sandbox, monkeypatch):
    from airflow_provider_zoho.sandbox import ZohoSandbox

    other = ZohoSandbox(client_id="1000.ANOTHERDC", client_secret="another").start()
    connection = sandbox.connection()
    connection["extra"] = {**connection["extra"], "accounts_url": other.url, "data_center": "eu"}
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_DEFAULT", json.dumps(connection))
    return other


@pytest.mark.parametrize(
    ("breakage", "api_requests"),
    [
        (revoke_refresh_token, 0),
        (wrong_data_center, 0),
        ({"kind": "status", "status": 403, "offset": 500, "times": None}, 2),
        ({"kind": "malformed", "offset": 500, "times": None}, 1 + 6),
        ({"kind": "status", "status": 404, "times": None}, 1),
        ({"kind": "unauthorized", "offset": 500, "times": None}, 1 + 2),
    ],
    ids=[
        "revoked-refresh-token",
        "wrong-data-center",
        "403",
        "malformed-after-retries",
        "404",
        "401-forever",
    ],
)
def test_permanent_fault_fails_fast_without_partial_output(
    sandbox, tmp_path, fast_retries, monkeypatch, breakage, api_requests
):
    sandbox.set_rows("crashes", ROWS)
    other = None
    if callable(breakage):
        other = breakage(sandbox, monkeypatch)
    else:
        sandbox.add_fault(path=CRASH_LIST, **breakage)
    try:
        assert extract(tmp_path) == "failed"
    finally:
        if other is not None:
            other.stop()
    assert final_files(tmp_path) == []
    assert staging_files(tmp_path) == []  # a failure (unlike a kill) cleans up after itself
    # fast: no retry of what cannot heal (only transient failures, like a malformed body, are retried)
    assert sandbox.stats()["requests_by_path"].get(CRASH_LIST, 0) == api_requests


def airflow_tasks_test(dest, **popen) -> subprocess.Popen:
    """``airflow tasks test``: a real task run in its own OS process (and process group)."""
    params = json.dumps({"destination": f"file://{dest}", "resource": "crashes"})
    command = [
        sys.executable,
        "-m",
        "airflow",
        "tasks",
        "test",
        "it_extract",
        "extract",
        KILL_LOGICAL.isoformat(),
        "-t",
        params,
    ]
    return subprocess.Popen(command, start_new_session=True, **popen)


def test_sigkill_mid_extraction_leaves_no_partial_partition_and_the_retry_is_exact(sandbox, tmp_path):
    sandbox.set_rows("crashes", ROWS)
    sandbox.add_fault(path=CRASH_LIST, kind="delay", seconds=120, offset=1000)  # page 3 hangs
    log = tmp_path / "attempt-1.log"
    with log.open("w") as output:
        task = airflow_tasks_test(tmp_path / "lake", stdout=output, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while sandbox.stats()["requests_by_path"].get(CRASH_LIST, 0) < 3:  # page 3 requested
                assert task.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.2)
            time.sleep(0.5)
            os.killpg(task.pid, signal.SIGKILL)
        finally:
            if task.poll() is None:
                os.killpg(task.pid, signal.SIGKILL)
            task.wait(timeout=30)
    assert task.returncode == -signal.SIGKILL
    lake = tmp_path / "lake"
    assert final_files(lake, KILL_DAY) == []  # no data.*, no manifest at the final path
    killed = staging_files(lake, KILL_DAY)
    assert killed, "the killed run should have been caught mid-extraction"

    sandbox.clear_faults()
    retry = airflow_tasks_test(lake, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output, _ = retry.communicate(timeout=300)
    assert retry.returncode == 0, output[-3000:]
    # Exact. The killed run's staging file stays (invisible to readers): as far as the retry can tell it
    # may be a live writer's, until it is older than STAGING_ABANDONED_SECONDS.
    assert_exact(lake, sandbox, KILL_DAY, staging=killed)
    day_old = time.time() - STAGING_ABANDONED_SECONDS - 60
    for name in killed:
        os.utime(partition(lake, KILL_DAY) / name, (day_old, day_old))
    again = airflow_tasks_test(lake, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output, _ = again.communicate(timeout=300)
    assert again.returncode == 0, output[-3000:]
    assert_exact(lake, sandbox, KILL_DAY)  # and now the abandoned staging file is gone
