from __future__ import annotations

import re

import pytest

from airflow_provider_zoho.schema import (
    EXTRA,
    Column,
    column_names,
    file_columns,
    fingerprint,
    schema_version,
)

COLUMNS = (Column("crash_id", "string", "id"), Column("crash_count", "int64", "crashes", nullable=False))


def test_unknown_types_are_refused():
    with pytest.raises(ValueError, match="column 'x': unknown type 'integer'"):
        Column("x", "integer", "x")


@pytest.mark.parametrize(
    ("column", "is_id"),
    [
        (Column("id", "string", ""), True),
        (Column("crash_id", "string", ""), True),
        (Column("crash_id", "int64", ""), False),
        (Column("idea", "string", ""), False),
        (Column("os", "string", ""), False),
    ],
    ids=["id", "suffix", "not-text", "prefix-only", "name"],
)
def test_ids_are_text_columns_named_id_or_ending_in_id(column, is_id):
    assert column.is_id is is_id


def test_column_names_keep_the_declared_order():
    assert column_names(COLUMNS) == ("crash_id", "crash_count")


def test_fingerprint_is_stable_and_ignores_descriptions():
    assert fingerprint(COLUMNS) == "8aafa0c6914dca34"
    described = (Column("crash_id", "string", "other words"), COLUMNS[1])
    assert fingerprint(described) == fingerprint(COLUMNS)


@pytest.mark.parametrize(
    "changed",
    [
        (COLUMNS[1], COLUMNS[0]),
        (Column("crash_id", "int64", "id"), COLUMNS[1]),
        (Column("crash_id", "string", "id", nullable=False), COLUMNS[1]),
        (Column("crash", "string", "id"), COLUMNS[1]),
        COLUMNS[:1],
    ],
    ids=["order", "type", "nullability", "name", "fewer"],
)
def test_fingerprint_changes_with_the_shape(changed):
    assert fingerprint(changed) != fingerprint(COLUMNS)


@pytest.mark.parametrize("name", ["", "Crash_id", "1st", "crash id", "crash-id", "_x", None])
def test_names_are_snake_case(name):
    with pytest.raises(ValueError, match=r"a name is snake_case"):
        Column(name, "string", "x")


def test_file_columns_are_the_declared_columns_then_extra():
    assert file_columns(COLUMNS) == (*COLUMNS, EXTRA)
    assert (EXTRA.name, EXTRA.type, EXTRA.nullable) == ("extra", "json", True)


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ((), "a schema needs at least one declared column"),
        (
            (*COLUMNS, Column("extra", "json", "mine")),
            "column 'extra' is reserved for the fields that are not declared",
        ),
        ((*COLUMNS, Column("crash_id", "int64", "again")), "columns declared twice: crash_id"),
        ((*COLUMNS, *COLUMNS, COLUMNS[0]), "columns declared twice: crash_count, crash_id"),
    ],
    ids=["empty", "extra", "twice", "two-twice"],
)
def test_file_columns_refuse_schemas_no_file_can_have(columns, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        file_columns(columns)


def test_schema_version_is_the_fingerprint_of_the_file_columns():
    assert schema_version(COLUMNS) == fingerprint((*COLUMNS, EXTRA)) == "72b07123f66e8b44"
    assert schema_version(COLUMNS) != fingerprint(COLUMNS)
