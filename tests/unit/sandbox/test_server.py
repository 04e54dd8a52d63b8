from __future__ import annotations

import json
import socket
import threading

import pytest
import requests

from airflow_provider_zoho.sandbox import ZohoSandbox
from airflow_provider_zoho.sandbox.server import exposure_warning
from tests.unit.sandbox.client import SandboxClient

WEEK = {"startdate": "01-03-2024", "enddate": "07-03-2024"}


def test_context_manager_serves_and_releases_the_port():
    with ZohoSandbox() as sandbox:
        url = sandbox.url
        assert url.startswith("http://127.0.0.1:")
        assert requests.get(f"{url}/__sandbox__/health", timeout=5).json() == {"status": "ok", "url": url}
        kept_alive = requests.Session()
        kept_alive.get(f"{url}/__sandbox__/stats", timeout=5)
    assert not sandbox.running
    with pytest.raises(RuntimeError, match="not running"):
        sandbox.url  # noqa: B018
    with pytest.raises(requests.exceptions.ConnectionError):
        kept_alive.get(f"{url}/__sandbox__/stats", timeout=5)
    port = int(url.rsplit(":", 1)[1])
    with ZohoSandbox(port=port) as again:  # the port is free again
        assert again.url == url


def test_start_is_idempotent_and_stop_is_safe():
    sandbox = ZohoSandbox(port=0)
    sandbox.stop()
    assert sandbox.start() is sandbox
    url = sandbox.url
    assert sandbox.start().url == url
    sandbox.stop()
    sandbox.stop()


def test_connection_dict(zoho_sandbox):
    connection = zoho_sandbox.connection()
    assert connection == {
        "conn_type": "zoho",
        "login": "1000.SANDBOXCLIENTID",
        "password": "sandbox-client-secret",
        "extra": {
            "refresh_token": "1000.sandbox.refresh-token",
            "data_center": "com",
            "accounts_url": zoho_sandbox.url,
            "apptics_url": zoho_sandbox.url,
            "portal_id": "766556673",
            "project_id": "782000000004007",
            "desk_url": zoho_sandbox.url,
            "desk_org_id": "60012345678",
        },
    }
    assert json.loads(json.dumps(connection)) == connection
    env = zoho_sandbox.connection_env("zoho_test")
    assert json.loads(env["AIRFLOW_CONN_ZOHO_TEST"]) == connection
    over_http = requests.get(f"{zoho_sandbox.url}/__sandbox__/connection", timeout=5).json()
    assert over_http == connection


@pytest.mark.zoho_sandbox(
    client_id="1000.OTHER",
    client_secret="x",
    refresh_token="1000.r",
    portal_id="1",
    project_id="2",
    seed="text seed",
)
def test_custom_configuration(client):
    assert client.sandbox.connection()["extra"]["portal_id"] == "1"
    assert client.resource("crashes", WEEK).status_code == 200
    assert (
        client.get("/crash/list", WEEK, headers={**client.headers(), "zsoid": "766556673"}).status_code == 403
    )


def test_stats_counters(client):
    client.mint()
    client.refresh(client_secret="wrong")
    token = client.mint()
    client.resource("crashes", WEEK, token=token)
    client.resource("crashes", WEEK, token=token)
    client.resource("projects", token=token)
    client.get("/nope", token=token)
    client.session.get(f"{client.url}/elsewhere")
    stats = client.stats()
    assert stats["mints"] == 2
    assert stats["mints_by_refresh_token"] == {"configured": 2}
    assert stats["token_requests"] == 3
    assert stats["api_requests"] == 4
    assert stats["throttled"] == 0
    assert stats["live_tokens"] == 2
    assert stats["faults_fired"] == 0
    assert stats["requests_by_path"] == {
        "/oauth/v2/token": 3,
        "/cx/api/v1/crash/list": 2,
        "/cx/api/v1/userprojects": 1,
        "/cx/api/v1/nope": 1,
        "/elsewhere": 1,
    }
    assert stats["responses_by_status"] == {"200": 6, "404": 2}
    assert token not in json.dumps(stats)
    assert client.sandbox.refresh_token not in json.dumps(stats)
    assert client.sandbox.stats()["mints"] == 2  # in-process and HTTP read the same state


def test_reset(client):
    token = client.mint()
    client.sandbox.add_fault(kind="status", status=500, times=None)
    client.sandbox.set_rows("crashes", 3)
    client.sandbox.set_ignore_offset("crashes")
    client.sandbox.set_quirks("crashes", empty=["2024-03-01"])
    assert client.control("POST", "reset").json() == {"status": "success"}
    stats = client.stats()
    assert (stats["mints"], stats["api_requests"], stats["live_tokens"], stats["faults_fired"]) == (
        0,
        0,
        0,
        0,
    )
    assert client.control("GET", "faults").json() == {"faults": []}
    assert client.control("GET", "dataset").json() == {"rows": {}, "ignore_offset": [], "quirks": {}}
    assert client.resource("projects", token=token).status_code == 401  # tokens are forgotten
    assert client.resource("projects", token=client.mint()).status_code == 200  # configured token still valid


def test_dataset_control_endpoint(client):
    assert client.control(
        "POST", "dataset", {"resource": "crashes", "rows": 5, "ignore_offset": True}
    ).json() == {"rows": {"crashes": 5}, "ignore_offset": ["crashes"], "quirks": {}}
    assert client.control("POST", "dataset", {"rows": 5}).status_code == 400
    assert client.control("POST", "dataset", {"resource": "screens", "rows": 5}).status_code == 400
    quirks = {"resource": "crash_summary", "quirks": {"integer_rate": ["2024-03-02", "2024-03-01"]}}
    assert client.control("POST", "dataset", quirks).json()["quirks"] == {
        "crash_summary": {"integer_rate": ["2024-03-01", "2024-03-02"]}
    }
    assert client.control("DELETE", "dataset").json() == {"rows": {}, "ignore_offset": [], "quirks": {}}


def test_unknown_paths_are_json_404(client):
    for path in ("/", "/oauth/v2/nothing", "/__sandbox__/nothing"):
        response = client.session.get(f"{client.url}{path}")
        assert response.status_code == 404
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json()["status"] == "failure"
    assert client.session.get(f"{client.url}/oauth/v2/token").status_code == 405
    assert client.control("POST", "faults", None).status_code == 400  # "null" is not a rule
    bad_json = client.session.post(f"{client.url}/__sandbox__/faults", data=b"{nope")
    assert bad_json.status_code == 400


def test_keep_alive_and_content_length(client):
    first = client.resource("crashes", WEEK)
    second = client.resource("crashes", WEEK)
    assert first.headers["Content-Length"] == str(len(first.content))
    assert first.headers.get("Connection", "").lower() != "close"
    raw = socket.create_connection(("127.0.0.1", client.sandbox.port))
    try:
        for _ in range(2):  # two requests on one TCP connection
            raw.sendall(b"GET /__sandbox__/health HTTP/1.1\r\nHost: x\r\n\r\n")
            head = b""
            while b"\r\n\r\n" not in head:
                head += raw.recv(4096)
            header, _, rest = head.partition(b"\r\n\r\n")
            length = int(
                next(
                    line.split(b":")[1]
                    for line in header.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
            )
            while len(rest) < length:
                rest += raw.recv(4096)
            assert header.startswith(b"HTTP/1.1 200")
            assert json.loads(rest)["status"] == "ok"
    finally:
        raw.close()
    assert first.content == second.content


@pytest.mark.zoho_sandbox(mint_limit=1000, max_live_tokens=1000)
def test_concurrent_requests(zoho_sandbox):
    errors: list[str] = []

    def worker() -> None:
        with SandboxClient(zoho_sandbox) as client:
            try:
                token = client.mint()
                for _ in range(5):
                    response = client.resource("event_summary", WEEK, token=token)
                    if response.status_code != 200:
                        errors.append(response.text)
            except Exception as error:  # pragma: no cover - reported below
                errors.append(repr(error))

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    stats = zoho_sandbox.stats()
    assert stats["mints"] == 20
    assert stats["api_requests"] == 100
    assert stats["live_tokens"] == 20


@pytest.mark.zoho_sandbox(mint_limit=10)
def test_concurrent_mints_respect_the_throttle(zoho_sandbox):
    results: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        with SandboxClient(zoho_sandbox) as client:
            ok = "access_token" in client.refresh().json()
            with lock:
                results.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 10
    assert zoho_sandbox.stats()["throttled"] == 20


def test_session_fixture(zoho_sandbox_session):
    zoho_sandbox_session.reset()
    with SandboxClient(zoho_sandbox_session) as client:
        client.mint()
    assert zoho_sandbox_session.stats()["mints"] == 1
    zoho_sandbox_session.reset()
    assert zoho_sandbox_session.stats()["mints"] == 0


def test_quiet_by_default_verbose_on_request(capsys):
    with ZohoSandbox() as quiet:
        requests.get(f"{quiet.url}/__sandbox__/health", timeout=5)
    assert capsys.readouterr().err == ""
    with ZohoSandbox(verbose=True) as loud:
        requests.get(f"{loud.url}/__sandbox__/health", timeout=5)
    assert "GET /__sandbox__/health" in capsys.readouterr().err


# ---------------------------------------------------------------------- request budget
@pytest.mark.zoho_sandbox(max_requests=3)
def test_request_budget_refuses_every_zoho_request_past_it(client):
    token = client.mint()
    assert client.resource("crashes", WEEK, token=token).status_code == 200
    assert client.control("GET", "health").status_code == 200  # control endpoints are not counted
    assert client.resource("projects", token=token).status_code == 200
    spent = client.resource("crashes", WEEK, token=token)
    assert spent.status_code == 400  # a 4xx no client retries
    error = spent.json()["error"]
    assert error["code"] == "SANDBOX_REQUEST_BUDGET_SPENT"
    assert "request budget is spent" in error["message"]
    assert "max_requests" in error["message"]
    token_answer = client.refresh()
    assert token_answer.status_code == 400
    assert token_answer.json()["error"] == "sandbox_request_budget_spent"
    assert "request budget is spent" in token_answer.json()["error_description"]
    stats = client.stats()
    assert stats["request_budget"] == {"max_requests": 3, "used": 3, "refused": 2}
    assert stats["mints"] == 1  # the refused token request minted nothing
    assert stats["api_requests"] == 3  # refused requests are still counted where they went


@pytest.mark.zoho_sandbox(max_requests=2)
def test_budget_is_set_over_http_and_restored_by_reset(client):
    token = client.mint()
    client.resource("projects", token=token)
    assert client.resource("projects", token=token).status_code == 400
    raised = client.control("POST", "budget", {"max_requests": 5}).json()
    assert raised == {"max_requests": 5, "used": 0, "refused": 0}  # a fresh budget from now
    assert [client.resource("projects", token=token).status_code for _ in range(6)] == [200] * 5 + [400]
    assert client.control("GET", "budget").json() == {"max_requests": 5, "used": 5, "refused": 1}
    assert client.control("POST", "budget", {"max_requests": None}).json()["max_requests"] is None
    assert all(client.resource("projects", token=token).status_code == 200 for _ in range(4))
    client.control("POST", "reset")
    assert client.control("GET", "budget").json() == {"max_requests": 2, "used": 0, "refused": 0}


@pytest.mark.parametrize("bad", [-1, 1.5, True, "5", {"n": 1}])
def test_bad_budgets_are_refused(zoho_sandbox, bad):
    with pytest.raises(ValueError, match="max_requests"):
        zoho_sandbox.set_max_requests(bad)
    response = requests.post(f"{zoho_sandbox.url}/__sandbox__/budget", json={"max_requests": bad}, timeout=5)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "INVALID_REQUEST")
    assert requests.post(f"{zoho_sandbox.url}/__sandbox__/budget", json={}, timeout=5).status_code == 400
    with pytest.raises(ValueError, match="max_requests"):
        ZohoSandbox(max_requests=bad)


def test_no_budget_by_default():
    assert ZohoSandbox().budget() == {"max_requests": None, "used": 0, "refused": 0}


# ---------------------------------------------------------------------- exposure
@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.168.1.20", "sandbox.example"])
def test_a_non_loopback_host_logs_that_control_endpoints_have_no_authentication(host, caplog):
    caplog.set_level("WARNING", logger="airflow_provider_zoho.sandbox")
    ZohoSandbox(host=host)  # never started: nothing is exposed by this test
    [record] = caplog.records
    assert record.levelname == "WARNING"
    assert "/__sandbox__/" in record.getMessage()
    assert "no authentication" in record.getMessage()
    assert exposure_warning(host) == record.getMessage()


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_a_loopback_host_logs_nothing(host, caplog):
    caplog.set_level("DEBUG", logger="airflow_provider_zoho.sandbox")
    ZohoSandbox(host=host)
    assert caplog.records == []
    assert exposure_warning(host) is None
