from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import requests

from airflow_provider_zoho.sandbox.pytest_plugin import TEST_MAX_REQUESTS

ROOT = Path(__file__).resolve().parents[3]


def test_function_fixture_is_running(zoho_sandbox):
    assert requests.get(f"{zoho_sandbox.url}/__sandbox__/health", timeout=5).status_code == 200


@pytest.mark.zoho_sandbox(seed=42, mint_limit=3)
def test_marker_options(zoho_sandbox):
    assert zoho_sandbox.seed == 42
    assert zoho_sandbox.authority.mint_limit == 3


def test_fixtures_have_a_request_budget(zoho_sandbox, zoho_sandbox_session):
    assert zoho_sandbox.budget()["max_requests"] == TEST_MAX_REQUESTS
    assert zoho_sandbox_session.budget() == {"max_requests": TEST_MAX_REQUESTS, "used": 0, "refused": 0}


@pytest.mark.zoho_sandbox(max_requests=None)
def test_the_marker_lifts_the_budget(zoho_sandbox):
    assert zoho_sandbox.budget()["max_requests"] is None


def test_plugin_in_a_fresh_project(tmp_path):
    """The documented ``pytest_plugins`` line gives both fixtures, stops sandboxes, registers the marker."""
    (tmp_path / "conftest.py").write_text(
        'pytest_plugins = ["airflow_provider_zoho.sandbox.pytest_plugin"]\n'
    )
    (tmp_path / "test_use.py").write_text(
        textwrap.dedent("""
        import pytest
        import requests

        URLS = []

        @pytest.mark.zoho_sandbox(seed=5)
        def test_one(zoho_sandbox):
            URLS.append(zoho_sandbox.url)
            assert zoho_sandbox.seed == 5
            assert requests.get(zoho_sandbox.url + "/__sandbox__/health", timeout=5).ok

        def test_two(zoho_sandbox, zoho_sandbox_session):
            assert zoho_sandbox.url != zoho_sandbox_session.url
            with pytest.raises(requests.ConnectionError):  # test_one's sandbox was stopped
                requests.get(URLS[0] + "/__sandbox__/health", timeout=5)

        def test_three(zoho_sandbox_session):
            zoho_sandbox_session.reset()
            assert zoho_sandbox_session.stats()["mints"] == 0

        @pytest.mark.zoho_sandbox(max_requests=2)
        def test_budget(zoho_sandbox):
            url = zoho_sandbox.url + "/cx/api/v1/userprojects"
            answers = [requests.get(url, timeout=5) for _ in range(3)]
            assert [a.status_code for a in answers] == [401, 401, 400]
            assert answers[2].json()["error"]["code"] == "SANDBOX_REQUEST_BUDGET_SPENT"

        def test_session_spends(zoho_sandbox_session):
            zoho_sandbox_session.set_max_requests(1)
            requests.get(zoho_sandbox_session.url + "/cx/api/v1/userprojects", timeout=5)
            assert zoho_sandbox_session.budget()["used"] == 1

        def test_session_budget_is_full_again(zoho_sandbox_session):
            from airflow_provider_zoho.sandbox.pytest_plugin import TEST_MAX_REQUESTS

            assert zoho_sandbox_session.budget() == {
                "max_requests": TEST_MAX_REQUESTS, "used": 0, "refused": 0
            }
    """)
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = --strict-markers -p no:cacheprovider\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed" in result.stdout
