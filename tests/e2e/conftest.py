"""
End-to-end fixtures: a real Airflow 3 deployment in a temporary home, talking to the Zoho sandbox.

The api-server, the scheduler (LocalExecutor on SQLite), the dag-processor and the triggerer run as
separate processes, each in its own process group and writing its own log file under
``<home>/component-logs``. The sandbox runs in the pytest process on 127.0.0.1, and the components reach
it through ``AIRFLOW_CONN_ZOHO_DEFAULT``. The pytest process itself never imports Airflow: it drives the
deployment over the REST API, and reads the metadata DB through a short subprocess when it must.
"""

from __future__ import annotations

import base64
import configparser
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
import pytest
import requests

from airflow_provider_zoho.sandbox import ZohoSandbox

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

DAGS_FOLDER = Path(__file__).parent / "dags"
SANDBOX_SEED = 23
TAILS_HEADER = "===== component log"
TERMINAL_TI_STATES = {"success", "failed", "upstream_failed", "skipped", "removed"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no output)"
    return "\n".join(text.splitlines()[-lines:])


class AirflowDeployment:
    """
    Start, watch and stop the four Airflow components of a throwaway deployment.

    :param home: an empty directory that becomes ``AIRFLOW_HOME``.
    :param env: extra environment variables for every component (e.g. ``AIRFLOW_CONN_*``).
    :param parallelism: ``[core] parallelism``, the LocalExecutor's number of task slots.
    """

    components = ("api-server", "scheduler", "dag-processor", "triggerer")

    def __init__(self, home: Path, env: dict[str, str], *, parallelism: int = 40) -> None:
        self.home = home
        self.logs = home / "logs"
        self.component_logs = home / "component-logs"
        self.component_logs.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.http = requests.Session()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "_AIRFLOW"))}
        self.env.update(env, AIRFLOW_HOME=str(home), PYTHONUNBUFFERED="1")
        self._write_config(parallelism)

    # -- configuration ----------------------------------------------------------------------------------

    def _write_config(self, parallelism: int) -> None:
        config = configparser.ConfigParser(interpolation=None)
        config.read_dict(
            {
                "core": {
                    "dags_folder": str(DAGS_FOLDER),
                    "executor": "LocalExecutor",
                    "parallelism": str(parallelism),
                    "max_active_tasks_per_dag": str(parallelism),
                    "load_examples": "False",
                    "fernet_key": base64.urlsafe_b64encode(os.urandom(32)).decode(),
                    "execution_api_server_url": f"{self.base_url}/execution/",
                    "simple_auth_manager_all_admins": "True",
                },
                # No connection pool: under a 33-task burst on 2 cores the default pool (5 + 10 overflow)
                # of the api-server ran dry and Execution API calls timed out.
                "database": {
                    "sql_alchemy_conn": f"sqlite:///{self.home / 'airflow.db'}",
                    "sql_alchemy_pool_enabled": "False",
                },
                "api": {"host": "127.0.0.1", "port": str(self.port), "workers": "1"},
                "api_auth": {"jwt_secret": secrets.token_urlsafe(32)},
                "logging": {
                    "base_log_folder": str(self.logs),
                    "logging_level": "INFO",
                    "worker_log_server_port": str(free_port()),
                    "trigger_log_server_port": str(free_port()),
                },
                "scheduler": {"max_tis_per_query": "64", "scheduler_heartbeat_sec": "2"},
                # 33 tasks share one api-server worker on 2 cores: give Execution API calls time.
                "workers": {"execution_api_timeout": "30"},
            }
        )
        with (self.home / "airflow.cfg").open("w") as handle:
            config.write(handle)

    def _airflow(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "airflow", *args]

    # -- lifecycle --------------------------------------------------------------------------------------

    def migrate(self, timeout: float = 180) -> None:
        log = self.component_logs / "db-migrate.log"
        with log.open("wb") as out:
            result = subprocess.run(
                self._airflow("db", "migrate"),
                env=self.env,
                cwd=self.home,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        if result.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed ({result.returncode}):\n{tail(log, 40)}")

    def start(self) -> None:
        """Start every component in its own process group (``start_new_session``)."""
        commands = {
            "api-server": ("api-server", "--host", "127.0.0.1", "--port", str(self.port)),
            "scheduler": ("scheduler",),
            "dag-processor": ("dag-processor",),
            "triggerer": ("triggerer",),
        }
        for name in self.components:
            with (self.component_logs / f"{name}.log").open("ab") as out:
                self.processes[name] = subprocess.Popen(
                    self._airflow(*commands[name]),
                    env=self.env,
                    cwd=self.home,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )

    def stop(self, grace: float = 20) -> None:
        """
        Stop everything this deployment started, even after a failure.

        SIGTERM to each running component's process group, SIGKILL to the groups still running after
        ``grace`` seconds, then SIGKILL by pid to what is left: task processes put themselves in process
        groups of their own, so the group signals miss them. They are found as descendants of the
        components and, for orphans, by this deployment's unique ``AIRFLOW_HOME`` in their environment
        (psutil refuses to signal a pid that was reused meanwhile).
        """
        leftovers = self._descendants()
        running = [proc for proc in self.processes.values() if proc.poll() is None]
        for proc in running:
            _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in running:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=10)
        leftovers |= self._descendants() | self._processes_of_this_home()
        for process in leftovers:
            try:
                process.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(list(leftovers), timeout=10)
        self.http.close()

    def _descendants(self) -> set[psutil.Process]:
        found: set[psutil.Process] = set()
        for proc in self.processes.values():
            try:
                found.update(psutil.Process(proc.pid).children(recursive=True))
            except psutil.Error:
                pass
        return found

    def _processes_of_this_home(self) -> set[psutil.Process]:
        found = set()
        for process in psutil.process_iter(["uids"]):
            uids = process.info["uids"]
            if process.pid == os.getpid() or uids is None or uids.real != os.getuid():
                continue
            try:
                if process.environ().get("AIRFLOW_HOME") == str(self.home):
                    found.add(process)
            except psutil.Error:
                pass
        return found

    def component_log(self, name: str) -> str:
        """The whole output of one component (``api-server``, ``scheduler``...)."""
        return (self.component_logs / f"{name}.log").read_text(errors="replace")

    def tails(self, lines: int = 40) -> str:
        return "\n\n".join(
            f"{TAILS_HEADER} {log.name} (last {lines} lines) =====\n{tail(log, lines)}"
            for log in sorted(self.component_logs.glob("*.log"))
        )

    # -- waiting ----------------------------------------------------------------------------------------

    def poll(self, what: str, check: Callable[[], Any], timeout: float, interval: float = 0.5) -> Any:
        """
        Call ``check`` until it returns something truthy (and return that), for at most ``timeout`` s.

        Fails at once, with the components' log tails, when a component exits.
        """
        deadline = time.monotonic() + timeout
        while True:
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"airflow {name} exited with {proc.returncode} while waiting for {what}.\n"
                        f"{self.tails()}"
                    )
            result = check()
            if result:
                return result
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}.\n{self.tails()}")
            time.sleep(interval)

    def wait_healthy(self, timeout: float = 120) -> dict[str, Any]:
        """Wait until /api/v2/monitor/health reports every component healthy."""

        def healthy() -> dict[str, Any] | None:
            try:
                health = self.http.get(f"{self.base_url}/api/v2/monitor/health", timeout=5).json()
            except (requests.RequestException, ValueError):
                return None
            parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
            ok = all((health.get(part) or {}).get("status") == "healthy" for part in parts)
            return health if ok else None

        return self.poll("every component to report healthy", healthy, timeout)

    def wait_for_dag(self, dag_id: str, timeout: float = 120) -> dict[str, Any]:
        """Wait until the dag-processor has parsed ``dag_id``; fail early on an import error."""

        def parsed() -> dict[str, Any] | None:
            errors = self.api("GET", "/api/v2/importErrors").json().get("import_errors")
            if errors:
                raise AssertionError(f"DAG import errors: {json.dumps(errors, indent=2)}")
            response = self.api("GET", f"/api/v2/dags/{dag_id}", ok=(200, 404))
            return response.json() if response.status_code == 200 else None

        return self.poll(f"DAG {dag_id} to be parsed", parsed, timeout)

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> dict[str, Any]:
        def finished() -> dict[str, Any] | None:
            run = self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}").json()
            return run if run["state"] in ("success", "failed") else None

        return self.poll(f"DAG run {run_id} to finish", finished, timeout, interval=1)

    def wait_for_task_state(
        self, dag_id: str, run_id: str, task_id: str, state: str, timeout: float
    ) -> dict[str, Any]:
        """Wait until an unmapped task instance is in ``state``; fail early if it ends in another."""

        def reached() -> dict[str, Any] | None:
            ti = self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}").json()
            if ti["state"] != state and ti["state"] in TERMINAL_TI_STATES:
                raise AssertionError(f"{task_id} ended {ti['state']} instead of reaching {state}")
            return ti if ti["state"] == state else None

        return self.poll(f"{task_id} to be {state}", reached, timeout)

    # -- REST and metadata DB ---------------------------------------------------------------------------

    def api(
        self, method: str, path: str, *, ok: tuple[int, ...] = (200,), **kwargs: Any
    ) -> requests.Response:
        response = self.http.request(method, f"{self.base_url}{path}", timeout=30, **kwargs)
        if response.status_code not in ok:
            raise AssertionError(f"{method} {path} -> HTTP {response.status_code}: {response.text[:2000]}")
        return response

    def trigger(self, dag_id: str, run_id: str, conf: dict[str, Any]) -> dict[str, Any]:
        """Unpause ``dag_id`` and trigger a run of it through the REST API."""
        self.api("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False})
        body = {"dag_run_id": run_id, "logical_date": None, "conf": conf}
        return self.api("POST", f"/api/v2/dags/{dag_id}/dagRuns", json=body).json()

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances"
        body = self.api("GET", path, params={"limit": 1000}).json()
        assert body["total_entries"] == len(body["task_instances"]), "task instance listing was paged"
        return body["task_instances"]

    def read_variable(self, key: str) -> dict[str, Any] | None:
        """
        The Variable ``key`` straight from the metadata DB, outside any task (core ORM, subprocess).

        :return: ``{"value": decrypted value, "is_encrypted": bool, "stored": the column as stored}``.
        """
        code = (
            "import json, sys\n"
            "from airflow.models.variable import Variable\n"
            "from airflow.utils.session import create_session\n"
            "with create_session() as session:\n"
            "    row = session.query(Variable).filter(Variable.key == sys.argv[1]).one_or_none()\n"
            "    found = None if row is None else "
            '{"value": row.val, "is_encrypted": row.is_encrypted, "stored": row._val}\n'
            "print('VARIABLE=' + json.dumps(found))\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", code, key],
            env={**self.env, "_AIRFLOW_PROCESS_CONTEXT": "server"},
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        lines = [line for line in result.stdout.splitlines() if line.startswith("VARIABLE=")]
        if result.returncode != 0 or not lines:
            raise RuntimeError(f"reading Variable {key} failed:\n{result.stdout}\n{result.stderr}")
        return json.loads(lines[-1].removeprefix("VARIABLE="))


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


# -- fixtures ----------------------------------------------------------------------------------------------


@pytest.fixture
def zoho_sandbox_e2e() -> Iterator[ZohoSandbox]:
    """A sandbox with secrets unique to this run, so finding one in a log cannot be a coincidence."""
    with ZohoSandbox(
        seed=SANDBOX_SEED,
        client_secret=f"e2e-client-secret-{secrets.token_hex(12)}",
        refresh_token=f"1000.e2e-refresh.{secrets.token_hex(16)}",
    ) as sandbox:
        yield sandbox


@pytest.fixture
def issued_access_tokens(zoho_sandbox_e2e: ZohoSandbox, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every access token the sandbox hands out from now on (it reports only counts by itself)."""
    tokens: list[str] = []
    authority = zoho_sandbox_e2e.authority
    answer = authority.token

    def recording_token(params: Any) -> Any:
        result = answer(params)
        if isinstance(result.body, dict) and result.body.get("access_token"):
            tokens.append(str(result.body["access_token"]))
        return result

    monkeypatch.setattr(authority, "token", recording_token)
    return tokens


@pytest.fixture
def airflow_deployment(zoho_sandbox_e2e: ZohoSandbox) -> Iterator[AirflowDeployment]:
    """A running deployment whose ``zoho_default`` connection points at the sandbox; always cleaned up."""
    home = Path(tempfile.mkdtemp(prefix="zoho-e2e-airflow-"))
    deployment = AirflowDeployment(home, zoho_sandbox_e2e.connection_env())
    try:
        deployment.migrate()
        deployment.start()
        deployment.wait_healthy()
        yield deployment
    finally:
        deployment.stop()
        if os.environ.get("ZOHO_E2E_KEEP_HOME") == "1":  # for debugging: keep logs and DB
            print(f"\nkept the e2e Airflow home: {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    """On failure, attach the tail of every component's log to the report (before the home is removed)."""
    report = yield
    deployment = getattr(item, "funcargs", {}).get("airflow_deployment")
    if report.failed and report.when == "call" and isinstance(deployment, AirflowDeployment):
        if TAILS_HEADER not in str(report.longrepr):  # a timeout message already carries them
            report.sections.append(("Airflow component logs", deployment.tails()))
    return report
