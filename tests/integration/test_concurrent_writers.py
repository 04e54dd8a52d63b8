"""
Two real processes write one window at once: the partition ends committed and consistent.

Each writer is a separate Python process executing ``AppticsToStorageOperator`` against the sandbox. The
first is stalled in the middle of its stream (a sandbox ``delay`` on its second page) while the second
runs from start to end; then the first finishes. The S3 variant of the same scenario is in
``test_s3.py``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from airflow_provider_zoho.sandbox import ZohoSandbox

WINDOW = "2026-03-07"
FOLDER = f"crashes/start={WINDOW}/end={WINDOW}"
ROWS = 1100  # three pages of 500
STALL_SECONDS = 30.0  # the first writer's second page: far longer than a whole run of the second writer
STARTUP_LIMIT_SECONDS = 180.0  # the most a writer process may take to reach its second page

# One writer: the operator executed in a process of its own, as a worker would run it.
WRITER = """
import json, sys
from airflow_provider_zoho.exceptions import ZohoError
from airflow_provider_zoho.operators.apptics import AppticsToStorageOperator

arguments = json.loads(sys.argv[1])
try:
    result = AppticsToStorageOperator(task_id="writer", **arguments).execute({})
except ZohoError as error:
    print("WRITER-ERROR " + json.dumps({"type": type(error).__name__, "message": str(error)}))
    sys.exit(3)
print("WRITER-RESULT " + json.dumps(result))
"""


@dataclass
class Storage:
    """What the scenario needs to see of a partition directory: its object names, and their bytes."""

    names: Callable[[], list[str]]
    read: Callable[[str], bytes]


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str

    @property
    def succeeded(self) -> bool:
        return self.returncode == 0 and "WRITER-RESULT " in self.stdout

    @property
    def concurrent_writer_error(self) -> bool:
        return self.returncode == 3 and "A concurrent writer was detected" in self.stdout


def start_writer(destination: str, dest_conn_id: str | None, file_format: str) -> subprocess.Popen:
    arguments = {
        "resource": "crashes",
        "destination": destination,
        "dest_conn_id": dest_conn_id,
        "window_start": WINDOW,
        "window_end": WINDOW,
        "file_format": file_format,
    }
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, json.dumps(arguments)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),  # the sandbox connection, the metadata DB, the AWS connection
    )


def finish(process: subprocess.Popen) -> Outcome:
    stdout, stderr = process.communicate(timeout=STARTUP_LIMIT_SECONDS + STALL_SECONDS)
    return Outcome(process.returncode, stdout, stderr)


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.05)


def in_flight(sandbox: ZohoSandbox) -> int:
    """Requests the sandbox received but has not answered yet."""
    stats = sandbox.stats()
    return sum(stats["requests_by_path"].values()) - sum(stats["responses_by_status"].values())


def staging_names(storage: Storage) -> set[str]:
    return {name for name in storage.names() if name.startswith("_inprogress-")}


def count_records(name: str, raw: bytes) -> int:
    if name == "data.jsonl":
        return len(raw.splitlines())
    rows = list(csv.reader(io.StringIO(raw.decode(), newline="")))
    return len(rows) - 1  # the header


def two_writers_of_one_window(
    sandbox: ZohoSandbox, destination: str, dest_conn_id: str | None, storage: Storage
) -> None:
    """
    The scenario, on any storage: a jsonl writer stalled on its second page, a csv writer that runs
    meanwhile from start to end, then the stalled one resumes. Asserts the contract once both have ended.
    """
    sandbox.set_rows("crashes", ROWS)
    sandbox.add_fault(kind="delay", path="/cx/api/v1/crash/list", offset=500, seconds=STALL_SECONDS)

    stalled = start_writer(destination, dest_conn_id, "jsonl")
    try:
        wait_for(lambda: sandbox.faults()[0]["fired"] == 1, "the first writer reaching its second page")
        live_staging = staging_names(storage)  # the stalled writer's own (on S3 it appears only at the end)

        other = finish(start_writer(destination, dest_conn_id, "csv"))

        # The interleaving under test: the second writer ran while the first one was stalled.
        assert in_flight(sandbox) == 1, "the first writer's stall ended before the second writer did"
        assert other.succeeded, other.stderr + other.stdout
        assert live_staging <= staging_names(storage), "a live writer's staging object was removed"
        first = finish(stalled)
    finally:
        if stalled.poll() is None:
            stalled.kill()
            stalled.wait()

    for outcome in (first, other):
        assert outcome.succeeded or outcome.concurrent_writer_error, outcome.stderr + outcome.stdout
    # The partition is committed, and its manifest describes the data file that is there.
    names = sorted(storage.names())
    manifest = json.loads(storage.read("_manifest.json"))
    assert names == sorted(["_manifest.json", manifest["file"]]), names
    raw = storage.read(manifest["file"])
    assert manifest["sha256"] == hashlib.sha256(raw).hexdigest()
    assert manifest["bytes"] == len(raw)
    assert manifest["records"] == count_records(manifest["file"], raw) == ROWS
    if first.succeeded:  # the stalled writer committed last
        assert manifest["file"] == "data.jsonl"
        assert manifest["api_calls"] == 3


def local_storage(folder: Path) -> Storage:
    return Storage(
        names=lambda: sorted(path.name for path in folder.iterdir()) if folder.exists() else [],
        read=lambda name: (folder / name).read_bytes(),
    )


def test_two_processes_writing_one_window_on_local_disk(sandbox, tmp_path):
    lake = tmp_path / "lake"
    two_writers_of_one_window(sandbox, f"file://{lake}", None, local_storage(lake / FOLDER))
