"""Unit tests: no metadata database, no network (HTTP is mocked with requests-mock)."""

from __future__ import annotations

import json
import os
import tempfile

# Before anything imports Airflow: any ORM use fails loudly, and nothing reads a real Airflow home.
os.environ["_AIRFLOW_SKIP_DB_TESTS"] = "true"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="zoho-unit-airflow-"))

import pytest

from airflow_provider_zoho.version_compat import AIRFLOW_V_3_0_PLUS

if not AIRFLOW_V_3_0_PLUS:
    # Airflow 2 builds Connection objects through SQLAlchemy models, whose mappers only configure once
    # every model class is imported (a scheduler or worker always has them; a bare test process not).
    from airflow.models import import_all_models

    import_all_models()

ACCOUNTS = "https://accounts.example.test"
APPTICS = "https://apptics.example.test"
TOKEN_URL = f"{ACCOUNTS}/oauth/v2/token"
#: An Apptics endpoint for the hook tests.
API = f"{APPTICS}/cx/api/v1/crash/list"
#: The body Zoho sends with a throttled token request (HTTP 400).
THROTTLE_BODY = {
    "error_description": "You have made too many requests continuously. Please try again after some time.",
    "error": "Access Denied",
    "status": "failure",
}
CLIENT_ID = "1000.UNITTESTCLIENT"
CLIENT_SECRET = "unit-client-secret-4f1d"
REFRESH_TOKEN = "1000.unit-refresh-token-77aa"


def token_answer(token: str, expires_in: int = 3600) -> dict:
    """A requests-mock answer of the token endpoint issuing ``token``."""
    return {
        "json": {
            "access_token": token,
            "api_domain": "https://www.zohoapis.com",
            "token_type": "Bearer",
            "expires_in": expires_in,
        }
    }


def auth_header(request) -> str:
    """The ``Authorization`` header a mocked request carried."""
    return request.headers["Authorization"]


def connection_json(**extra_overrides) -> str:
    extra = {
        "refresh_token": REFRESH_TOKEN,
        "data_center": "com",
        "accounts_url": ACCOUNTS,
        "apptics_url": APPTICS,
        "portal_id": "766556673",
        "project_id": "782000000004007",
    }
    extra.update(extra_overrides.pop("extra", {}))
    conn = {"conn_type": "zoho", "login": CLIENT_ID, "password": CLIENT_SECRET, "extra": extra}
    conn.update(extra_overrides)
    return json.dumps(conn)


@pytest.fixture
def zoho_conn(monkeypatch):
    """The ``zoho_default`` connection, from the environment (no database)."""
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_DEFAULT", connection_json())
    return "zoho_default"


#: Variable writes one unit test may make: a token mint writes twice (lease, token), a property-based test
#: does so once per example; a lease loop that never ends reaches it in seconds (see ``variables``).
MAX_VARIABLE_WRITES = 1000
_NOTSET = object()


class FakeVariable:
    """Stands in for ``airflow.sdk.Variable`` inside a running task: a dict shared by the test."""

    store: dict[str, str] = {}
    sets: list[tuple[str, str]] = []
    descriptions: dict[str, str | None] = {}

    @classmethod
    def get(cls, key, default=_NOTSET, *args, **kwargs):
        if key in cls.store:
            return cls.store[key]
        if default is not _NOTSET:
            return default
        # A missing key without a default: Airflow 2 raises KeyError, Airflow 3 AirflowRuntimeError.
        raise KeyError(key) if not AIRFLOW_V_3_0_PLUS else RuntimeError(f"VARIABLE_NOT_FOUND: {key}")

    @classmethod
    def set(cls, key, value, description=None, serialize_json=False):
        if len(cls.sets) >= MAX_VARIABLE_WRITES:
            # pytest.fail raises a BaseException: no "except Exception" in the code under test swallows it.
            pytest.fail(f"more than {MAX_VARIABLE_WRITES} Variable writes in one unit test: a lease loop?")
        cls.sets.append((key, value))
        cls.store[key] = value
        cls.descriptions[key] = description


@pytest.fixture
def variables(monkeypatch):
    """
    Behave as inside a running task: Variables readable and writable, backed by a dict.

    The token cache's real-time waits (settling a lease, polling) last a millisecond, so a lease loop that
    never ends fails at ``MAX_VARIABLE_WRITES`` within seconds instead of waiting out ``max_wait_seconds``.
    """
    from airflow.providers.common.compat import sdk

    from airflow_provider_zoho.hooks import token_cache
    from airflow_provider_zoho.hooks.token_cache import TokenCache

    monkeypatch.setattr(TokenCache, "settle_seconds", 0.001)
    monkeypatch.setattr(TokenCache, "poll_seconds", 0.001)

    FakeVariable.store = {}
    FakeVariable.sets = []
    FakeVariable.descriptions = {}
    monkeypatch.setattr(sdk, "Variable", FakeVariable, raising=False)
    monkeypatch.setattr(token_cache, "shared_store_available", lambda: True)
    return FakeVariable


@pytest.fixture(autouse=True)
def _fresh_token_memo(monkeypatch):
    """Each test starts with no memoized token and, unless it asks for ``variables``, no Variables."""
    from airflow_provider_zoho.hooks import token_cache
    from airflow_provider_zoho.hooks.token_cache import TokenCache

    monkeypatch.setattr(token_cache, "shared_store_available", lambda: False)

    TokenCache.clear_memo()
    TokenCache._fallback_logged.clear()
    yield
    TokenCache.clear_memo()


#: Requests one unit test may send to requests-mock: an example-based test sends at most a dozen, a
#: property-based one at most one per example; a paging or retry loop that never ends reaches it in seconds.
MAX_MOCKED_REQUESTS = 300


@pytest.fixture(autouse=True)
def _bounded_http_doubles(monkeypatch):
    """Make requests-mock refuse (fail the test) after ``MAX_MOCKED_REQUESTS``: a loop fails, never hangs."""
    from requests_mock.adapter import Adapter

    sent = 0
    real_send = Adapter.send

    def send(self, request, **kwargs):
        nonlocal sent
        sent += 1
        if sent > MAX_MOCKED_REQUESTS:
            # pytest.fail raises a BaseException: no "except Exception" in the code under test swallows it.
            pytest.fail(
                f"more than {MAX_MOCKED_REQUESTS} HTTP requests in one unit test (the last: {request.method} "
                f"{request.url}): a paging or retry loop that does not end?"
            )
        return real_send(self, request, **kwargs)

    monkeypatch.setattr(Adapter, "send", send)
    yield
    if sent > MAX_MOCKED_REQUESTS:
        pytest.fail(f"more than {MAX_MOCKED_REQUESTS} HTTP requests in one unit test")


@pytest.fixture
def mask_calls(monkeypatch):
    """Every value handed to Airflow's secret masker during the test, in order."""
    from airflow.providers.common.compat import sdk

    masked: list[str] = []
    monkeypatch.setattr(
        sdk, "mask_secret", lambda secret, *args, **kwargs: masked.append(secret), raising=False
    )
    return masked


@pytest.fixture
def no_retry_wait(monkeypatch):
    """Retries happen at once; the waits they would have taken are recorded."""
    from airflow_provider_zoho.hooks import zoho

    waits: list[float] = []
    real = zoho.retry_wait_seconds

    def record(attempt, retry_after=None, **kwargs):
        waits.append(real(attempt, retry_after, jitter=1.0))
        return 0.0

    monkeypatch.setattr(zoho, "retry_wait_seconds", record)
    return waits
