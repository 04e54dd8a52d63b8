"""
The token cache under real concurrency, against the sandbox's real token endpoint.

Processes behave as running tasks: their Airflow ``Variable`` calls are served by one store shared by
all of them (a multiprocessing manager dict standing in for the metadata DB behind the Execution API).
"""

from __future__ import annotations

import multiprocessing
import threading
import time

import requests

from airflow_provider_zoho.hooks.token_cache import TokenCache

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
