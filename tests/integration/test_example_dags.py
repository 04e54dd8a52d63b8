from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lake import file_rows

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "example_dags"


def test_example_dags_import_cleanly_without_network():
    code = (
        "import sys, os; from airflow.models.dagbag import DagBag; "
        f"bag = DagBag({str(EXAMPLES)!r}); "
        "print(sorted(bag.dag_ids)); print(bag.import_errors); sys.exit(1 if bag.import_errors else 0)"
    )
    env = {
        **os.environ,
        "no_proxy": "*",
        "ZOHO_APPTICS_DESTINATION": "file:///nonexistent",
        "ZOHO_DESK_DESTINATION": "file:///nonexistent",
    }
    env.pop("AIRFLOW_CONN_ZOHO_DEFAULT", None)  # parsing must not need the connection
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert (
        "['example_zoho_apptics_backfill', 'example_zoho_apptics_daily', 'example_zoho_desk_tickets']"
        in out.stdout
    )


def run_demo(tmp_path, *arguments: str) -> subprocess.CompletedProcess:
    """``scripts/demo.py`` (what ``make demo`` runs) in a fresh process, with its home under ``tmp_path``."""
    env = {**os.environ, "ZOHO_DEMO_DIR": str(tmp_path)}
    for key in [k for k in env if k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_HOME"))]:
        env.pop(key)  # the demo prepares its own Airflow home, as on a fresh machine
    command = [sys.executable, str(ROOT / "scripts" / "demo.py"), *arguments]
    out = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out


def checked_manifests(lake) -> list[dict]:
    """Every manifest under ``lake``, each checked against its data file."""
    manifests = []
    for path in sorted(lake.glob("**/_manifest.json")):
        manifest = json.loads(path.read_text())
        data = (path.parent / manifest["file"]).read_bytes()
        assert manifest["records"] > 0, path
        assert hashlib.sha256(data).hexdigest() == manifest["sha256"], path
        manifests.append({**manifest, "dir": path.parent})
    return manifests


def records_of(manifest: dict) -> list[dict]:
    """The records of a JSON Lines partition, gzipped or not."""
    data = (manifest["dir"] / manifest["file"]).read_bytes()
    if manifest["file"].endswith(".gz"):
        data = gzip.decompress(data)
    return [json.loads(line) for line in data.splitlines()]


def test_make_demo_runs_the_daily_apptics_and_hourly_desk_examples_end_to_end(tmp_path):
    from airflow_provider_zoho.hooks.desk_resources import RESOURCES as DESK
    from airflow_provider_zoho.sandbox.desk_expected import DeskExpected
    from airflow_provider_zoho.sandbox.desk_model import DeskModel

    out = run_demo(tmp_path)
    manifests = checked_manifests(tmp_path / "lake")
    desk = sorted((m for m in manifests if m["resource"] == "tickets"), key=lambda m: m["start"])
    by_dataset: dict[tuple[str, str], list[dict]] = {}
    for manifest in manifests:
        if manifest["resource"] == "tickets":
            continue
        identity = "/".join(f"{name}={value}" for name, value in manifest["identity"].items())
        by_dataset.setdefault((manifest["resource"], identity), []).append(manifest)
    assert sorted(by_dataset) == [
        ("active_devices", ""),
        ("active_devices", "group=country+date"),  # the second grouping, beside the default one
        ("active_devices_by_date", ""),
        ("api_stats", ""),
        ("crash_counts_by_date", ""),
        ("crash_device_models", ""),  # every crash issue of each day
        ("crash_os_versions", ""),
        ("crashes", ""),
        ("event_counts_by_date", ""),
        ("event_summary", ""),
        ("screens", ""),
    ]
    for dataset, partitions in by_dataset.items():  # the run's day and two lookback days each
        days = [(m["start"], m["end"]) for m in partitions]
        assert sorted(days) == [(day, day) for day in ("2026-03-05", "2026-03-06", "2026-03-07")], dataset
    by_country = by_dataset[("active_devices", "group=country+date")][0]
    assert by_country["dir"].parent.parent.name == "group=country+date"
    assert list(records_of(by_country)[0]) == ["date", "country", "count", "extra"]
    # The per-crash partitions: one list call plus one call per crash issue of the day.
    for manifest in by_dataset[("crash_os_versions", "")]:
        crashes = next(m for m in by_dataset[("crashes", "")] if m["start"] == manifest["start"])
        assert manifest["api_calls"] == 1 + crashes["records"]
        assert len({record["crash_id"] for record in records_of(manifest)}) == crashes["records"]
    # Desk: the hour before the run of 2026-03-08T00:00Z and two lookback hours, each exactly the oracle's.
    assert [(m["start"], m["end"]) for m in desk] == [
        ("2026-03-07T210000Z", "2026-03-07T220000Z"),
        ("2026-03-07T220000Z", "2026-03-07T230000Z"),
        ("2026-03-07T230000Z", "2026-03-08T000000Z"),
    ]
    oracle = DeskExpected(DeskModel(seed=1))  # the demo's sandbox seed
    for manifest in desk:
        window = (_instant(manifest["start"]), _instant(manifest["end"]))
        assert records_of(manifest) == file_rows(
            DESK["tickets"].columns, oracle.records("tickets", (), *window)
        )
    for manifest in manifests:
        assert f"{manifest['records']:>6} records" in out.stdout
    assert f"{len(manifests)} partitions" in out.stdout
    assert len(manifests) == 11 * 3 + 3
    assert "3 Desk calls and 1 access-token mint(s)" in out.stdout  # one token for both products


def _instant(key: str) -> str:
    """A partition key ``2026-03-07T210000Z`` as ISO-8601: ``2026-03-07T21:00:00Z``."""
    return f"{key[:13]}:{key[13:15]}:{key[15:17]}Z"


def test_backfill_example_runs_against_the_sandbox(tmp_path):
    pytest.importorskip("pyarrow", reason="the backfill example writes Parquet (the parquet extra)")
    out = run_demo(tmp_path, "--dag-id", "example_zoho_apptics_backfill", "--logical-date", "2026-02-11")
    manifests = {m["resource"]: m for m in checked_manifests(tmp_path / "lake")}
    assert sorted(manifests) == ["crash_counts_by_date", "event_counts_by_country", "screens"]
    # Each run extracts exactly one day, the one that just finished: the manual run of 02-11 that
    # dag.test makes has a data interval ending at 02-11 on both Airflow versions.
    for manifest in manifests.values():
        assert (manifest["start"], manifest["end"]) == ("2026-02-10", "2026-02-10")
    assert manifests["crash_counts_by_date"]["file"] == "data.csv"
    assert manifests["event_counts_by_country"]["file"] == "data.parquet"
    assert manifests["event_counts_by_country"]["compression"] == "gzip"
    first_screen = json.loads((manifests["screens"]["dir"] / "data.jsonl").read_text().splitlines()[0])
    assert list(first_screen) == ["date", "country", "count", "extra"]  # the group="date,country" snippet
    assert "3 partitions" in out.stdout
