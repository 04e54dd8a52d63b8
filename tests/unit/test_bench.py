"""Smoke tests of the benchmark's pure helpers (bench/_report.py): no processes, no timing assertions."""

from __future__ import annotations

import json
import math

import pytest

from bench._report import (
    IMPORTS_BELOW,
    JSON_KEYS,
    MB,
    RESULT_MARKER,
    BurstResult,
    DeskCallsResult,
    ImportResult,
    Measurements,
    Target,
    ThroughputResult,
    desk_minimum_calls,
    format_table,
    import_ms_by_package,
    median,
    minimum_pages,
    notes,
    rates,
    ratio,
    results_in,
    rss_growth_mb,
    summarize,
)
from bench._workloads import PROVIDER_MODULES, import_probe_code, importtime_probe_code


def _runs(ours: list[float], raw: list[float], http: list[float] | None, calls: int) -> dict:
    def runner(seconds: list[float]) -> dict:
        return {
            "seconds": seconds,
            "calls": [calls] * len(seconds),
            "cpu": [s / 2 for s in seconds],
            "server_cpu": [s / 3 for s in seconds],
        }

    runs = {"ours": runner(ours), "raw": runner(raw)}
    return runs if http is None else {**runs, "http_operator": runner(http)}


def _measurements(*, ours_calls: int = 21, mints: int = 1, desk_calls: int = 26) -> Measurements:
    return Measurements(
        burst=BurstResult(
            tasks=32,
            succeeded=32,
            mints=mints,
            distinct_tokens=1,
            seconds_to_token=[1.1, 1.2],
            variable_latency=0.05,
        ),
        naive_burst=BurstResult(tasks=32, succeeded=32, mints=32, mint_limit=10_000),
        throughput=ThroughputResult(
            records=10_000, runs=_runs([1.0, 1.1, 0.9], [0.9, 1.0, 0.8], [2.0, 2.2, 1.8], ours_calls)
        ),
        throughput_at_20ms=ThroughputResult(
            records=10_000, runs=_runs([2.2, 2.0, 2.1], [2.0, 2.1, 1.9], None, ours_calls), page_delay=0.02
        ),
        rss_growth_mb={10_000: 0.4, 100_000: 0.6, 1_000_000: 1.2},
        imports=ImportResult(
            sdk_alone=[3.0, 3.1, 2.9],
            sdk_then_provider=[3.0, 3.0, 3.0],
            provider=[0.020, 0.030, 0.025],
            ms_by_package={"requests": 12.0, "airflow_provider_zoho": 8.0},
        ),
        desk=DeskCallsResult(
            cap=1000, runs=[{"records": 2_501, "calls": desk_calls}, {"records": 5_003, "calls": 51}]
        ),
    )


def test_median_and_ratio():
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([1.0, 2.0, 3.0, 4.0]) == 2.5
    assert math.isnan(median([]))
    assert ratio(3.0, 4.0) == 0.75
    assert math.isnan(ratio(1.0, 0.0))
    assert math.isnan(ratio(math.nan, 1.0))
    assert rates(1000, [0.5, 2.0, 0.0]) == [2000.0, 500.0]


@pytest.mark.parametrize(("records", "pages"), [(0, 1), (499, 1), (500, 2), (50_000, 101), (1_000_001, 2001)])
def test_minimum_pages_stops_at_the_first_short_page(records, pages):
    assert minimum_pages(records) == pages


@pytest.mark.parametrize(
    ("records", "calls"),
    [(0, 1), (99, 1), (100, 2), (198, 2), (199, 3), (2_500, 26), (5_000, 51), (9_999, 101), (10_000, 102)],
)
def test_desk_minimum_calls_pay_one_anchor_row_per_page(records, calls):
    assert desk_minimum_calls(records) == calls
    # Never fewer than offset paging needs, and never more than one extra search per 99 pages.
    assert minimum_pages(records, 100) <= calls <= minimum_pages(records, 100) + records // 9_900 + 1


def test_desk_minimum_calls_match_a_keyset_pager_page_by_page():
    def keyset(records: int, limit: int = 100) -> int:
        calls, left, anchor = 0, records, 0
        while True:
            calls += 1
            page = min(limit, left + anchor)  # the anchor row comes back on every page but the first
            left -= page - anchor
            anchor = 1
            if page < limit:
                return calls

    assert [desk_minimum_calls(n) for n in range(3_000)] == [keyset(n) for n in range(3_000)]


def test_targets():
    assert Target(">=", 0.85).met(0.85)
    assert not Target(">=", 0.85).met(0.84)
    assert Target("<=", 50, " ms").met(49.9)
    assert Target("==", 0).met(0)
    assert not Target("==", 0).met(1)
    assert not Target("<=", 50).met(None)
    assert not Target("<=", 50).met(math.nan)
    assert str(Target("<=", 50, " MB")) == "<= 50 MB"
    with pytest.raises(ValueError, match="operator"):
        Target("<", 1).met(0)


def test_results_in_reads_only_marked_lines():
    stdout = f'some log line\n{RESULT_MARKER}{{"a": 1}}\nnoise {RESULT_MARKER}\n{RESULT_MARKER}{{"b": 2}}\n'
    assert results_in(stdout) == [{"a": 1}, {"b": 2}]


def test_rss_growth_uses_the_highest_peak_seen_during_the_run():
    before = 100 * MB
    # Sampled peak only (ru_maxrss stayed at a high-water mark from before the run).
    assert rss_growth_mb(before, 300 * MB, 300 * MB, 104 * MB) == pytest.approx(4.0)
    # ru_maxrss rose during the run: a spike between two samples still counts.
    assert rss_growth_mb(before, 101 * MB, 110 * MB, 104 * MB) == pytest.approx(10.0)
    # Never negative, even if no sample was taken.
    assert rss_growth_mb(before, 200 * MB, 200 * MB, 0) == 0.0


def test_import_ms_by_package_counts_only_the_providers_imports():
    stderr = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:      3000 |       3000 | airflow.sdk",
            IMPORTS_BELOW,
            "import time:      1500 |       1500 |     urllib3.util",
            "import time:       500 |       2000 |   urllib3",
            "import time:      2000 |       4000 | requests",
            "import time:      1000 |       7000 | airflow_provider_zoho.hooks.zoho",
        ]
    )
    assert import_ms_by_package(stderr) == {"urllib3": 2.0, "requests": 2.0, "airflow_provider_zoho": 1.0}


def test_probe_code_compiles_and_names_every_provider_module():
    for code in (import_probe_code(True), import_probe_code(False), importtime_probe_code()):
        compile(code, "<probe>", "exec")
    assert all(module in import_probe_code(True) for module in PROVIDER_MODULES)
    assert "airflow_provider_zoho" not in import_probe_code(False)


def test_summary_when_every_target_is_met():
    rows, document, failures = summarize(_measurements())
    assert failures == []
    assert all(row.passed for row in rows)
    assert tuple(document) == JSON_KEYS
    assert document["mints_cold_burst"] == {"tasks": 32, "mints": 1, "naive_mints": 32}
    assert document["throughput_ratio_vs_raw"] == pytest.approx(0.9 / 1.0, abs=1e-3)
    assert document["throughput_ratio_vs_raw_at_20ms"] == pytest.approx(2.0 / 2.1, abs=1e-3)
    assert document["throughput_ratio_vs_http_operator"] == pytest.approx(2.0, abs=1e-3)
    assert document["rss_growth_mb"] == {"10000": 0.4, "100000": 0.6, "1000000": 1.2}
    assert document["import_overhead_ms"] == 25.0
    assert document["api_calls_over_minimum"] == 0
    assert document["desk_api_calls_over_minimum"] == 0
    json.dumps(document, allow_nan=False)  # valid JSON, no NaN


def test_summary_names_each_missed_target():
    m = _measurements(ours_calls=22, mints=3, desk_calls=28)
    m.rss_growth_mb[1_000_000] = 80.0
    _, document, failures = summarize(m)
    assert document["api_calls_over_minimum"] == 6  # one extra request in each of 3 + 3 runs
    assert document["desk_api_calls_over_minimum"] == 2  # two extra searches in the first window
    missed = {failure.split(":")[0] for failure in failures}
    assert missed == {
        "mints_cold_burst",
        "rss_growth_mb[1,000,000]",
        "api_calls_over_minimum",
        "desk_api_calls_over_minimum",
    }


def test_a_comparison_that_did_not_run_fails_and_writes_null():
    m = Measurements(errors={"throughput": "RuntimeError: boom"})
    rows, document, failures = summarize(m)
    assert tuple(document) == JSON_KEYS
    assert document["throughput_ratio_vs_raw"] is None
    assert document["throughput_ratio_vs_raw_at_20ms"] is None
    assert document["rss_growth_mb"] == {"10000": None, "100000": None, "1000000": None}
    assert document["desk_api_calls_over_minimum"] is None
    assert not any(row.passed for row in rows)
    assert "throughput: did not complete (RuntimeError: boom)" in failures
    json.dumps(document, allow_nan=False)


def test_table_and_notes_render():
    m = _measurements()
    rows, _, _ = summarize(m)
    table = format_table(rows).splitlines()
    assert table[0].split() == ["name", "ours", "baseline", "ratio/figure", "target", "result"]
    assert set(table[1]) <= {"-", " "}
    assert len(table) == len(rows) + 2
    assert all(line.rstrip().endswith(("PASS", "FAIL")) for line in table[2:])
    text = "\n".join(notes(m))
    assert "throughput at 20 ms/page: the same 10,000 rows" in text
    assert "10000 per 10 minutes" in text
    assert "requests 12 ms" in text
    assert "2,501 tickets in 26 searches" in text
    assert "offset paging would need 77 without the cap" in text


def test_the_delayed_comparison_is_a_figure_of_its_own():
    m = _measurements()
    m.throughput_at_20ms = ThroughputResult(
        records=10_000, runs=_runs([2.2, 2.4, 2.3], [2.0, 2.1, 1.9], None, 21), page_delay=0.02
    )
    rows, document, failures = summarize(m)
    assert document["throughput_ratio_vs_raw_at_20ms"] == pytest.approx(2.0 / 2.3, abs=1e-3)
    assert document["throughput_ratio_vs_raw"] == pytest.approx(0.9, abs=1e-3)  # the loopback one: unchanged
    assert [failure.split(":")[0] for failure in failures] == ["throughput_ratio_vs_raw_at_20ms"]
    (row,) = [row for row in rows if row.name == "throughput_ratio_vs_raw_at_20ms"]
    assert "20 ms/page" in row.baseline
    m.throughput_at_20ms = None  # not run: null, and a missed target
    _, document, failures = summarize(m)
    assert document["throughput_ratio_vs_raw_at_20ms"] is None
    assert [failure.split(":")[0] for failure in failures] == ["throughput_ratio_vs_raw_at_20ms"]
    assert document["api_calls_over_minimum"] == 0  # the loopback runs alone
