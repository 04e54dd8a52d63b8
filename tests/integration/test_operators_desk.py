"""
``ZohoDeskToStorageOperator`` end to end: real Airflow (``dag.test()``), the sandbox, local storage.

Partitions hold exactly the sandbox oracle's records for their half-open window, with the storage contract
Apptics keeps (manifest, XCom, asset event, idempotent re-runs); a week of hourly windows, two of them
above the search cap and tickets edited from one window into a later one, reads back through DuckDB's
"latest ``modified_time`` per ``id`` wins" query as every ticket once, in its newest state.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pendulum
import pytest

from airflow_provider_zoho.hooks.desk_resources import RESOURCES
from tests.integration.conftest import asset_events, run_dag, task_states, xcom_return
from tests.integration.test_hooks_desk import minimum_searches
from tests.lake import file_rows

LOGICAL = pendulum.datetime(2026, 3, 8, 0, tz="UTC")
UTC = dt.timezone.utc


def read_jsonl(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def as_written(resource: str, records: list[dict]) -> list[dict]:
    """The oracle's records as the files hold them (declared columns, then ``extra``)."""
    return file_rows(RESOURCES[resource].columns, records)


def keys(start: dt.datetime, end: dt.datetime) -> tuple[str, str]:
    from airflow_provider_zoho.windows import instant_keys

    (_, first), (_, last) = instant_keys(start, end)
    return first, last


def folder(dest, resource: str, start: dt.datetime, end: dt.datetime):
    first, last = keys(start, end)
    return dest / f"desk_{resource}" / f"start={first}" / f"end={last}"


def interval_of(dag_run) -> tuple[dt.datetime, dt.datetime]:
    return (
        dt.datetime.fromtimestamp(dag_run.data_interval_start.timestamp(), UTC),
        dt.datetime.fromtimestamp(dag_run.data_interval_end.timestamp(), UTC),
    )


@pytest.fixture
def dest(tmp_path):
    return tmp_path / "lake"


def test_an_hourly_run_writes_its_window_exactly_with_manifest_xcom_and_asset(sandbox, dest):
    sandbox.add_desk_rows("tickets", 1500, "2026-03-07T23:00:00Z", "2026-03-08T00:00:00Z")  # above the cap
    dag_run = run_dag("it_desk", LOGICAL, destination=f"file://{dest}")
    assert task_states(dag_run) == {("extract", -1): "success"}
    start, end = interval_of(dag_run)
    # The manual run of 2026-03-08T00:00 of an hourly data-interval timetable: the hour before it.
    assert (start, end) == (dt.datetime(2026, 3, 7, 23, tzinfo=UTC), dt.datetime(2026, 3, 8, tzinfo=UTC))
    partition = dest / "desk_tickets" / "start=2026-03-07T230000Z" / "end=2026-03-08T000000Z"
    expected = sandbox.expected_desk("tickets", start, end)
    assert len(expected) > 1000
    data = (partition / "data.jsonl").read_bytes()
    assert read_jsonl(partition / "data.jsonl") == as_written("tickets", expected)
    assert [list(record) for record in read_jsonl(partition / "data.jsonl")][0] == [
        *RESOURCES["tickets"].fields,
        "extra",
    ]
    manifest = json.loads((partition / "_manifest.json").read_text())
    assert (manifest["resource"], manifest["start"], manifest["end"]) == ("tickets", *keys(start, end))
    assert manifest["records"] == len(expected)
    assert manifest["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["api_calls"] == sandbox.stats()["requests_by_path"]["/api/v1/tickets/search"]
    assert manifest["api_calls"] == minimum_searches(len(expected))
    assert xcom_return(dag_run, "extract") == {
        "path": f"file://{partition}/data.jsonl",
        "records": len(expected),
        "manifest": f"file://{partition}/_manifest.json",
    }
    events = [e for e in asset_events(f"file://{dest}") if e["uri"] == f"file://{dest}/desk_tickets"]
    assert events
    assert events[-1]["extra"]["records"] == len(expected)
    assert (events[-1]["extra"]["start"], events[-1]["extra"]["end"]) == keys(start, end)


def test_explicit_bounds_and_a_rerun_is_byte_identical(sandbox, dest):
    conf = {
        "destination": f"file://{dest}",
        "resource": "contacts",
        "modified_from": "2026-03-01T00:00:00Z",
        "modified_to": "2026-03-08T00:00:00Z",
    }
    run_dag("it_desk", LOGICAL, **conf)
    partition = dest / "desk_contacts" / "start=2026-03-01" / "end=2026-03-07"  # whole days: inclusive days
    first = (partition / "data.jsonl").read_bytes()
    assert read_jsonl(partition / "data.jsonl") == as_written(
        "contacts", sandbox.expected_desk("contacts", "2026-03-01T00:00:00Z", "2026-03-08T00:00:00Z")
    )
    run_dag("it_desk", LOGICAL, **conf)
    assert (partition / "data.jsonl").read_bytes() == first
    assert sorted(p.name for p in partition.iterdir()) == ["_manifest.json", "data.jsonl"]


@pytest.mark.parametrize("resource", ["departments", "agents"])
def test_snapshots_are_filed_under_the_runs_window(sandbox, dest, resource):
    dag_run = run_dag("it_desk", LOGICAL, destination=f"file://{dest}", resource=resource)
    assert task_states(dag_run) == {("extract", -1): "success"}
    partition = folder(dest, resource, *interval_of(dag_run))
    assert read_jsonl(partition / "data.jsonl") == as_written(resource, sandbox.expected_desk(resource))


def test_lookback_refreshes_the_preceding_windows_in_place(sandbox, dest):
    dag_run = run_dag("it_desk_lookback", LOGICAL, destination=f"file://{dest}")
    assert task_states(dag_run) == {("extract", -1): "success"}
    start, end = interval_of(dag_run)
    hour = dt.timedelta(hours=1)
    windows = [(start - 2 * hour, start - hour), (start - hour, start), (start, end)]
    base = dest / "desk_tickets"
    assert sorted(p.name for p in base.iterdir()) == sorted(f"start={keys(*w)[0]}" for w in windows)
    for window in windows:
        assert read_jsonl(folder(dest, "tickets", *window) / "data.jsonl") == as_written(
            "tickets", sandbox.expected_desk("tickets", *window)
        )
    result = xcom_return(dag_run, "extract")
    assert [entry["path"].split("/")[-3] for entry in result["lookback"]] == [
        f"start={keys(*w)[0]}" for w in windows[:2]
    ]
    # Late-indexed tickets of an earlier window land in its partition on the next run's lookback.
    sandbox.add_desk_rows("tickets", 7, windows[0][0] + dt.timedelta(minutes=5))
    run_dag("it_desk_lookback", LOGICAL, destination=f"file://{dest}")
    refreshed = read_jsonl(folder(dest, "tickets", *windows[0]) / "data.jsonl")
    assert refreshed == as_written("tickets", sandbox.expected_desk("tickets", *windows[0]))
    assert sum(record["modified_time"].endswith(":05:00Z") for record in refreshed) >= 7


@pytest.mark.parametrize(
    ("file_format", "compression", "name"), [("csv", None, "data.csv"), ("jsonl", "gzip", "data.jsonl.gz")]
)
def test_other_formats(sandbox, dest, file_format, compression, name):
    dag_run = run_dag(
        "it_desk", LOGICAL, destination=f"file://{dest}", file_format=file_format, compression=compression
    )
    partition = folder(dest, "tickets", *interval_of(dag_run))
    assert sorted(p.name for p in partition.iterdir()) == ["_manifest.json", name]
    assert json.loads((partition / "_manifest.json").read_text())["records"] == len(
        sandbox.expected_desk("tickets", *interval_of(dag_run))
    )


def test_a_week_of_hourly_windows_reads_back_as_each_ticket_once_in_its_newest_state(sandbox, dest):
    """Run as a data engineer would: 168 hourly runs, edits in between, then the "latest wins" query."""
    duckdb = pytest.importorskip("duckdb")
    from airflow_provider_zoho.operators.desk import ZohoDeskToStorageOperator

    sandbox.set_max_requests(2000)
    week = dt.datetime(2026, 3, 2, tzinfo=UTC)
    hour = dt.timedelta(hours=1)
    sandbox.add_desk_rows("tickets", 1500, week + 5 * hour, week + 6 * hour)  # above the cap
    for n in range(168):
        if n == 40:
            # Every ticket of hour 5 is edited in hour 40 (same ids, a later state); hour 100 is crowded.
            sandbox.clear_desk_rows()
            sandbox.add_desk_rows("tickets", 1500, week + 40 * hour, week + 41 * hour)
            sandbox.add_desk_rows("tickets", 1200, week + 100 * hour, week + 101 * hour)
        operator = ZohoDeskToStorageOperator(
            task_id=f"hour_{n}", resource="tickets", destination=f"file://{dest}"
        )
        operator.execute({"data_interval_start": week + n * hour, "data_interval_end": week + (n + 1) * hour})
    assert len(list((dest / "desk_tickets").iterdir())) == 168

    latest = duckdb.sql(
        f"""
        SELECT id, CAST(modified_time AS VARCHAR) AS modified_time
        FROM read_json_auto('{dest}/desk_tickets/*/*/data.jsonl*', union_by_name = true)
        QUALIFY row_number() OVER (PARTITION BY id ORDER BY modified_time DESC) = 1
        """
    ).fetchall()
    newest = sandbox.expected_desk("tickets", week, week + 168 * hour)  # the state after every edit
    assert len(latest) == len({row[0] for row in latest}) == len(newest)
    as_instant = lambda text: dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))  # noqa: E731
    got = {identity: as_instant(at).replace(tzinfo=None) for identity, at in latest}
    want = {r["id"]: as_instant(r["modified_time"]).replace(tzinfo=None) for r in newest}
    assert got == want
    edited = [r for r in newest if r["modified_time"].startswith("2026-03-03T16")]  # hour 40
    assert len(edited) >= 1500
    assert all(got[r["id"]] == want[r["id"]] for r in edited)


def test_openlineage_complete_event_names_the_organization(sandbox, dest, openlineage_events):
    sandbox.add_desk_rows("tickets", 150, "2026-03-07T23:00:00Z", "2026-03-08T00:00:00Z")
    dag_run = run_dag("it_desk", LOGICAL, destination=f"file://{dest}")
    assert task_states(dag_run) == {("extract", -1): "success"}
    event = openlineage_events("it_desk.extract")
    org_id = sandbox.connection()["extra"]["desk_org_id"]
    assert [(d["namespace"], d["name"]) for d in event["inputs"]] == [
        (f"zoho-desk://com/{org_id}", "tickets")
    ]
    (output,) = event["outputs"]
    assert (output["namespace"], output["name"]) == ("file", f"{dest}/desk_tickets")
    fields = [field["name"] for field in output["facets"]["schema"]["fields"]]
    assert fields == [*RESOURCES["tickets"].fields, "extra"]
    (data,) = (dest / "desk_tickets").rglob("data.jsonl")
    statistics = output["outputFacets"]["outputStatistics"]
    assert (statistics["rowCount"], statistics["size"], statistics["fileCount"]) == (
        len(read_jsonl(data)),
        data.stat().st_size,
        1,
    )
    assert statistics["rowCount"] >= 150
