"""
The sandbox oracle's records as the files hold them: the declared columns in order, then ``extra``.

The sandbox's ``expected()`` gives records as ``AppticsHook.iter_records`` yields them (§5 of the design:
ISO strings, the requested group order, undeclared fields after the declared ones). The files follow the
declared schema instead; these helpers convert the oracle's records into what a reader must find, without
using the writer under test.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow_provider_zoho.hooks.apptics_planning import dataset_columns

UTC = dt.timezone.utc


def as_written(resource: str, records: list[dict[str, Any]], group: Any = None) -> list[dict[str, Any]]:
    """The rows of a JSON Lines file: declared columns in declared order (rates as floats), then ``extra``."""
    return file_rows(dataset_columns(resource, group), records)


def file_rows(columns, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """
    :func:`as_written` for any declared columns (Desk's too).

    Instants are written as RFC 3339 in UTC: whole seconds as ``...:07Z``, a fraction to the microsecond
    (``...:07.912000Z``); both read back as the same instant.
    """
    names = {column.name for column in columns}
    rows = []
    for record in records:
        row = {column.name: _json_value(column.type, record.get(column.name)) for column in columns}
        row["extra"] = {key: value for key, value in record.items() if key not in names} or None
        rows.append(row)
    return rows


def as_read(resource: str, records: list[dict[str, Any]], group: Any = None) -> list[dict[str, Any]]:
    """The rows a query engine reads, as Python values of the declared types (json columns parsed)."""
    return [_row(resource, record, group, _python_value) for record in records]


def _row(resource: str, record: dict[str, Any], group: Any, convert) -> dict[str, Any]:
    columns = dataset_columns(resource, group)
    names = {column.name for column in columns}
    row = {column.name: convert(column.type, record.get(column.name)) for column in columns}
    row["extra"] = {key: value for key, value in record.items() if key not in names} or None
    return row


def _json_value(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "float64":
        return float(value)
    if kind == "timestamp":
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
        text = moment.strftime("%Y-%m-%dT%H:%M:%S")
        return f"{text}.{moment.microsecond:06d}Z" if moment.microsecond else f"{text}Z"
    return value


def _python_value(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "float64":
        return float(value)
    if kind == "date":
        return dt.date.fromisoformat(value)
    if kind == "timestamp":
        return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return value
