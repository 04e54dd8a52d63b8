"""
Data files in a declared schema: records in, rows of the declared columns out, as JSON Lines, CSV or Parquet.

Every file of a dataset has exactly the same columns (:func:`~airflow_provider_zoho.schema.file_columns`):
the declared columns in declared order (a record's key order does not matter), then ``extra``, a JSON
object of the record's fields that are not declared (``null`` when there are none). A declared field a
record lacks is null. How each type is written:

========== ====================== =========================== ==============================
type       JSON Lines             CSV (null: an empty field)  Parquet
========== ====================== =========================== ==============================
string     string                 text (``""``: empty string) ``string``
int64      number                 digits                      ``int64``
float64    number (``99.0``)      ``99.0``, ``99.5``          ``double``
bool       ``true``/``false``     ``true``/``false``          ``bool``
date       ``"2026-03-07"``       ``2026-03-07``              ``date32``
timestamp  ``"...T05:06:07Z"``    ``2026-03-07T05:06:07Z``    ``timestamp[ms, tz=UTC]``
json       the value, nested      compact JSON text           ``string``, compact JSON text
========== ====================== =========================== ==============================

Values are checked against the declaration, batch by batch, in C (msgspec): a value that does not fit its
column (a null in a non-nullable column, text in a count...) stops the write with a
:class:`~airflow_provider_zoho.exceptions.ZohoError` naming the record, the column and the value. A few
lossless conversions are made: integers become floats in ``float64`` columns (``99`` -> ``99.0``), numbers
become text in ``string`` columns (ids), whole numbers written as text or as floats become ``int64``, the
words ``true``/``false`` become ``bool``, dates and times may be ``date``/``datetime`` objects or ISO-8601
text; instants are stored in UTC, to the millisecond (finer digits are dropped).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import math
import sys
from dataclasses import dataclass
from itertools import islice
from operator import attrgetter, methodcaller
from typing import IO, TYPE_CHECKING, Annotated, Any, Optional

import msgspec

from airflow_provider_zoho.exceptions import ZohoError
from airflow_provider_zoho.schema import EXTRA, column_names, file_columns

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from airflow_provider_zoho.schema import Column

BATCH_RECORDS = 1000
"""Records checked, converted and written together."""

PARQUET_ROW_GROUP = 50_000
"""Rows per Parquet row group (the last one may hold fewer)."""

_UTC = dt.timezone.utc
_INT64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
_FINITE = Annotated[float, msgspec.Meta(ge=-sys.float_info.max, le=sys.float_info.max)]  # no NaN, no inf
_AWARE = Annotated[dt.datetime, msgspec.Meta(tz=True)]
_PYTHON_TYPES: dict[str, Any] = {
    "string": str,
    "int64": _INT64,
    "float64": _FINITE,
    "bool": bool,
    "date": dt.date,
    "timestamp": _AWARE,
    "json": Any,
}
_has_extra_key = methodcaller("__contains__", EXTRA.name)
_encoder = msgspec.json.Encoder()


@dataclass(frozen=True)
class TableStats:
    """
    What :func:`write_table` wrote.

    :param records: how many rows.
    :param undeclared: the names of the fields the records had that are not declared (kept in ``extra``).
    """

    records: int
    undeclared: tuple[str, ...]


def write_table(
    records: Iterable[Any],
    columns: Iterable[Column],
    sink: IO[bytes],
    *,
    file_format: str,
    compression: str | None,
    where: str = "",
) -> TableStats:
    """
    Write ``records`` to ``sink`` as one file of the declared schema (see the module docstring).

    :param records: the records (dicts), consumed once, batch by batch (memory stays flat).
    :param columns: the declared columns, in file order (``extra`` follows them).
    :param sink: a binary stream; it is not closed.
    :param file_format: ``jsonl``, ``csv`` or ``parquet``.
    :param compression: ``None`` or ``gzip`` (a gzip stream around jsonl and csv, the codec inside Parquet).
    :param where: what is written, for error messages (a partition's URI).
    :raises ZohoError: for a record that does not fit the declared columns; the file is then incomplete.
    """
    rows = Rows(columns, where)
    if file_format == "parquet":
        _write_parquet(rows, records, sink, compression)
    else:
        out = _compressed(sink, compression)
        if file_format == "jsonl":
            _write_jsonl(rows, records, out)
        else:
            _write_csv(rows, records, out)
        if out is not sink:
            out.close()
    return TableStats(rows.count, tuple(sorted(rows.undeclared)))


class Rows:
    """
    Records shaped into rows of the file columns (msgspec structs), checked against the declaration.

    :param columns: the declared columns.
    :param where: what is written, for error messages.
    """

    def __init__(self, columns: Iterable[Column], where: str = "") -> None:
        self.columns = file_columns(columns)
        self.names = column_names(self.columns)
        self.where = where
        self.declared = frozenset(self.names[:-1])
        self.row_type = msgspec.defstruct(
            "Row",
            [_field(column) for column in self.columns],
            kw_only=True,
            forbid_unknown_fields=True,
            gc=False,
        )
        self._batch_type = list[self.row_type]  # type: ignore[name-defined]
        self._timestamps = tuple(column.name for column in self.columns if column.type == "timestamp")
        self._required_json = tuple(
            column.name for column in self.columns if column.type == "json" and not column.nullable
        )
        self.count = 0
        self.undeclared: set[str] = set()

    def batches(self, records: Iterable[Any]) -> Iterator[list[Any]]:
        """The rows of ``records``, :data:`BATCH_RECORDS` at a time."""
        iterator = iter(records)
        while batch := list(islice(iterator, BATCH_RECORDS)):
            yield self.shape(batch)

    def shape(self, batch: list[Any]) -> list[Any]:
        """
        The rows of a batch of records, in order.

        One C call checks and converts a batch whose records hold only declared fields; a batch with
        undeclared fields (or values to convert) is shaped record by record.
        """
        rows = None
        try:
            if not any(map(_has_extra_key, batch)):  # a field named "extra" is not declared
                rows = msgspec.convert(batch, self._batch_type)
        except (msgspec.ValidationError, AttributeError, TypeError):  # AttributeError: not a dict
            rows = None
        if rows is None:
            rows = [self._shape_one(record, self.count + index) for index, record in enumerate(batch)]
        for name in self._timestamps:
            _utc_milliseconds(rows, name)
        for name in self._required_json:
            self._check_present(rows, name)
        self.count += len(rows)
        return rows

    def _shape_one(self, record: Any, index: int) -> Any:
        if not isinstance(record, dict):
            raise self._error(index, f"is a {type(record).__name__}, not a record (a dict)")
        declared: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in record.items():
            (declared if key in self.declared else extra)[key] = value
        if extra:
            self.undeclared.update(map(str, extra))
            declared[EXTRA.name] = extra
        try:
            return msgspec.convert(declared, self.row_type)
        except msgspec.ValidationError:
            pass
        for column in self.columns[:-1]:
            if column.name in declared or not column.nullable:
                declared[column.name] = self._converted(column, declared.get(column.name), index)
        try:
            return msgspec.convert(declared, self.row_type)
        except msgspec.ValidationError as error:  # e.g. an undeclared field's name that is not text
            raise self._error(index, f"does not fit the declared columns ({error})") from None

    def _converted(self, column: Column, value: Any, index: int) -> Any:
        """``value`` as its column's type allows (see the module docstring), or a clear error."""
        if value is None:
            if column.nullable:
                return None
            raise self._error(index, f"has no value (null) in column {column.name!r}, which is not nullable")
        try:
            return msgspec.convert(value, _PYTHON_TYPES[column.type])
        except msgspec.ValidationError:
            pass
        converted = _convert(column.type, value)
        if converted is _UNUSABLE:
            shown = repr(value)
            shown = shown if len(shown) <= 80 else f"{shown[:80]}..."
            raise self._error(
                index, f"has {shown} in column {column.name!r}, which is declared {column.type}"
            )
        return converted

    def _check_present(self, rows: list[Any], name: str) -> None:
        getter = attrgetter(name)
        for index, row in enumerate(rows):
            if getter(row) is None:
                raise self._error(
                    self.count + index, f"has no value (null) in column {name!r}, which is not nullable"
                )

    def _error(self, index: int, problem: str) -> ZohoError:
        place = f" of {self.where}" if self.where else ""
        return ZohoError(
            f"Record {index + 1}{place} {problem}. Nothing was written; the declared schema and the "
            "records disagree (see the resource's columns in the documentation)."
        )


_UNUSABLE = object()


def _convert(kind: str, value: Any) -> Any:
    """The lossless conversions the writer makes beyond msgspec's own (module docstring), or ``_UNUSABLE``."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return _UNUSABLE  # a bool fits bool columns only (msgspec took those), a dict or list json only
    text = value.strip() if isinstance(value, str) else None
    if kind == "string":
        return str(value)
    if kind == "int64":
        return _whole_number(value if text is None else text)
    if kind == "float64" and text is not None:
        try:
            number = float(text)
        except ValueError:
            return _UNUSABLE
        return number if math.isfinite(number) else _UNUSABLE
    if text is None:
        return _UNUSABLE
    if kind == "bool" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if kind == "timestamp":
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            return _UNUSABLE
        return parsed if parsed.tzinfo is not None else _UNUSABLE
    if kind == "date":
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return _UNUSABLE
    return _UNUSABLE


def _whole_number(value: Any) -> Any:
    """An ``int64`` from digits or a float without a fraction, or ``_UNUSABLE``."""
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            try:
                value = float(value)
            except ValueError:
                return _UNUSABLE
    if isinstance(value, float):
        if not value.is_integer():
            return _UNUSABLE
        value = int(value)
    return value if -(2**63) <= value < 2**63 else _UNUSABLE


def _field(column: Column) -> tuple[str, Any] | tuple[str, Any, Any]:
    python_type = _PYTHON_TYPES[column.type]
    if column.type == "json":
        return (column.name, Any, None)
    if column.nullable:
        return (column.name, Optional[python_type], None)  # noqa: UP045 - a runtime type for msgspec
    return (column.name, python_type)


def _utc_milliseconds(rows: list[Any], name: str) -> None:
    """Instants of column ``name`` in UTC, to the millisecond."""
    for row in rows:
        value = getattr(row, name)
        if value is not None and (value.tzinfo is not _UTC or value.microsecond % 1000):
            value = value.astimezone(_UTC)
            setattr(row, name, value.replace(microsecond=value.microsecond // 1000 * 1000))


# -- formats ----------------------------------------------------------------------------------------------


def _compressed(sink: IO[bytes], compression: str | None) -> IO[bytes]:
    if compression == "gzip":
        # mtime=0 and no file name: the same records give the same bytes on every run.
        return gzip.GzipFile(filename="", fileobj=sink, mode="wb", compresslevel=6, mtime=0)  # type: ignore[return-value]
    return sink


def _write_jsonl(rows: Rows, records: Iterable[Any], out: IO[bytes]) -> None:
    encode_lines = _encoder.encode_lines
    for batch in rows.batches(records):
        out.write(encode_lines(batch))


def _write_csv(rows: Rows, records: Iterable[Any], out: IO[bytes]) -> None:
    text = io.StringIO(newline="")  # one batch of lines, written to ``out`` in one piece
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(rows.names)
    out.write(text.getvalue().encode())
    render = [(index, _CSV_RENDERERS.get(column.type)) for index, column in enumerate(rows.columns)]
    texts = [index for index, column in enumerate(rows.columns) if column.type == "string"]
    getters = [attrgetter(name) for name in rows.names]
    for batch in rows.batches(records):
        text.seek(0)
        text.truncate()
        columns = [list(map(getter, batch)) for getter in getters]
        for index, renderer in render:
            if renderer is not None:
                columns[index] = renderer(columns[index])
        lines = None
        if not any("" in columns[index] for index in texts):
            writer.writerows(zip(*columns, strict=True))
            lines = text.getvalue()
        if lines is None or "\r" in lines:  # the csv module writes "" and a lone \r unquoted
            lines = "".join(map(_csv_line, zip(*columns, strict=True)))
        out.write(lines.encode())


def _csv_json(values: list[Any]) -> list[Any]:
    if not any(value is not None for value in values):
        return values
    encode = _encoder.encode
    return [None if value is None else encode(value).decode() for value in values]


def _csv_temporal(values: list[Any]) -> list[Any]:
    """Dates and instants as ISO-8601 text (``Z`` for UTC), converted in C."""
    return msgspec.json.decode(_encoder.encode(values))


def _csv_bool(values: list[Any]) -> list[Any]:
    return [None if value is None else ("true" if value else "false") for value in values]


_CSV_RENDERERS = {"json": _csv_json, "date": _csv_temporal, "timestamp": _csv_temporal, "bool": _csv_bool}
_CSV_SPECIAL = frozenset(',"\r\n')


def _csv_field(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)
    if text == "" or not _CSV_SPECIAL.isdisjoint(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_line(values: tuple[Any, ...]) -> str:
    """
    One CSV line written field by field, quoting what the csv module leaves bare.

    An empty string is quoted (``""``), unlike a null; so is a text with a carriage return, which the csv
    module does not quote when lines end with a line feed.
    """
    return ",".join(map(_csv_field, values)) + "\n"


def arrow_schema(columns: Iterable[Column]):
    """
    The Arrow schema of the files of ``columns`` (the declared columns, then ``extra``).

    :param columns: the declared columns.
    """
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "int64": pa.int64(),
        "float64": pa.float64(),
        "bool": pa.bool_(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("ms", tz="UTC"),
        "json": pa.string(),
    }
    return pa.schema(
        [
            pa.field(column.name, types[column.type], nullable=column.nullable)
            for column in file_columns(columns)
        ]
    )


def _write_parquet(rows: Rows, records: Iterable[Any], sink: IO[bytes], compression: str | None) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = arrow_schema(rows.columns[:-1])
    getters = [attrgetter(name) for name in rows.names]
    json_columns = {index for index, column in enumerate(rows.columns) if column.type == "json"}
    with pq.ParquetWriter(sink, schema, compression=compression or "snappy") as writer:
        pending: list[Any] = []
        pending_rows = 0
        for batch in rows.batches(records):
            arrays = []
            for index, (getter, field) in enumerate(zip(getters, schema, strict=True)):
                values = list(map(getter, batch))
                if index in json_columns:
                    values = _csv_json(values)
                arrays.append(pa.array(values, type=field.type))
            pending.append(pa.RecordBatch.from_arrays(arrays, schema=schema))
            pending_rows += len(batch)
            if pending_rows >= PARQUET_ROW_GROUP:
                table = pa.Table.from_batches(pending, schema=schema)
                full = pending_rows // PARQUET_ROW_GROUP * PARQUET_ROW_GROUP
                writer.write_table(table.slice(0, full), row_group_size=PARQUET_ROW_GROUP)
                pending = table.slice(full).to_batches()
                pending_rows -= full
        if pending_rows:
            writer.write_table(
                pa.Table.from_batches(pending, schema=schema), row_group_size=PARQUET_ROW_GROUP
            )
