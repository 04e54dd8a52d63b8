"""
The measured workloads; each runs in its own process, started by ``bench/run.py``.

``python -m bench._workloads <name> '<json arguments>'`` runs one workload against a sandbox that runs in
yet another process, and prints its result as one ``BENCH_RESULT <json>`` line on stdout (Airflow may log
to stdout too). Airflow and the provider are imported here, never in ``run.py``.

Workloads:

- ``burst``: N processes that behave as running tasks with a cold token cache (their ``Variable`` calls
  served from one shared store with a realistic latency, as in ``tests/integration/test_token_cache.py``)
  wait at a barrier, then each call ``ZohoOAuthHook().get_access_token()``. ``shared=false`` is the naive
  connector: no shared store, every process on its own.
- ``throughput``: the operator, a bare ``requests.Session`` loop and the ``HttpOperator`` alternative,
  alternated over the same sandbox pages; with ``page_delay``, the operator and the bare loop only, the
  sandbox waiting that long before answering each page.
- ``rss``: one operator extraction, after a warm-up; the parent process samples this process's RSS.
- ``breakdown``: where the operator's time goes, stage by stage, plus a cProfile of one run.
- ``desk``: ``ZohoDeskToStorageOperator`` over one-hour windows that each hold more tickets than one Desk
  search reaches, counting the searches the sandbox answered per window.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from bench._report import IMPORTS_BELOW, PAGE_SIZE, RESULT_MARKER
from bench._sandbox import SandboxClient

if TYPE_CHECKING:
    from collections.abc import Callable

RESOURCE = "crashes"
WINDOW = (dt.date(2024, 1, 1), dt.date(2024, 1, 7))
HTTP_CONN_ID = "apptics_http"

#: Modules whose import cost is the provider's (``import_overhead_ms``).
PROVIDER_MODULES = (
    "airflow_provider_zoho.operators.apptics",
    "airflow_provider_zoho.sensors.apptics",
    "airflow_provider_zoho.hooks.apptics",
)


def import_probe_code(with_provider: bool) -> str:
    """
    ``python -c`` code timing ``import airflow.sdk`` and, optionally, the provider modules right after.

    It prints ``BENCH_RESULT {"sdk": s, "provider": s}``; ``provider`` is 0 without the provider imports.
    """
    provider = f"import {', '.join(PROVIDER_MODULES)}" if with_provider else "pass"
    return (
        "import time\n"
        "t0 = time.perf_counter()\n"
        "import airflow.sdk\n"
        "t1 = time.perf_counter()\n"
        f"{provider}\n"
        "t2 = time.perf_counter()\n"
        "import json\n"
        f"print({RESULT_MARKER!r} + json.dumps({{'sdk': t1 - t0, 'provider': t2 - t1}}), flush=True)\n"
    )


def importtime_probe_code() -> str:
    """``python -X importtime -c`` code that marks, on stderr, where the provider's own imports begin."""
    return (
        "import sys\n"
        "import airflow.sdk\n"
        f"sys.stderr.write({IMPORTS_BELOW + chr(10)!r})\n"
        f"import {', '.join(PROVIDER_MODULES)}\n"
    )


def emit(result: dict[str, Any]) -> None:
    print(RESULT_MARKER + json.dumps(result), flush=True)


def use_sandbox(url: str) -> SandboxClient:
    """Point ``zoho_default`` (and the ``HttpOperator``'s ``http`` connection) at the sandbox at ``url``."""
    sandbox = SandboxClient(url)
    os.environ["AIRFLOW_CONN_ZOHO_DEFAULT"] = json.dumps(sandbox.connection())
    parts = urlsplit(url)
    os.environ[f"AIRFLOW_CONN_{HTTP_CONN_ID.upper()}"] = json.dumps(
        {"conn_type": "http", "host": parts.hostname, "port": parts.port, "schema": "http"}
    )
    return sandbox


# -- burst ------------------------------------------------------------------------------------------------


class SharedVariable:
    """
    ``Variable.get``/``Variable.set`` over a dict shared by every process (the metadata DB's stand-in).

    Each call sleeps ``latency`` seconds, a round trip through a busy Execution API, so that many processes
    read "no token, no lease" before the first lease lands: the race the lease must win.
    """

    store: Any = None
    latency = 0.05

    @classmethod
    def get(cls, key: str, default: Any = None, *args: Any, **kwargs: Any) -> Any:
        time.sleep(cls.latency)
        return cls.store.get(key, default)

    @classmethod
    def set(cls, key: str, value: Any, description: str | None = None, serialize_json: bool = False) -> None:
        time.sleep(cls.latency)
        cls.store[key] = value


def _burst_task(shared: bool, store: Any, latency: float, barrier: Any, results: Any) -> None:
    """One task: a fresh process with an empty memo asks for a token at the same instant as the rest."""
    from airflow.providers.common.compat import sdk

    from airflow_provider_zoho.hooks import token_cache
    from airflow_provider_zoho.hooks.zoho import ZohoOAuthHook

    if shared:  # a running task: Variable calls reach the one shared store
        SharedVariable.store, SharedVariable.latency = store, latency
        sdk.Variable = SharedVariable  # type: ignore[misc,assignment]
        token_cache.shared_store_available = lambda: True
    else:  # the naive connector: nothing shared, each process mints for itself
        token_cache.shared_store_available = lambda: False
    token_cache.TokenCache.clear_memo()
    hook = ZohoOAuthHook()
    _ = hook.settings  # a task has read its connection before it asks for a token
    barrier.wait(timeout=120)
    started = time.monotonic()
    token = hook.get_access_token()
    # Only a fingerprint leaves the process: enough to count distinct tokens.
    results.append((hashlib.sha256(token.encode()).hexdigest()[:16], time.monotonic() - started))


def burst(url: str, tasks: int, shared: bool, latency: float, timeout: float) -> dict[str, Any]:
    import multiprocessing

    use_sandbox(url)
    from airflow_provider_zoho.hooks.zoho import ZohoOAuthHook  # noqa: F401  (imported before the fork)

    context = multiprocessing.get_context("fork")  # how Airflow's executors start task processes
    with context.Manager() as manager:
        store, results = manager.dict(), manager.list()
        barrier = context.Barrier(tasks)
        workers = [
            context.Process(target=_burst_task, args=(shared, store, latency, barrier, results))
            for _ in range(tasks)
        ]
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + timeout
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        for worker in workers:
            if worker.is_alive():
                worker.kill()
                worker.join()
        outcomes = list(results)
    return {
        "tasks": tasks,
        "succeeded": len(outcomes),
        "exit_codes": sorted({worker.exitcode for worker in workers}, key=str),
        "distinct_tokens": len({fingerprint for fingerprint, _ in outcomes}),
        "seconds_to_token": [seconds for _, seconds in outcomes],
    }


# -- throughput ---------------------------------------------------------------------------------------------


class Extractions:
    """
    The three ways to move ``records`` crash rows from the sandbox, each returning its wall time.

    :param records: rows per extraction (the sandbox must already serve that many).
    :param workdir: where the files go.
    """

    def __init__(self, records: int, workdir: Path) -> None:
        from airflow.providers.http.operators.http import HttpOperator

        from airflow_provider_zoho.hooks.apptics import AppticsHook
        from airflow_provider_zoho.hooks.apptics_planning import plan_calls
        from airflow_provider_zoho.operators.apptics import AppticsToStorageOperator

        self.records = records
        self.workdir = workdir
        self._operator_class = AppticsToStorageOperator
        self._http_operator_class = HttpOperator
        hook = AppticsHook()
        (self.call,) = plan_calls(RESOURCE, *WINDOW)
        # One token for everyone: minted here once, then served from the hook's in-process memo.
        self.token = hook.get_access_token()
        self.user_agent = hook.get_conn().headers["User-Agent"]
        self.timeout = hook.timeout
        self.project_headers = hook._headers([self.call])
        url = hook._url(self.call)
        self.pages = [(url, self.call.page_params(offset)) for offset in range(0, records + 1, PAGE_SIZE)]

    def ours(self) -> float:
        """``AppticsToStorageOperator(...).execute(context)`` writing jsonl to local storage."""
        started = time.perf_counter()
        operator = self._operator_class(
            task_id="bench_ours",
            resource=RESOURCE,
            destination=(self.workdir / "ours").as_uri(),
            window_start=WINDOW[0].isoformat(),
            window_end=WINDOW[1].isoformat(),
        )
        result = operator.execute({})  # no outlet_events: no asset event
        elapsed = time.perf_counter() - started
        _check_count("operator", result["records"], self.records)
        return elapsed

    def raw(self) -> float:
        """The transport limit: the same GETs on one keep-alive ``requests.Session``, bodies discarded."""
        import requests

        headers = {**self.project_headers, "Authorization": f"Zoho-oauthtoken {self.token}"}
        started = time.perf_counter()
        with requests.Session() as session:
            session.headers["User-Agent"] = self.user_agent
            for url, params in self.pages:
                response = session.get(url, params=params, headers=headers, timeout=self.timeout)
                response.raise_for_status()
                _ = response.content
        return time.perf_counter() - started

    def http_operator(self) -> float:
        """
        The do-it-yourself path with the http provider, as its docs suggest, then a jsonl file.

        ``pagination_function`` asks for the next offset until a short page; ``response_filter`` turns the
        list of responses (all kept in memory by the operator) into the API's rows. Best case for it: the
        token is fetched once up front and the rows are written as the API sent them, not normalized.
        """
        first_url, first_params = self.pages[0]
        started = time.perf_counter()
        operator = self._http_operator_class(
            task_id="bench_http_operator",
            http_conn_id=HTTP_CONN_ID,
            method="GET",
            endpoint=urlsplit(first_url).path,
            data=first_params,
            headers={**self.project_headers, "Authorization": f"Zoho-oauthtoken {self.token}"},
            pagination_function=_next_offset,
            response_filter=_rows_of_pages,
        )
        rows = operator.execute({})
        with (self.workdir / "http_operator.jsonl").open("w", encoding="utf-8") as target:
            for row in rows:
                target.write(json.dumps(row) + "\n")
        elapsed = time.perf_counter() - started
        _check_count("HttpOperator", len(rows), self.records)
        return elapsed


def _next_offset(response: Any) -> dict[str, Any] | None:
    """``pagination_function``: the next ``offset`` while pages are full."""
    if len(response.json()["data"]) < PAGE_SIZE:
        return None
    offset = int(parse_qs(urlsplit(response.request.url).query)["offset"][0])
    return {"data": {"offset": str(offset + PAGE_SIZE)}}


def _rows_of_pages(responses: list[Any]) -> list[dict[str, Any]]:
    """``response_filter``: every row of every page."""
    return [row for response in responses for row in response.json()["data"]]


def _check_count(what: str, got: int, expected: int) -> None:
    if got != expected:
        raise RuntimeError(f"{what} extracted {got} records, expected {expected}")


def _timed_runs(
    runners: dict[str, Callable[[], float]], rounds: int, sandbox: SandboxClient, server_pid: int | None
) -> dict[str, dict[str, list[float]]]:
    """
    One untimed warm-up of each runner, then ``rounds`` rounds, the order rotating every round.

    :return: by runner: ``seconds`` (wall, as the runner timed itself), ``calls`` (Apptics requests the
        sandbox answered), ``cpu`` (this process's CPU seconds) and ``server_cpu`` (the sandbox's), per run.
    """
    import psutil

    server = psutil.Process(server_pid) if server_pid else None

    def server_cpu() -> float:
        if server is None:
            return math.nan
        times = server.cpu_times()
        return times.user + times.system

    for run in runners.values():
        run()
    names = list(runners)
    metrics = ("seconds", "calls", "cpu", "server_cpu")
    runs: dict[str, dict[str, list[float]]] = {name: {metric: [] for metric in metrics} for name in names}
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            calls_before, server_before = sandbox.crash_list_requests(), server_cpu()
            cpu_before = time.process_time()
            seconds = runners[name]()
            cpu = time.process_time() - cpu_before
            server_used = server_cpu() - server_before
            record = runs[name]
            record["seconds"].append(seconds)
            record["cpu"].append(cpu)
            record["server_cpu"].append(server_used)
            record["calls"].append(sandbox.crash_list_requests() - calls_before)
    return runs


def throughput(
    url: str,
    records: int,
    rounds: int,
    workdir: str,
    server_pid: int | None = None,
    page_delay: float = 0.0,
) -> dict[str, Any]:
    """
    Alternated runs of the throughput runners over ``records`` crash rows.

    :param page_delay: seconds the sandbox waits before answering each Apptics request (network latency
        loopback lacks); when set, only ``ours`` and ``raw`` run, the comparison the delay is about.
    """
    sandbox = use_sandbox(url)
    sandbox.set_rows(RESOURCE, records)
    runs = Extractions(records, Path(workdir))  # mints the token before any delay
    runners: dict[str, Callable[[], float]] = {"ours": runs.ours, "raw": runs.raw}
    if page_delay:
        sandbox.delay_pages(page_delay)
    else:
        runners["http_operator"] = runs.http_operator
    measured = _timed_runs(runners, rounds, sandbox, server_pid)
    return {"records": records, "runs": measured, "page_delay": page_delay}


# -- memory -------------------------------------------------------------------------------------------------


def rss(url: str, records: int, workdir: str) -> None:
    """Print a ``baseline`` result, extract ``records`` rows, print a ``done`` result (see run.py)."""
    import resource

    import psutil

    sandbox = use_sandbox(url)
    sandbox.set_rows(RESOURCE, 2 * PAGE_SIZE)
    Extractions(2 * PAGE_SIZE, Path(workdir)).ours()  # warm-up: lazy imports, token, storage
    sandbox.set_rows(RESOURCE, records)
    runs = Extractions(records, Path(workdir))  # the token comes from the in-process memo
    gc.collect()
    process = psutil.Process()
    rss_before = process.memory_info().rss
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    emit({"phase": "baseline", "rss": rss_before})
    seconds = runs.ours()
    emit(
        {
            "phase": "done",
            "records": records,
            "seconds": seconds,
            "rss_before": rss_before,
            "rss_after": process.memory_info().rss,
            "maxrss_before": maxrss_before,
            "maxrss_after": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        }
    )


# -- breakdown ---------------------------------------------------------------------------------------------


class _Discard:
    """A binary sink that drops what it is given (the ``+encode`` stage)."""

    def write(self, data: bytes) -> int:
        return len(data)


def breakdown(
    url: str, records: int, rounds: int, workdir: str, server_pid: int | None = None
) -> dict[str, Any]:
    """
    The operator's time stage by stage: each runner adds one stage to the previous one.

    ``fetch`` (bare Session) < ``+decode`` (json.loads) < ``+normalize`` (``AppticsHook.iter_records``) <
    ``+encode`` (the typed JSON Lines writer, bytes discarded) < ``operator`` (file, hash,
    manifest); ``http_operator`` for comparison. Also returns a cProfile of one operator run.
    """
    import cProfile
    import io
    import pstats

    import requests

    from airflow_provider_zoho import tables
    from airflow_provider_zoho.hooks.apptics import RESOURCES, AppticsHook

    sandbox = use_sandbox(url)
    sandbox.set_rows(RESOURCE, records)
    runs = Extractions(records, Path(workdir))
    headers = {**runs.project_headers, "Authorization": f"Zoho-oauthtoken {runs.token}"}

    def decode() -> float:
        started = time.perf_counter()
        with requests.Session() as session:
            session.headers["User-Agent"] = runs.user_agent
            for page_url, params in runs.pages:
                response = session.get(page_url, params=params, headers=headers, timeout=runs.timeout)
                json.loads(response.content)
        return time.perf_counter() - started

    def normalize() -> float:
        started = time.perf_counter()
        count = sum(1 for _ in AppticsHook().iter_records(RESOURCE, *WINDOW))
        elapsed = time.perf_counter() - started
        _check_count("iter_records", count, records)
        return elapsed

    def encode() -> float:
        columns = RESOURCES[RESOURCE].dataset_columns()
        started = time.perf_counter()
        records = AppticsHook().iter_records(RESOURCE, *WINDOW)
        tables.write_table(records, columns, _Discard(), file_format="jsonl", compression=None)
        return time.perf_counter() - started

    runners = {"fetch": runs.raw, "+decode": decode, "+normalize": normalize, "+encode": encode}
    runners["operator"] = runs.ours
    runners["http_operator"] = runs.http_operator
    measured = _timed_runs(runners, rounds, sandbox, server_pid)

    profile = cProfile.Profile()
    profile.enable()
    runs.ours()
    profile.disable()
    text = io.StringIO()
    pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(18)
    return {"records": records, "runs": measured, "profile": text.getvalue()}


# -- Zoho Desk: windows above the search cap ---------------------------------------------------------------

#: One-hour windows and the tickets added to each (the sandbox holds a few more of its own).
DESK_WINDOWS = (
    ("2026-03-10T05:00:00Z", "2026-03-10T06:00:00Z", 2_500),
    ("2026-03-11T05:00:00Z", "2026-03-11T06:00:00Z", 5_000),
    ("2026-03-12T05:00:00Z", "2026-03-12T06:00:00Z", 12_345),
)


def desk(url: str, workdir: str) -> dict[str, Any]:
    """Each window through ``ZohoDeskToStorageOperator.execute``: tickets written and searches answered."""
    from airflow_provider_zoho.hooks.desk import ZohoDeskHook
    from airflow_provider_zoho.operators.desk import ZohoDeskToStorageOperator
    from airflow_provider_zoho.windows import parse_instant

    sandbox = use_sandbox(url)
    runs = []
    for start, end, added in DESK_WINDOWS:
        sandbox.add_desk_rows("tickets", added, start, end)
        operator = ZohoDeskToStorageOperator(
            task_id="bench_desk", resource="tickets", destination=Path(workdir).as_uri()
        )
        context = {
            "data_interval_start": parse_instant(start, "start"),
            "data_interval_end": parse_instant(end, "end"),
        }
        before = sandbox.desk_ticket_searches()
        result = operator.execute(context)
        runs.append({"records": result["records"], "calls": sandbox.desk_ticket_searches() - before})
        if result["records"] < added:
            raise RuntimeError(
                f"the operator extracted {result['records']} tickets, fewer than the {added} added"
            )
    return {"cap": ZohoDeskHook.search_max_results, "runs": runs}


WORKLOADS: dict[str, Callable[..., Any]] = {
    "burst": burst,
    "throughput": throughput,
    "rss": rss,
    "breakdown": breakdown,
    "desk": desk,
}


def main(argv: list[str]) -> int:
    name, arguments = argv[0], json.loads(argv[1])
    result = WORKLOADS[name](**arguments)
    if result is not None:
        emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
