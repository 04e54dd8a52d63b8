"""
Benchmarks of airflow-provider-zoho, each a side-by-side comparison with a baseline.

    python bench/run.py [--quick] [--json FILE]     # the comparisons, a table, exit 1 if a target is missed
    python bench/run.py --breakdown [--quick]       # where the operator's time goes (no targets)

This process only orchestrates: every workload runs in its own process (``bench/_workloads.py``) and the
Zoho sandbox in another, so nothing measured shares a GIL with the server or with this process. The
machine is small and shared, so every figure is a ratio or a median of alternated runs, never one absolute
time. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent


def _reexec_with_airflow() -> None:
    """``python bench/run.py`` with an interpreter that lacks Airflow: rerun under the project's .venv."""
    if importlib.util.find_spec("airflow") is not None:
        return
    venv_python = ROOT / ".venv" / "bin" / "python"
    if not venv_python.exists() or os.environ.get("_ZOHO_BENCH_REEXEC"):
        raise SystemExit("bench/run.py needs Apache Airflow: run `make bench` or use .venv/bin/python.")
    os.environ["_ZOHO_BENCH_REEXEC"] = "1"  # once: never loop if the venv lacks Airflow too
    os.execv(str(venv_python), [str(venv_python), str(Path(__file__).resolve()), *sys.argv[1:]])


if __name__ == "__main__":
    _reexec_with_airflow()
    sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from bench._report import (  # noqa: E402
    PAGE_DELAY_SECONDS,
    RSS_SIZES,
    BurstResult,
    DeskCallsResult,
    ImportResult,
    Measurements,
    ThroughputResult,
    format_table,
    import_ms_by_package,
    notes,
    results_in,
    rss_growth_mb,
    summarize,
)
from bench._sandbox import SandboxProcess  # noqa: E402
from bench._workloads import import_probe_code, importtime_probe_code  # noqa: E402


@dataclass(frozen=True)
class Plan:
    """
    Sizes and repetitions of one run.

    :param import_pairs: fresh-interpreter pairs (``import airflow.sdk`` alone / then the provider).
    :param burst_tasks: processes in a cold burst.
    :param variable_latency: seconds per ``Variable`` call of the shared store in the burst.
    :param naive_mint_limit: the sandbox's mint limit for the naive burst, high enough to count every mint.
    :param throughput_records: crash rows per throughput extraction.
    :param throughput_rounds: alternated rounds of the throughput runners, in each comparison; a multiple of
        3, so each of the three loopback runners runs first, second and third equally often.
    :param rss_sizes: record counts of the memory runs.
    """

    import_pairs: int
    burst_tasks: int
    variable_latency: float
    naive_mint_limit: int
    throughput_records: int
    throughput_rounds: int
    rss_sizes: tuple[int, ...] = RSS_SIZES


QUICK = Plan(
    import_pairs=5,
    burst_tasks=32,
    variable_latency=0.05,
    naive_mint_limit=10_000,
    throughput_records=50_000,
    throughput_rounds=6,
)
FULL = Plan(
    import_pairs=11,
    burst_tasks=32,
    variable_latency=0.05,
    naive_mint_limit=10_000,
    throughput_records=200_000,
    throughput_rounds=9,
)
#: Polling period of the RSS sampler, seconds.
RSS_POLL_SECONDS = 0.02


class WorkloadError(RuntimeError):
    """A workload process failed; the message ends with the tail of its log."""


class Bench:
    """
    Starts sandboxes and workload processes in a scratch directory and collects what they report.

    :param python: an interpreter with Airflow and the provider.
    :param workdir: scratch directory (Airflow home, output files, logs).
    :param plan: sizes and repetitions.
    """

    def __init__(self, python: str, workdir: Path, plan: Plan) -> None:
        self.python = python
        self.workdir = workdir
        self.plan = plan
        self.logs = workdir / "logs"
        self.logs.mkdir()
        self._log_count = 0
        self.env = {
            **os.environ,
            "AIRFLOW_HOME": str(workdir / "airflow-home"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }

    # -- processes ------------------------------------------------------------------------------------------

    def _log_path(self, name: str) -> Path:
        self._log_count += 1
        return self.logs / f"{self._log_count:02d}-{name}.log"

    def sandbox(self, name: str, **kwargs: Any) -> SandboxProcess:
        return SandboxProcess(self.python, self._log_path(f"sandbox-{name}"), **kwargs)

    def _command(self, workload: str, arguments: dict[str, Any]) -> list[str]:
        return [self.python, "-m", "bench._workloads", workload, json.dumps(arguments)]

    def run_workload(self, workload: str, arguments: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Run one workload process to completion and return its (last) result."""
        log_path = self._log_path(workload)
        with log_path.open("w") as log:
            return self._result_of(self._command(workload, arguments), timeout, log, lambda: _tail(log_path))

    def run_python(self, code: str, timeout: float) -> dict[str, Any]:
        """Run ``python -c code`` and return its (last) result."""
        return self._result_of([self.python, "-c", code], timeout, subprocess.PIPE, None)

    def _result_of(self, command: list[str], timeout: float, stderr: Any, describe: Any) -> dict[str, Any]:
        completed = subprocess.run(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            timeout=timeout,
            check=False,
        )
        results = results_in(completed.stdout)
        if completed.returncode != 0 or not results:
            detail = describe() if describe else (completed.stderr or "")[-2000:]
            raise WorkloadError(f"{' '.join(command[:3])} exited {completed.returncode}: {detail}")
        return results[-1]

    # -- comparisons ----------------------------------------------------------------------------------------

    def imports(self) -> ImportResult:
        """Interleaved fresh interpreters: ``import airflow.sdk`` alone, and followed by the provider."""
        result = ImportResult()
        self.run_python(import_probe_code(with_provider=True), timeout=300)  # warm-up: caches, airflow.cfg
        for index in range(self.plan.import_pairs):
            order = (False, True) if index % 2 == 0 else (True, False)
            for with_provider in order:
                probe = self.run_python(import_probe_code(with_provider), timeout=300)
                if with_provider:
                    result.sdk_then_provider.append(probe["sdk"])
                    result.provider.append(probe["provider"])
                else:
                    result.sdk_alone.append(probe["sdk"])
        completed = subprocess.run(
            [self.python, "-X", "importtime", "-c", importtime_probe_code()],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if completed.returncode == 0:
            result.ms_by_package = import_ms_by_package(completed.stderr)
        return result

    def burst(self, shared: bool) -> BurstResult:
        """A cold burst against a fresh sandbox: shared store and Zoho's mint limit, or naive."""
        mint_limit = None if shared else self.plan.naive_mint_limit
        with self.sandbox("burst" if shared else "naive-burst", mint_limit=mint_limit) as sandbox:
            report = self.run_workload(
                "burst",
                {
                    "url": sandbox.url,
                    "tasks": self.plan.burst_tasks,
                    "shared": shared,
                    "latency": self.plan.variable_latency,
                    "timeout": 300.0,
                },
                timeout=600,
            )
            stats = sandbox.client.stats()
        return BurstResult(
            tasks=report["tasks"],
            succeeded=report["succeeded"],
            mints=int(stats["mints"]),
            throttled=int(stats["throttled"]),
            distinct_tokens=report["distinct_tokens"],
            seconds_to_token=report["seconds_to_token"],
            mint_limit=mint_limit or 10,
            variable_latency=self.plan.variable_latency if shared else None,
        )

    def throughput(self, page_delay: float = 0.0) -> ThroughputResult:
        """
        The throughput runners alternated against a fresh sandbox.

        :param page_delay: seconds the sandbox waits before answering each page (0: loopback as it is).
        """
        name = f"throughput-{page_delay * 1000:.0f}ms" if page_delay else "throughput"
        with self.sandbox(name) as sandbox:
            report = self.run_workload(
                "throughput",
                {
                    "url": sandbox.url,
                    "records": self.plan.throughput_records,
                    "rounds": self.plan.throughput_rounds,
                    "workdir": str(self._scratch(name)),
                    "server_pid": sandbox.pid,
                    "page_delay": page_delay,
                },
                timeout=3600,
            )
        return ThroughputResult(records=report["records"], runs=report["runs"], page_delay=page_delay)

    def desk(self) -> DeskCallsResult:
        """Desk windows above the search cap, through the operator, against a fresh sandbox."""
        with self.sandbox("desk") as sandbox:
            report = self.run_workload(
                "desk", {"url": sandbox.url, "workdir": str(self._scratch("desk"))}, 900
            )
        return DeskCallsResult(cap=report["cap"], runs=report["runs"])

    def rss(self) -> dict[int, float]:
        """Peak RSS growth of one extraction per size, each in a fresh process."""
        growth: dict[int, float] = {}
        with self.sandbox("rss") as sandbox:
            for size in self.plan.rss_sizes:
                growth[size] = self._rss_run(sandbox.url, size)
        return growth

    def _rss_run(self, url: str, records: int, timeout: float = 1800) -> float:
        """
        Run the ``rss`` workload while sampling its RSS from here, between its two result lines.

        Sampling from this process keeps the sampler off the measured process's GIL.
        """
        scratch = self._scratch(f"rss-{records}")
        log_path = self._log_path(f"rss-{records}")
        with log_path.open("w") as log:
            process = subprocess.Popen(
                self._command("rss", {"url": url, "records": records, "workdir": str(scratch)}),
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
            lines: queue.Queue[str | None] = queue.Queue()
            reader = threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True)
            reader.start()
            watched = psutil.Process(process.pid)
            results: list[dict[str, Any]] = []
            peak = 0
            deadline = time.monotonic() + timeout
            while True:
                try:
                    line = lines.get(timeout=RSS_POLL_SECONDS)
                except queue.Empty:
                    line = ""
                if line is None:
                    break
                results.extend(results_in(line))
                sampling = any(r.get("phase") == "baseline" for r in results) and not any(
                    r.get("phase") == "done" for r in results
                )
                if sampling:
                    try:
                        peak = max(peak, watched.memory_info().rss)
                    except psutil.NoSuchProcess:
                        pass
                if time.monotonic() > deadline:
                    process.kill()
            returncode = process.wait()
            reader.join(timeout=5)
        done = [r for r in results if r.get("phase") == "done"]
        if returncode != 0 or not done:
            raise WorkloadError(f"rss {records} exited {returncode}: {_tail(log_path)}")
        result = done[-1]
        _remove_tree(scratch)
        return rss_growth_mb(result["rss_before"], result["maxrss_before"], result["maxrss_after"], peak)

    def breakdown(self, records: int, rounds: int) -> dict[str, Any]:
        with self.sandbox("breakdown") as sandbox:
            return self.run_workload(
                "breakdown",
                {
                    "url": sandbox.url,
                    "records": records,
                    "rounds": rounds,
                    "workdir": str(self._scratch("breakdown")),
                    "server_pid": sandbox.pid,
                },
                timeout=3600,
            )

    def _scratch(self, name: str) -> Path:
        path = self.workdir / name
        path.mkdir(exist_ok=True)
        return path


def _pump(stream: IO[str] | None, lines: queue.Queue[str | None]) -> None:
    if stream is not None:
        for line in stream:
            lines.put(line)
    lines.put(None)


def _tail(path: Path, lines: int = 15) -> str:
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:]) or f"(empty log {path})"


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def measure(bench: Bench) -> Measurements:
    """Run every comparison; one that fails is recorded as an error and the others still run."""
    m = Measurements()
    plan = bench.plan
    steps: list[tuple[str, str, Any]] = [
        ("import_overhead_ms", f"import time, {plan.import_pairs} interleaved pairs", bench.imports),
        ("mints_cold_burst", f"cold burst of {plan.burst_tasks} task processes", lambda: bench.burst(True)),
        ("naive_mints", f"naive burst of {plan.burst_tasks} processes", lambda: bench.burst(False)),
        (
            "throughput",
            f"throughput, {plan.throughput_records:,} rows x {plan.throughput_rounds} rounds",
            bench.throughput,
        ),
        (
            "throughput_at_20ms",
            f"throughput with {PAGE_DELAY_SECONDS * 1000:.0f} ms per page, ours and raw, "
            f"{plan.throughput_rounds} rounds",
            lambda: bench.throughput(PAGE_DELAY_SECONDS),
        ),
        ("rss_growth_mb", f"peak RSS at {', '.join(f'{n:,}' for n in plan.rss_sizes)} rows", bench.rss),
        ("desk_api_calls_over_minimum", "Zoho Desk windows above the search cap", bench.desk),
    ]
    for name, description, step in steps:
        _progress(description)
        started = time.monotonic()
        try:
            value = step()
        except Exception as error:
            m.errors[name] = f"{type(error).__name__}: {error}"
            _progress(f"  FAILED: {m.errors[name]}")
            continue
        _progress(f"  done in {time.monotonic() - started:.0f} s")
        if name == "import_overhead_ms":
            m.imports = value
        elif name == "mints_cold_burst":
            m.burst = value
        elif name == "naive_mints":
            m.naive_burst = value
        elif name == "throughput":
            m.throughput = value
        elif name == "throughput_at_20ms":
            m.throughput_at_20ms = value
        elif name == "desk_api_calls_over_minimum":
            m.desk = value
        else:
            m.rss_growth_mb = value
    return m


def print_breakdown(report: dict[str, Any]) -> None:
    from bench._report import ThroughputResult

    t = ThroughputResult(records=report["records"], runs=report["runs"])
    print(f"Where the operator's time goes: {t.records:,} crash rows, medians of alternated runs, us/record.")
    print("Each stage adds one step to the one above it; CPU is this process's (client) and the sandbox's.\n")
    print(f"  {'stage':<14}{'wall':>8}{'client CPU':>12}{'(+stage)':>10}{'sandbox CPU':>13}")
    previous = 0.0
    for stage in t.runs:
        cpu = t.per_record_us(stage, "cpu")
        step = f"{cpu - previous:+.2f}" if stage != "http_operator" else ""
        print(
            f"  {stage:<14}{t.per_record_us(stage, 'seconds'):8.2f}{cpu:12.2f}{step:>10}"
            f"{t.per_record_us(stage, 'server_cpu'):13.2f}"
        )
        if stage != "http_operator":
            previous = cpu
    print("\ncProfile of one operator run (by own time):")
    print(report["profile"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repetitions (< 5 min)")
    parser.add_argument("--json", metavar="FILE", type=Path, help="write the figures to FILE as JSON")
    parser.add_argument(
        "--breakdown", action="store_true", help="only show where the operator's time goes, stage by stage"
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="zoho-bench-") as scratch:
        bench = Bench(sys.executable, Path(scratch), plan)
        if args.breakdown:
            print_breakdown(bench.breakdown(plan.throughput_records, max(3, plan.throughput_rounds // 2)))
            return 0
        measurements = measure(bench)
    rows, document, failures = summarize(measurements)
    print(format_table(rows))
    print()
    for line in notes(measurements):
        print(f"- {line}")
    print(f"\nwall time {time.monotonic() - started:.0f} s ({'--quick' if args.quick else 'full'} run)")
    if args.json:
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    if failures:
        print("\nTargets missed:")
        for failure in failures:
            print(f"  - {failure}")
        return 1
    print("\nEvery target met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
