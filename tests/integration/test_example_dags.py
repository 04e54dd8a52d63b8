from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

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


def test_make_demo_runs_the_daily_example_end_to_end(tmp_path):
    env = {**os.environ, "ZOHO_DEMO_DIR": str(tmp_path)}
    for key in [k for k in env if k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_HOME"))]:
        env.pop(key)  # the demo prepares its own Airflow home, as on a fresh machine
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    manifests = sorted((tmp_path / "lake").glob("*/start=*/end=*/_manifest.json"))
    resources = {m.parts[-4] for m in manifests}
    assert resources == {
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
    for path in manifests:
        manifest = json.loads(path.read_text())
        data = (path.parent / manifest["file"]).read_bytes()
        assert manifest["records"] > 0, path
        assert hashlib.sha256(data).hexdigest() == manifest["sha256"], path
        assert f"{manifest['records']:>6} records" in out.stdout
    assert "24 partitions" in out.stdout
    assert "1 access-token mint(s)" in out.stdout
