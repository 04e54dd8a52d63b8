"""
``python -m airflow_provider_zoho`` as users run it: real subprocesses against the sandbox over loopback.

Every Airflow interaction happens in a subprocess with its own Airflow home and SQLite metadata DB (one per
test module, copied from one migrated for the package), so these tests need nothing from the pytest
process's Airflow state and also pass when collected together with the unit tests.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_zoho.sandbox import ZohoSandbox

DAGS = Path(__file__).parents[1] / "dags"
TOKEN_SHAPE = re.compile(r"1000\.[0-9a-f]{32}\.[0-9a-f]{32}")
CONN_ENV = "AIRFLOW_CONN_ZOHO_DEFAULT"


def airflow_env(home: Path, fernet_key: str) -> dict[str, str]:
    """The environment of a subprocess using the Airflow home ``home`` (SQLite DB ``home/airflow.db``)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "_AIRFLOW"))}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        AIRFLOW__CORE__FERNET_KEY=fernet_key,
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    return env


@pytest.fixture(scope="package")
def migrated_db(tmp_path_factory) -> tuple[Path, str]:
    """A metadata DB migrated once for the package (it takes seconds), and its Fernet key."""
    from cryptography.fernet import Fernet

    home, fernet_key = tmp_path_factory.mktemp("cli-airflow-template"), Fernet.generate_key().decode()
    subprocess.run(
        [sys.executable, "-c", "from airflow.utils import db; db.initdb()"],
        env=airflow_env(home, fernet_key),
        check=True,
        capture_output=True,
        timeout=300,
    )
    return home / "airflow.db", fernet_key


@pytest.fixture(scope="module")
def airflow_db(migrated_db, tmp_path_factory):
    """
    The environment of an Airflow home with a copy of the migrated DB, for each test module (Variables one
    module's tests leave behind never reach another's), used only by subprocesses.

    Overrides the integration suite's session fixture of the same name, which migrates a DB inside the
    pytest process: nothing here touches Airflow in-process.
    """
    database, fernet_key = migrated_db
    home = tmp_path_factory.mktemp("cli-airflow-home")
    shutil.copyfile(database, home / "airflow.db")
    return airflow_env(home, fernet_key)


@pytest.fixture
def zoho(airflow_db):
    """A sandbox playing the data center where the user's Self Client is registered."""
    with ZohoSandbox(seed=5) as sandbox:
        yield sandbox


def cli(env: dict[str, str], *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "airflow_provider_zoho", *args],
        env={**env, **extra_env},
        capture_output=True,
        text=True,
        timeout=180,
    )


def exchange(
    env: dict[str, str], sandbox: ZohoSandbox, code: str, *args: str
) -> subprocess.CompletedProcess[str]:
    return cli(
        env,
        "auth",
        "exchange",
        "--code",
        code,
        "--client-id",
        sandbox.client_id,
        "--client-secret",
        sandbox.client_secret,
        "--accounts-url",
        sandbox.url,
        *args,
    )


def apptics_options(sandbox: ZohoSandbox) -> list[str]:
    """The ``auth exchange`` options that make the printed connection read the sandbox's Apptics."""
    return [
        "--portal-id",
        sandbox.portal_id,
        "--project-id",
        sandbox.project_id,
        "--apptics-url",
        sandbox.url,
    ]


def command_of(stdout: str) -> str:
    start = stdout.index("airflow connections add")
    return stdout[start : stdout.index("\n\n", start)]


def connection_from_command(command: str, **replacements: str) -> str:
    """The connection JSON the printed command describes, placeholders replaced (as the user would)."""
    argv = shlex.split(command.replace("\\\n", ""))  # a shell drops backslash-newline
    options = dict(zip(argv[4::2], argv[5::2], strict=True))
    extra = json.loads(options["--conn-extra"])
    extra["refresh_token"] = replacements.get("refresh_token", extra["refresh_token"])
    password = replacements.get("password", options["--conn-password"])
    conn = {"conn_type": options["--conn-type"], "login": options["--conn-login"], "password": password}
    return json.dumps({**conn, "extra": extra})
