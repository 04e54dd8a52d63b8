"""``auth check``: the hook's connection test on a connection found the way Airflow finds it."""

from __future__ import annotations

import os

from airflow_provider_zoho.cli import lookup
from tests.unit.cli.conftest import ACCESS, BrokenBackend, run
from tests.unit.conftest import APPTICS, TOKEN_URL, connection_json


class TestCheck:
    def test_success(self, capsys, requests_mock, zoho_conn):
        requests_mock.post(TOKEN_URL, json={"access_token": ACCESS, "expires_in": 3600})
        projects = [{"zsoid": "766556673", "projects": [{"projectId": "782000000004007"}]}]
        requests_mock.get(f"{APPTICS}/cx/api/v1/userprojects", json=projects)
        code, out, err = run(capsys, "auth", "check")
        assert code == 0, err
        assert "from environment variable AIRFLOW_CONN_ZOHO_DEFAULT" in out
        assert "portal 766556673 and project 782000000004007 are readable" in out
        assert requests_mock.request_history[-1].headers["Authorization"] == f"Zoho-oauthtoken {ACCESS}"
        assert ACCESS not in out + err
        assert os.environ["_AIRFLOW_PROCESS_CONTEXT"] == "server"  # reads the metadata DB like Airflow's CLI

    def test_zoho_refusal_exits_1_with_the_hooks_message(self, capsys, requests_mock, zoho_conn):
        requests_mock.post(TOKEN_URL, json={"error": "invalid_client"})
        code, out, err = run(capsys, "auth", "check", "--conn-id", "zoho_default")
        assert code == 1
        assert "Checking Zoho connection 'zoho_default'" in out
        last = err.strip().splitlines()[-1]
        assert last.startswith("error: Zoho Accounts at https://accounts.example.test (data center 'com')")
        assert "Traceback" not in err

    def test_zoho_text_is_scrubbed_through_the_hooks_mapping(self, capsys, requests_mock, zoho_conn):
        from tests.unit.conftest import CLIENT_SECRET, REFRESH_TOKEN

        echo = f"refresh_token {REFRESH_TOKEN} is not valid for client secret {CLIENT_SECRET}"
        body = {"error": "invalid_request", "error_description": echo}
        requests_mock.post(TOKEN_URL, status_code=400, json=body)
        code, out, err = run(capsys, "auth", "check")
        assert code == 1
        assert "refresh_token *** is not valid for client secret ***" in err
        assert REFRESH_TOKEN not in out + err
        assert CLIENT_SECRET not in out + err

    def test_unreadable_project_exits_1(self, capsys, requests_mock, zoho_conn):
        requests_mock.post(TOKEN_URL, json={"access_token": ACCESS, "expires_in": 3600})
        requests_mock.get(f"{APPTICS}/cx/api/v1/userprojects", json=[])
        code, _, err = run(capsys, "auth", "check")
        assert code == 1
        assert "is not among the projects" in err

    def test_missing_connection_exits_2_and_says_where_it_looked(self, capsys, monkeypatch, requests_mock):
        from airflow.secrets.environment_variables import EnvironmentVariablesBackend

        monkeypatch.setattr(
            lookup, "secrets_backends", lambda: [EnvironmentVariablesBackend(), BrokenBackend()]
        )
        code, out, err = run(capsys, "auth", "check", "--conn-id", "nope")
        assert code == 2
        assert "connection 'nope' not found" in err
        assert "environment variable AIRFLOW_CONN_NOPE: not set" in err
        assert "secrets backend BrokenBackend: unavailable (RuntimeError: vault sealed)" in err
        assert requests_mock.call_count == 0

    def test_invalid_connection_exits_2_naming_the_field(self, capsys, monkeypatch, requests_mock):
        monkeypatch.setenv("AIRFLOW_CONN_ZOHO_DEFAULT", connection_json(extra={"data_center": "mars"}))
        code, _, err = run(capsys, "auth", "check")
        assert code == 2
        assert "unknown data_center 'mars'" in err
        assert "(connection from environment variable AIRFLOW_CONN_ZOHO_DEFAULT)" in err
        assert requests_mock.call_count == 0
