from __future__ import annotations

import pytest

from airflow_provider_zoho.hooks.apptics_resources import RESOURCES
from airflow_provider_zoho.schema import COLUMN_TYPES, EXTRA, file_columns

# --------------------------------------------------------------------------------------------------------
# The catalog
# --------------------------------------------------------------------------------------------------------


def test_resources_are_the_contract_in_contract_order():
    assert [(name, resource.name, resource.path) for name, resource in RESOURCES.items()] == [
        ("projects", "projects", "/userprojects"),
        ("crashes", "crashes", "/crash/list"),
        ("crash_summary", "crash_summary", "/crash/summary"),
        ("crash_counts_by_date", "crash_counts_by_date", "/crash/countbydate"),
        ("crash_issue_counts_by_date", "crash_issue_counts_by_date", "/crash/{crash_id}/countbydate"),
        ("crash_detail", "crash_detail", "/crash/{crash_id}/summarywithtrace"),
        ("crash_os_versions", "crash_os_versions", "/crash/{crash_id}/osversion"),
        ("crash_device_models", "crash_device_models", "/crash/{crash_id}/devicemodel"),
        ("affected_devices", "affected_devices", "/crash/affecteddevice"),
        ("active_devices_by_date", "active_devices_by_date", "/activedevice/countbydate"),
        ("active_devices", "active_devices", "/activedevice/multigroup"),
        ("event_summary", "event_summary", "/event/summary"),
        ("event_counts_by_date", "event_counts_by_date", "/event/countbydate"),
        ("event_counts_by_country", "event_counts_by_country", "/event/countrysummary"),
        ("event_device_counts", "event_device_counts", "/event/devicecount"),
        ("screens", "screens", "/screen/multigroup"),
        ("api_stats", "api_stats", "/api/multigroup"),
    ]


def test_resource_flags_follow_the_contract_table():
    table = {
        name: (r.paged, r.platforms, r.max_app_versions, r.mode, r.project_headers, r.max_days, r.group)
        for name, r in RESOURCES.items()
    }
    assert table == {
        "projects": (False, False, 0, False, False, None, ()),
        "crashes": (True, True, 10, True, True, None, ()),
        "crash_summary": (False, True, 10, True, True, None, ()),
        "crash_counts_by_date": (True, True, 10, True, True, None, ()),
        "crash_issue_counts_by_date": (True, False, 1, True, True, None, ()),
        "crash_detail": (False, False, 1, True, True, None, ()),
        "crash_os_versions": (True, False, 10, True, True, None, ()),
        "crash_device_models": (True, False, 10, True, True, None, ()),
        "affected_devices": (True, False, 0, True, True, None, ()),
        "active_devices_by_date": (True, True, 0, False, True, None, ()),
        "active_devices": (True, True, 0, False, True, None, ("date", "platform")),
        "event_summary": (True, True, 0, False, True, None, ()),
        "event_counts_by_date": (True, True, 0, False, True, None, ()),
        "event_counts_by_country": (True, True, 0, False, True, None, ()),
        "event_device_counts": (True, True, 0, True, True, 60, ()),
        "screens": (True, True, 0, False, True, None, ("date", "screen")),
        "api_stats": (True, True, 0, False, True, None, ("date", "api")),
    }


@pytest.mark.parametrize(
    ("resource", "fields"),
    [
        ("projects", ("portal_id", "portal_name", "project_id", "project_name", "platforms")),
        (
            "crashes",
            (
                "crash_id",
                "app_version",
                "status",
                "os",
                "exception",
                "exception_type",
                "crash_count",
                "device_count",
                "user_count",
                "platform_id",
                "app_version_id",
            ),
        ),
        (
            "crash_summary",
            (
                "crash_count",
                "issue_count",
                "device_count",
                "user_count",
                "previous_crash_count",
                "previous_issue_count",
                "previous_device_count",
                "previous_user_count",
                "crash_free_users",
            ),
        ),
        (
            "crash_counts_by_date",
            ("platform", "bucket_start", "crash_count", "device_count", "user_count", "issue_count"),
        ),
        (
            "crash_issue_counts_by_date",
            ("crash_id", "bucket_start", "crash_count", "device_count", "user_count", "issue_count"),
        ),
        ("crash_os_versions", ("crash_id", "os_version", "crash_count")),
        ("crash_device_models", ("crash_id", "model", "crash_count")),
        (
            "affected_devices",
            ("device_id", "user_id", "model", "os_version", "app_version", "happened_at", "date"),
        ),
        ("active_devices_by_date", ("platform", "bucket_start", "active_devices")),
        ("event_summary", ("platform", "event_group", "event_name", "event_count")),
        ("event_counts_by_date", ("platform", "bucket_start", "event_group", "event_name", "event_count")),
        ("event_counts_by_country", ("country", "event_count")),
        ("event_device_counts", ("window_start", "window_end", "event_name", "event_group", "device_count")),
        ("active_devices", ()),
    ],
    ids=[
        "projects",
        "crashes",
        "crash_summary",
        "crash_counts_by_date",
        "crash_issue_counts_by_date",
        "crash_os_versions",
        "crash_device_models",
        "affected_devices",
        "active_devices_by_date",
        "event_summary",
        "event_counts_by_date",
        "event_counts_by_country",
        "event_device_counts",
        "multigroup",
    ],
)
def test_resource_fields(resource, fields):
    assert RESOURCES[resource].fields == fields


def test_crash_detail_fields():
    assert RESOURCES["crash_detail"].fields == (
        "crash_id",
        "date",
        "happened_at",
        "session_start_time",
        "message",
        "exception",
        "issue_name",
        "os",
        "os_version",
        "model",
        "screen",
        "device_id",
        "user_id",
        "network_status",
        "battery_status",
        "platform_id",
        "app_version",
        "app_version_id",
        "app_release_version",
        "sdk_version",
        "edge",
        "custom_properties",
    )


def test_every_resource_declares_typed_described_columns():
    for resource in RESOURCES.values():
        for group in (
            [()] if not resource.multigroup else [resource.group, ("country",), ("platform", "date")]
        ):
            columns = resource.dataset_columns(group)
            assert columns, resource.name
            names = [column.name for column in columns]
            assert len(names) == len(set(names)), resource.name
            for column in columns:
                assert column.type in COLUMN_TYPES
                assert column.description, (resource.name, column.name)
                assert "\n" not in column.description


def test_every_dataset_schema_can_be_written():
    for resource in RESOURCES.values():
        groups = [()] if not resource.multigroup else [(entity,) for entity in resource.group_entities]
        for group in groups:
            assert file_columns(resource.dataset_columns(group))[-1] == EXTRA, (resource.name, group)


def test_dataset_columns_put_the_group_in_the_order_of_the_group_entities():
    spec = RESOURCES["screens"]
    for group in [
        ("screen", "platform", "date"),
        ("date", "platform", "screen"),
        ("platform", "screen", "date"),
    ]:
        assert [c.name for c in spec.dataset_columns(group)] == ["date", "platform", "screen", "count"]
    assert [c.name for c in spec.dataset_columns()] == ["date", "screen", "count"]
    assert RESOURCES["crashes"].dataset_columns() == RESOURCES["crashes"].columns


def test_multigroup_columns_are_the_group_entities_then_count():
    columns = RESOURCES["screens"].dataset_columns(("platform", "date", "screen"))
    assert [(c.name, c.type, c.nullable) for c in columns] == [
        ("date", "date", False),
        ("platform", "string", False),
        ("screen", "string", False),
        ("count", "int64", True),
    ]
    assert [c.name for c in RESOURCES["active_devices"].dataset_columns()] == ["date", "platform", "count"]
    assert [c.name for c in RESOURCES["api_stats"].dataset_columns(("api", "country"))] == [
        "country",
        "api",
        "count",
    ]


@pytest.mark.parametrize(
    ("resource", "column", "sent", "record"),
    [
        ("crashes", "crash_id", 7340000000123007, "7340000000123007"),
        ("crashes", "platform_id", 2.0, "2"),
        ("crashes", "crash_count", " 12 ", 12),
        ("crashes", "status", "3", 3),
        ("crashes", "os", 5, 5),
        ("affected_devices", "happened_at", 1647043200000, "2022-03-12T00:00:00Z"),
        ("affected_devices", "date", "12-03-2022", "2022-03-12"),
        ("crash_summary", "crash_free_users", 99, 99),
        ("crash_detail", "edge", "yes", "yes"),
        ("crash_detail", "custom_properties", {"a": 1}, {"a": 1}),
    ],
    ids=["id-number", "id-float", "count-text", "int-text", "text-as-sent", "timestamp", "date",
         "rate-as-sent", "bool-as-sent", "json-as-sent"],
)  # fmt: skip
def test_column_types_decide_how_record_values_are_normalized(resource, column, sent, record):
    mapper = RESOURCES[resource].mapper
    assert mapper({column: sent})[column] == record


def test_context_columns_are_not_converted_from_rows():
    # crash_os_versions fills crash_id from the call; a row's own crash_id is kept apart, as sent.
    record = RESOURCES["crash_os_versions"].mapper({"crash_id": 5, "OSVersion": "17.2", "Count": "3"})
    assert record == {"crash_id": None, "os_version": "17.2", "crash_count": 3, "crash_id_2": 5}
