"""``auth check``: the hook's connection test, the connection found where Airflow finds it."""

from __future__ import annotations

import json
import subprocess

from tests.integration.cli.conftest import CONN_ENV, apptics_options, cli, command_of, exchange


def test_show_secrets_command_runs_and_auth_check_finds_it_in_the_metadata_db(airflow_db, zoho):
    result = exchange(
        airflow_db,
        zoho,
        zoho.issue_grant_code(),
        "--show-secrets",
        "--conn-id",
        "zoho_in_db",
        *apptics_options(zoho),
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
