from __future__ import annotations

import http.server
import threading

import pytest
import requests
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from airflow_provider_zoho.hooks.transport import ZohoHTTPAdapter, when_sent

WAIT = 10  # seconds; a broken callback order fails the test after this instead of hanging it


class HeldServer(http.server.ThreadingHTTPServer):
    """A loopback server (or plain HTTP proxy) that holds each request until the test releases it."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), HeldHandler)
        self.received: list[str] = []  # request lines' targets, in arrival order
        self.arrived = threading.Semaphore(0)
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class HeldHandler(http.server.BaseHTTPRequestHandler):
    server: HeldServer

    def do_GET(self) -> None:
        self.server.received.append(self.path)
        self.server.arrived.release()
        if not self.server.release.wait(WAIT):
            return  # the test failed; answer nothing
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    held = HeldServer()
    thread = threading.Thread(target=held.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield held
    held.release.set()
    held.shutdown()
    held.server_close()


@pytest.fixture
def session():
    with requests.Session() as zoho_session:
        zoho_session.trust_env = False  # no proxy from the environment unless a test sets one
        adapter = ZohoHTTPAdapter()
        zoho_session.mount("http://", adapter)
        zoho_session.mount("https://", adapter)
        yield zoho_session


def released_once_received(server, seen):
    """A callback that records whether the server gets the request while it runs, then lets it answer."""

    def callback():
        # If the request is on the wire, the server receives it while this thread is still in here...
        seen.append(server.arrived.acquire(timeout=WAIT))
        # ...and holds the answer until now, so it cannot have been read yet.
        server.release.set()

    return callback


def test_the_callback_runs_once_the_request_is_sent_and_before_the_answer_is_read(server, session):
    seen = []
    with when_sent(released_once_received(server, seen)):
        response = session.get(f"{server.url}/one", timeout=WAIT)
    assert seen == [True]
    assert response.json() == {"ok": True}
    assert server.received == ["/one"]


def test_the_callback_runs_for_each_request_in_the_block_and_none_after_it(server, session):
    server.release.set()
    calls = []
    with when_sent(lambda: calls.append(len(server.received))):
        session.get(f"{server.url}/a", timeout=WAIT)
        session.get(f"{server.url}/b", timeout=WAIT)
    session.get(f"{server.url}/c", timeout=WAIT)
    assert len(calls) == 2
    assert server.received == ["/a", "/b", "/c"]


def test_a_callback_belongs_to_the_thread_that_registered_it(server, session):
    server.release.set()
    calls = []
    other = threading.Thread(target=lambda: session.get(f"{server.url}/other", timeout=WAIT))
    with when_sent(lambda: calls.append(threading.current_thread().name)):
        other.start()
        other.join(WAIT)
        session.get(f"{server.url}/mine", timeout=WAIT)
    assert calls == [threading.current_thread().name]
    assert sorted(server.received) == ["/mine", "/other"]


def test_through_an_http_proxy_the_callback_still_waits_for_the_request_to_be_sent(server, session):
    seen = []
    # The held server is the proxy: it receives the absolute URL of the target.
    with when_sent(released_once_received(server, seen)):
        response = session.get(
            "http://zoho.example.test/via-proxy", proxies={"http": server.url}, timeout=WAIT
        )
    assert seen == [True]
    assert response.json() == {"ok": True}
    assert server.received == ["http://zoho.example.test/via-proxy"]


def test_connections_that_cannot_tell_run_the_callback_just_before_sending(server, session):
    # As through a SOCKS proxy: urllib3's own connection classes, which announce nothing.
    adapter = session.get_adapter(server.url)
    adapter.poolmanager.pool_classes_by_scheme = {"http": HTTPConnectionPool, "https": HTTPSConnectionPool}
    received_at_callback = []

    def callback():
        received_at_callback.append(list(server.received))
        server.release.set()

    with when_sent(callback):
        session.get(f"{server.url}/socks-like", timeout=WAIT)
    assert received_at_callback == [[]]  # run once, before the server had the request
    assert server.received == ["/socks-like"]


def test_every_scheme_gets_connections_that_announce_their_requests():
    pools = ZohoHTTPAdapter().poolmanager.pool_classes_by_scheme
    assert issubclass(pools["http"].ConnectionCls, HTTPConnection)
    assert issubclass(pools["https"].ConnectionCls, HTTPSConnection)
    # The same request() for both, the one that announces (tested over plain HTTP above).
    assert pools["https"].ConnectionCls.request is pools["http"].ConnectionCls.request
    assert pools["http"].ConnectionCls.request is not HTTPConnection.request


def test_the_adapter_passes_the_arguments_of_requests_through():
    adapter = ZohoHTTPAdapter(pool_maxsize=3, pool_block=True)
    assert adapter.poolmanager.connection_pool_kw == {"maxsize": 3, "block": True}
    proxied = adapter.proxy_manager_for("http://proxy.example.test:3128", cert_reqs="CERT_NONE")
    assert proxied.connection_pool_kw["cert_reqs"] == "CERT_NONE"
    assert proxied.pool_classes_by_scheme is adapter.poolmanager.pool_classes_by_scheme


def test_without_a_callback_requests_are_plain(server, session):
    server.release.set()
    assert session.get(f"{server.url}/plain", timeout=WAIT).json() == {"ok": True}
