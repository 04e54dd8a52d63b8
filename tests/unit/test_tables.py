"""Tests for ``airflow_provider_zoho.tables``: records written in their declared schema, in every format."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import math
import time

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_zoho import tables
from airflow_provider_zoho.exceptions import ZohoError
from airflow_provider_zoho.schema import Column
from airflow_provider_zoho.tables import arrow_schema, write_table
from tests.conftest import case_id

UTC = dt.timezone.utc
COLUMNS = (
    Column("id", "string", "an id", nullable=False),
    Column("count", "int64", "a count"),
    Column("rate", "float64", "a rate"),
    Column("flag", "bool", "a flag"),
    Column("day", "date", "a day"),
    Column("at", "timestamp", "an instant"),
    Column("props", "json", "an object"),
)
NAMES = ["id", "count", "rate", "flag", "day", "at", "props", "extra"]
RECORDS = [
    {
        "id": "1",
        "count": 3,
        "rate": 99.5,
        "flag": True,
        "day": "2026-03-07",
        "at": "2026-03-07T05:06:07Z",
        "props": {"b": [1, None], "a": "é"},
    },
    # keys in another order, a rate sent as an integer, fields missing, two undeclared fields
    {"zeta": {"x": 1}, "rate": 99, "id": "2", "count": None, "alpha": 'say "hi", then\nbye'},
]
JSONL = (
    b'{"id":"1","count":3,"rate":99.5,"flag":true,"day":"2026-03-07","at":"2026-03-07T05:06:07Z",'
    b'"props":{"b":[1,null],"a":"\xc3\xa9"},"extra":null}\n'
    b'{"id":"2","count":null,"rate":99.0,"flag":null,"day":null,"at":null,"props":null,'
    b'"extra":{"zeta":{"x":1},"alpha":"say \\"hi\\", then\\nbye"}}\n'
)
CSV = (
    "id,count,rate,flag,day,at,props,extra\n"
    '1,3,99.5,true,2026-03-07,2026-03-07T05:06:07Z,"{""b"":[1,null],""a"":""é""}",\n'
    '2,,99.0,,,,,"{""zeta"":{""x"":1},""alpha"":""say \\""hi\\"", then\\nbye""}"\n'
).encode()


def written(records, file_format="jsonl", compression=None, columns=COLUMNS, where="file:///lake/things"):
    sink = io.BytesIO()
    stats = write_table(
        iter(records), columns, sink, file_format=file_format, compression=compression, where=where
    )
    raw = sink.getvalue()
    if compression == "gzip" and file_format != "parquet":
        raw = gzip.decompress(raw)
    return stats, raw


def jsonl_rows(raw: bytes) -> list[dict]:
    return [json.loads(line) for line in raw.splitlines()]


class TestFormats:
    @pytest.mark.parametrize("compression", [None, "gzip"], ids=["plain", "gzip"])
    def test_jsonl(self, compression):
        stats, raw = written(RECORDS, "jsonl", compression)
        assert raw == JSONL
        assert stats == tables.TableStats(records=2, undeclared=("alpha", "zeta"))

    @pytest.mark.parametrize("compression", [None, "gzip"], ids=["plain", "gzip"])
    def test_csv(self, compression):
        stats, raw = written(RECORDS, "csv", compression)
        assert raw == CSV
        assert stats.records == 2

    @pytest.mark.parametrize(("compression", "codec"), [(None, "SNAPPY"), ("gzip", "GZIP")])
    def test_parquet(self, compression, codec):
        stats, raw = written(RECORDS, "parquet", compression)
        parquet = pq.ParquetFile(io.BytesIO(raw))
        assert parquet.schema_arrow == pa.schema(
            [
                pa.field("id", pa.string(), nullable=False),
                pa.field("count", pa.int64()),
                pa.field("rate", pa.float64()),
                pa.field("flag", pa.bool_()),
                pa.field("day", pa.date32()),
                pa.field("at", pa.timestamp("ms", tz="UTC")),
                pa.field("props", pa.string()),
                pa.field("extra", pa.string()),
            ]
        )
        assert parquet.metadata.row_group(0).column(0).compression == codec
        assert parquet.read().to_pydict() == {
            "id": ["1", "2"],
            "count": [3, None],
            "rate": [99.5, 99.0],
            "flag": [True, None],
            "day": [dt.date(2026, 3, 7), None],
            "at": [dt.datetime(2026, 3, 7, 5, 6, 7, tzinfo=UTC), None],
            "props": ['{"b":[1,null],"a":"é"}', None],
            "extra": [None, '{"zeta":{"x":1},"alpha":"say \\"hi\\", then\\nbye"}'],
        }
        assert stats.undeclared == ("alpha", "zeta")

    @pytest.mark.parametrize("file_format", ["jsonl", "csv", "parquet"])
    def test_declared_key_order_does_not_matter(self, file_format):
        """Multigroup records come in the requested group order; the file has the declared one."""
        reordered = [
            {**{k: v for k, v in reversed(record.items()) if k in NAMES}, **record} for record in RECORDS
        ]
        assert [list(record) for record in reordered] != [list(record) for record in RECORDS]
        assert written(reordered, file_format)[1] == written(RECORDS, file_format)[1]

    @pytest.mark.parametrize(
        ("file_format", "content"),
        [("jsonl", b""), ("csv", b"id,count,rate,flag,day,at,props,extra\n")],
        ids=case_id,
    )
    def test_no_records(self, file_format, content):
        assert written([], file_format) == (tables.TableStats(0, ()), content)

    def test_no_records_parquet_has_the_schema(self):
        _, raw = written([], "parquet")
        table = pq.read_table(io.BytesIO(raw))
        assert table.num_rows == 0
        assert table.schema == arrow_schema(COLUMNS)

    def test_csv_quotes_a_carriage_return(self):
        _, raw = written([{"id": "a\rb"}, {"id": "c"}], "csv")
        assert raw.decode().split("\n")[1:] == ['"a\rb",,,,,,,', "c,,,,,,,", ""]

    def test_csv_tells_an_empty_string_from_null(self):
        records = [{"id": "a", "props": ""}, {"id": ""}, {"id": "b", "props": None}]
        _, raw = written(records, "csv")
        assert raw.decode().splitlines()[1:] == ['a,,,,,,"""""",', '"",,,,,,,', "b,,,,,,,"]

    @pytest.mark.parametrize("file_format", ["jsonl", "csv"])
    def test_gzip_bytes_do_not_depend_on_the_sink(self, tmp_path, file_format):
        """No file name (nor time) in the gzip header: a named file gets the bytes a buffer gets."""
        with (tmp_path / "data.gz").open("wb") as sink:
            write_table(iter(RECORDS), COLUMNS, sink, file_format=file_format, compression="gzip")
        buffer = io.BytesIO()
        write_table(iter(RECORDS), COLUMNS, buffer, file_format=file_format, compression="gzip")
        assert (tmp_path / "data.gz").read_bytes() == buffer.getvalue()

    def test_csv_writes_false(self):
        _, raw = written([{"id": "a", "flag": False}, {"id": "b", "flag": "False"}], "csv")
        assert raw.decode().splitlines()[1:] == ["a,,,false,,,,", "b,,,false,,,,"]

    def test_arrow_schema_follows_the_declaration(self):
        schema = arrow_schema(COLUMNS)
        assert schema.names == NAMES
        assert [field.nullable for field in schema] == [False, True, True, True, True, True, True, True]


class TestConversions:
    @pytest.mark.parametrize(
        ("column", "sent", "kept"),
        [
            (Column("v", "float64", ""), 99, 99.0),
            (Column("v", "float64", ""), "99.5", 99.5),
            (Column("v", "string", ""), 734000000001, "734000000001"),
            (Column("v", "string", ""), 2.5, "2.5"),
            (Column("v", "int64", ""), "12", 12),
            (Column("v", "int64", ""), " 12 ", 12),
            (Column("v", "int64", ""), "-200", -200),
            (Column("v", "int64", ""), "-9223372036854775808", -(2**63)),
            (Column("v", "int64", ""), -9.223372036854775808e18, -(2**63)),
            (Column("v", "int64", ""), 12.0, 12),
            (Column("v", "int64", ""), "9007199254740993", 9007199254740993),
            (Column("v", "int64", ""), 2**63 - 1, 2**63 - 1),
            (Column("v", "bool", ""), "TRUE", True),
            (Column("v", "bool", ""), " false", False),
            (Column("v", "date", ""), dt.date(2026, 3, 7), "2026-03-07"),
            (Column("v", "timestamp", ""), "2026-03-07T10:36:07+05:30", "2026-03-07T05:06:07Z"),
            (Column("v", "timestamp", ""), "2026-03-07 05:06:07.250Z", "2026-03-07T05:06:07.250000Z"),
            (Column("v", "timestamp", ""), "2026-03-07T05:06:07.123456Z", "2026-03-07T05:06:07.123000Z"),
            (Column("v", "timestamp", ""), "2026-03-07T05:06:07.001001Z", "2026-03-07T05:06:07.001000Z"),
            (Column("v", "timestamp", ""), "2026-03-07T10:36:07.001+05:30", "2026-03-07T05:06:07.001000Z"),
            # text msgspec does not read as RFC 3339 (spaces around, basic format): Python's ISO-8601 reader
            (Column("v", "timestamp", ""), " 2026-03-07T10:36:07+05:30 ", "2026-03-07T05:06:07Z"),
            (Column("v", "timestamp", ""), " 2026-03-07T05:06:07Z", "2026-03-07T05:06:07Z"),
            (Column("v", "timestamp", ""), " 2026-03-07T05:06:07z", "2026-03-07T05:06:07Z"),
            (Column("v", "timestamp", ""), "20260307T050607Z", "2026-03-07T05:06:07Z"),
            (Column("v", "date", ""), " 2026-03-07 ", "2026-03-07"),
            (Column("v", "date", ""), "20260307", "2026-03-07"),
            (
                Column("v", "timestamp", ""),
                dt.datetime(2026, 3, 7, 0, 6, 7, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
                "2026-03-07T05:06:07Z",
            ),
            (Column("v", "json", ""), "text", "text"),
            (Column("v", "json", ""), [1, {"a": None}], [1, {"a": None}]),
        ],
        ids=repr,
    )
    def test_lossless_conversions(self, column, sent, kept):
        _, raw = written([{"v": sent}], columns=(column,))
        assert jsonl_rows(raw) == [{"v": kept, "extra": None}]

    def test_instants_are_utc_whatever_the_local_time_zone(self, monkeypatch):
        monkeypatch.setenv("TZ", "America/New_York")
        time.tzset()
        try:
            _, raw = written([{"v": "2026-03-07T10:36:07+05:30"}], columns=(Column("v", "timestamp", ""),))
        finally:
            monkeypatch.undo()
            time.tzset()
        assert jsonl_rows(raw) == [{"v": "2026-03-07T05:06:07Z", "extra": None}]

    def test_whole_numbers_with_any_whitespace_around(self):
        """Whatever ``str.strip`` removes, also what ``int`` does not (here the ASCII unit separator)."""
        _, raw = written([{"v": "\x1f12\x1f"}], columns=(Column("v", "int64", ""),))
        assert jsonl_rows(raw) == [{"v": 12, "extra": None}]

    @pytest.mark.parametrize(
        ("column", "sent"),
        [
            (Column("v", "int64", ""), 1.5),
            (Column("v", "int64", ""), "1.5"),
            (Column("v", "int64", ""), "twelve"),
            (Column("v", "int64", ""), True),
            (Column("v", "int64", ""), 2**63),
            (Column("v", "int64", ""), "9223372036854775808"),
            (Column("v", "int64", ""), "-9223372036854775809"),
            (Column("v", "int64", ""), -1.0e19),
            (Column("v", "float64", ""), "nan"),
            (Column("v", "float64", ""), "fast"),
            (Column("v", "float64", ""), [1.0]),
            (Column("v", "string", ""), True),
            (Column("v", "string", ""), {"a": 1}),
            (Column("v", "bool", ""), 1),
            (Column("v", "bool", ""), "yes"),
            (Column("v", "date", ""), "07-03-2026"),
            (Column("v", "date", ""), "2026-02-30"),
            (Column("v", "date", ""), dt.datetime(2026, 3, 7, tzinfo=UTC)),
            (Column("v", "timestamp", ""), "2026-03-07T05:06:07"),
            (Column("v", "timestamp", ""), dt.datetime(2026, 3, 7)),
            (Column("v", "timestamp", ""), 1772859967000),
            (Column("v", "timestamp", ""), "soon"),
        ],
        ids=repr,
    )
    def test_a_value_that_does_not_fit_is_an_error(self, column, sent):
        with pytest.raises(ZohoError) as error:
            written([{"v": None}, {"v": sent}], columns=(column,))
        message = str(error.value)
        assert message.startswith(f"Record 2 of file:///lake/things has {sent!r}"[:60])
        assert f"in column 'v', which is declared {column.type}" in message

    @pytest.mark.parametrize("file_format", ["jsonl", "csv", "parquet"])
    @pytest.mark.parametrize(
        "record",
        [{"id": None}, {"count": 1}, {"id": "1", "j": None}, {"id": "1"}],
        ids=["null", "missing", "json-null", "json-missing"],
    )
    def test_null_in_a_non_nullable_column_is_an_error(self, record, file_format):
        columns = (*COLUMNS[:1], Column("j", "json", "required json", nullable=False))
        with pytest.raises(ZohoError) as error:
            written([{"id": "0", "j": 1}, record], file_format, columns=columns)
        column = "'id'" if "id" not in record or record["id"] is None else "'j'"
        assert str(error.value).startswith(
            f"Record 2 of file:///lake/things has no value (null) in column {column}, which is not nullable."
        )

    def test_the_error_counts_records_across_batches(self, monkeypatch):
        monkeypatch.setattr(tables, "BATCH_RECORDS", 3)
        records = [{"id": str(i)} for i in range(7)] + [{"id": "x", "count": "many"}]
        with pytest.raises(ZohoError, match=r"^Record 8 of file:///lake/things has 'many' in column 'count'"):
            written(records)

    @pytest.mark.parametrize(
        ("record", "kind"),
        [(["id", "1"], "list"), ("id=1", "str"), (None, "NoneType")],
        ids=["list", "str", "none"],
    )
    def test_a_record_that_is_not_a_dict_is_an_error(self, record, kind):
        with pytest.raises(ZohoError, match=rf"^Record 2 of file:///lake/things is a {kind}, not a record"):
            written([{"id": "1"}, record])

    def test_the_error_tells_what_to_check(self):
        with pytest.raises(ZohoError) as error:
            written([{"id": "1", "count": "many"}])
        assert str(error.value) == (
            "Record 1 of file:///lake/things has 'many' in column 'count', which is declared int64. Nothing "
            "was written; the declared schema and the records disagree (see the resource's columns in the "
            "documentation)."
        )

    def test_the_error_without_a_place(self):
        with pytest.raises(ZohoError, match=r"^Record 1 has 'many' in column 'count', which"):
            write_table(
                [{"id": "1", "count": "many"}], COLUMNS, io.BytesIO(), file_format="jsonl", compression=None
            )
        with pytest.raises(ZohoError, match=r"^Record 1 has 'many' in column 'count', which"):
            tables.Rows(COLUMNS).shape([{"id": "1", "count": "many"}])

    @pytest.mark.parametrize("length", [79, 80, 81, 200])
    def test_the_error_shows_at_most_80_characters_of_the_value(self, length):
        value = "x" * (length - 2)  # its repr has the two quotes
        with pytest.raises(ZohoError) as error:
            written([{"id": "1", "count": value}])
        shown = repr(value) if length <= 80 else f"{repr(value)[:80]}..."
        assert f" has {shown} in column 'count'" in str(error.value)

    def test_native_values_stay_when_another_field_of_the_record_is_converted(self):
        """A record msgspec cannot take whole is converted column by column: the fitting values are kept."""
        record = {
            "id": 7,  # a number in a text column: this record is shaped column by column
            "count": 3,
            "rate": 1.5,
            "flag": False,
            "day": dt.date(2026, 3, 7),
            "at": dt.datetime(2026, 3, 7, 5, 6, 7, tzinfo=UTC),
            "props": {"a": [1]},
        }
        _, raw = written([record])
        assert jsonl_rows(raw) == [
            {
                "id": "7",
                "count": 3,
                "rate": 1.5,
                "flag": False,
                "day": "2026-03-07",
                "at": "2026-03-07T05:06:07Z",
                "props": {"a": [1]},
                "extra": None,
            }
        ]

    def test_a_field_named_extra_is_an_undeclared_field(self):
        stats, raw = written([{"id": "1", "extra": {"a": 1}}, {"id": "2", "extra": None}])
        assert jsonl_rows(raw) == [
            {**dict.fromkeys(NAMES), "id": "1", "extra": {"extra": {"a": 1}}},
            {**dict.fromkeys(NAMES), "id": "2", "extra": {"extra": None}},
        ]
        assert stats.undeclared == ("extra",)


class TestBatches:
    @pytest.mark.parametrize("file_format", ["jsonl", "csv", "parquet"])
    @pytest.mark.parametrize("count", [0, 1, 2, 3, 4, 6, 7], ids=lambda n: f"{n}-records")
    def test_counts_across_batch_boundaries(self, monkeypatch, file_format, count):
        monkeypatch.setattr(tables, "BATCH_RECORDS", 3)
        monkeypatch.setattr(tables, "PARQUET_ROW_GROUP", 3)
        # every other batch has an undeclared field: shaped one by one, the others in one call
        records = [{"id": str(i), **({"late": i} if i // 3 % 2 else {})} for i in range(count)]
        stats, raw = written(records, file_format)
        assert stats.records == count
        expected = [
            {**dict.fromkeys(NAMES), "id": str(i), "extra": {"late": i} if i // 3 % 2 else None}
            for i in range(count)
        ]
        if file_format == "jsonl":
            assert jsonl_rows(raw) == expected
        elif file_format == "csv":
            rows = list(csv.DictReader(io.StringIO(raw.decode())))
            assert [(row["id"], row["extra"]) for row in rows] == [
                (row["id"], json.dumps(row["extra"], separators=(",", ":")) if row["extra"] else "")
                for row in expected
            ]
        else:
            parquet = pq.ParquetFile(io.BytesIO(raw))
            sizes = [parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups)]
            assert sizes == [3] * (count // 3) + ([count % 3] if count % 3 else [])
            assert [(row["id"], row["extra"]) for row in parquet.read().to_pylist()] == [
                (row["id"], json.dumps(row["extra"], separators=(",", ":")) if row["extra"] else None)
                for row in expected
            ]

    def test_parquet_row_groups_of_whole_batches(self, monkeypatch):
        monkeypatch.setattr(tables, "BATCH_RECORDS", 4)
        monkeypatch.setattr(tables, "PARQUET_ROW_GROUP", 6)
        _, raw = written([{"id": str(i)} for i in range(17)], "parquet")
        parquet = pq.ParquetFile(io.BytesIO(raw))
        assert [parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups)] == [6, 6, 5]
        assert parquet.read().column("id").to_pylist() == [str(i) for i in range(17)]

    def test_parquet_row_groups_when_a_batch_is_bigger_than_a_row_group(self, monkeypatch):
        monkeypatch.setattr(tables, "BATCH_RECORDS", 7)
        monkeypatch.setattr(tables, "PARQUET_ROW_GROUP", 3)
        _, raw = written([{"id": str(i)} for i in range(17)], "parquet")
        parquet = pq.ParquetFile(io.BytesIO(raw))
        sizes = [parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups)]
        assert sizes == [3, 3, 3, 3, 3, 2]
        assert parquet.read().column("id").to_pylist() == [str(i) for i in range(17)]

    @pytest.mark.parametrize("file_format", ["jsonl", "csv", "parquet"])
    def test_rows_reach_the_sink_while_the_records_are_read(self, monkeypatch, file_format):
        """Memory stays flat: a batch (a Parquet row group) is written before the next records are read."""
        monkeypatch.setattr(tables, "BATCH_RECORDS", 3)
        monkeypatch.setattr(tables, "PARQUET_ROW_GROUP", 6)
        sink = io.BytesIO()
        sizes = []

        def records():
            for i in range(14):
                sizes.append(len(sink.getvalue()))  # what the sink holds when record i is read
                yield {"id": str(i)}

        write_table(records(), COLUMNS, sink, file_format=file_format, compression=None)
        written_by = 6 if file_format == "parquet" else 3  # rows read when the first rows are written
        assert sizes[written_by] > sizes[written_by - 1]
        assert sizes[written_by - 1] == sizes[0]


# -- property tests: any records either fail with ZohoError or read back exactly, in every reader --------

_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=8)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=5,
)
_VALUES = {
    "id": _TEXT,
    "count": st.none() | st.integers(-(2**63), 2**63 - 1),
    "rate": st.none() | st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**53), 2**53),
    "flag": st.none() | st.booleans(),
    "day": st.none() | st.dates(),
    "at": st.none()
    | st.datetimes(
        min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(9999, 1, 1), timezones=st.just(UTC)
    ).map(lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000)),
    "props": _JSON,
}
_RECORDS = st.lists(
    st.fixed_dictionaries(
        {"id": _VALUES["id"]},
        optional={
            **{name: strategy for name, strategy in _VALUES.items() if name != "id"},
            "undeclared": _JSON,
        },
    ),
    max_size=6,
)


def expected_rows(records: list[dict]) -> list[dict]:
    """The rows the files must give back, as Python values of the declared types."""
    rows = []
    for record in records:
        row = {name: record.get(name) for name in NAMES[:-1]}
        if row["rate"] is not None:
            row["rate"] = float(row["rate"])
        extra = {key: value for key, value in record.items() if key not in NAMES[:-1]}
        row["extra"] = extra or None
        rows.append(row)
    return rows


def read_back(path, file_format: str) -> list[dict]:
    """The file read by DuckDB with the declared types; json columns parsed."""
    types = {
        "id": "VARCHAR",
        "count": "BIGINT",
        "rate": "DOUBLE",
        "flag": "BOOLEAN",
        "day": "DATE",
        "at": "TIMESTAMPTZ",
        "props": "JSON",
        "extra": "JSON",
    }
    columns = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in types.items()) + "}"
    source = {
        "parquet": f"read_parquet('{path}')",
        "csv": f"read_csv('{path}', header=true, columns={columns}, allow_quoted_nulls=false)",
        "jsonl": f"read_json('{path}', format='newline_delimited', columns={columns})",
    }[file_format]
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    result = connection.execute(f"SELECT * FROM {source}")
    names = [description[0] for description in result.description]
    rows = [dict(zip(names, values, strict=True)) for values in result.fetchall()]
    for row in rows:
        for name in ("props", "extra"):
            row[name] = None if row[name] is None else json.loads(row[name])
    return rows


@pytest.mark.parametrize("file_format", ["jsonl", "csv", "parquet"])
@settings(max_examples=40)
@given(records=_RECORDS)
def test_any_records_read_back_exactly_with_duckdb(tmp_path_factory, file_format, records):
    _, raw = written(records, file_format)
    path = tmp_path_factory.mktemp("table") / f"data.{file_format}"
    path.write_bytes(raw)
    rows = read_back(path, file_format)
    assert rows == expected_rows(records)


_ANY_FIELD = st.sampled_from([*NAMES, "other"])
_ANY_VALUE = _JSON | st.floats() | st.dates() | st.datetimes(timezones=st.none() | st.just(UTC))


@settings(max_examples=150)
@given(records=st.lists(st.dictionaries(_ANY_FIELD, _ANY_VALUE, max_size=5), max_size=4))
def test_any_records_write_or_fail_with_a_zoho_error(records):
    for file_format in ("jsonl", "csv", "parquet"):
        try:
            stats, raw = written(records, file_format)
        except ZohoError as error:
            failure = str(error)
        else:
            failure = None
        if failure is not None:
            assert failure.startswith("Record ")
            continue
        assert stats.records == len(records)
        if file_format == "jsonl":
            for row in jsonl_rows(raw):
                assert list(row) == NAMES
                assert row["id"] is not None
                assert row["rate"] is None or (isinstance(row["rate"], float) and math.isfinite(row["rate"]))


_CSV_VALUES = (
    st.none()
    | st.text(st.characters(exclude_characters="\r"), min_size=1, max_size=6)
    | st.integers()
    | st.floats(allow_nan=False)
)


@given(row=st.lists(_CSV_VALUES, min_size=2, max_size=5))
def test_the_csv_fallback_writes_what_the_csv_module_writes(row):
    """Batches with an empty string or a carriage return are written field by field, alike otherwise."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(row)
    assert tables._csv_line(tuple(row)) == out.getvalue()
