"""
Integration tests: the Zoho sandbox over loopback, a real Airflow metadata DB and ``dag.test()``.

One temporary Airflow home per pytest session (SQLite, migrated once); the DAGs under ``dags/`` are its
DAG bundle. Tasks run in-process, so Variables, XComs and asset events go through Airflow's real code.
"""

from __future__ import annotations

import json
import os
import tempfile
from functools import partial
from pathlib import Path

_HOME = Path(tempfile.mkdtemp(prefix="zoho-it-airflow-"))
os.environ.pop("_AIRFLOW_SKIP_DB_TESTS", None)
os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_HOME / 'airflow.db'}"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(__file__).parent / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "INFO"

import pytest  # noqa: E402

from airflow_provider_zoho.hooks.token_cache import TokenCache, variable_key  # noqa: E402
from airflow_provider_zoho.sandbox import ZohoSandbox  # noqa: E402
from airflow_provider_zoho.sandbox.pytest_plugin import TEST_MAX_REQUESTS  # noqa: E402
from airflow_provider_zoho.version_compat import AIRFLOW_V_3_0_PLUS  # noqa: E402

SEED = 11
BUCKET = "zoho-lake"


@pytest.fixture(scope="session", autouse=True)
def airflow_db():
    """A migrated metadata DB for the whole session."""
    from cryptography.fernet import Fernet

    os.environ["AIRFLOW__CORE__FERNET_KEY"] = Fernet.generate_key().decode()
    from airflow.utils import db

    db.initdb()
    return _HOME


@pytest.fixture(scope="session")
def sandbox_session():
    with ZohoSandbox(seed=SEED, max_requests=TEST_MAX_REQUESTS) as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(sandbox_session, monkeypatch):
    """
    The session's sandbox, reset, with ``zoho_default`` pointing at it and a cold token cache.

    Reset restores its request budget (``TEST_MAX_REQUESTS`` Zoho requests, about 25 times what the largest
    test makes), so a client that pages or retries without end fails in seconds; a test that needs more
    calls ``sandbox.set_max_requests(n)``.
    """
    sandbox_session.reset()
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_DEFAULT", json.dumps(sandbox_session.connection()))
    forget_tokens()
    yield sandbox_session
    forget_tokens()


@pytest.fixture(scope="session")
def moto_server():
    """An S3 server (moto) on loopback, for the tests that need the ``s3`` extra."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(moto_server, monkeypatch):
    """A fresh bucket ``BUCKET`` and the ``aws_local`` connection pointing at moto."""
    import boto3

    credentials = {
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
        "region_name": "us-east-1",
    }
    client = boto3.client("s3", endpoint_url=moto_server, **credentials)
    existing = [b["Name"] for b in client.list_buckets()["Buckets"]]
    if BUCKET in existing:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            for item in page.get("Contents", []):
                client.delete_object(Bucket=BUCKET, Key=item["Key"])
    else:
        client.create_bucket(Bucket=BUCKET)
    connection = {
        "conn_type": "aws",
        "login": credentials["aws_access_key_id"],
        "password": credentials["aws_secret_access_key"],
        "extra": {"endpoint_url": moto_server, "region_name": credentials["region_name"]},
    }
    monkeypatch.setenv("AIRFLOW_CONN_AWS_LOCAL", json.dumps(connection))
    return client


@pytest.fixture
def openlineage_events(tmp_path):
    """
    The openlineage provider's real listener, on for this test only, writing to a file transport.

    OpenLineage stays off elsewhere (no transport is configured), so other tests pay nothing for it. Yields
    a function that returns the one ``COMPLETE`` event written for a job (``<dag_id>.<task_id>``). The
    listener emits in a thread (``execute_in_thread``) rather than in a fork of the test process.
    """
    pytest.importorskip("airflow.providers.openlineage", reason="the openlineage provider is not installed")
    from airflow.providers.openlineage import conf
    from airflow.providers.openlineage.plugins.listener import OpenLineageListener

    if AIRFLOW_V_3_0_PLUS:
        from airflow.sdk.listener import get_listener_manager
    else:
        from airflow.listeners.listener import get_listener_manager

    path = tmp_path / "openlineage-events.jsonl"
    transport = {"type": "file", "log_file_path": str(path), "append": True}
    settings = {"TRANSPORT": json.dumps(transport), "EXECUTE_IN_THREAD": "True", "DISABLED": "False"}
    manager = get_listener_manager()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in settings.items():
            patch.setenv(f"AIRFLOW__OPENLINEAGE__{name}", value)
        _clear_caches(conf)  # the provider caches its settings
        assert not conf.is_disabled()
        listener = OpenLineageListener()
        manager.add_listener(listener)
        try:
            yield partial(_complete_event, path)
        finally:
            manager.pm.unregister(listener)
    _clear_caches(conf)


def _complete_event(path: Path, job: str) -> dict:
    events = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    (event,) = [e for e in events if e["eventType"] == "COMPLETE" and e["job"]["name"] == job]
    return event


def _clear_caches(module) -> None:
    for value in vars(module).values():
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()


def forget_tokens(conn_id: str = "zoho_default") -> None:
    """Cold cache: no memoized token in this process and no token Variable in the metadata DB."""
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session

    TokenCache.clear_memo()
    with create_session() as session:
        session.query(Variable).filter(Variable.key == variable_key(conn_id)).delete()


@pytest.fixture
def fast_retries(monkeypatch):
    """Exponential back-off in milliseconds instead of seconds (Retry-After is still obeyed)."""
    from airflow_provider_zoho.hooks.zoho import ZohoOAuthHook

    monkeypatch.setattr(ZohoOAuthHook, "retry_base_seconds", 0.01)
    monkeypatch.setattr(ZohoOAuthHook, "retry_cap_seconds", 0.05)


def get_dag(dag_id: str):
    from airflow.models.dagbag import DagBag

    bag = DagBag(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])  # examples are off (AIRFLOW__CORE__LOAD_EXAMPLES)
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(dag_id)


def run_dag(dag_id: str, logical_date, **conf):
    """Run a DAG of ``dags/`` once with ``dag.test()``; return the DagRun."""
    dag = get_dag(dag_id)
    if AIRFLOW_V_3_0_PLUS:
        return dag.test(logical_date=logical_date, run_conf=conf or None)
    # Airflow 2's dag.test() does not register the DAG's assets and aliases (its DAG processor would).
    dag.sync_to_db()
    return dag.test(execution_date=logical_date, run_conf=conf or None)


def task_states(dag_run) -> dict[tuple[str, int], str]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(TaskInstance.task_id, TaskInstance.map_index, TaskInstance.state).filter(
            TaskInstance.dag_id == dag_run.dag_id, TaskInstance.run_id == dag_run.run_id
        )
        return {
            (task_id, map_index): str(getattr(state, "value", state)) for task_id, map_index, state in rows
        }


def xcom_return(dag_run, task_id: str, map_index: int = -1):
    """The return value of a task instance of ``dag_run``."""
    from airflow.utils.session import create_session

    if AIRFLOW_V_3_0_PLUS:
        from airflow.models.xcom import XComModel

        with create_session() as session:
            row = (
                session.query(XComModel.value)
                .filter(
                    XComModel.dag_id == dag_run.dag_id,
                    XComModel.run_id == dag_run.run_id,
                    XComModel.task_id == task_id,
                    XComModel.map_index == map_index,
                    XComModel.key == "return_value",
                )
                .one()
            )
            value = row[0]
            return json.loads(value) if isinstance(value, (str, bytes)) else value
    from airflow.models.xcom import XCom

    return XCom.get_one(
        run_id=dag_run.run_id, dag_id=dag_run.dag_id, task_id=task_id, map_index=map_index, key="return_value"
    )


def asset_events(uri_prefix: str = "") -> list[dict]:
    """Asset (dataset) events recorded in the metadata DB, oldest first."""
    from airflow.utils.session import create_session
    from sqlalchemy import text

    table, asset_table, asset_id = (
        ("asset_event", "asset", "asset_id")
        if AIRFLOW_V_3_0_PLUS
        else ("dataset_event", "dataset", "dataset_id")
    )
    query = text(
        f"SELECT a.uri, e.extra, e.source_task_id, e.source_map_index FROM {table} e "
        f"JOIN {asset_table} a ON a.id = e.{asset_id} WHERE a.uri LIKE :prefix ORDER BY e.id"
    )
    with create_session() as session:
        rows = session.execute(query, {"prefix": f"{uri_prefix}%"}).fetchall()
    return [
        {
            "uri": uri,
            "extra": json.loads(extra) if isinstance(extra, str) else extra,
            "task_id": t,
            "map_index": m,
        }
        for uri, extra, t, m in rows
    ]
