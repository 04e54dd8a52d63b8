"""``ZohoDeskToStorageOperator``: argument storage, templating, windows and checks before any request."""

from __future__ import annotations

import datetime as dt
import json

import pendulum
import pytest

from airflow_provider_zoho.exceptions import ZohoConfigError
from airflow_provider_zoho.hooks.desk_resources import RESOURCES
from airflow_provider_zoho.operators.desk import ZohoDeskToStorageOperator
from tests.unit.conftest import connection_json

H = dt.timedelta(hours=1)
UTC = dt.timezone.utc


@pytest.fixture(autouse=True, scope="module")
def all_models():
    """Every ORM model imported (as in tests/unit/operators/test_apptics.py: storage loads plugins)."""
    from airflow.models import import_all_models

    import_all_models()


@pytest.fixture
def desk_conn(monkeypatch):
    extra = {"desk_url": "https://desk.example.test", "desk_org_id": "60012345678"}
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_DEFAULT", connection_json(extra=extra))


@pytest.fixture
def no_http(desk_conn, requests_mock):
    """The real hook, with every HTTP request refused (requests-mock has no URL registered)."""
    return requests_mock


def interval(start: str, end: str) -> dict:
    return {"data_interval_start": pendulum.parse(start), "data_interval_end": pendulum.parse(end)}


class FakeHook:
    """Stands in for ``ZohoDeskHook``: one record per window, one API call counted when it is consumed."""

    def __init__(self) -> None:
        self.api_calls = 0
        self.windows: list[tuple[dt.datetime | None, dt.datetime | None]] = []

    def iter_records(self, resource, modified_from=None, modified_to=None, **params):
        self.windows.append((modified_from, modified_to))
        return self._stream(resource, modified_from)

    def _stream(self, resource, modified_from):
        self.api_calls += 1
        yield {"id": "1", "modified_time": modified_from.isoformat(), "resource": resource}


def operator(**kwargs) -> ZohoDeskToStorageOperator:
    return ZohoDeskToStorageOperator(**{"task_id": "extract", "resource": "tickets"} | kwargs)


def run_with(op: ZohoDeskToStorageOperator, context: dict, hook: FakeHook | None = None) -> dict:
    op.__dict__["hook"] = hook or FakeHook()  # the cached_property, pre-filled
    return op.execute(context)


class TestArguments:
    def test_init_stores_arguments_only(self):
        op = ZohoDeskToStorageOperator(
            task_id="extract",
            resource="{{ params.resource }}",
            destination="relative/not/checked/yet",
            zoho_conn_id="zoho_eu",
            dest_conn_id="aws",
            modified_from="{{ data_interval_start }}",
            modified_to="not checked yet",
            lookback="not checked yet",
            file_format="xlsx",
            compression="zip",
        )
        assert (op.resource, op.destination, op.zoho_conn_id, op.dest_conn_id) == (
            "{{ params.resource }}",
            "relative/not/checked/yet",
            "zoho_eu",
            "aws",
        )
        assert (op.modified_from, op.modified_to, op.lookback) == (
            "{{ data_interval_start }}",
            "not checked yet",
            "not checked yet",
        )
        assert (op.file_format, op.compression) == ("xlsx", "zip")
        assert "hook" not in op.__dict__  # no connection read when the DAG is parsed

    def test_template_fields(self):
        assert set(ZohoDeskToStorageOperator.template_fields) == {
            "resource",
            "destination",
            "zoho_conn_id",
            "dest_conn_id",
            "modified_from",
            "modified_to",
            "file_format",
            "compression",
        }

    def test_the_folder_and_the_asset_are_desk_resource(self):
        from airflow.providers.common.compat.sdk import Asset, AssetAlias

        fixed = operator(destination="s3://bucket/zoho")
        assert fixed.folder == "desk_tickets"
        assert fixed.outlets == [Asset(uri="s3://bucket/zoho/desk_tickets")]
        templated = operator(resource="{{ params.resource }}", destination="s3://bucket/zoho")
        assert [type(outlet) for outlet in templated.outlets] == [AssetAlias]
        assert templated.outlets[0].name == "zoho:s3://bucket/zoho/desk_{{ params.resource }}"

    def test_the_hook_is_the_desk_hook_of_the_connection(self, desk_conn):
        from airflow_provider_zoho.hooks.desk import ZohoDeskHook

        hook = operator(destination="/tmp/x", zoho_conn_id="zoho_default").hook
        assert type(hook) is ZohoDeskHook
        assert hook.zoho_conn_id == "zoho_default"


class TestChecksBeforeAnyRequest:
    @pytest.mark.parametrize(
        ("kwargs", "context", "message"),
        [
            (
                {"resource": "ticket"},
                interval("2026-03-07T23:00Z", "2026-03-08T00:00Z"),
                "resource must be one of",
            ),
            ({}, interval("2026-03-08T00:00Z", "2026-03-08T00:00Z"), "data interval is empty"),
            ({}, {}, "no data interval"),
            (
                {"modified_from": "2026-03-07T23:00:00"},
                interval("2026-03-07T23:00Z", "2026-03-08T00:00Z"),
                "no zone",
            ),
            (
                {"modified_from": "2026-03-08T00:00:00Z", "modified_to": "2026-03-07T00:00:00Z"},
                {},
                r"modified_to \(2026-03-07T00:00:00\+00:00\) must be after modified_from",
            ),
            (
                {"lookback": dt.timedelta(minutes=90)},
                interval("2026-03-07T23:00Z", "2026-03-08T00:00Z"),
                "whole number of windows",
            ),
            (
                {"lookback": 2},
                interval("2026-03-07T23:00Z", "2026-03-08T00:00Z"),
                "lookback must be a timedelta",
            ),
            (
                {"resource": "agents", "lookback": 2 * H},
                interval("2026-03-07T23:00Z", "2026-03-08T00:00Z"),
                "lookback does not apply to agents: a snapshot has no history",
            ),
            (
                {"modified_from": "2026-03-07T23:00:00.5Z", "modified_to": "2026-03-08T00:00:00Z"},
                {},
                "not a whole second",
            ),
        ],
        ids=[
            "resource",
            "empty-interval",
            "no-interval",
            "naive",
            "reversed",
            "lookback-90min",
            "lookback-int",
            "snapshot-lookback",
            "sub-second",
        ],
    )
    def test_bad_arguments_fail_before_anything_is_written(self, no_http, tmp_path, kwargs, context, message):
        with pytest.raises(ZohoConfigError, match=message):
            operator(destination=str(tmp_path), **kwargs).execute(context)
        assert no_http.call_count == 0
        assert list(tmp_path.iterdir()) == []

    def test_a_connection_without_desk_org_id_fails_before_any_request(
        self, zoho_conn, requests_mock, tmp_path
    ):
        with pytest.raises(ZohoConfigError, match="desk_org_id"):
            operator(destination=str(tmp_path)).execute(interval("2026-03-07T23:00Z", "2026-03-08T00:00Z"))
        assert requests_mock.call_count == 0
        assert list(tmp_path.iterdir()) == []

    def test_destination_must_be_absolute(self, no_http, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        with pytest.raises(ZohoConfigError, match="destination must be a URI"):
            operator(destination="lake").execute(interval("2026-03-07T23:00Z", "2026-03-08T00:00Z"))
        assert no_http.call_count == 0


class TestWindows:
    def test_an_hourly_run_writes_its_half_open_window_with_lookback(self, tmp_path):
        hook = FakeHook()
        op = operator(destination=str(tmp_path), lookback=2 * H)
        result = run_with(op, interval("2026-03-07T23:00:00Z", "2026-03-08T00:00:00Z"), hook)
        hour = lambda h: dt.datetime(2026, 3, 7, h, tzinfo=UTC)  # noqa: E731
        assert hook.windows == [
            (hour(23), dt.datetime(2026, 3, 8, tzinfo=UTC)),
            (hour(21), hour(22)),
            (hour(22), hour(23)),
        ]
        base = tmp_path / "desk_tickets"
        folders = sorted(f"{p.parent.name}/{p.name}" for p in base.glob("start=*/end=*"))
        assert folders == [
            "start=2026-03-07T210000Z/end=2026-03-07T220000Z",
            "start=2026-03-07T220000Z/end=2026-03-07T230000Z",
            "start=2026-03-07T230000Z/end=2026-03-08T000000Z",
        ]
        main = base / "start=2026-03-07T230000Z" / "end=2026-03-08T000000Z"
        manifest = json.loads((main / "_manifest.json").read_text())
        assert (manifest["resource"], manifest["start"], manifest["end"], manifest["api_calls"]) == (
            "tickets",
            "2026-03-07T230000Z",
            "2026-03-08T000000Z",
            1,
        )
        assert result["path"].endswith(
            "desk_tickets/start=2026-03-07T230000Z/end=2026-03-08T000000Z/data.jsonl"
        )
        assert [entry["records"] for entry in result["lookback"]] == [1, 1]

    def test_a_daily_run_gets_day_keys(self, tmp_path):
        run_with(
            operator(destination=str(tmp_path), resource="contacts"),
            interval("2026-03-07T00:00Z", "2026-03-08T00:00Z"),
        )
        assert (
            tmp_path / "desk_contacts" / "start=2026-03-07" / "end=2026-03-07" / "_manifest.json"
        ).exists()

    def test_explicit_bounds_win_each_on_its_own(self, tmp_path):
        hook = FakeHook()
        op = operator(destination=str(tmp_path), modified_from="2026-03-07T22:30:00+00:00")
        run_with(op, interval("2026-03-07T23:00Z", "2026-03-08T00:00Z"), hook)
        assert hook.windows == [
            (dt.datetime(2026, 3, 7, 22, 30, tzinfo=UTC), dt.datetime(2026, 3, 8, tzinfo=UTC))
        ]

    def test_a_snapshot_is_filed_under_the_runs_window(self, tmp_path):
        run_with(
            operator(destination=str(tmp_path), resource="departments"),
            interval("2026-03-07T00:00Z", "2026-03-08T00:00Z"),
        )
        assert (tmp_path / "desk_departments" / "start=2026-03-07" / "end=2026-03-07" / "data.jsonl").exists()

    @pytest.mark.parametrize("resource", list(RESOURCES))
    def test_extractions_carry_the_declared_columns(self, desk_conn, resource):
        op = operator(destination="/unused", resource=resource, lookback=None)
        op.__dict__["hook"] = FakeHook()
        (extraction,) = op.extractions(interval("2026-03-07T00:00Z", "2026-03-08T00:00Z"))
        assert extraction.columns == RESOURCES[resource].columns
        assert extraction.identity == ()
        assert extraction.window == (("start", "2026-03-07"), ("end", "2026-03-07"))


def test_lineage_inputs_name_the_organization(desk_conn):
    """The Desk dataset a run read, for OpenLineage (no request: the connection's fields only)."""
    op = operator(destination="/unused", resource="contacts")
    assert op.lineage_inputs() == [("zoho-desk://com/60012345678", "contacts")]
