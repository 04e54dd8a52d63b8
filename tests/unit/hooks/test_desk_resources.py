"""The Zoho Desk resource table: declared columns, and the records they make of Desk's rows."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.util
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_zoho.exceptions import ZohoAPIError, ZohoConfigError
from airflow_provider_zoho.hooks import desk_resources
from airflow_provider_zoho.hooks.desk_resources import (
    ORGANIZATIONS,
    RESOURCES,
    format_ms,
    instant_ms,
    resource_named,
    to_instant,
)
from airflow_provider_zoho.sandbox.desk_expected import DeskExpected
from airflow_provider_zoho.sandbox.desk_model import DATA_START_MS, DAY_MS, DeskModel
from airflow_provider_zoho.schema import COLUMN_TYPES

MODEL = DeskModel(seed=5)
ORACLE = DeskExpected(MODEL)
DAY = ("2026-03-10T00:00:00Z", "2026-03-12T00:00:00Z")


def raw_rows(resource: str) -> list[dict]:
    """Desk's rows for two days (search rows for tickets and contacts), as the API sends them."""
    if resource == "departments":
        return MODEL.departments()
    if resource == "agents":
        return MODEL.agents()
    low = DATA_START_MS + 68 * DAY_MS
    return [MODEL.row(resource, key) for key in sorted(MODEL.keys(resource, (), low, low + 2 * DAY_MS - 1))]


def test_the_catalog_is_the_design():
    assert list(RESOURCES) == ["tickets", "contacts", "departments", "agents"]
    assert {name for name, spec in RESOURCES.items() if spec.incremental} == {"tickets", "contacts"}
    assert RESOURCES["tickets"].path == "/tickets/search"
    assert RESOURCES["contacts"].path == "/contacts/search"
    assert (RESOURCES["departments"].path, RESOURCES["agents"].path) == ("/departments", "/agents")
    assert all(spec.org_header for spec in RESOURCES.values())
    assert (ORGANIZATIONS.path, ORGANIZATIONS.org_header) == ("/organizations", False)


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_records_are_the_oracles_for_every_resource(resource):
    # The oracle states the normalization contract: snake_case keys, ids as text, counts as integers,
    # instants as ISO-8601 UTC with milliseconds, cf/custom_fields as JSON objects.
    expected = ORACLE.records(resource, (), *DAY)
    assert len(expected) > 3, "the model has rows for the window: the comparison means something"
    records = RESOURCES[resource].mapper.map_rows(raw_rows(resource))
    assert records == expected
    assert [list(record) for record in records] == [list(RESOURCES[resource].fields)] * len(records)


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_declared_columns_are_the_fields_desk_sends(resource):
    # Declared once, following the rows the (documented) sandbox sends: nothing undeclared, nothing missing.
    assert set(RESOURCES[resource].fields) == set(ORACLE.records(resource, (), *DAY)[0])


@pytest.mark.parametrize("spec", [*RESOURCES.values(), ORGANIZATIONS], ids=lambda s: s.name)
def test_column_types_follow_the_rules(spec):
    by_name = {column.name: column for column in spec.columns}
    assert by_name["id"].type == "string"
    assert not by_name["id"].nullable
    for column in spec.columns:
        assert column.type in COLUMN_TYPES
        assert column.description.strip(), column.name
        assert "\n" not in column.description, column.name
        if column.name.endswith("_id"):
            assert column.type == "string", column.name
        if column.name.endswith("_count") and column.name != "employee_count":  # a size band: "51-200"
            assert column.type == "int64", column.name
        if column.name.endswith("_time") or column.name in ("due_date", "response_due_date"):
            assert column.type == "timestamp", column.name
        if column.name.startswith("is_") or column.name.startswith("has_"):
            assert column.type == "bool", column.name
    if spec.incremental:
        assert (by_name["cf"].type, by_name["custom_fields"].type) == ("json", "json")
        assert by_name["modified_time"].type == "timestamp"
        assert not by_name["modified_time"].nullable


def test_values_are_normalized_by_their_column():
    row = {
        **MODEL.ticket(1892000000100001, DATA_START_MS),
        "id": 1892000000100001,  # a JSON number beyond a double's exact range stays exact as text
        "threadCount": "7",
        "commentCount": 3.0,
        "modifiedTime": "2026-01-01T05:30:00.250+05:30",
        "closedTime": "1767225600000",
        "cf": {"cf_plan": None},
    }
    # A copy of the declaration: its mapper is built here, not cached from an earlier test (under
    # mutation testing, from before the mutant was active).
    record = dataclasses.replace(RESOURCES["tickets"]).mapper(row)
    assert record["id"] == "1892000000100001"
    assert (record["thread_count"], record["comment_count"]) == (7, 3)
    assert record["modified_time"] == "2026-01-01T00:00:00.250Z"
    assert record["closed_time"] == "2026-01-01T00:00:00.000Z"
    assert record["cf"] == {"cf_plan": None}


def test_a_missing_field_is_null_and_an_unknown_one_is_kept_last():
    row = {"id": "7", "modifiedTime": "2026-03-10T05:00:00.000Z", "ticketNumber": "101", "slaId": "9"}
    record = RESOURCES["tickets"].mapper(row)
    assert list(record)[: len(RESOURCES["tickets"].fields)] == list(RESOURCES["tickets"].fields)
    assert record["subject"] is None  # a field the agent's profile may not see is left out by Desk
    assert list(record)[-1] == "sla_id"
    assert record["sla_id"] == "9"


def test_an_unusable_value_names_the_resource_and_the_field():
    with pytest.raises(ZohoAPIError, match=r"Zoho Desk resource 'tickets': field 'thread_count'"):
        RESOURCES["tickets"].mapper({"id": "1", "threadCount": "many"})
    with pytest.raises(ZohoAPIError, match=r"Zoho Desk resource 'tickets': field 'modified_time'"):
        RESOURCES["tickets"].mapper({"id": "1", "modifiedTime": "2026-03-10T05:00:00"})  # no zone


def test_organizations_ids_are_text():
    records = ORGANIZATIONS.mapper.map_rows(MODEL.organizations())
    assert records[0]["id"] == MODEL.org_id
    assert records[0]["employee_count"] == "51-200"


@pytest.mark.parametrize("name", ["Tickets", "tickets/search", "organizations", None, ["tickets"]])
def test_an_unknown_resource_lists_the_resources(name):
    with pytest.raises(ZohoConfigError, match="tickets, contacts, departments, agents"):
        resource_named(name)


# -- instants ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-10T05:00:00.123Z", "2026-03-10T05:00:00.123Z"),
        ("2026-03-10T10:30:00+05:30", "2026-03-10T05:00:00.000Z"),
        ("2026-03-10T05:00:00.123456Z", "2026-03-10T05:00:00.123Z"),
        (1773118800000, "2026-03-10T05:00:00.000Z"),
        ("1773118800000", "2026-03-10T05:00:00.000Z"),
        (None, None),
    ],
)
def test_to_instant(value, expected):
    assert to_instant(value) == expected


@pytest.mark.parametrize(
    "value", ["2026-03-10T05:00:00", "yesterday", "", True, 1.5, {"t": 1}, 10**30, "9" * 30, float("nan")]
)
def test_to_instant_refuses_what_is_not_an_instant(value):
    with pytest.raises(ValueError, match="."):  # RowMapper makes it a ZohoAPIError naming the field
        to_instant(value)


@pytest.mark.parametrize(
    "value",
    [
        "2026-13-01T00:00:00.000Z",
        "2026-02-30T00:00:00.000Z",
        "2026-03-45T00:00:00.000Z",
        "2026-03-10T24:00:00.000Z",
        "2026-03-10T05:60:00.000Z",
        "2026-03-10T05:00:60.000Z",
        "0000-01-01T00:00:00.000Z",
        "2025-02-29T00:00:00.000Z",
    ],
)
def test_text_shaped_like_desk_instants_is_still_checked(value):
    # Desk's own shape takes a fast path; an impossible date or time in that shape is refused all the same.
    with pytest.raises(ValueError, match="."):
        to_instant(value)
    with pytest.raises(ZohoAPIError, match="field 'modified_time'"):
        dataclasses.replace(RESOURCES["tickets"]).mapper({"id": "1", "modifiedTime": value})


@given(st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z\Z"))
def test_desk_shaped_text_is_kept_only_when_it_is_an_instant(text):
    try:
        stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        with pytest.raises(ValueError, match="."):
            to_instant(text)
    else:
        assert to_instant(text) == text
        assert (
            format_ms(instant_ms(text))
            == text
            == format_ms(
                (stamp - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(milliseconds=1)
            )
        )


def test_instant_ms_gives_whole_milliseconds_for_every_form():
    expected = 1_767_225_600_250
    forms = (
        expected,
        float(expected),
        str(expected),
        "2026-01-01T05:30:00.250+05:30",
        "2026-01-01T00:00:00.250z",
    )
    for value in forms:
        ms = instant_ms(value)
        assert (ms, type(ms)) == (expected, int), value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"t": 1}, r"^\{'t': 1\} is not an instant$"),
        (1.5, r"^1\.5 is not an instant$"),
        ("2026-03-10T05:00:00", r"^'2026-03-10T05:00:00' has no zone$"),
        ("9" * 30, r"^'9{30}' is beyond the instants a timestamp can hold$"),
    ],
    ids=["object", "fraction", "no-zone", "overflow"],
)
def test_what_is_not_an_instant_is_named_in_the_error(value, message):
    with pytest.raises(ValueError, match=message):
        to_instant(value)


@given(st.integers(min_value=-62_135_596_800_000 + 86_400_000, max_value=253_402_300_799_999))
def test_epoch_ms_and_desk_text_agree(ms):
    text = format_ms(ms)
    assert instant_ms(text) == ms
    assert to_instant(text) == text == to_instant(ms)
    assert dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000 == pytest.approx(ms)


def fresh_declaration() -> Any:
    """
    ``desk_resources`` executed anew, in the calling test (and not put in ``sys.modules``).

    The table is built when the module is imported: under mutation testing that happens once, before a
    mutant is active (docs/testing.md), so tests of the imported table never see a mutant of the helpers
    that build it. A fresh copy under the module's own name is built with the active mutant.
    """
    spec = importlib.util.spec_from_file_location(desk_resources.__name__, desk_resources.__file__)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_table_built_anew_is_the_documented_one_and_maps_rows_as_the_oracle_says():
    fresh = fresh_declaration()
    assert fresh.RESOURCES is not RESOURCES
    for declared in (*fresh.RESOURCES.values(), fresh.ORGANIZATIONS):
        imported = ORGANIZATIONS if declared.name == ORGANIZATIONS.name else RESOURCES[declared.name]
        assert (declared.path, declared.incremental, declared.org_header) == (
            imported.path,
            imported.incremental,
            imported.org_header,
        )
        assert [dataclasses.astuple(column) for column in declared.columns] == [
            dataclasses.astuple(column) for column in imported.columns
        ]
    for resource, spec in fresh.RESOURCES.items():
        assert spec.mapper.map_rows(raw_rows(resource)) == ORACLE.records(resource, (), *DAY)
    (organization, *_) = fresh.ORGANIZATIONS.mapper.map_rows(MODEL.organizations())
    assert organization["id"] == MODEL.org_id
