"""Unit tests for ``AppticsToStorageOperator``: argument storage, templating and checks before any request."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import types
from unittest import mock

import pytest

from airflow_provider_zoho.exceptions import ZohoConfigError
from airflow_provider_zoho.operators.apptics import AppticsToStorageOperator

D = dt.date


@pytest.fixture(autouse=True, scope="module")
def all_models():
    """
    Every ORM model imported, as ``tests/unit/conftest.py`` does on Airflow 2. Writing through
    ``ObjectStoragePath`` loads Airflow's test plugins (for hook lineage), which import a few models; with
    only some of them imported, later ``Connection`` objects fail to configure their SQLAlchemy mappers.
    """
    from airflow.models import import_all_models

    import_all_models()


@pytest.fixture
def no_http(zoho_conn, requests_mock):
    """The real hook, with every HTTP request refused (requests-mock has no URL registered)."""
    return requests_mock


class FakeHook:
    """
    Stands in for ``AppticsHook``: ``pages[(start, end)]`` pages of one record each, one API call per page,
    counted as each page is fetched (when the stream is consumed), as the real hook counts.
    """

    def __init__(self, pages: dict[tuple[D, D], int], record: dict | None = None) -> None:
        self.pages = pages
        self.record = record
        self.api_calls = 0
        self.planned: list[tuple[D, D, dict]] = []
        self.fanned_out: list[tuple[str, D, D, int, dict]] = []

    def iter_records(
        self, resource, start_date, end_date, *, platforms=None, app_versions=None, mode=None, **params
    ):
        self.planned.append((start_date, end_date, params))
        return self._stream(resource, params.get("group"), start_date, end_date)

    def iter_crash_records(
        self, resource, start_date, end_date, *, platforms=None, app_versions=None, mode=None, concurrency,
        **params,
    ):  # fmt: skip
        self.fanned_out.append((resource, start_date, end_date, concurrency, params))
        return self._stream(resource, None, start_date, end_date)

    def _stream(self, resource, group, start, end):
        for page in range(self.pages[(start, end)]):
            self.api_calls += 1
            if self.record is not None:
                yield dict(self.record)
                continue
            # a value for every declared column, then fields the resource does not declare
            yield {
                **declared_values(resource, group),
                "start": start.isoformat(),
                "end": end.isoformat(),
                "page": page,
            }


_SAMPLE = {
    "string": "7",
    "int64": 1,
    "float64": 99.5,
    "bool": True,
    "date": "2026-03-07",
    "timestamp": "2026-03-07T00:00:00Z",
    "json": {},
}


def declared_values(resource: str, group) -> dict:
    """A record of ``resource`` with a value of its type in every declared column."""
    from airflow_provider_zoho.hooks.apptics_planning import dataset_columns

    return {column.name: _SAMPLE[column.type] for column in dataset_columns(resource, group)}


def operator(**kwargs) -> AppticsToStorageOperator:
    arguments = {"task_id": "extract", "resource": "crashes", "window_start": "2026-03-07"} | kwargs
    arguments.setdefault("window_end", arguments["window_start"])
    return AppticsToStorageOperator(**arguments)


def run_with(op: AppticsToStorageOperator, hook: FakeHook) -> dict:
    op.__dict__["hook"] = hook  # the cached_property, pre-filled
    return op.execute({})


def manifest_of(folder) -> dict:
    return json.loads((folder / "_manifest.json").read_text())


class TestArguments:
    def test_init_stores_arguments_only(self):
        op = AppticsToStorageOperator(
            task_id="extract",
            resource="crashes",
            destination="relative/not/checked/yet",
            zoho_conn_id="zoho_eu",
            dest_conn_id="aws",
            window_start="{{ ds }}",
            window_end="{{ ds }}",
            lookback_days="not checked yet",
            platforms=["iOS"],
            app_versions="1.0",
            mode=1,
            api_params={"platforms": "clashes, but only checked when run"},
            file_format="xlsx",
            compression="zip",
            crash_concurrency="not checked yet",
        )
        assert (op.resource, op.destination, op.zoho_conn_id, op.dest_conn_id) == (
            "crashes",
            "relative/not/checked/yet",
            "zoho_eu",
            "aws",
        )
        assert (op.window_start, op.window_end, op.lookback_days) == (
            "{{ ds }}",
            "{{ ds }}",
            "not checked yet",
        )
        assert (op.platforms, op.app_versions, op.mode) == (["iOS"], "1.0", 1)
        assert op.api_params == {"platforms": "clashes, but only checked when run"}
        assert (op.file_format, op.compression) == ("xlsx", "zip")
        assert op.crash_concurrency == "not checked yet"
        assert "hook" not in op.__dict__  # no connection read when the DAG is parsed

    def test_template_fields(self):
        assert set(AppticsToStorageOperator.template_fields) == {
            "resource",
            "destination",
            "zoho_conn_id",
            "dest_conn_id",
            "window_start",
            "window_end",
            "platforms",
            "app_versions",
            "mode",
            "api_params",
            "file_format",
            "compression",
        }
        assert AppticsToStorageOperator.template_fields_renderers == {"api_params": "json"}


class TestChecksBeforeAnyRequest:
    @pytest.mark.parametrize(
        "destination",
        [
            "",
            "   ",
            "data/zoho",
            "./zoho",
            "file://data/zoho",
            "file:data/zoho",
            "s3://",
            "s3:///key",
            None,
            7,
        ],
        ids=[
            "empty",
            "blank",
            "relative",
            "dot",
            "file-host",
            "file-relative",
            "no-bucket",
            "empty-bucket",
            "none",
            "int",
        ],
    )
    def test_destination_must_be_absolute(self, no_http, tmp_path, monkeypatch, destination):
        monkeypatch.chdir(tmp_path)
        op = operator(destination="{{ params.destination }}")
        op.destination = destination  # as rendered
        with pytest.raises(ZohoConfigError, match=r"^destination must be a URI with a scheme") as error:
            op.execute({})
        assert "current directory" in str(error.value)
        assert no_http.call_count == 0
        assert list(tmp_path.iterdir()) == []  # nothing written into the working directory

    def test_destination_error_does_not_echo_credentials(self, no_http):
        with pytest.raises(ZohoConfigError) as error:
            operator(destination="file://admin:s3cret@data/zoho").execute({})
        assert "s3cret" not in str(error.value)
        assert "admin" not in str(error.value)
        assert no_http.call_count == 0

    @pytest.mark.parametrize("kind", ["absolute-path", "file-uri"])
    def test_absolute_destinations(self, tmp_path, kind):
        destination = str(tmp_path) if kind == "absolute-path" else f"file://{tmp_path}"
        result = run_with(operator(destination=destination), FakeHook({(D(2026, 3, 7), D(2026, 3, 7)): 1}))
        folder = tmp_path / "crashes" / "start=2026-03-07" / "end=2026-03-07"
        assert result["records"] == 1
        assert result["path"].endswith(f"{folder}/data.jsonl")
        assert manifest_of(folder)["records"] == 1

    @pytest.mark.parametrize(
        "api_params",
        ["{'crash_id': '1'}", ["crash_id"], {1: "x"}, {("crash_id",): "1"}, 0],
        ids=["string", "list", "int-key", "tuple-key", "zero"],
    )
    def test_api_params_must_be_a_dict_with_string_keys(self, no_http, tmp_path, api_params):
        with pytest.raises(ZohoConfigError, match=r"^api_params must be a dict") as error:
            operator(destination=str(tmp_path), api_params=api_params).execute({})
        assert "render_template_as_native_obj" in str(error.value)
        assert no_http.call_count == 0
        assert list(tmp_path.iterdir()) == []

    @pytest.mark.parametrize(
        "name",
        [
            "platforms",
            "app_versions",
            "mode",
            "resource",
            "start_date",
            "end_date",
            "window_start",
            "lookback_days",
            "concurrency",
            "crash_concurrency",
        ],
    )
    def test_api_params_must_not_hold_named_arguments(self, no_http, tmp_path, name):
        with pytest.raises(ZohoConfigError, match=r"^api_params must not hold") as error:
            operator(destination=str(tmp_path), api_params={name: "x", "timezone": "UTC"}).execute({})
        assert repr(name) in str(error.value)
        assert "'timezone'" not in str(error.value)
        assert no_http.call_count == 0

    def test_api_params_reach_the_hook(self, tmp_path):
        hook = FakeHook({(D(2026, 3, 7), D(2026, 3, 7)): 1})
        run_with(
            operator(
                resource="crash_os_versions",
                destination=str(tmp_path),
                api_params={"crash_id": "42", "timezone": "UTC"},
            ),
            hook,
        )
        assert hook.planned == [(D(2026, 3, 7), D(2026, 3, 7), {"crash_id": "42", "timezone": "UTC"})]

    @pytest.mark.parametrize("lookback_days", ["2", 1.5, True, -1, None], ids=repr)
    def test_lookback_days_type(self, no_http, tmp_path, lookback_days):
        with pytest.raises(ZohoConfigError, match="lookback_days must be a whole number >= 0"):
            operator(destination=str(tmp_path), lookback_days=lookback_days).execute({})
        assert no_http.call_count == 0

    @pytest.mark.parametrize(
        ("window_start", "lookback_days"),
        [("2026-03-07", 10**6), ("0001-01-01", 1)],
        ids=["huge", "first-day"],
    )
    def test_lookback_before_the_first_day(self, no_http, tmp_path, window_start, lookback_days):
        with pytest.raises(
            ZohoConfigError, match=rf"^lookback_days={lookback_days} reaches before 0001-01-01"
        ):
            operator(
                destination=str(tmp_path), window_start=window_start, lookback_days=lookback_days
            ).execute({})
        assert no_http.call_count == 0
        assert list(tmp_path.iterdir()) == []


class TestPartitions:
    def test_lookback_from_a_multi_day_window_counts_calls_per_partition(self, tmp_path):
        pages = {
            (D(2026, 3, 5), D(2026, 3, 7)): 3,  # the window
            (D(2026, 3, 2), D(2026, 3, 2)): 1,  # lookback days: the 3 days before the window's first day
            (D(2026, 3, 3), D(2026, 3, 3)): 4,
            (D(2026, 3, 4), D(2026, 3, 4)): 2,
        }
        op = operator(
            destination=str(tmp_path), window_start="2026-03-05", window_end="2026-03-07", lookback_days=3
        )
        result = run_with(op, FakeHook(pages))

        base = tmp_path / "crashes"
        assert sorted(p.name for p in base.iterdir()) == [
            "start=2026-03-02",
            "start=2026-03-03",
            "start=2026-03-04",
            "start=2026-03-05",
        ]
        for (start, end), calls in pages.items():
            folder = base / f"start={start}" / f"end={end}"
            manifest = manifest_of(folder)
            data = (folder / "data.jsonl").read_bytes()
            assert (manifest["start"], manifest["end"]) == (str(start), str(end))
            assert manifest["api_calls"] == calls, (start, end)
            assert manifest["records"] == calls == len(data.splitlines())
            assert manifest["sha256"] == hashlib.sha256(data).hexdigest()
        assert result["path"].endswith("start=2026-03-05/end=2026-03-07/data.jsonl")
        assert [entry["path"].split("/")[-3] for entry in result["lookback"]] == [
            "start=2026-03-02",
            "start=2026-03-03",
            "start=2026-03-04",
        ]
        assert [entry["records"] for entry in result["lookback"]] == [1, 4, 2]


class TestIdentityAndFanOut:
    def test_identity_levels_reach_the_path_the_manifest_and_the_asset_event(self, tmp_path):
        op = operator(
            destination=str(tmp_path),
            resource="active_devices",
            platforms=["iOS", "Android"],
            api_params={"group": "country", "timezone": "Asia/Kolkata"},
        )
        op.__dict__["hook"] = FakeHook({(D(2026, 3, 7), D(2026, 3, 7)): 2})
        events = OutletEvents()
        result = op.execute({"outlet_events": events})
        levels = ("group=country", "platforms=Android+iOS", "timezone=Asia%2FKolkata", "start=2026-03-07")
        folder = tmp_path.joinpath("active_devices", *levels, "end=2026-03-07")
        assert result["path"] == f"{folder}/data.jsonl"
        identity = {"group": "country", "platforms": "Android+iOS", "timezone": "Asia/Kolkata"}
        assert manifest_of(folder)["identity"] == identity
        (event,) = events.values()
        assert event.extra == {
            **identity,
            "start": "2026-03-07",
            "end": "2026-03-07",
            "records": 2,
            "path": f"{folder}/data.jsonl",
        }

    def test_no_identity_keeps_the_plain_path(self, tmp_path):
        result = run_with(
            operator(
                destination=str(tmp_path), resource="active_devices", api_params={"group": "date,platform"}
            ),
            FakeHook({(D(2026, 3, 7), D(2026, 3, 7)): 1}),
        )
        folder = tmp_path / "active_devices" / "start=2026-03-07" / "end=2026-03-07"
        assert result["path"] == f"{folder}/data.jsonl"
        assert manifest_of(folder)["identity"] == {}

    def test_a_per_crash_resource_without_crash_id_reads_every_crash_issue(self, tmp_path):
        hook = FakeHook({(D(2026, 3, 7), D(2026, 3, 7)): 3, (D(2026, 3, 6), D(2026, 3, 6)): 1})
        op = operator(
            destination=str(tmp_path),
            resource="crash_device_models",
            platforms=["iOS"],
            lookback_days=1,
            crash_concurrency=6,
            api_params={"timezone": "UTC"},
        )
        result = run_with(op, hook)
        assert hook.planned == []
        assert hook.fanned_out == [
            ("crash_device_models", D(2026, 3, 7), D(2026, 3, 7), 6, {"timezone": "UTC"}),
            ("crash_device_models", D(2026, 3, 6), D(2026, 3, 6), 6, {"timezone": "UTC"}),
        ]
        folder = tmp_path / "crash_device_models" / "platforms=iOS" / "timezone=UTC" / "start=2026-03-07"
        assert result["path"] == f"{folder}/end=2026-03-07/data.jsonl"
        manifest = manifest_of(folder / "end=2026-03-07")
        assert (manifest["records"], manifest["api_calls"]) == (3, 3)
        assert manifest["identity"] == {"platforms": "iOS", "timezone": "UTC"}

    def test_a_per_crash_resource_with_crash_id_reads_that_crash(self, tmp_path):
        hook = FakeHook({(D(2026, 3, 7), D(2026, 3, 7)): 1})
        run_with(
            operator(destination=str(tmp_path), resource="crash_detail", api_params={"crash_id": "9"}), hook
        )
        assert (hook.planned, hook.fanned_out) == ([(D(2026, 3, 7), D(2026, 3, 7), {"crash_id": "9"})], [])
        assert (tmp_path / "crash_detail" / "crash_id=9" / "start=2026-03-07").is_dir()

    @pytest.mark.parametrize("crash_concurrency", [0, 17, "4", True, None], ids=repr)
    def test_crash_concurrency_is_checked_before_any_request(self, no_http, tmp_path, crash_concurrency):
        with pytest.raises(ZohoConfigError, match="^crash_concurrency: expected a whole number from 1 to 16"):
            operator(destination=str(tmp_path), crash_concurrency=crash_concurrency).execute({})
        assert no_http.call_count == 0
        assert list(tmp_path.iterdir()) == []

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"api_params": {"start": "x"}}, "start: a parameter named 'start' cannot be part of"),
            ({"api_params": {"a/b": "x"}}, "'a/b': an API parameter name is made of letters"),
            ({"resource": "crash_detail", "app_versions": ["1", "2"]}, "app_versions: resource"),
        ],
        ids=["window-name", "path-name", "fan-out-filter"],
    )  # fmt: skip
    def test_identity_problems_fail_before_any_request(self, no_http, tmp_path, kwargs, message):
        with pytest.raises(ZohoConfigError, match=re.escape(message)):
            operator(destination=str(tmp_path), **kwargs).execute({})
        assert no_http.call_count == 0
        assert list(tmp_path.iterdir()) == []


class OutletEvents(dict):
    """``context["outlet_events"]``: an accessor per asset, created on first use."""

    def __missing__(self, key):
        self[key] = types.SimpleNamespace(extra=None)
        return self[key]


class TestTypedOutput:
    def test_partitions_have_the_declared_columns_and_schema_version(self, tmp_path):
        from airflow_provider_zoho.hooks.apptics_resources import RESOURCES
        from airflow_provider_zoho.schema import schema_version

        run_with(
            operator(
                resource="active_devices", destination=str(tmp_path), api_params={"group": "platform,date"}
            ),
            FakeHook(
                {(D(2026, 3, 7), D(2026, 3, 7)): 1}, {"platform": "iOS", "date": "2026-03-07", "count": 4}
            ),
        )
        folder = tmp_path / "active_devices" / "start=2026-03-07" / "end=2026-03-07"  # the default group's
        (row,) = [json.loads(line) for line in (folder / "data.jsonl").read_text().splitlines()]
        assert row == {"date": "2026-03-07", "platform": "iOS", "count": 4, "extra": None}
        assert list(row) == ["date", "platform", "count", "extra"]  # the canonical group order
        assert manifest_of(folder)["schema_version"] == schema_version(
            RESOURCES["active_devices"].dataset_columns(("date", "platform"))
        )

    def test_undeclared_fields_are_logged_once_per_task(self, tmp_path):
        pages = {(D(2026, 3, 7), D(2026, 3, 7)): 2, (D(2026, 3, 6), D(2026, 3, 6)): 1}
        op = operator(destination=str(tmp_path), lookback_days=1)
        op._log = op._cached_logger = mock.Mock()  # the logger behind op.log (Airflow 2, Airflow 3)
        run_with(op, FakeHook(pages))
        warnings = [call.args[0] % call.args[1:] for call in op.log.warning.call_args_list]
        assert warnings == [
            "Zoho sent fields that the declared columns of crashes do not have: end, page, start. They are "
            "kept in the 'extra' column (a JSON object) of every partition written."
        ]
        folder = tmp_path / "crashes" / "start=2026-03-06" / "end=2026-03-06"
        (row,) = [json.loads(line) for line in (folder / "data.jsonl").read_text().splitlines()]
        assert row["extra"] == {"start": "2026-03-06", "end": "2026-03-06", "page": 0}
        assert row["crash_id"] == "7"


class TestLineageInputs:
    """The Apptics datasets a run read, for OpenLineage (no request: the connection's fields only)."""

    def test_a_project_resource(self, zoho_conn):
        op = operator(resource="crashes", destination="/unused")
        assert op.lineage_inputs() == [("zoho-apptics://com/766556673", "782000000004007/crashes")]

    def test_the_data_center_is_part_of_the_namespace(self, monkeypatch):
        from tests.unit.conftest import connection_json

        monkeypatch.setenv("AIRFLOW_CONN_ZOHO_EU", connection_json(extra={"data_center": "eu"}))
        op = operator(resource="active_devices", zoho_conn_id="zoho_eu", destination="/unused")
        assert op.lineage_inputs() == [("zoho-apptics://eu/766556673", "782000000004007/active_devices")]

    def test_a_fan_out_read_the_crash_list_too(self, zoho_conn):
        op = operator(resource="crash_detail", destination="/unused")
        assert op.lineage_inputs() == [
            ("zoho-apptics://com/766556673", "782000000004007/crashes"),
            ("zoho-apptics://com/766556673", "782000000004007/crash_detail"),
        ]
        op = operator(resource="crash_detail", destination="/unused", api_params={"crash_id": "42"})
        assert op.lineage_inputs() == [("zoho-apptics://com/766556673", "782000000004007/crash_detail")]

    def test_projects_belong_to_the_account(self, zoho_conn):
        op = operator(resource="projects", destination="/unused")
        assert op.lineage_inputs() == [("zoho-apptics://com", "projects")]
