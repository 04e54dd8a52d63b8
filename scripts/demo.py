"""
``make demo``: the provider's main job, end to end, on the bundled Zoho sandbox.

1. starts the sandbox (Zoho Accounts, Apptics and Desk) on 127.0.0.1;
2. prepares a local Airflow home in ``.demo/airflow``: metadata DB migrated, the ``zoho_default`` connection
   stored in it and pointing at the sandbox, ``example_dags/`` as the DAG folder;
3. runs, through real Airflow (``dag.test()``) and on that one connection, ``example_zoho_apptics_daily``
   for the run of 2026-03-08 (the day 2026-03-07 plus two lookback days), then
   ``example_zoho_desk_tickets`` for the run of 2026-03-08T00:00Z (the hour before it plus two lookback
   hours);
4. prints where the partitions are, how many records each holds, and what the sandbox saw: Apptics calls,
   Desk calls and token mints (one for both products: they share the connection's token).

Nothing leaves the machine: every request goes to the sandbox on loopback. ``--dag-id`` and
``--logical-date`` run one other example DAG or day instead (the tests run every example this way).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# ``ZOHO_DEMO_DIR`` moves the demo's Airflow home and lake elsewhere (the test of this script uses it).
DEMO = Path(os.environ.get("ZOHO_DEMO_DIR", ROOT / ".demo")).resolve()
HOME = DEMO / "airflow"
LAKE = DEMO / "lake"
LOGICAL_DATE = "2026-03-08"
#: What ``make demo`` runs, in order: (example DAG, logical date).
RUNS = (("example_zoho_apptics_daily", LOGICAL_DATE), ("example_zoho_desk_tickets", LOGICAL_DATE))


def prepare_environment() -> None:
    from cryptography.fernet import Fernet

    shutil.rmtree(DEMO, ignore_errors=True)
    HOME.mkdir(parents=True)
    os.environ.update(
        {
            "AIRFLOW_HOME": str(HOME),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{HOME / 'airflow.db'}",
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "example_dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),  # the token Variable is encrypted
            "ZOHO_APPTICS_DESTINATION": LAKE.as_uri(),
            "ZOHO_DESK_DESTINATION": LAKE.as_uri(),
        }
    )


def store_connection(sandbox) -> None:
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    spec = sandbox.connection()
    with create_session() as session:
        session.add(
            Connection(
                conn_id="zoho_default",
                conn_type=spec["conn_type"],
                login=spec["login"],
                password=spec["password"],
                extra=json.dumps(spec["extra"]),
            )
        )


def run_dag(dag_id: str, logical_date: str):
    import pendulum
    from airflow.models.dagbag import DagBag

    from airflow_provider_zoho.version_compat import AIRFLOW_V_3_0_PLUS

    bag = DagBag(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        raise SystemExit(f"example DAGs failed to import: {bag.import_errors}")
    dag = bag.get_dag(dag_id)
    if dag is None:
        raise SystemExit(f"no DAG {dag_id!r} in example_dags/ (there are: {', '.join(sorted(bag.dag_ids))})")
    when = pendulum.parse(logical_date)
    if AIRFLOW_V_3_0_PLUS:
        return dag.test(logical_date=when)
    dag.sync_to_db()
    return dag.test(execution_date=when)


def report(dag_runs: list, sandbox, seconds: float) -> int:
    manifests = sorted(LAKE.glob("**/_manifest.json"))
    for dag_run in dag_runs:
        print(f"\nDAG {dag_run.dag_id}, run of {dag_run.logical_date}: {_state(dag_run)}")
    print(f"Partitions under {LAKE} (after {seconds:.0f} s):")
    width = max((len(str(m.parent.relative_to(LAKE))) for m in manifests), default=0)
    total = 0
    for path in manifests:
        manifest = json.loads(path.read_text())
        total += manifest["records"]
        data = path.parent.relative_to(LAKE) / manifest["file"]
        print(
            f"  {str(data):<{width + 15}} {manifest['records']:>6} records  sha256 {manifest['sha256'][:12]}"
        )
    stats = sandbox.stats()
    print(
        f"{len(manifests)} partitions, {total} records; the sandbox saw {stats['api_requests']} Apptics "
        f"calls, {stats['desk_requests']} Desk calls and {stats['mints']} access-token mint(s)."
    )
    print(f"Airflow home: {HOME} (e.g. AIRFLOW_HOME={HOME} airflow connections get zoho_default)")
    succeeded = all(_state(dag_run) == "success" for dag_run in dag_runs)
    return 0 if succeeded and manifests else 1


def _state(dag_run) -> str:
    return str(getattr(dag_run.state, "value", dag_run.state))


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the example DAGs on the bundled Zoho sandbox.")
    parser.add_argument(
        "--dag-id", help=f"run this example DAG only (default: {' then '.join(dag for dag, _ in RUNS)})"
    )
    parser.add_argument(
        "--logical-date", default=LOGICAL_DATE, help=f"with --dag-id (default: {LOGICAL_DATE})"
    )
    args = parser.parse_args()
    runs = [(args.dag_id, args.logical_date)] if args.dag_id else list(RUNS)
    prepare_environment()
    from airflow_provider_zoho.sandbox import ZohoSandbox

    with ZohoSandbox(seed=1) as sandbox:
        print(f"Zoho sandbox listening on {sandbox.url}")
        from airflow.utils import db

        print(f"Preparing the Airflow home {HOME} (migrating the metadata DB)...")
        db.initdb()
        store_connection(sandbox)
        started = time.monotonic()
        dag_runs = []
        for dag_id, logical_date in runs:
            print(f"Running {dag_id} for {logical_date} through Airflow...")
            dag_runs.append(run_dag(dag_id, logical_date))
        return report(dag_runs, sandbox, time.monotonic() - started)


if __name__ == "__main__":
    sys.exit(main())
