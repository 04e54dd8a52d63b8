"""
Dataset identity and the per-crash fan-out, through ``dag.test()`` against the sandbox.

Tasks that ask for different data (filters, a grouping, a crash id) write partitions of their own, side by
side; a per-crash resource without ``crash_id`` extracts every crash issue of its window.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.integration.conftest import asset_events, run_dag, task_states
from tests.integration.dags.zoho_it import CRASH_IDS
from tests.integration.test_operators_apptics import LOGICAL, api_query, partition, read_jsonl
from tests.lake import as_written

DAY = ("2026-03-07", "2026-03-07")  # the data interval of LOGICAL


@pytest.fixture
def dest(tmp_path):
    return tmp_path / "lake"


def extract(dest, **conf) -> dict:
    dag_run = run_dag("it_extract", LOGICAL, destination=f"file://{dest}", **conf)
    return task_states(dag_run)


def snapshot(folder) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_runs_with_other_filters_keep_their_own_partitions(sandbox, dest):
    assert extract(dest, resource="crashes", platforms=["iOS"]) == {("extract", -1): "success"}
    assert extract(dest, resource="crashes", platforms=["Android"]) == {("extract", -1): "success"}
    assert extract(dest, resource="crashes") == {("extract", -1): "success"}
    for platforms, query in (
        (["iOS"], {"platform": "iOS"}),
        (["Android"], {"platform": "Android"}),
        (None, {}),
    ):
        identity = {"platforms": platforms[0]} if platforms else {}
        folder = partition(dest, "crashes", *DAY, **identity)
        expected = sandbox.expected("crashes", **api_query(*DAY, **query))
        assert expected, "no data: the test would prove nothing"
        assert read_jsonl(folder / "data.jsonl") == as_written("crashes", expected), platforms
        manifest = json.loads((folder / "_manifest.json").read_text())
        assert manifest["identity"] == identity
    assert sorted(p.name for p in (dest / "crashes").iterdir()) == [
        "platforms=Android",
        "platforms=iOS",
        "start=2026-03-07",
    ]
    extras = [event["extra"] for event in asset_events(f"file://{dest}/crashes")]
    assert [extra.get("platforms") for extra in extras] == ["iOS", "Android", None]
    assert extras[0]["path"] == f"file://{partition(dest, 'crashes', *DAY, platforms='iOS')}/data.jsonl"


def test_runs_with_other_groupings_keep_their_own_partitions(sandbox, dest):
    for group in ("date,platform", "country", "platform,date"):
        conf = {"resource": "active_devices", "api_params": {"group": group}}
        assert extract(dest, **conf) == {("extract", -1): "success"}, group
    # date,platform is the default grouping: its partition is the plain one, for either order (the rows
    # and the files' columns are the same); another set of entities has a partition of its own.
    for group, identity in (("date,platform", {}), ("country", {"group": "country"})):
        folder = partition(dest, "active_devices", *DAY, **identity)
        expected = sandbox.expected("active_devices", **api_query(*DAY, group=group))
        assert expected, group
        assert read_jsonl(folder / "data.jsonl") == as_written("active_devices", expected, group), group
    assert sorted(path.name for path in (dest / "active_devices").iterdir()) == [
        "group=country",
        "start=2026-03-07",
    ]
    first = read_jsonl(partition(dest, "active_devices", *DAY) / "data.jsonl")[0]
    assert list(first) == ["date", "platform", "count", "extra"]  # the declared order, whatever was asked


def test_a_per_crash_resource_mapped_over_crash_ids(sandbox, dest):
    dag_run = run_dag("it_per_crash_mapped", LOGICAL, destination=f"file://{dest}")
    assert task_states(dag_run) == {("extract", 0): "success", ("extract", 1): "success"}
    for crash_id in CRASH_IDS:
        folder = partition(dest, "crash_os_versions", *DAY, crash_id=crash_id)
        expected = sandbox.expected("crash_os_versions", **api_query(*DAY, crash_id=crash_id))
        assert expected, crash_id
        assert read_jsonl(folder / "data.jsonl") == as_written("crash_os_versions", expected)
        assert json.loads((folder / "_manifest.json").read_text())["identity"] == {"crash_id": crash_id}


def test_duckdb_reads_the_identity_levels_as_columns(sandbox, dest):
    duckdb = pytest.importorskip("duckdb")
    for platform in ("iOS", "Android"):
        conf = {"resource": "active_devices", "api_params": {"group": "country"}, "platforms": [platform]}
        assert extract(dest, **conf) == {("extract", -1): "success"}
    table = duckdb.sql(
        f'SELECT country, count, "group", platforms, start FROM read_json(\'{dest}/active_devices/'
        "group=*/platforms=*/start=*/end=*/data.jsonl', hive_partitioning=true) "
        "ORDER BY platforms, country"
    )
    expected = [
        (row["country"], row["count"], "country", platform, "2026-03-07")
        for platform in ("Android", "iOS")
        for row in sandbox.expected("active_devices", **api_query(*DAY, group="country", platform=platform))
    ]
    assert [(*row[:4], str(row[4])) for row in table.fetchall()] == expected


def test_identity_levels_never_hide_a_record_field(sandbox, dest):
    """A level is named after the argument (platforms=, app_versions=), never after a record's field."""
    duckdb = pytest.importorskip("duckdb")
    versions = sorted({row["app_version"] for row in sandbox.expected("crashes", **api_query(*DAY))})[:2]
    assert extract(dest, resource="crash_counts_by_date", platforms=["iOS", "Android"]) == {
        ("extract", -1): "success"
    }
    assert extract(dest, resource="crashes", app_versions=versions) == {("extract", -1): "success"}
    for resource, field, query in (
        ("crash_counts_by_date", "platform", {"platform": "iOS,Android"}),
        ("crashes", "app_version", {"appversion": ",".join(versions)}),
    ):
        read = duckdb.sql(
            f"SELECT {field} FROM read_json('{dest}/{resource}/*/start=*/end=*/data.jsonl', "
            "hive_partitioning=true)"
        ).fetchall()
        expected = [row[field] for row in sandbox.expected(resource, **api_query(*DAY, **query))]
        assert len(set(expected)) > 1, resource  # several values: a level would have flattened them
        assert [value for (value,) in read] == expected, resource


def test_a_per_crash_resource_without_crash_id_extracts_every_crash_of_the_day(sandbox, dest):
    extract(dest, resource="crash_device_models")
    folder = partition(dest, "crash_device_models", *DAY)
    crash_ids = [row["crash_id"] for row in sandbox.expected("crashes", **api_query(*DAY))]
    expected = [
        record
        for crash_id in crash_ids
        for record in sandbox.expected("crash_device_models", **api_query(*DAY, crash_id=crash_id))
    ]
    assert len(crash_ids) > 4
    assert expected
    first = (folder / "data.jsonl").read_bytes()
    assert read_jsonl(folder / "data.jsonl") == as_written("crash_device_models", expected)
    stats = sandbox.stats()
    assert stats["api_requests"] == 1 + len(crash_ids)
    assert json.loads((folder / "_manifest.json").read_text())["api_calls"] == 1 + len(crash_ids)
    extract(dest, resource="crash_device_models")
    assert (folder / "data.jsonl").read_bytes() == first  # the list's order, whatever the answers' order


def test_fan_out_over_more_than_one_page_of_crash_issues(sandbox, dest, fast_retries):
    sandbox.set_rows("crashes", 1200)  # three pages of the list; every id answers on /crash/{id}/...
    sandbox.set_max_requests(3000)
    assert extract(dest, resource="crash_os_versions") == {("extract", -1): "success"}
    folder = partition(dest, "crash_os_versions", *DAY)
    crash_ids = [row["crash_id"] for row in sandbox.expected("crashes", **api_query(*DAY))]
    assert len(set(crash_ids)) == 1200
    expected = [
        record
        for crash_id in crash_ids
        for record in sandbox.expected("crash_os_versions", **api_query(*DAY, crash_id=crash_id))
    ]
    data = (folder / "data.jsonl").read_bytes()
    # every crash's records, once, in list order
    assert read_jsonl(folder / "data.jsonl") == as_written("crash_os_versions", expected)
    assert {record["crash_id"] for record in expected} == set(crash_ids)
    by_path = sandbox.stats()["requests_by_path"]
    assert by_path.pop("/cx/api/v1/crash/list") == 3
    assert by_path.pop("/oauth/v2/token") == 1
    assert by_path == {f"/cx/api/v1/crash/{crash_id}/osversion": 1 for crash_id in crash_ids}
    manifest = json.loads((folder / "_manifest.json").read_text())
    assert (manifest["api_calls"], manifest["records"], manifest["sha256"]) == (
        3 + 1200,
        len(expected),
        hashlib.sha256(data).hexdigest(),
    )

    # One issue that always fails: the task fails, and the partition of the first run stays as it was.
    before = snapshot(folder)
    sandbox.add_fault(
        kind="status", status=500, path=f"/cx/api/v1/crash/{crash_ids[700]}/osversion", times=None
    )
    assert extract(dest, resource="crash_os_versions") == {("extract", -1): "failed"}
    assert snapshot(folder) == before
    rules = sandbox.faults()
    assert rules[0]["fired"] == 6  # every attempt of the failing issue's call
