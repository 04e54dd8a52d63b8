"""``token status``: the cache as tasks leave it in a real metadata DB, never the token."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.integration.cli.conftest import CONN_ENV, DAGS, TOKEN_SHAPE, cli

RUN_EXTRACT = """
import sys
import pendulum
from airflow.models.dagbag import DagBag
from airflow_provider_zoho.version_compat import AIRFLOW_V_3_0_PLUS

dag = DagBag(sys.argv[1]).get_dag("it_extract")  # examples are off (AIRFLOW__CORE__LOAD_EXAMPLES)
conf = {"resource": "crash_summary", "destination": sys.argv[2]}
when = pendulum.datetime(2026, 1, 2, tz="UTC")
if AIRFLOW_V_3_0_PLUS:
    run = dag.test(logical_date=when, run_conf=conf)
else:
    dag.sync_to_db()
    run = dag.test(execution_date=when, run_conf=conf)
print(getattr(run.state, "value", run.state))
"""


def test_token_status_before_and_after_a_token_exists(airflow_db, zoho, tmp_path):
    from airflow_provider_zoho.version_compat import AIRFLOW_V_3_0_PLUS

    env = {**airflow_db, CONN_ENV: json.dumps(zoho.connection())}
    before = cli(env, "token", "status")
    assert before.returncode == 0, before.stderr
    assert "metadata database: not set" in before.stdout
    assert "no cache yet" in before.stdout
    assert f"accounts URL  {zoho.url}" in before.stdout

    # Outside a task only Airflow 2 can write Variables, so only there does `auth check` fill the cache.
    assert cli(env, "auth", "check").returncode == 0
    after_check = json.loads(cli(env, "token", "status", "--json").stdout)
    assert after_check["state"] == ("absent" if AIRFLOW_V_3_0_PLUS else "valid")

    # A real task run stores the token in the Variable on both versions.
    task = subprocess.run(
        [sys.executable, "-c", RUN_EXTRACT, str(DAGS), tmp_path.as_uri()],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert task.stdout.strip().endswith("success"), task.stdout[-2000:] + task.stderr[-2000:]
    assert zoho.stats()["mints"] == (2 if AIRFLOW_V_3_0_PLUS else 1)

    after = cli(env, "token", "status")
    assert after.returncode == 0, after.stderr
    assert "metadata database: found" in after.stdout
    assert "a usable token is cached (value not shown)" in after.stdout
    assert "api_domain    https://www.zohoapis.com" in after.stdout
    assert "lease         none" in after.stdout
    assert not TOKEN_SHAPE.search(after.stdout + after.stderr)
    status = json.loads(cli(env, "token", "status", "--json").stdout)
    assert status["found_in"] == "metadata database"
    assert 3000 < status["seconds_left"] <= 3600
    assert status["connection"] == {
        "found_in": f"environment variable {CONN_ENV}",
        "error": None,
        "data_center": "com",
        "accounts_url": zoho.url,
    }


def test_token_status_shows_a_corrupt_cache_honestly(airflow_db, zoho):
    env = {**airflow_db, CONN_ENV: json.dumps(zoho.connection())}
    corrupt = json.dumps({"access_token": "1000.x.y", "expires_at": "inf", "lease": {"until": "zz"}})
    code = (
        "import sys\nfrom airflow.models.variable import Variable\nVariable.set(sys.argv[1], sys.argv[2])\n"
    )
    subprocess.run(
        [sys.executable, "-c", code, "zoho_oauth_token__zoho_default", corrupt],
        env=env,
        check=True,
        capture_output=True,
        timeout=180,
    )
    status = cli(env, "token", "status")
    assert status.returncode == 0, status.stderr
    assert "Traceback" not in status.stderr
    assert "the cached token is not valid" in status.stdout
    assert "expires_at is not a finite number of epoch seconds" in status.stdout
    assert "lease         unreadable" in status.stdout
    assert "nobody is minting" not in status.stdout
    assert "1000.x.y" not in status.stdout
