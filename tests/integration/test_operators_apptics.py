from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json

import pendulum
import pytest

from airflow_provider_zoho.hooks.apptics import RESOURCES
from tests.integration.conftest import asset_events, run_dag, task_states, xcom_return
from tests.lake import as_read, as_written

LOGICAL = pendulum.datetime(2026, 3, 8, tz="UTC")  # data interval 2026-03-07 (daily schedule)
WINDOW = ("2026-03-01", "2026-03-07")


def api_query(start: str, end: str, **params) -> dict:
    to_api = lambda day: dt.date.fromisoformat(day).strftime("%d-%m-%Y")  # noqa: E731
    return {"startdate": to_api(start), "enddate": to_api(end), **params}


def read_jsonl(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def partition(base, resource, start, end, **identity):
    folder = base / resource
    for name, value in identity.items():
        folder = folder / f"{name}={value}"
    return folder / f"start={start}" / f"end={end}"


def extract(sandbox_dest, **conf):
    dag_run = run_dag("it_extract", LOGICAL, destination=sandbox_dest, **conf)
    return dag_run, task_states(dag_run)


@pytest.fixture
def dest(tmp_path):
    return tmp_path / "lake"


def test_every_resource_gives_exactly_the_sandbox_records(sandbox, dest):
    crash_id = sandbox.expected("crashes", **api_query(*WINDOW))[0]["crash_id"]
    for resource, spec in RESOURCES.items():
        params = {"crash_id": crash_id} if spec.needs_crash_id else {}
        dag_run, states = extract(
            f"file://{dest}",
            resource=resource,
            api_params=params,
            window_start=WINDOW[0],
            window_end=WINDOW[1],
        )
        assert states == {("extract", -1): "success"}, resource
        folder = partition(dest, resource, *WINDOW, **params)
        expected = sandbox.expected(resource, **api_query(*WINDOW, **params))
        assert expected, f"the sandbox has no {resource} data for the window: the test would prove nothing"
        assert read_jsonl(folder / "data.jsonl") == as_written(resource, expected), resource


def test_partition_layout_manifest_and_xcom(sandbox, dest):
    dag_run, states = extract(f"file://{dest}", resource="crashes")
    assert states == {("extract", -1): "success"}
    folder = partition(dest, "crashes", "2026-03-07", "2026-03-07")  # the run's data interval
    assert sorted(p.name for p in folder.iterdir()) == ["_manifest.json", "data.jsonl"]
    data = (folder / "data.jsonl").read_bytes()
    manifest = json.loads((folder / "_manifest.json").read_text())
    expected = sandbox.expected("crashes", **api_query("2026-03-07", "2026-03-07"))
    assert manifest["records"] == len(expected) == len(data.splitlines())
    assert manifest["bytes"] == len(data)
    assert manifest["sha256"] == hashlib.sha256(data).hexdigest()
    assert (manifest["resource"], manifest["start"], manifest["end"]) == (
        "crashes",
        "2026-03-07",
        "2026-03-07",
    )
    assert manifest["format"] == "jsonl"
    assert manifest["api_calls"] == 1
    assert manifest["provider_version"]
    dt.datetime.strptime(manifest["extracted_at"], "%Y-%m-%dT%H:%M:%SZ")
    assert xcom_return(dag_run, "extract") == {
        "path": f"file://{folder}/data.jsonl",
        "records": len(expected),
        "manifest": f"file://{folder}/_manifest.json",
    }


def test_rerun_is_byte_identical_and_replaces_the_partition(sandbox, dest):
    extract(f"file://{dest}", resource="event_counts_by_date")
    folder = partition(dest, "event_counts_by_date", "2026-03-07", "2026-03-07")
    first = (folder / "data.jsonl").read_bytes()
    first_manifest = json.loads((folder / "_manifest.json").read_text())
    extract(f"file://{dest}", resource="event_counts_by_date")
    assert (folder / "data.jsonl").read_bytes() == first
    assert json.loads((folder / "_manifest.json").read_text())["sha256"] == first_manifest["sha256"]
    assert sorted(p.name for p in folder.iterdir()) == ["_manifest.json", "data.jsonl"]


@pytest.mark.parametrize(
    ("file_format", "compression", "name"),
    [
        ("csv", None, "data.csv"),
        ("csv", "gzip", "data.csv.gz"),
        ("jsonl", "gzip", "data.jsonl.gz"),
        ("parquet", None, "data.parquet"),
        ("parquet", "gzip", "data.parquet"),
    ],
    ids=["csv", "csv-gzip", "jsonl-gzip", "parquet", "parquet-gzip"],
)
def test_formats(sandbox, dest, file_format, compression, name):
    _, states = extract(
        f"file://{dest}", resource="crashes", file_format=file_format, compression=compression
    )
    assert states == {("extract", -1): "success"}
    folder = partition(dest, "crashes", "2026-03-07", "2026-03-07")
    assert sorted(p.name for p in folder.iterdir()) == ["_manifest.json", name]
    expected = sandbox.expected("crashes", **api_query("2026-03-07", "2026-03-07"))
    raw = (folder / name).read_bytes()
    manifest = json.loads((folder / "_manifest.json").read_text())
    assert manifest["sha256"] == hashlib.sha256(raw).hexdigest()
    assert manifest["records"] == len(expected)
    if file_format == "parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(folder / name)
        assert table.to_pylist() == as_read("crashes", expected)
        codec = pq.ParquetFile(folder / name).metadata.row_group(0).column(0).compression
        assert codec == ("GZIP" if compression else "SNAPPY")
        return
    text = (gzip.decompress(raw) if compression else raw).decode()
    if file_format == "jsonl":
        assert [json.loads(line) for line in text.splitlines()] == as_written("crashes", expected)
    else:
        import csv
        import io

        rows = list(csv.DictReader(io.StringIO(text)))
        assert list(rows[0]) == [*expected[0], "extra"]
        assert rows == [
            {k: "" if v is None else str(v) for k, v in r.items()} for r in as_written("crashes", expected)
        ]


def test_failure_on_page_3_leaves_no_partial_output(sandbox, dest):
    sandbox.set_rows("crashes", 1400)
    sandbox.add_fault(kind="status", status=400, offset=1000, times=None)
    _, states = extract(f"file://{dest}", resource="crashes")
    assert states == {("extract", -1): "failed"}
    folder = partition(dest, "crashes", "2026-03-07", "2026-03-07")
    leftovers = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    assert not [n for n in leftovers if n.startswith("data.") or n == "_manifest.json"], leftovers
    assert not [n for n in leftovers if n.startswith("_inprogress")], leftovers
    assert sandbox.stats()["requests_by_path"]["/cx/api/v1/crash/list"] == 3


def test_failed_rerun_keeps_the_previous_partition(sandbox, dest):
    extract(f"file://{dest}", resource="crashes")
    folder = partition(dest, "crashes", "2026-03-07", "2026-03-07")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    sandbox.add_fault(kind="status", status=403, times=None)
    _, states = extract(f"file://{dest}", resource="crashes")
    assert states == {("extract", -1): "failed"}
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_lookback_refreshes_each_previous_day_in_its_own_partition(sandbox, dest):
    dag_run = run_dag("it_lookback", LOGICAL, destination=f"file://{dest}")
    assert task_states(dag_run) == {("extract", -1): "success"}
    base = dest / "active_devices_by_date"
    assert sorted(p.name for p in base.iterdir()) == [
        "start=2026-03-05",
        "start=2026-03-06",
        "start=2026-03-07",
    ]
    for day in ("2026-03-05", "2026-03-06", "2026-03-07"):
        folder = partition(dest, "active_devices_by_date", day, day)
        assert read_jsonl(folder / "data.jsonl") == as_written(
            "active_devices_by_date", sandbox.expected("active_devices_by_date", **api_query(day, day))
        )
        assert json.loads((folder / "_manifest.json").read_text())["api_calls"] == 1, day
    assert sandbox.stats()["api_requests"] == 3
    result = xcom_return(dag_run, "extract")
    assert result["path"].endswith("start=2026-03-07/end=2026-03-07/data.jsonl")
    assert [r["path"].split("/")[-3] for r in result["lookback"]] == ["start=2026-03-05", "start=2026-03-06"]
    (event,) = asset_events(f"file://{dest}/active_devices_by_date")
    assert (event["extra"]["start"], event["extra"]["end"]) == ("2026-03-07", "2026-03-07")
    assert (event["extra"]["lookback_start"], event["extra"]["lookback_end"]) == ("2026-03-05", "2026-03-06")
    assert event["extra"]["lookback_records"] == sum(
        len(sandbox.expected("active_devices_by_date", **api_query(day, day)))
        for day in ("2026-03-05", "2026-03-06")
    )


def test_lookback_from_a_multi_day_window_and_the_calls_of_each_partition(sandbox, dest):
    sandbox.set_rows("crashes", 1100)  # every window: 3 pages, so 3 calls per partition
    conf = {"resource": "crashes", "window_start": "2026-03-04", "window_end": "2026-03-07"}
    dag_run = run_dag("it_lookback", LOGICAL, destination=f"file://{dest}", **conf)
    assert task_states(dag_run) == {("extract", -1): "success"}
    # The lookback days are the 2 days before the window's first day, not before its last.
    windows = [("2026-03-02", "2026-03-02"), ("2026-03-03", "2026-03-03"), ("2026-03-04", "2026-03-07")]
    assert sorted(p.name for p in (dest / "crashes").iterdir()) == [f"start={s}" for s, _ in windows]
    for start, end in windows:
        folder = partition(dest, "crashes", start, end)
        data = (folder / "data.jsonl").read_bytes()
        manifest = json.loads((folder / "_manifest.json").read_text())
        assert read_jsonl(folder / "data.jsonl") == as_written(
            "crashes", sandbox.expected("crashes", **api_query(start, end))
        )
        assert manifest["records"] == 1100 == len(data.splitlines())
        assert manifest["sha256"] == hashlib.sha256(data).hexdigest()
        assert manifest["api_calls"] == 3, (start, end)
    assert sandbox.stats()["requests_by_path"]["/cx/api/v1/crash/list"] == 9
    result = xcom_return(dag_run, "extract")
    assert result["path"].endswith("start=2026-03-04/end=2026-03-07/data.jsonl")
    assert [r["path"].split("/")[-3] for r in result["lookback"]] == ["start=2026-03-02", "start=2026-03-03"]


def test_templated_destination_emits_asset_events_through_an_alias(sandbox, dest):
    extract(f"file://{dest}", resource="screens")
    events = asset_events(f"file://{dest}/screens")
    assert len(events) == 1
    assert events[0]["extra"] == {
        "start": "2026-03-07",
        "end": "2026-03-07",
        "records": len(sandbox.expected("screens", **api_query("2026-03-07", "2026-03-07"))),
        "path": f"file://{dest}/screens/start=2026-03-07/end=2026-03-07/data.jsonl",
    }


def test_fixed_destination_updates_its_declared_asset(sandbox):
    dag_run = run_dag("it_fixed_asset", LOGICAL)
    assert task_states(dag_run) == {("extract", -1): "success"}
    events = asset_events("file:///tmp/zoho-it-fixed-asset/event_summary")
    assert events[-1]["uri"] == "file:///tmp/zoho-it-fixed-asset/event_summary"
    assert events[-1]["extra"]["start"] == "2026-03-07"


def test_mapped_extraction_emits_one_asset_event_per_resource(sandbox, dest):
    dag_run = run_dag("it_mapped", LOGICAL, destination=f"file://{dest}")
    assert set(task_states(dag_run).values()) == {"success"}
    uris = sorted(e["uri"] for e in asset_events(f"file://{dest}"))
    assert uris == [f"file://{dest}/{r}" for r in ("active_devices_by_date", "crashes", "screens")]
    assert sandbox.stats()["mints"] == 1  # three tasks, one token (shared through the Variable)


def test_bad_argument_fails_before_any_request(sandbox, dest):
    _, states = extract(f"file://{dest}", resource="crashes", file_format="xlsx")
    assert states == {("extract", -1): "failed"}
    assert sandbox.stats()["api_requests"] == 0
    assert sandbox.stats()["token_requests"] == 0


@pytest.mark.parametrize(
    "conf",
    [
        {"destination": "relative/lake"},
        {"destination": ""},
        {"api_params": {"platforms": "iOS"}},
        {"api_params": {"start_date": "2026-03-01"}},
    ],
    ids=["relative-destination", "empty-destination", "api-params-platforms", "api-params-start-date"],
)
def test_bad_destination_or_api_params_fail_before_any_request(sandbox, dest, tmp_path, monkeypatch, conf):
    monkeypatch.chdir(tmp_path)
    dag_run = run_dag("it_extract", LOGICAL, **{"destination": f"file://{dest}", **conf})
    assert task_states(dag_run) == {("extract", -1): "failed"}
    assert sandbox.stats()["api_requests"] == 0
    assert sandbox.stats()["token_requests"] == 0
    assert not dest.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing in the worker's current directory


def test_openlineage_complete_event_carries_the_datasets_and_facets(sandbox, dest, openlineage_events):
    from airflow_provider_zoho.hooks.apptics_resources import RESOURCES
    from airflow_provider_zoho.schema import file_columns

    dag_run = run_dag("it_lookback", LOGICAL, destination=f"file://{dest}")
    assert task_states(dag_run) == {("extract", -1): "success"}
    event = openlineage_events("it_lookback.extract")
    settings = sandbox.connection()["extra"]
    assert [(d["namespace"], d["name"]) for d in event["inputs"]] == [
        (f"zoho-apptics://com/{settings['portal_id']}", f"{settings['project_id']}/active_devices_by_date")
    ]
    (output,) = event["outputs"]
    assert (output["namespace"], output["name"]) == ("file", f"{dest}/active_devices_by_date")
    columns = file_columns(RESOURCES["active_devices_by_date"].dataset_columns())
    assert [(f["name"], f["type"], f["description"]) for f in output["facets"]["schema"]["fields"]] == [
        (column.name, column.type, column.description) for column in columns
    ]
    files = sorted((dest / "active_devices_by_date").rglob("data.jsonl"))
    assert len(files) == 3  # the window's day and 2 lookback days
    statistics = output["outputFacets"]["outputStatistics"]
    assert statistics["rowCount"] == sum(len(read_jsonl(file)) for file in files) > 0
    assert statistics["size"] == sum(file.stat().st_size for file in files)
    assert statistics["fileCount"] == 3
