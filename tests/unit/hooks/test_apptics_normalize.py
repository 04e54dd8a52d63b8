from __future__ import annotations

import re
from datetime import date

import pytest

from airflow_provider_zoho.exceptions import ZohoAPIError
from airflow_provider_zoho.hooks.apptics_normalize import (
    RowMapper,
    ValueConversionError,
    api_date_to_iso,
    epoch_ms_to_iso,
    format_api_date,
    is_api_date,
    snake_case,
    snippet,
    to_count,
    to_id,
    to_temporal,
)
from tests.conftest import case_id


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("UniqueMessageID", "unique_message_id"),
        ("OSVersion", "os_version"),
        ("AppVersionID", "app_version_id"),
        ("PID", "pid"),
        ("JAnalyticVersion", "j_analytic_version"),
        ("HappendAt", "happend_at"),
        ("EVENTS NAME ", "events_name"),
        ("  EVENT COUNT", "event_count"),
        ("ActiveDevices COUNT", "active_devices_count"),
        ("crashecount", "crashecount"),
        ("portalName", "portal_name"),
        ("zsoid", "zsoid"),
        ("name(group)", "name_group"),
        ("already_snake", "already_snake"),
        ("Top10Items", "top10_items"),
        ("a--b  c", "a_b_c"),
        ("%%", "%%"),
    ],
    ids=[
        "camel-acronym-suffix",
        "acronym-prefix",
        "two-words-acronym",
        "all-caps",
        "single-letter-prefix",
        "misspelt-happend",
        "trailing-space",
        "leading-space",
        "camel-and-caps-words",
        "lower-alias",
        "lower-camel",
        "lower",
        "punctuation",
        "snake-unchanged",
        "digits",
        "runs-of-separators",
        "nothing-alphanumeric",
    ],
)
def test_snake_case(key, expected):
    assert snake_case(key) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(date(2022, 3, 5), "05-03-2022"), (date(999, 12, 31), "31-12-0999")],
    ids=["padded-day-month", "padded-year"],
)
def test_format_api_date(value, expected):
    assert format_api_date(value) == expected


@pytest.mark.parametrize(
    ("value", "is_date", "iso"),
    [
        ("01-07-2024", True, "2024-07-01"),
        ("31-12-1999", True, "1999-12-31"),
        ("2024-07-01", False, "2024-07-01"),
        ("12-Mar-2022", False, "12-Mar-2022"),
        ("1-7-2024", False, "1-7-2024"),
        ("0a-07-2024", False, "0a-07-2024"),
        ("01-07-２０２４", False, "01-07-２０２４"),
        ("01-a7-2024", False, "01-a7-2024"),
        ("01-07-a024", False, "01-07-a024"),
    ],
    ids=[
        "dmy",
        "dmy-end-of-year",
        "iso",
        "month-name",
        "unpadded",
        "letter",
        "non-ascii-digits",
        "letter-in-month",
        "letter-in-year",
    ],  # fmt: skip
)
def test_api_dates(value, is_date, iso):
    assert is_api_date(value) is is_date
    assert api_date_to_iso(value) == iso


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1647072000000, "2022-03-12T08:00:00Z"),
        ("1647043200000", "2022-03-12T00:00:00Z"),
        (1647072000999, "2022-03-12T08:00:00Z"),
        (1647072000000.0, "2022-03-12T08:00:00Z"),
        (0, "1970-01-01T00:00:00Z"),
        (-1000, "1969-12-31T23:59:59Z"),
    ],
    ids=["int", "digit-string", "truncates-ms", "integral-float", "epoch", "before-epoch"],
)
def test_epoch_ms_to_iso(value, expected):
    assert epoch_ms_to_iso(value) == expected


def test_epoch_ms_to_iso_rejects_fractional_float():
    with pytest.raises(ValueError, match=re.escape("not a whole number of milliseconds: 1.5")):
        epoch_ms_to_iso(1.5)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1647072000000, "2022-03-12T08:00:00Z"),
        ("1647072000000", "2022-03-12T08:00:00Z"),
        (1647072000000.0, "2022-03-12T08:00:00Z"),
        ("12-03-2022", "2022-03-12"),
        ("12-Mar-2022", "12-Mar-2022"),
        ("", ""),
        (None, None),
        (True, True),
        ({"a": 1}, {"a": 1}),
    ],
    ids=["epoch-int", "epoch-str", "epoch-float", "dmy", "other-date", "blank", "none", "bool", "object"],
)
def test_to_temporal(value, expected):
    assert to_temporal(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(12, 12), ("12", 12), (" 7 ", 7), ("12.0", 12), (12.0, 12), ("", None), ("  ", None), (None, None)],
    ids=["int", "string", "padded-string", "float-string", "float", "blank", "spaces", "none"],
)
def test_to_count(value, expected):
    result = to_count(value)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("12.5", "'12.5' is not a count"),
        ("n/a", "'n/a' is not a count"),
        (12.5, "12.5 is not a count"),
        (True, "True is not a count"),
        ([1], "[1] is not a count"),
        ("nan", "'nan' is not a count"),
    ],
    ids=["fractional-string", "text", "fractional-float", "bool", "list", "nan"],
)
def test_to_count_rejects(value, message):
    with pytest.raises(ValueConversionError) as excinfo:
        to_count(value)
    assert str(excinfo.value) == message


@pytest.mark.parametrize(
    ("value", "expected"),
    [(734000000001, "734000000001"), ("7340000000123007", "7340000000123007"), (2.0, "2"), (None, None)],
    ids=["int", "string", "integral-float", "none"],
)
def test_to_id(value, expected):
    assert to_id(value) == expected


def _mapper(**kwargs):
    defaults = {
        "resource": "things",
        "fields": ("thing_id", "name", "thing_count", "seen_at"),
        "key_map": {"unique_id": "thing_id", "happend_at": "seen_at", "cnt": "thing_count"},
        "converters": {"thing_id": to_id, "thing_count": to_count, "seen_at": to_temporal},
    }
    return RowMapper(**{**defaults, **kwargs})


@pytest.mark.parametrize("key", ['x"}\nimport os  #', "row[k0]", "f0", "}{", "\\", "c0(row)"], ids=case_id)
def test_row_mapper_keys_that_look_like_code_are_data(key):
    # The record builder is generated code: API keys must reach it as values, never as source text.
    (record,) = _mapper().map_rows([{"UniqueID": 5, key: "v", "CNT": "7"}])
    assert record == {"thing_id": "5", "name": None, "thing_count": 7, "seen_at": None, snake_case(key): "v"}


def test_row_mapper_orders_known_fields_then_unknown_keys_in_api_order():
    rows = [
        {"Zeta": 1, "CNT": "3", "Name": "a", "UniqueID": 5, "Alpha Key ": "x", "HappendAt": 1647072000000},
        {"Zeta": 2, "CNT": 4, "Name": "b", "UniqueID": "6", "Alpha Key ": "y", "HappendAt": "12-03-2022"},
    ]
    records = _mapper().map_rows(rows)
    assert [list(record) for record in records] == [
        ["thing_id", "name", "thing_count", "seen_at", "zeta", "alpha_key"]
    ] * 2
    assert records == [
        {
            "thing_id": "5",
            "name": "a",
            "thing_count": 3,
            "seen_at": "2022-03-12T08:00:00Z",
            "zeta": 1,
            "alpha_key": "x",
        },
        {
            "thing_id": "6",
            "name": "b",
            "thing_count": 4,
            "seen_at": "2022-03-12",
            "zeta": 2,
            "alpha_key": "y",
        },
    ]


def test_row_mapper_sparse_rows_get_none_for_missing_fields_and_keep_one_order():
    rows = [{"Name": "a"}, {"CNT": "2", "Extra": True}, {}]
    assert [list(record.items()) for record in _mapper().map_rows(rows)] == [
        [("thing_id", None), ("name", "a"), ("thing_count", None), ("seen_at", None)],
        [("thing_id", None), ("name", None), ("thing_count", 2), ("seen_at", None), ("extra", True)],
        [("thing_id", None), ("name", None), ("thing_count", None), ("seen_at", None)],
    ]


def test_row_mapper_keeps_both_values_when_two_keys_map_to_one_field():
    row = {"HappendAt": 1647072000000, "HappenedAt": 1647075600000, "seen_at": "x", "seen at": "y"}
    mapper = _mapper(key_map={"happend_at": "seen_at", "happened_at": "seen_at"})
    assert mapper(row) == {
        "thing_id": None,
        "name": None,
        "thing_count": None,
        "seen_at": "2022-03-12T08:00:00Z",
        "happened_at": 1647075600000,
        "seen_at_2": "x",
        "seen_at_3": "y",
    }


def test_row_mapper_context_fields_are_not_filled_from_rows():
    mapper = RowMapper("per_platform", ("platform", "name"), {}, context_fields=("platform",))
    assert mapper({"platform": "iOS", "name": "a"}) == {"platform": None, "name": "a", "platform_2": "iOS"}


def test_row_mapper_keeps_odd_keys_as_data():
    row = {"a'b\"c\\\n": 1, "__import__('os').getcwd()": 2, "}); raise SystemExit": 3, "Name": "ok"}
    record = _mapper()(row)
    assert record == {
        "thing_id": None,
        "name": "ok",
        "thing_count": None,
        "seen_at": None,
        "a_b_c": 1,
        "import_os_getcwd": 2,
        "raise_system_exit": 3,
    }


def test_row_mapper_handles_changing_layouts_in_one_page():
    rows = [
        {"UniqueID": 5, "CNT": "3", "Other": [1], "Name": "a"},
        {"Name": "b", "HappendAt": "1647072000000"},
        {"UniqueID": None, "CNT": None, "HappendAt": None, "Name": None, "New Key": {"k": 1}},
    ]
    records = _mapper().map_rows(rows)
    assert [list(record) for record in records] == [
        ["thing_id", "name", "thing_count", "seen_at", "other"],
        ["thing_id", "name", "thing_count", "seen_at"],
        ["thing_id", "name", "thing_count", "seen_at", "new_key"],
    ]
    assert records[0]["thing_id"] == "5"
    assert records[0]["thing_count"] == 3
    assert records[1]["seen_at"] == "2022-03-12T08:00:00Z"
    assert records[2] == {
        "thing_id": None,
        "name": None,
        "thing_count": None,
        "seen_at": None,
        "new_key": {"k": 1},
    }


def test_row_mapper_rejects_a_row_that_is_not_an_object():
    with pytest.raises(ZohoAPIError) as excinfo:
        _mapper().map_rows([{"Name": "a"}, ["Name", "b"]])
    assert str(excinfo.value) == (
        "Apptics resource 'things': expected each row to be a JSON object, got list ['Name', 'b']"
    )


def test_row_mapper_names_the_field_of_an_unusable_value():
    with pytest.raises(ZohoAPIError) as excinfo:
        _mapper().map_rows([{"CNT": "1"}, {"Name": "b", "CNT": "lots"}])
    assert str(excinfo.value) == (
        "Apptics resource 'things': field 'thing_count' (API key 'CNT') has an unusable value: "
        "'lots' is not a count"
    )


def test_row_mapper_names_the_first_unusable_field_in_record_order():
    mapper = _mapper(converters={"thing_id": to_count, "thing_count": to_count})
    with pytest.raises(ZohoAPIError) as excinfo:
        mapper.map_rows([{"CNT": "lots", "UniqueID": "many"}])
    assert str(excinfo.value) == (
        "Apptics resource 'things': field 'thing_id' (API key 'UniqueID') has an unusable value: "
        "'many' is not a count"
    )


def test_row_mapper_plans_each_layout_once(monkeypatch):
    mapper = _mapper()
    planned = []
    columns = mapper._columns
    monkeypatch.setattr(mapper, "_columns", lambda layout: planned.append(layout) or columns(layout))
    mapper.map_rows([{"Name": "a", "CNT": 1}, {"CNT": 2}])
    mapper.map_rows([{"Name": "b", "CNT": 3}, {"CNT": 4}, {"Name": "c", "CNT": 5}])
    assert planned == [("Name", "CNT"), ("CNT",)]


def test_row_mapper_keeps_at_most_256_layouts():
    mapper = _mapper()
    sizes = set()
    for n in range(300):
        mapper({f"key_{n}": n})
        sizes.add(len(mapper._builders))
    assert max(sizes) == 256


def test_row_mapper_rejects_non_string_keys():
    with pytest.raises(ZohoAPIError, match=re.escape("Apptics resource 'things': row keys must be strings")):
        _mapper()({1: "a"})


def test_row_mapper_field_names_resolves_in_order():
    assert _mapper().field_names(["CNT", "cnt", "Unique ID", "UniqueID", "x"]) == [
        "thing_count",
        "cnt",
        "thing_id",
        "unique_id",
        "x",
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("x" * 118, repr("x" * 118)),
        ("x" * 119, "'" + "x" * 119 + "..."),
        ([], "[]"),
    ],
    ids=["exactly-120", "121-cut-to-120", "short"],
)
def test_snippet_keeps_at_most_120_characters_of_the_repr(value, expected):
    assert snippet(value) == expected
