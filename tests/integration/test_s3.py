"""
S3 destinations for real: partitions written through an AWS connection to a moto S3 server on loopback.

Same layout, manifest and atomicity as on local disk. Needs the ``s3`` extra
(apache-airflow-providers-amazon[s3fs]); skipped where it is not installed.
"""

from __future__ import annotations

import hashlib
import json

import pendulum
import pytest

pytest.importorskip(
    "airflow.providers.amazon", reason="the s3 extra (apache-airflow-providers-amazon) is not installed"
)
pytest.importorskip("s3fs", reason="the s3 extra (s3fs) is not installed")

from tests.integration.conftest import BUCKET, asset_events, run_dag, task_states, xcom_return  # noqa: E402
from tests.lake import as_written  # noqa: E402

LOGICAL = pendulum.datetime(2026, 3, 8, tz="UTC")
PREFIX = f"{BUCKET}/apptics"
DAY_QUERY = {"startdate": "07-03-2026", "enddate": "07-03-2026"}


def keys(client, prefix: str = "") -> list[str]:
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def extract(**conf):
    dag_run = run_dag("it_extract", LOGICAL, destination=f"s3://{PREFIX}", dest_conn_id="aws_local", **conf)
    return dag_run, task_states(dag_run)


def test_partition_manifest_and_asset_on_s3(sandbox, s3):
    dag_run, states = extract(resource="crashes", file_format="jsonl", compression="gzip")
    assert states == {("extract", -1): "success"}
    folder = "apptics/crashes/start=2026-03-07/end=2026-03-07"
    assert keys(s3) == [f"{folder}/_manifest.json", f"{folder}/data.jsonl.gz"]
    import gzip

    data = s3.get_object(Bucket=BUCKET, Key=f"{folder}/data.jsonl.gz")["Body"].read()
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=f"{folder}/_manifest.json")["Body"].read())
    expected = sandbox.expected("crashes", **DAY_QUERY)
    assert [json.loads(line) for line in gzip.decompress(data).splitlines()] == as_written(
        "crashes", expected
    )
    assert manifest["records"] == len(expected)
    assert manifest["bytes"] == len(data)
    assert manifest["sha256"] == hashlib.sha256(data).hexdigest()
    # XCom and the asset name the bucket without the connection id
    assert (
        xcom_return(dag_run, "extract")["path"]
        == f"s3://{PREFIX}/crashes/start=2026-03-07/end=2026-03-07/data.jsonl.gz"
    )
    assert asset_events(f"s3://{PREFIX}/crashes")[-1]["uri"] == f"s3://{PREFIX}/crashes"


def test_rerun_on_s3_is_byte_identical(sandbox, s3):
    extract(resource="event_counts_by_date", file_format="parquet")
    key = "apptics/event_counts_by_date/start=2026-03-07/end=2026-03-07/data.parquet"
    first = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    extract(resource="event_counts_by_date", file_format="parquet")
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == first
    assert len(keys(s3)) == 2


def test_failed_run_on_s3_leaves_nothing_and_keeps_the_previous_partition(sandbox, s3):
    sandbox.set_rows("crashes", 1400)
    sandbox.add_fault(kind="status", status=400, offset=1000, times=None)
    _, states = extract(resource="crashes")
    assert states == {("extract", -1): "failed"}
    assert keys(s3) == []  # no data.*, no manifest, no staging object left
    sandbox.clear_faults()
    extract(resource="crashes")
    before = {k: s3.get_object(Bucket=BUCKET, Key=k)["Body"].read() for k in keys(s3)}
    assert len(before) == 2
    sandbox.add_fault(kind="status", status=400, offset=1000, times=None)
    _, states = extract(resource="crashes")
    assert states == {("extract", -1): "failed"}
    assert {k: s3.get_object(Bucket=BUCKET, Key=k)["Body"].read() for k in keys(s3)} == before


def test_two_processes_writing_one_window_on_s3(sandbox, s3):
    from tests.integration.test_concurrent_writers import FOLDER, Storage, two_writers_of_one_window

    prefix = f"apptics/{FOLDER}/"

    def names() -> list[str]:
        listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
        return sorted(item["Key"][len(prefix) :] for item in listed)

    def read(name: str) -> bytes:
        return s3.get_object(Bucket=BUCKET, Key=prefix + name)["Body"].read()

    two_writers_of_one_window(sandbox, f"s3://{PREFIX}", "aws_local", Storage(names=names, read=read))


def test_openlineage_names_the_s3_output_by_bucket_and_key(sandbox, s3, openlineage_events):
    dag_run, states = extract(resource="crashes", file_format="parquet")
    assert states == {("extract", -1): "success"}
    event = openlineage_events("it_extract.extract")
    (output,) = event["outputs"]
    assert (output["namespace"], output["name"]) == (f"s3://{BUCKET}", "apptics/crashes")
    data = s3.get_object(Bucket=BUCKET, Key="apptics/crashes/start=2026-03-07/end=2026-03-07/data.parquet")
    statistics = output["outputFacets"]["outputStatistics"]
    assert (statistics["rowCount"], statistics["size"], statistics["fileCount"]) == (
        len(sandbox.expected("crashes", **DAY_QUERY)),
        data["ContentLength"],
        1,
    )
