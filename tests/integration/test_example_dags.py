from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "example_dags"


def test_example_dags_import_cleanly_without_network():
    code = (
        "import sys, os; from airflow.models.dagbag import DagBag; "
        f"bag = DagBag({str(EXAMPLES)!r}); "
        "print(sorted(bag.dag_ids)); print(bag.import_errors); sys.exit(1 if bag.import_errors else 0)"
    )
    env = {**os.environ, "no_proxy": "*", "ZOHO_APPTICS_DESTINATION": "file:///nonexistent"}
    env.pop("AIRFLOW_CONN_ZOHO_DEFAULT", None)  # parsing must not need the connection
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "['example_zoho_apptics_backfill', 'example_zoho_apptics_daily']" in out.stdout


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


def test_make_demo_runs_the_daily_example_end_to_end(tmp_path):
    out = run_demo(tmp_path)
    manifests = checked_manifests(tmp_path / "lake")
    assert {m["resource"] for m in manifests} == {
        "crashes",
        "crash_counts_by_date",
        "active_devices_by_date",
        "active_devices",
        "event_summary",
        "event_counts_by_date",
        "screens",
        "api_stats",
    }
    assert len(manifests) == 8 * 3  # the run's day and two lookback days per resource
    for manifest in manifests:
        assert f"{manifest['records']:>6} records" in out.stdout
    assert "24 partitions" in out.stdout
    assert "1 access-token mint(s)" in out.stdout


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
