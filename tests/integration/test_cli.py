"""
``python -m airflow_provider_zoho`` as users run it: real subprocesses against the sandbox over loopback.

Every Airflow interaction happens in a subprocess with its own Airflow home and SQLite metadata DB (set up
once for this module), so these tests need nothing from the pytest process's Airflow state and also pass
when collected together with the unit tests.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_zoho.sandbox import ZohoSandbox

DAGS = Path(__file__).parent / "dags"
TOKEN_SHAPE = re.compile(r"1000\.[0-9a-f]{32}\.[0-9a-f]{32}")
CONN_ENV = "AIRFLOW_CONN_ZOHO_DEFAULT"

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


@pytest.fixture(scope="module")
def airflow_db(tmp_path_factory):
    """
    A migrated metadata DB of this module's own, used only by subprocesses.

    Overrides the integration suite's session fixture of the same name, which migrates a DB inside the
    pytest process: nothing here touches Airflow in-process.
    """
    from cryptography.fernet import Fernet

    home = tmp_path_factory.mktemp("cli-airflow-home")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "_AIRFLOW"))}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        AIRFLOW__CORE__FERNET_KEY=Fernet.generate_key().decode(),
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    subprocess.run(
        [sys.executable, "-c", "from airflow.utils import db; db.initdb()"],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return env


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


def test_exchange_then_reuse_of_the_same_code(airflow_db, zoho):
    code = zoho.issue_grant_code()
    first = exchange(
        airflow_db,
        zoho,
        code,
        "--conn-id",
        "zoho_new",
        "--portal-id",
        zoho.portal_id,
        "--project-id",
        zoho.project_id,
        "--apptics-url",
        zoho.url,
    )
    assert first.returncode == 0, first.stderr
    assert first.stderr == ""
    lines = first.stdout.splitlines()
    label = lines.index(next(line for line in lines if line.startswith("Refresh token")))
    refresh_token = lines[label + 1].strip()
    # The refresh token is the only token in the output (the access token Zoho issued is not), once.
    assert TOKEN_SHAPE.findall(first.stdout) == [refresh_token]
    assert zoho.client_secret not in first.stdout
    assert zoho.stats()["refresh_tokens_issued"] == 1
    command = command_of(first.stdout)
    assert "--conn-password '<client secret>'" in command

    # The printed command, with the placeholders filled in, makes a working connection.
    conn = connection_from_command(command, password=zoho.client_secret, refresh_token=refresh_token)
    check = cli(airflow_db, "auth", "check", "--conn-id", "zoho_new", AIRFLOW_CONN_ZOHO_NEW=conn)
    assert check.returncode == 0, check.stderr
    assert f"portal {zoho.portal_id} and project {zoho.project_id} are readable" in check.stdout
    assert zoho.stats()["mints_by_refresh_token"] == {"issued-1": 2}  # exchange + check, new token used

    again = exchange(airflow_db, zoho, code)
    assert again.returncode == 1
    assert again.stdout == ""
    assert again.stderr.startswith("error: Zoho rejected the grant code: it expired")
    assert "already used" in again.stderr
    assert "Traceback" not in again.stderr
    assert zoho.stats()["token_errors"] == {"invalid_code": 1}


def test_expired_code(airflow_db, zoho):
    code = zoho.issue_grant_code(expires_in=0)
    result = exchange(airflow_db, zoho, code)
    assert result.returncode == 1
    assert "3 minutes" in result.stderr
    assert "Zoho error 'invalid_code'" in result.stderr


def test_wrong_data_center_names_it_and_leaves_the_code_usable(airflow_db, zoho):
    code = zoho.issue_grant_code()
    with ZohoSandbox(client_id="1000.OTHERDCCLIENT", client_secret="other-dc-secret") as other_dc:
        other_url = other_dc.url
        wrong = exchange(airflow_db, zoho, code, "--data-center", "in", "--accounts-url", other_url)
        assert other_dc.stats()["token_errors"] == {"invalid_client": 1}
    assert wrong.returncode == 1
    assert wrong.stdout == ""
    assert f"Zoho Accounts at {other_url} (data center 'in') does not know this client" in wrong.stderr
    assert "wrong data center" in wrong.stderr
    assert "Traceback" not in wrong.stderr

    right = exchange(airflow_db, zoho, code)
    assert right.returncode == 0, right.stderr
    assert zoho.stats()["refresh_tokens_issued"] == 1


def test_show_secrets_command_runs_and_auth_check_finds_it_in_the_metadata_db(airflow_db, zoho):
    result = exchange(
        airflow_db,
        zoho,
        zoho.issue_grant_code(),
        "--show-secrets",
        "--conn-id",
        "zoho_in_db",
        "--portal-id",
        zoho.portal_id,
        "--project-id",
        zoho.project_id,
        "--apptics-url",
        zoho.url,
    )
    assert result.returncode == 0, result.stderr
    added = subprocess.run(
        ["bash", "-c", command_of(result.stdout)], env=airflow_db, capture_output=True, text=True, timeout=180
    )
    assert added.returncode == 0, added.stdout + added.stderr

    check = cli(airflow_db, "auth", "check", "--conn-id", "zoho_in_db")
    assert check.returncode == 0, check.stderr
    assert "Checking Zoho connection 'zoho_in_db' (from metadata database; data center com" in check.stdout
    assert "are readable" in check.stdout


def test_auth_check_failures(airflow_db, zoho):
    bad = {**zoho.connection(), "password": "not-the-secret"}
    refused = cli(airflow_db, "auth", "check", "--conn-id", "zoho_bad", AIRFLOW_CONN_ZOHO_BAD=json.dumps(bad))
    assert refused.returncode == 1
    assert f"error: Zoho Accounts at {zoho.url} (data center 'com') does not know" in refused.stderr
    assert "Traceback" not in refused.stderr

    missing = cli(airflow_db, "auth", "check", "--conn-id", "nowhere")
    assert missing.returncode == 2
    assert "connection 'nowhere' not found" in missing.stderr
    assert "environment variable AIRFLOW_CONN_NOWHERE: not set; metadata database: not set" in missing.stderr
    assert zoho.stats()["token_requests"] == 1


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


def test_auth_check_scrubs_secrets_that_zoho_echoes(airflow_db, zoho):
    echo = f"refresh_token {zoho.refresh_token} does not match client_secret {zoho.client_secret}"
    zoho.add_fault(
        kind="status",
        path="/oauth/v2/token",
        status=400,
        body={"error": "invalid_request", "error_description": echo},
    )
    env = {**airflow_db, CONN_ENV: json.dumps(zoho.connection())}
    check = cli(env, "auth", "check")
    assert check.returncode == 1
    assert "refresh_token *** does not match client_secret ***" in check.stderr
    assert zoho.refresh_token not in check.stdout + check.stderr
    assert zoho.client_secret not in check.stdout + check.stderr
