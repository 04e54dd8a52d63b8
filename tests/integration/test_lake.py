"""
A month of daily partitions read back as one table by real query engines, in every format.

For each resource below, one ``dag.test()`` run of ``it_lake`` extracts February 2026 (the window's day and
27 lookback days, one partition per day) in each format: JSON Lines, CSV and Parquet, plain and gzip. The
sandbox makes some days empty, adds an undeclared field on others and sends the crash-free rate as an
integer on others. Then the whole resource folder of each format is read as one table, as a data engineer
would: DuckDB (``read_parquet``/``read_csv``/``read_json`` with ``hive_partitioning``) and
``pyarrow.dataset``. Each reader must give exactly the sandbox oracle's rows, converted to the declared
types, with the declared column types, and every data file must have exactly the declared schema.

Local disk always, every format; S3 (a moto server on loopback) where the ``s3`` extra is installed (the
Airflow 3.3 environment), each format once (``it_lake_s3``: jsonl.gz, csv.gz, parquet), since every commit
there costs a dozen S3 requests. DuckDB reads S3 through s3fs (``register_filesystem``), pyarrow through
its own S3 client. Runtime on the 2-core VM: about 25 s on local disk, 95 s on S3, for the six resources.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pendulum
import pytest

from airflow_provider_zoho.hooks.apptics_planning import dataset_columns, dataset_identity
from airflow_provider_zoho.schema import EXTRA, schema_version
from tests.integration.conftest import BUCKET, run_dag, task_states
from tests.integration.dags.zoho_it import LAKE_DAYS, LAKE_FORMATS, LAKE_S3_FORMATS
from tests.lake import as_read

duckdb = pytest.importorskip("duckdb", reason="the lake tests read with DuckDB (a test dependency)")
pa = pytest.importorskip("pyarrow", reason="the lake tests read with pyarrow (the parquet extra)")

LOGICAL = pendulum.datetime(2026, 3, 8, tz="UTC")  # any: the window is explicit
MONTH = [dt.date(2026, 2, 1) + dt.timedelta(days=offset) for offset in range(LAKE_DAYS)]
EXTRA_DAYS = ["2026-02-03", "2026-02-17"]
EMPTY_DAYS = ["2026-02-07", "2026-02-21"]
INTEGER_RATE_DAYS = ["2026-02-10", "2026-02-24"]
DUCKDB_TYPES = {
    "string": "VARCHAR",
    "int64": "BIGINT",
    "float64": "DOUBLE",
    "bool": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "json": "JSON",
}


@dataclass(frozen=True)
class Case:
    """
    One resource's month.

    :param quirks: the sandbox quirks and their days.
    :param api_params: the operator's ``api_params`` (``crash_id`` is filled in by the test).
    """

    quirks: dict[str, list[str]] = field(default_factory=dict)
    api_params: dict[str, Any] = field(default_factory=dict)


CASES = {
    "crashes": Case({"extra_field": EXTRA_DAYS, "empty": EMPTY_DAYS}),
    "crash_summary": Case({"extra_field": EXTRA_DAYS, "integer_rate": INTEGER_RATE_DAYS}),  # rates
    "crash_counts_by_date": Case({"empty": EMPTY_DAYS}),  # timestamps
    "event_device_counts": Case({"empty": EMPTY_DAYS}),  # dates
    "active_devices": Case({"empty": EMPTY_DAYS}, {"group": "platform,date"}),  # multigroup, group reordered
    "crash_detail": Case({"extra_field": EXTRA_DAYS, "empty": EMPTY_DAYS}, {"crash_id": None}),  # bool, json
}


class Lake:
    """
    Where the DAG writes, and how readers reach it: the local disk (``it_lake``, every format) or S3
    (``it_lake_s3``, each format once).
    """

    def __init__(self, kind: str, tmp_path, request) -> None:
        self.kind = kind
        if kind == "local":
            self.root = str(tmp_path / "lake")
            self.destination, self.conn_id = f"file://{self.root}", None
            self.fs = None
            self.dag_id, self.formats = "it_lake", LAKE_FORMATS
            return
        pytest.importorskip("airflow.providers.amazon", reason="the s3 extra is not installed")
        s3fs = pytest.importorskip("s3fs", reason="the s3 extra is not installed")
        request.getfixturevalue("s3")  # a fresh bucket and the aws_local connection
        endpoint = request.getfixturevalue("moto_server")
        self.root = f"{BUCKET}/lake"
        self.destination, self.conn_id = f"s3://{self.root}", "aws_local"
        self.dag_id = "it_lake_s3"
        self.formats = {suffix: LAKE_FORMATS[suffix] for suffix in LAKE_S3_FORMATS}
        self.endpoint = endpoint
        self.fs = s3fs.S3FileSystem(
            key="testing",
            secret="testing",
            client_kwargs={"endpoint_url": endpoint, "region_name": "us-east-1"},
        )

    def folder(self, suffix: str, resource: str, identity: str = "") -> str:
        return "/".join(part for part in (self.root, suffix, resource, identity) if part)

    def uri(self, path: str) -> str:
        return path if self.fs is None else f"s3://{path}"

    def files(self, folder: str) -> list[str]:
        if self.fs is None:
            from pathlib import Path

            return sorted(str(path) for path in Path(folder).rglob("*") if path.is_file())
        self.fs.invalidate_cache()
        return sorted(self.fs.find(folder))

    def read(self, path: str) -> bytes:
        if self.fs is None:
            with open(path, "rb") as file:
                return file.read()
        return self.fs.cat_file(path)

    def duckdb(self):
        connection = duckdb.connect()
        connection.execute("SET TimeZone = 'UTC'")
        if self.fs is not None:
            connection.register_filesystem(self.fs)
        return connection

    def arrow_filesystem(self):
        if self.fs is None:
            return None
        from pyarrow import fs

        return fs.S3FileSystem(
            access_key="testing",
            secret_key="testing",
            region="us-east-1",
            endpoint_override=self.endpoint.split("://", 1)[1],
            scheme="http",
        )


@pytest.fixture(params=["local", "s3"])
def lake(request, tmp_path):
    return Lake(request.param, tmp_path, request)


@pytest.mark.parametrize("resource", list(CASES))
def test_a_month_reads_as_one_table_in_every_format(sandbox, lake, resource):
    case = CASES[resource]
    api_params = dict(case.api_params)
    if "crash_id" in api_params:  # the month's busiest crash issue: it crashes on most days
        month = {"startdate": MONTH[0], "enddate": MONTH[-1]}
        api_params["crash_id"] = sandbox.expected("crashes", **month)[0]["crash_id"]
    sandbox.set_quirks(resource, **case.quirks)
    group = api_params.get("group")
    columns = dataset_columns(resource, group)

    dag_run = run_dag(
        lake.dag_id,
        LOGICAL,
        resource=resource,
        destination=lake.destination,
        dest_conn_id=lake.conn_id,
        api_params=api_params,
        day=MONTH[-1].isoformat(),
    )
    assert set(task_states(dag_run).values()) == {"success"}, task_states(dag_run)

    levels = {name: value for name, value in dataset_identity(resource, **api_params)}
    expected = expected_rows(sandbox, resource, api_params, group)
    assert_the_quirks_were_served(sandbox, resource, api_params, case, expected)
    identity = "/".join(f"{name}={value}" for name, value in dataset_identity(resource, **api_params))
    for suffix, (file_format, compression) in lake.formats.items():
        folder = lake.folder(suffix, resource, identity)
        assert_every_file_has_the_schema(lake, folder, columns, file_format, compression)
        where = (resource, suffix)
        table = read_with_duckdb(lake, folder, columns, file_format, compression)
        assert table.types == duckdb_types(columns, file_format, levels), where
        # identity levels are columns too (as text); crash_id= has the same value as the column
        assert sorted_rows(table.rows) == sorted_rows([{**levels, **row} for row in expected]), where
        if file_format != "jsonl":  # pyarrow's JSON reader makes structs of JSON objects, not text
            rows = read_with_pyarrow(lake, folder, columns, file_format)
            assert sorted_rows(rows) == sorted_rows(expected), (*where, "pyarrow")

    if lake.kind == "local" and resource in README_QUERIES:  # the README's query reads this folder too
        assert sorted_rows(read_with_readme_query(lake, resource, columns)) == sorted_rows(expected)

    if group is not None:  # the other order of the default group: the same partition, byte for byte
        assert identity == ""  # the same entities as the default group: no level of its own
        reordered = {path: lake.read(path) for path in lake.files(lake.root) if "/data." in path}
        dag_run = run_dag(
            lake.dag_id,
            LOGICAL,
            resource=resource,
            destination=lake.destination,
            dest_conn_id=lake.conn_id,
            api_params={},
            day=MONTH[-1].isoformat(),
        )
        assert set(task_states(dag_run).values()) == {"success"}
        default = {path: lake.read(path) for path in lake.files(lake.root) if "/data." in path}
        assert len(default) == len(lake.formats) * LAKE_DAYS
        assert default == reordered


# -- the README's "Query your lake" ----------------------------------------------------------------------


def readme_queries() -> dict[str, str]:
    """The DuckDB queries of the README's "Query your lake", by the resource they read."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Query your lake") :]
    block = section[section.index("```sql\n") + 7 : section.index("```", section.index("```sql\n") + 7)]
    queries = {}
    for statement in block.split(";"):
        found = re.search(r"read_\w+\('/data/zoho/(\w+)/", statement)
        if found:
            queries[found.group(1)] = "\n".join(
                line for line in statement.splitlines() if not line.lstrip().startswith("--")
            ).strip()
    return queries


README_QUERIES = readme_queries()


def test_the_readme_shows_one_query_per_format():
    formats = sorted(re.search(r"data\.(\w+)", query).group(1) for query in README_QUERIES.values())
    assert formats == ["csv", "jsonl", "parquet"], README_QUERIES


def test_the_readme_athena_table_has_the_declared_columns():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    ddl = readme[readme.index("CREATE EXTERNAL TABLE zoho.crash_counts_by_date (") :]
    declared = ddl[ddl.index("(") + 1 : ddl.index(")\nPARTITIONED BY")]
    names = [item.split()[0] for item in declared.split(",")]
    assert names == [column.name for column in (*dataset_columns("crash_counts_by_date"), EXTRA)]


def read_with_readme_query(lake: Lake, resource: str, columns) -> list[dict[str, Any]]:
    query = README_QUERIES[resource]
    extension = re.search(r"data\.([\w.]+)'", query).group(1)
    suffix = {"parquet": "parquet", "csv.gz": "csv_gz", "jsonl": "jsonl"}[extension]
    connection = lake.duckdb()
    result = connection.execute(query.replace("'/data/zoho/", f"'{lake.root}/{suffix}/"))
    names = [description[0] for description in result.description]
    rows = [dict(zip(names, values, strict=True)) for values in result.fetchall()]
    json_names = [column.name for column in (*columns, EXTRA) if column.type == "json"]
    for row in rows:
        for name in json_names:
            row[name] = None if row[name] is None else json.loads(row[name])
    return rows


# -- the expected rows ------------------------------------------------------------------------------------


def expected_rows(sandbox, resource: str, api_params: dict[str, Any], group: Any) -> list[dict[str, Any]]:
    """The oracle's rows of every day, in the declared types, with the day's ``start``/``end``."""
    rows = []
    for day in MONTH:
        records = sandbox.expected(resource, startdate=day, enddate=day, **api_params)
        rows.extend({**row, "start": day, "end": day} for row in as_read(resource, records, group))
    return rows


def assert_the_quirks_were_served(sandbox, resource, api_params, case: Case, expected) -> None:
    """Guards against a vacuous comparison: the month holds what the test claims to cover."""
    days_with_rows = {row["start"].isoformat() for row in expected}
    assert len(days_with_rows) >= LAKE_DAYS - 3, days_with_rows
    for day in case.quirks.get("empty", []):
        assert day not in days_with_rows
    if "extra_field" in case.quirks:
        with_extra = {row["start"].isoformat() for row in expected if row["extra"]}
        assert with_extra == set(EXTRA_DAYS) & days_with_rows, with_extra
        assert all(
            row["extra"] == {"release_channel": row["extra"]["release_channel"]}
            for row in expected
            if row["extra"]
        )
    if "integer_rate" in case.quirks:
        for day in map(dt.date.fromisoformat, INTEGER_RATE_DAYS):
            (record,) = sandbox.expected(resource, startdate=day, enddate=day, **api_params)
            assert type(record["crash_free_users"]) is int  # the API sent 99, the files hold 99.0


def sorted_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda row: json.dumps(row, sort_keys=True, default=str))


# -- the files --------------------------------------------------------------------------------------------


def assert_every_file_has_the_schema(lake: Lake, folder: str, columns, file_format: str, compression) -> None:
    import pyarrow.parquet as pq

    from airflow_provider_zoho.tables import arrow_schema

    names = [column.name for column in columns] + [EXTRA.name]
    data_files = [path for path in lake.files(folder) if path.rsplit("/", 1)[1].startswith("data.")]
    manifests = [path for path in lake.files(folder) if path.endswith("/_manifest.json")]
    assert len(data_files) == len(manifests) == LAKE_DAYS, folder
    for manifest in manifests:
        assert json.loads(lake.read(manifest))["schema_version"] == schema_version(columns)
    for path in data_files:
        raw = lake.read(path)
        if file_format == "parquet":
            import io

            assert pq.read_schema(io.BytesIO(raw)) == arrow_schema(columns), path
            continue
        text = (gzip.decompress(raw) if compression else raw).decode()
        if file_format == "csv":
            assert text.split("\n", 1)[0] == ",".join(names), path
        else:
            assert all(list(json.loads(line)) == names for line in text.splitlines()), path


def duckdb_types(columns, file_format: str, levels: dict[str, str]) -> dict[str, str]:
    types = {column.name: DUCKDB_TYPES[column.type] for column in (*columns, EXTRA)}
    if file_format == "parquet":  # JSON text in a string column
        types = {name: "VARCHAR" if kind == "JSON" else kind for name, kind in types.items()}
    return {**dict.fromkeys(levels, "VARCHAR"), **types, "start": "DATE", "end": "DATE"}


@dataclass
class Table:
    types: dict[str, str]
    rows: list[dict[str, Any]]


def read_with_duckdb(lake: Lake, folder: str, columns, file_format: str, compression) -> Table:
    """The folder as one table: the queries of the README's "Query your lake"."""
    extension = {"jsonl": "jsonl", "csv": "csv", "parquet": "parquet"}[file_format]
    suffix = ".gz" if compression and file_format != "parquet" else ""
    files = lake.uri(f"{folder}/**/data.{extension}{suffix}")
    declared = ", ".join(f"'{column.name}': '{DUCKDB_TYPES[column.type]}'" for column in (*columns, EXTRA))
    # Path levels are text and the window's days dates: an identity level that is also a column
    # (crash_id) keeps the column's type.
    hive = (
        "hive_partitioning = true, hive_types = {'start': 'DATE', 'end': 'DATE'}, hive_types_autocast = false"
    )
    source = {
        "parquet": f"read_parquet('{files}', {hive})",
        "csv": f"read_csv('{files}', auto_detect = false, header = true, delim = ',', quote = '\"', "
        f"escape = '\"', columns = {{{declared}}}, {hive})",
        "jsonl": f"read_json('{files}', format = 'newline_delimited', columns = {{{declared}}}, {hive})",
    }[file_format]
    connection = lake.duckdb()
    result = connection.execute(f"SELECT * FROM {source}")
    names = [description[0] for description in result.description]
    rows = [dict(zip(names, values, strict=True)) for values in result.fetchall()]
    types = {
        name: str(kind)
        for name, kind, *_ in connection.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    }
    json_names = [column.name for column in (*columns, EXTRA) if column.type == "json"]
    for row in rows:
        for name in json_names:
            row[name] = None if row[name] is None else json.loads(row[name])
    return Table(types, rows)


def read_with_pyarrow(lake: Lake, folder: str, columns, file_format: str) -> list[dict[str, Any]]:
    """The folder as one ``pyarrow.dataset`` (hive partitions ``start``/``end``); Parquet schemas checked."""
    import pyarrow.csv as pacsv
    import pyarrow.dataset as ds

    from airflow_provider_zoho.tables import arrow_schema

    schema = arrow_schema(columns)
    if file_format == "parquet":
        file_format_ = ds.ParquetFileFormat()
    else:
        file_format_ = ds.CsvFileFormat(
            convert_options=pacsv.ConvertOptions(
                column_types=schema,
                null_values=[""],  # pyarrow's default also reads the text "null", "NA"... as null
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
                true_values=["true"],
                false_values=["false"],
            )
        )
    partitioning = ds.partitioning(pa.schema([("start", pa.date32()), ("end", pa.date32())]), flavor="hive")
    dataset = ds.dataset(
        folder, format=file_format_, partitioning=partitioning, filesystem=lake.arrow_filesystem()
    )
    if file_format == "parquet":
        for fragment in dataset.get_fragments():
            assert fragment.physical_schema == schema, fragment.path
    table = dataset.to_table()
    assert table.schema.names == [*schema.names, "start", "end"]
    assert [table.schema.field(name).type for name in schema.names] == schema.types
    rows = table.to_pylist()
    json_names = [column.name for column in (*columns, EXTRA) if column.type == "json"]
    for row in rows:
        for name in json_names:
            row[name] = None if row[name] is None else json.loads(row[name])
    return rows
