"""
The token cache under real concurrency, against the sandbox's real token endpoint.

Processes behave as running tasks: their Airflow ``Variable`` calls are served by one store shared by
all of them (a multiprocessing manager dict standing in for the metadata DB behind the Execution API).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time

import pytest
import requests

from airflow_provider_zoho.hooks.token_cache import TokenCache, VariableStore, variable_key
from airflow_provider_zoho.version_compat import AIRFLOW_V_3_0_PLUS

WORKERS = 16


class SharedVariable:
    """
    ``Variable.get``/``Variable.set`` over a dict shared by every process.

    Each call takes as long as a round trip through a busy Execution API (tens of milliseconds), so that
    many processes read "no token, no lease" before the first lease lands: the race the lease must win.
    """

    store = None
    latency = 0.05

    @classmethod
    def get(cls, key, default=None, *args, **kwargs):
        time.sleep(cls.latency)
        return cls.store.get(key, default)

    @classmethod
    def set(cls, key, value, description=None, serialize_json=False):
        time.sleep(cls.latency)
        cls.store[key] = value


def _as_running_task(store) -> None:
    from airflow.providers.common.compat import sdk

    from airflow_provider_zoho.hooks import token_cache

    SharedVariable.store = store
    sdk.Variable = SharedVariable
    token_cache.shared_store_available = lambda: True


def _cold_task(store, barrier, results) -> None:
    """One 'task': a fresh process with an empty memo asks for a token at the same instant as the rest."""
    from airflow_provider_zoho.hooks.zoho import ZohoOAuthHook

    _as_running_task(store)
    TokenCache.clear_memo()
    hook = ZohoOAuthHook()
    _ = hook.settings  # read the connection before the start line, as a task would have
    barrier.wait(timeout=60)
    results.append(hook.get_access_token())


def _join_all(workers, timeout: float) -> None:
    """Wait for every worker within one deadline; stop the stragglers (their exit code then fails)."""
    deadline = time.monotonic() + timeout
    for worker in workers:
        worker.join(timeout=max(0.0, deadline - time.monotonic()))
    for worker in workers:
        if worker.is_alive():
            worker.kill()
            worker.join()


def _token_works(sandbox, token: str) -> bool:
    response = requests.get(
        f"{sandbox.url}/cx/api/v1/userprojects",
        headers={"Authorization": f"Zoho-oauthtoken {token}"},
        timeout=10,
    )
    return response.status_code == 200


def test_sixteen_cold_processes_share_at_most_two_mints(sandbox):
    context = multiprocessing.get_context("fork")
    with context.Manager() as manager:
        store, results = manager.dict(), manager.list()
        barrier = context.Barrier(WORKERS)
        workers = [context.Process(target=_cold_task, args=(store, barrier, results)) for _ in range(WORKERS)]
        for worker in workers:
            worker.start()
        _join_all(workers, timeout=90)
        assert [w.exitcode for w in workers] == [0] * WORKERS
        tokens = list(results)
        assert "zoho_oauth_token__zoho_default" in store.keys()
    assert len(tokens) == WORKERS
    assert 1 <= sandbox.stats()["mints"] <= 2
    assert all(_token_works(sandbox, token) for token in set(tokens))


def test_sixteen_threads_in_one_process_mint_exactly_once(sandbox):
    from airflow_provider_zoho.hooks.zoho import ZohoOAuthHook

    barrier = threading.Barrier(WORKERS)
    tokens: list[str] = []

    def task() -> None:
        hook = ZohoOAuthHook()
        _ = hook.settings
        barrier.wait(timeout=30)
        tokens.append(hook.get_access_token())

    threads = [threading.Thread(target=task) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(tokens) == WORKERS
    assert len(set(tokens)) == 1
    assert sandbox.stats()["mints"] == 1
    assert _token_works(sandbox, tokens[0])


def _burst(processes: int, store_value: str | None = None, timeout: float = 60) -> list[str]:
    """Run ``processes`` cold tasks at once against the shared store (optionally pre-filled); their tokens."""
    context = multiprocessing.get_context("fork")
    with context.Manager() as manager:
        store, results = manager.dict(), manager.list()
        if store_value is not None:
            store[variable_key("zoho_default")] = store_value
        barrier = context.Barrier(processes)
        workers = [
            context.Process(target=_cold_task, args=(store, barrier, results)) for _ in range(processes)
        ]
        for worker in workers:
            worker.start()
        _join_all(workers, timeout=timeout)
        assert [w.exitcode for w in workers] == [0] * processes
        return list(results)


def test_a_mint_slower_than_the_lease_still_mints_once(sandbox, monkeypatch):
    """The lease holder renews its lease while its mint is in flight: nobody else mints meanwhile."""
    monkeypatch.setattr(TokenCache, "lease_seconds", 2.0)  # inherited by the forked tasks
    sandbox.add_fault(kind="delay", path="/oauth/v2/token", seconds=5.0, times=1)  # the first mint is slow
    tokens = _burst(3)
    assert len(tokens) == 3
    assert len(set(tokens)) == 1
    assert sandbox.stats()["mints"] == 1
    assert sandbox.stats()["faults_fired"] == 1  # the mint really outlasted the lease
    assert _token_works(sandbox, tokens[0])


@pytest.mark.parametrize(
    "value",
    [
        json.dumps({"access_token": None, "lease": "x"}),
        json.dumps([1, 2]),
        json.dumps({"lease": {"until": "zz"}}),
        json.dumps({"access_token": "1000.a.b", "expires_at": "inf", "lease": {"until": None}}),
        "not json at all",
        json.dumps({"lease": {"owner": "ghost", "until": 1e18}}),
    ],
    ids=["null-token-text-lease", "list", "text-until", "text-expiry", "not-json", "ghost-lease"],
)
def test_a_corrupt_variable_costs_one_mint_and_one_lease_period_at_most(sandbox, monkeypatch, value):
    monkeypatch.setattr(TokenCache, "lease_seconds", 2.0)
    monkeypatch.setattr(TokenCache, "max_wait_seconds", 30.0)  # a 660 s wait would fail the test
    tokens = _burst(3, value)
    assert len(set(tokens)) == 1
    assert sandbox.stats()["mints"] == 1
    assert _token_works(sandbox, tokens[0])


def _secret_cache():
    if AIRFLOW_V_3_0_PLUS:
        from airflow.sdk.execution_time.cache import SecretCache
    else:
        from airflow.secrets.cache import SecretCache
    return SecretCache


@pytest.fixture
def secrets_cache_on(monkeypatch):
    """``[secrets] use_cache = True`` with Airflow's SecretCache initialized, as its DAG processor does."""
    monkeypatch.setenv("AIRFLOW__SECRETS__USE_CACHE", "True")
    if AIRFLOW_V_3_0_PLUS:
        monkeypatch.setenv("_AIRFLOW_PROCESS_CONTEXT", "server")  # Variable.get reads the metadata DB here
    cache = _secret_cache()
    cache.reset()
    cache.init()
    assert cache._cache is not None, "the secrets cache did not start"
    yield cache
    cache.reset()
    manager = getattr(cache, "_SecretCache__manager", None)  # the cache's manager process: stop it
    if manager is not None:
        manager.shutdown()
        cache._SecretCache__manager = None


def _set_variable_in_another_process(key: str, value: str) -> None:
    code = (
        "import sys\nfrom airflow.models.variable import Variable\nVariable.set(sys.argv[1], sys.argv[2])\n"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("AIRFLOW__SECRETS__USE_CACHE", "_AIRFLOW_PROCESS_CONTEXT")
    }
    subprocess.run(
        [sys.executable, "-c", code, key, value], env=env, check=True, capture_output=True, timeout=120
    )


def test_reads_see_other_processes_writes_despite_the_secrets_cache(secrets_cache_on):
    from airflow.models.variable import Variable as CoreVariable
    from airflow.providers.common.compat.sdk import Variable

    key = variable_key("zoho_cache_probe")
    first = {"access_token": "1000.first", "expires_at": 4e9, "refreshed_at": 0, "lease": None}
    CoreVariable.set(key, json.dumps(first))
    store = VariableStore(key)
    assert store.read().token.access_token == "1000.first"  # now in the secrets cache

    _set_variable_in_another_process(key, json.dumps({**first, "access_token": "1000.second"}))
    # The cache is really on: a plain read still answers the old value...
    assert json.loads(Variable.get(key))["access_token"] == "1000.first"
    # ...while the token cache reads around it and sees the other process's write at once.
    assert store.read().token.access_token == "1000.second"


def test_without_the_shared_variable_every_process_mints(sandbox):
    """The baseline the cache exists for: isolated processes each spend one of Zoho's 10 mints."""
    context = multiprocessing.get_context("fork")

    def isolated(results) -> None:
        from airflow_provider_zoho.hooks import token_cache
        from airflow_provider_zoho.hooks.zoho import ZohoOAuthHook

        token_cache.shared_store_available = lambda: False  # as if every process had its own cache
        TokenCache.clear_memo()
        results.append(ZohoOAuthHook().get_access_token())

    with context.Manager() as manager:
        results = manager.list()
        workers = [context.Process(target=isolated, args=(results,)) for _ in range(4)]
        for worker in workers:
            worker.start()
        _join_all(workers, timeout=60)
        assert len(results) == 4
    assert sandbox.stats()["mints"] == 4
