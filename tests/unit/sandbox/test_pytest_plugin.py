from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[3]


def test_function_fixture_is_running(zoho_sandbox):
    assert requests.get(f"{zoho_sandbox.url}/__sandbox__/health", timeout=5).status_code == 200


@pytest.mark.zoho_sandbox(seed=42, mint_limit=3)
def test_marker_options(zoho_sandbox):
    assert zoho_sandbox.seed == 42
    assert zoho_sandbox.authority.mint_limit == 3


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
    assert "3 passed" in result.stdout
