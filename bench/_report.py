"""
Pure helpers of the benchmark: medians and ratios, the targets, the table and the JSON document.

Nothing here measures anything or starts a process, so ``tests/unit/test_bench.py`` can check it all with
made-up measurements. ``bench/run.py`` fills a :class:`Measurements` and calls :func:`summarize`.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

#: Prefix of the line a workload process prints its JSON result on.
RESULT_MARKER = "BENCH_RESULT "
#: Line an ``-X importtime`` probe writes to stderr where the provider's imports begin.
IMPORTS_BELOW = "BENCH_PROVIDER_IMPORTS_BELOW"
#: Bytes per MB in the memory figures.
MB = 2**20
#: Apptics rows per page, as the hook requests them (``PAGE_LIMIT`` in ``hooks/apptics_resources.py``).
PAGE_SIZE = 500
#: Zoho Desk rows per search page, as ``ZohoDeskHook.page_limit`` requests them.
DESK_PAGE_SIZE = 100
#: Seconds the sandbox waits before answering each page in the delayed throughput comparison: the network
#: latency users see between their workers and Zoho, which loopback lacks.
PAGE_DELAY_SECONDS = 0.02
#: The record counts of the memory comparison (the JSON keys of ``rss_growth_mb``).
RSS_SIZES: tuple[int, ...] = (10_000, 100_000, 1_000_000)
#: The keys of the ``--json`` document, in order; nothing else is written there.
JSON_KEYS: tuple[str, ...] = (
    "mints_cold_burst",
    "throughput_ratio_vs_raw",
    "throughput_ratio_vs_raw_at_20ms",
    "throughput_ratio_vs_http_operator",
    "rss_growth_mb",
    "import_overhead_ms",
    "api_calls_over_minimum",
    "desk_api_calls_over_minimum",
)


def median(values: Iterable[float]) -> float:
    """The median of ``values``; ``nan`` when there are none (a comparison that did not run)."""
    items = list(values)
    return float(statistics.median(items)) if items else math.nan


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``; ``nan`` when either is missing or the denominator is not positive."""
    if math.isnan(numerator) or math.isnan(denominator) or denominator <= 0:
        return math.nan
    return numerator / denominator


def rates(records: int, seconds: Iterable[float]) -> list[float]:
    """Records per second of each run that moved ``records`` records in ``seconds``."""
    return [records / s for s in seconds if s > 0]


def minimum_pages(records: int, page_size: int = PAGE_SIZE) -> int:
    """Requests a paged extraction of ``records`` rows needs: it stops at the first page that is not full."""
    return records // page_size + 1


def desk_minimum_calls(records: int, page_size: int = DESK_PAGE_SIZE) -> int:
    """
    Searches a Desk window of ``records`` tickets needs when paging is safe from edits made meanwhile.

    Each query is anchored on the last ticket taken (it starts at that ticket's ``modifiedTime``, which
    it returns again), so every page after the first brings at most ``page_size - 1`` new tickets; the
    first page that is not full ends the window. That is ``records // page_size + 1`` (offset paging,
    which cannot go past Desk's cap and skips tickets edited during the extraction) plus about one call
    per ``page_size`` pages.
    """
    if records < page_size:
        return 1
    return 2 + (records - page_size) // (page_size - 1)


def results_in(stdout: str) -> list[dict[str, Any]]:
    """The JSON results a workload printed (``BENCH_RESULT {...}`` lines), in order."""
    return [
        json.loads(line[len(RESULT_MARKER) :])
        for line in stdout.splitlines()
        if line.startswith(RESULT_MARKER)
    ]


def rss_growth_mb(rss_before: int, maxrss_before: int, maxrss_after: int, polled_peak: int) -> float:
    """
    Peak RSS growth of a run in MB, from the RSS just before it.

    The peak is the highest RSS the parent sampled during the run; ``ru_maxrss`` (the kernel's exact
    high-water mark) also counts when it rose during the run, which catches a spike between two samples.
    A high-water mark reached before the run (imports, warm-up) says nothing about the run and is ignored.
    """
    peak = max(polled_peak, maxrss_after if maxrss_after > maxrss_before else 0, rss_before)
    return (peak - rss_before) / MB


def import_ms_by_package(importtime_stderr: str) -> dict[str, float]:
    """
    Self time (ms) of the modules imported after the ``IMPORTS_BELOW`` line, summed by top-level package.

    :param importtime_stderr: the stderr of ``python -X importtime``; every ``import time:`` line after
        the marker counts (all of them when there is no marker).
    """
    lines = importtime_stderr.splitlines()
    if IMPORTS_BELOW in lines:
        lines = lines[lines.index(IMPORTS_BELOW) + 1 :]
    totals: dict[str, float] = {}
    for line in lines:
        fields = line.removeprefix("import time:").split("|")
        if not line.startswith("import time:") or len(fields) != 3 or not fields[0].strip().isdigit():
            continue  # not an import line, or the column header
        package = fields[2].strip().split(".")[0]
        totals[package] = totals.get(package, 0.0) + int(fields[0]) / 1000
    return dict(sorted(totals.items(), key=lambda item: item[1], reverse=True))


@dataclass(frozen=True)
class Target:
    """
    A pass/fail threshold.

    :param op: ``">="``, ``"<="`` or ``"=="``.
    :param value: the threshold.
    :param unit: printed after the value (``" ms"``, ``" MB"``...).
    """

    op: str
    value: float
    unit: str = ""

    def met(self, figure: float | None) -> bool:
        """Whether ``figure`` meets the target; a missing figure (``None``/``nan``) never does."""
        if figure is None or math.isnan(figure):
            return False
        if self.op == ">=":
            return figure >= self.value
        if self.op == "<=":
            return figure <= self.value
        if self.op == "==":
            return figure == self.value
        raise ValueError(f"unknown target operator {self.op!r}")

    def __str__(self) -> str:
        return f"{self.op} {self.value:g}{self.unit}"


TARGETS: dict[str, Target] = {
    "mints_cold_burst": Target("<=", 2),
    "throughput_ratio_vs_raw": Target(">=", 0.85),
    "throughput_ratio_vs_raw_at_20ms": Target(">=", 0.95),
    "throughput_ratio_vs_http_operator": Target(">=", 1.5),
    "rss_growth_mb": Target("<=", 50, " MB"),
    "import_overhead_ms": Target("<=", 50, " ms"),
    "api_calls_over_minimum": Target("==", 0),
    "desk_api_calls_over_minimum": Target("==", 0),
}


# -- measurements -------------------------------------------------------------------------------------------


@dataclass
class BurstResult:
    """
    One cold burst: ``tasks`` processes asking for a token at once.

    :param tasks: processes started.
    :param succeeded: processes that obtained a token.
    :param mints: token mints the sandbox counted.
    :param throttled: token requests the sandbox refused with ``Access Denied``.
    :param distinct_tokens: different tokens the processes ended up with.
    :param seconds_to_token: per process, from the barrier to holding a token.
    :param mint_limit: the sandbox's mints per refresh token per 10 minutes (Zoho's is 10).
    :param variable_latency: seconds per ``Variable`` call of the shared store; ``None`` when there is no
        shared store (the naive connector).
    """

    tasks: int
    succeeded: int
    mints: int
    throttled: int = 0
    distinct_tokens: int = 0
    seconds_to_token: list[float] = field(default_factory=list)
    mint_limit: int = 10
    variable_latency: float | None = None


#: The throughput runners: the operator, the transport limit, the do-it-yourself ``HttpOperator`` path.
RUNNERS: tuple[str, ...] = ("ours", "raw", "http_operator")


@dataclass
class ThroughputResult:
    """
    Alternated extraction runs of the same ``records`` crash rows, by runner and metric.

    Runners: ``ours`` (``AppticsToStorageOperator.execute`` writing jsonl), ``raw`` (a bare
    ``requests.Session`` loop fetching the same pages and discarding them) and ``http_operator``
    (``HttpOperator`` with ``pagination_function`` and ``response_filter``, then a jsonl file); the
    delayed comparison runs the first two only.

    :param records: rows served per extraction.
    :param runs: ``runs[runner][metric]``, one value per run; metrics: ``seconds`` (wall), ``calls``
        (Apptics requests the sandbox answered), ``cpu`` (the benchmark process's CPU seconds) and
        ``server_cpu`` (the sandbox's CPU seconds).
    :param page_delay: seconds the sandbox waited before answering each page (0: loopback as it is).
    """

    records: int
    runs: dict[str, dict[str, list[float]]]
    page_delay: float = 0.0

    def ratio_vs(self, baseline: str) -> float:
        """Records/s of ``ours`` over those of ``baseline``, each the median of its runs."""
        return ratio(self.rate("ours"), self.rate(baseline))

    def rate(self, runner: str) -> float:
        """The median records/s of ``runner``."""
        return median(rates(self.records, self.metric(runner, "seconds")))

    def metric(self, runner: str, name: str) -> list[float]:
        return list(self.runs.get(runner, {}).get(name, []))

    def per_record_us(self, runner: str, name: str) -> float:
        """Median ``name`` of ``runner`` in microseconds per record."""
        return median(self.metric(runner, name)) / self.records * 1e6 if self.records else math.nan

    @property
    def ours_calls(self) -> list[int]:
        return [int(calls) for calls in self.metric("ours", "calls")]

    @property
    def api_calls_over_minimum(self) -> int:
        """Requests our runs made beyond ``records // 500 + 1`` each (retries, repeated pages...)."""
        return sum(calls - minimum_pages(self.records) for calls in self.ours_calls)


@dataclass
class DeskCallsResult:
    """
    Zoho Desk extractions of windows that need splitting (more tickets than one search reaches).

    :param cap: the results one search reaches (``ZohoDeskHook.search_max_results``).
    :param runs: one ``{"records", "calls"}`` per window: the tickets extracted and the searches the
        sandbox answered for them.
    """

    cap: int
    runs: list[dict[str, int]] = field(default_factory=list)

    @property
    def minimum(self) -> int:
        return sum(desk_minimum_calls(run["records"]) for run in self.runs)

    @property
    def calls(self) -> int:
        return sum(run["calls"] for run in self.runs)

    @property
    def over_minimum(self) -> int:
        """Searches beyond :func:`desk_minimum_calls` of each window."""
        return self.calls - self.minimum


@dataclass
class ImportResult:
    """
    Fresh interpreters importing ``airflow.sdk`` alone or then the provider's modules, seconds.

    :param sdk_alone: ``import airflow.sdk`` in the baseline processes.
    :param sdk_then_provider: ``import airflow.sdk`` in the processes that then import the provider.
    :param provider: the provider imports measured right after ``import airflow.sdk`` (the increment).
    :param ms_by_package: one ``-X importtime`` run: self time of what the provider imports, by package.
    """

    sdk_alone: list[float] = field(default_factory=list)
    sdk_then_provider: list[float] = field(default_factory=list)
    provider: list[float] = field(default_factory=list)
    ms_by_package: dict[str, float] = field(default_factory=dict)


@dataclass
class Measurements:
    """Everything one ``bench/run.py`` invocation measured; ``None`` where a comparison failed."""

    burst: BurstResult | None = None
    naive_burst: BurstResult | None = None
    throughput: ThroughputResult | None = None
    throughput_at_20ms: ThroughputResult | None = None
    rss_growth_mb: dict[int, float] = field(default_factory=dict)
    imports: ImportResult | None = None
    desk: DeskCallsResult | None = None
    errors: dict[str, str] = field(default_factory=dict)


# -- summary -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One line of the printed table."""

    name: str
    ours: str
    baseline: str
    figure: str
    target: str
    passed: bool


def _num(value: float, digits: int = 0) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def summarize(m: Measurements) -> tuple[list[Row], dict[str, Any], list[str]]:
    """
    Turn measurements into table rows, the ``--json`` document and the list of missed targets.

    :return: ``(rows, document, failures)``; ``failures`` names each missed target with its figure.
    """
    rows: list[Row] = []
    failures: list[str] = []

    def add(row: Row) -> None:
        rows.append(row)
        if not row.passed:
            failures.append(f"{row.name}: {row.figure} (target {row.target})")

    # Token mints of a cold burst.
    burst, naive = m.burst, m.naive_burst
    mints = burst.mints if burst else None
    naive_mints = naive.mints if naive else None
    tasks = burst.tasks if burst else (naive.tasks if naive else 0)
    burst_ok = burst is not None and burst.succeeded == burst.tasks and mints is not None and mints >= 1
    add(
        Row(
            "mints_cold_burst",
            f"{mints} mint(s), {burst.succeeded}/{burst.tasks} tasks" if burst else "n/a",
            f"{naive_mints} mints (naive, {naive.succeeded}/{naive.tasks})" if naive else "n/a",
            str(mints) if mints is not None else "n/a",
            f"{TARGETS['mints_cold_burst']} (ideal 1)",
            burst_ok and TARGETS["mints_cold_burst"].met(mints),
        ),
    )

    # Throughput, on loopback as it is and with every page delayed.
    t, slow = m.throughput, m.throughput_at_20ms
    ours_rps = t.rate("ours") if t else math.nan
    http_rps = t.rate("http_operator") if t else math.nan
    vs_raw = t.ratio_vs("raw") if t else math.nan
    vs_raw_slow = slow.ratio_vs("raw") if slow else math.nan
    vs_http = ratio(ours_rps, http_rps)
    for name, runs, figure in (
        ("throughput_ratio_vs_raw", t, vs_raw),
        ("throughput_ratio_vs_raw_at_20ms", slow, vs_raw_slow),
    ):
        delay = f", {runs.page_delay * 1000:.0f} ms/page" if runs and runs.page_delay else ""
        add(
            Row(
                name,
                f"{_num(runs.rate('ours'))} rec/s" if runs else "n/a",
                f"{_num(runs.rate('raw'))} rec/s (bare Session{delay})" if runs else "n/a",
                _num(figure, 2),
                str(TARGETS[name]),
                TARGETS[name].met(figure),
            ),
        )
    add(
        Row(
            "throughput_ratio_vs_http_operator",
            f"{_num(ours_rps)} rec/s",
            f"{_num(http_rps)} rec/s (HttpOperator)",
            _num(vs_http, 2),
            str(TARGETS["throughput_ratio_vs_http_operator"]),
            TARGETS["throughput_ratio_vs_http_operator"].met(vs_http),
        ),
    )

    # Memory.
    for size in RSS_SIZES:
        growth = m.rss_growth_mb.get(size, math.nan)
        add(
            Row(
                f"rss_growth_mb[{size:,}]",
                f"+{_num(growth, 1)} MB peak" if not math.isnan(growth) else "n/a",
                "flat",
                _num(growth, 1),
                str(TARGETS["rss_growth_mb"]),
                TARGETS["rss_growth_mb"].met(growth),
            ),
        )

    # Import time.
    imp = m.imports
    overhead_ms = median(imp.provider) * 1000 if imp else math.nan
    sdk_ms = median(imp.sdk_alone) * 1000 if imp else math.nan
    add(
        Row(
            "import_overhead_ms",
            f"+{_num(overhead_ms, 1)} ms" if not math.isnan(overhead_ms) else "n/a",
            f"{_num(sdk_ms)} ms (import airflow.sdk)",
            _num(overhead_ms, 1),
            str(TARGETS["import_overhead_ms"]),
            TARGETS["import_overhead_ms"].met(overhead_ms),
        ),
    )

    # API calls, of the operator runs of both throughput comparisons.
    measured = [runs for runs in (t, slow) if runs and runs.ours_calls]
    extra_calls = sum(runs.api_calls_over_minimum for runs in measured) if measured else None
    calls = sum(sum(runs.ours_calls) for runs in measured)
    run_count = sum(len(runs.ours_calls) for runs in measured)
    minimum = sum(minimum_pages(runs.records) * len(runs.ours_calls) for runs in measured)
    add(
        Row(
            "api_calls_over_minimum",
            f"{calls} calls / {run_count} runs" if measured else "n/a",
            f"{minimum} minimum" if measured else "n/a",
            str(extra_calls) if extra_calls is not None else "n/a",
            str(TARGETS["api_calls_over_minimum"]),
            TARGETS["api_calls_over_minimum"].met(extra_calls),
        ),
    )

    # Desk searches.
    desk = m.desk if m.desk and m.desk.runs else None
    desk_extra = desk.over_minimum if desk else None
    add(
        Row(
            "desk_api_calls_over_minimum",
            f"{desk.calls} searches / {len(desk.runs)} windows" if desk else "n/a",
            f"{desk.minimum} minimum" if desk else "n/a",
            str(desk_extra) if desk_extra is not None else "n/a",
            str(TARGETS["desk_api_calls_over_minimum"]),
            TARGETS["desk_api_calls_over_minimum"].met(desk_extra),
        ),
    )

    for name, error in m.errors.items():
        failures.append(f"{name}: did not complete ({error})")

    document = {
        "mints_cold_burst": {"tasks": tasks, "mints": mints, "naive_mints": naive_mints},
        "throughput_ratio_vs_raw": _json_float(vs_raw, 3),
        "throughput_ratio_vs_raw_at_20ms": _json_float(vs_raw_slow, 3),
        "throughput_ratio_vs_http_operator": _json_float(vs_http, 3),
        "rss_growth_mb": {
            str(size): _json_float(m.rss_growth_mb.get(size, math.nan), 1) for size in RSS_SIZES
        },
        "import_overhead_ms": _json_float(overhead_ms, 1),
        "api_calls_over_minimum": extra_calls,
        "desk_api_calls_over_minimum": desk_extra,
    }
    return rows, document, failures


def _json_float(value: float, digits: int) -> float | None:
    """A rounded float for the JSON document; ``None`` (JSON ``null``) for a figure that was not measured."""
    return None if value is None or math.isnan(value) else round(value, digits)


def format_table(rows: Sequence[Row]) -> str:
    """The rows as an aligned plain-text table with a header."""
    header = ("name", "ours", "baseline", "ratio/figure", "target", "result")
    cells = [header] + [
        (r.name, r.ours, r.baseline, r.figure, r.target, "PASS" if r.passed else "FAIL") for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def notes(m: Measurements) -> list[str]:
    """How each figure was obtained, printed under the table."""
    lines: list[str] = []
    if m.burst:
        b = m.burst
        latency_ms = (b.variable_latency or 0) * 1000
        slowest = max(b.seconds_to_token, default=math.nan)
        lines.append(
            f"mints: {b.tasks} forked processes as running tasks with a cold cache, Variable calls served "
            f"by one shared store ({latency_ms:.0f} ms per call), released at a barrier: {b.mints} mint(s), "
            f"{b.distinct_tokens} distinct token(s), {b.throttled} throttled; time to token median "
            f"{median(b.seconds_to_token):.2f} s, max {slowest:.2f} s."
        )
    if m.naive_burst:
        n = m.naive_burst
        lines.append(
            f"naive: the same {n.tasks} processes with no shared store, against a sandbox whose mint limit "
            f"was raised from Zoho's 10 to {n.mint_limit} per 10 minutes so every mint is counted: "
            f"{n.mints} mints, {n.throttled} throttled."
        )
    if m.throughput:
        t = m.throughput
        calls = {runner: sorted({int(c) for c in t.metric(runner, "calls")}) for runner in RUNNERS}
        lines.append(
            f"throughput: {t.records:,} crash rows ({minimum_pages(t.records)} pages of {PAGE_SIZE}), "
            f"{len(t.metric('ours', 'seconds'))} alternated rounds after a warm-up. Requests per run: ours "
            f"{calls['ours']}, raw {calls['raw']}, HttpOperator {calls['http_operator']} (minimum "
            f"{minimum_pages(t.records)})."
        )
        lines.append(
            "per record, medians in us (wall / bench-process CPU / sandbox CPU): "
            + "; ".join(
                f"{runner} {t.per_record_us(runner, 'seconds'):.1f} / {t.per_record_us(runner, 'cpu'):.1f}"
                f" / {t.per_record_us(runner, 'server_cpu'):.1f}"
                for runner in RUNNERS
            )
            + ". Wall close to the sum of the two CPU figures: fetching and processing run one after the "
            "other; wall well above it: the machine was busy."
        )
    if m.throughput_at_20ms:
        d = m.throughput_at_20ms
        delay_ms = d.page_delay * 1000
        lines.append(
            f"throughput at {delay_ms:.0f} ms/page: the same {d.records:,} rows, the sandbox waiting "
            f"{delay_ms:.0f} ms before answering each page (a delay fault, the same for both "
            f"runners), {len(d.metric('ours', 'seconds'))} alternated rounds of ours and raw; per record "
            "(wall / bench-process CPU / sandbox CPU): "
            + "; ".join(
                f"{runner} {d.per_record_us(runner, 'seconds'):.1f} / {d.per_record_us(runner, 'cpu'):.1f}"
                f" / {d.per_record_us(runner, 'server_cpu'):.1f}"
                for runner in ("ours", "raw")
            )
            + "."
        )
    if m.desk and m.desk.runs:
        d = m.desk
        windows = ", ".join(f"{run['records']:,} tickets in {run['calls']} searches" for run in d.runs)
        offset = sum(run["records"] // DESK_PAGE_SIZE + 1 for run in d.runs)
        lines.append(
            f"desk: {len(d.runs)} one-hour windows each holding more tickets than one search reaches "
            f"({d.cap:,}): {windows}. Minimum {d.minimum} (each page anchored on the last ticket taken, "
            f"so at most {DESK_PAGE_SIZE - 1} new per page after the first); offset paging would need "
            f"{offset} without the cap, and skips tickets edited meanwhile."
        )
    if m.rss_growth_mb:
        lines.append(
            "rss: each size extracted in a fresh process after imports and a warm-up extraction; growth = "
            "peak RSS during the run (parent samples every 20 ms, plus ru_maxrss) minus RSS just before it."
        )
    if m.imports:
        i = m.imports
        spread = (
            f"{min(i.sdk_alone, default=math.nan) * 1000:.0f}-{max(i.sdk_alone, default=math.nan) * 1000:.0f}"
        )
        lines.append(
            f"imports: {len(i.sdk_alone)} + {len(i.provider)} interleaved fresh interpreters; import "
            f"airflow.sdk median {median(i.sdk_alone) * 1000:.0f} ms, range {spread} ms between processes "
            "(too wide for a difference of whole-process times to resolve tens of ms), so the figure is the "
            "provider imports timed right after import airflow.sdk in the same process: median "
            f"{median(i.provider) * 1000:.1f} ms, range {min(i.provider, default=math.nan) * 1000:.0f}-"
            f"{max(i.provider, default=math.nan) * 1000:.0f} ms."
        )
        if i.ms_by_package:
            top = ", ".join(f"{name} {ms:.0f} ms" for name, ms in list(i.ms_by_package.items())[:6])
            lines.append(
                f"what the provider imports after airflow.sdk (one -X importtime run, self time): {top}."
            )
    return lines
