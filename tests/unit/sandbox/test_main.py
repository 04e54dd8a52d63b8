from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from airflow_provider_zoho.sandbox.__main__ import build_parser

ROOT = Path(__file__).resolve().parents[3]


def start_cli(*args: str) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_zoho.sandbox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    return process, url


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_cli_prints_the_url_first_and_serves_until_signalled(stop_signal):
    process, url = start_cli(
        "--port",
        "0",
        "--seed",
        "3",
        "--mint-limit",
        "1",
        "--legacy-expiry",
        "--throttle-status",
        "200",
        "--token-ttl",
        "60",
    )
    try:
        assert url.startswith("http://127.0.0.1:"), url
        data = {
            "grant_type": "refresh_token",
            "client_id": "1000.SANDBOXCLIENTID",
            "client_secret": "sandbox-client-secret",
            "refresh_token": "1000.sandbox.refresh-token",
        }
        body = requests.post(f"{url}/oauth/v2/token", data=data, timeout=5).json()
        assert (body["expires_in"], body["expires_in_sec"]) == (60_000, 60)
        throttled = requests.post(f"{url}/oauth/v2/token", data=data, timeout=5)
        assert (throttled.status_code, throttled.json()["error"]) == (200, "Access Denied")
    finally:
        process.send_signal(stop_signal)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "AIRFLOW_CONN_ZOHO_DEFAULT" in err


def test_cli_options_reach_the_sandbox():
    process, url = start_cli(
        "--client-id",
        "1000.X",
        "--client-secret",
        "y",
        "--refresh-token",
        "1000.z",
        "--portal-id",
        "11",
        "--project-id",
        "22",
        "--max-live-tokens",
        "1",
        "--mint-window",
        "5",
        "--desk-org-id",
        "77",
    )
    try:
        connection = requests.get(f"{url}/__sandbox__/connection", timeout=5).json()
        assert connection["login"] == "1000.X"
        assert connection["extra"]["portal_id"] == "11"
        assert connection["extra"]["project_id"] == "22"
        assert connection["extra"]["desk_org_id"] == "77"
    finally:
        process.terminate()
        process.communicate(timeout=10)
    assert process.returncode == 0


def test_cli_warns_that_a_non_loopback_host_exposes_unauthenticated_control_endpoints():
    # 192.0.2.1 (TEST-NET-1) is no address of this machine: the warning comes first, then binding fails,
    # so nothing is ever exposed by this test.
    process, url = start_cli("--host", "192.0.2.1")
    out, err = process.communicate(timeout=10)
    assert url == ""
    assert process.returncode == 2
    assert "zoho-sandbox WARNING:" in err
    assert "no authentication" in err
    assert "/__sandbox__/" in err
    assert "cannot serve on 192.0.2.1:0" in err
    assert "Traceback" not in err


def test_cli_on_loopback_does_not_warn_and_takes_a_budget():
    process, url = start_cli("--max-requests", "1")
    try:
        assert requests.get(f"{url}/cx/api/v1/userprojects", timeout=5).status_code == 401
        spent = requests.get(f"{url}/cx/api/v1/userprojects", timeout=5)
        assert spent.json()["error"]["code"] == "SANDBOX_REQUEST_BUDGET_SPENT"
    finally:
        process.terminate()
        out, err = process.communicate(timeout=10)
    assert "WARNING" not in err


def test_parser_defaults():
    args = build_parser().parse_args([])
    assert (args.host, args.port, args.seed, args.token_ttl) == ("127.0.0.1", 0, "0", 3600)
    assert (args.throttle_status, args.mint_limit, args.mint_window, args.max_live_tokens) == (
        400,
        10,
        600,
        15,
    )
    assert not args.legacy_expiry
    assert not args.verbose
    assert args.max_requests is None
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--throttle-status", "500"])
