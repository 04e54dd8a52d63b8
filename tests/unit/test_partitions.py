"""Tests for ``airflow_provider_zoho.partitions``: one extraction partition, written atomically."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import importlib.util
import io
import json
import os
import random
import re
import time
import tracemalloc
from typing import TYPE_CHECKING
from urllib.parse import unquote

import pyarrow.parquet as pq
import pytest
from airflow.providers.common.compat.sdk import ObjectStoragePath
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_zoho import __version__, partitions
from airflow_provider_zoho.exceptions import ZohoConfigError, ZohoError
from airflow_provider_zoho.partitions import (
    MANIFEST_NAME,
    PartitionResult,
    data_file_name,
    partition_dir,
    stage_partition,
    validate_format,
)
from airflow_provider_zoho.schema import Column, schema_version
from airflow_provider_zoho.windows import day_keys

if TYPE_CHECKING:
    from pathlib import Path

COMBOS = [
    ("jsonl", None, "data.jsonl"),
    ("jsonl", "gzip", "data.jsonl.gz"),
    ("csv", None, "data.csv"),
    ("csv", "gzip", "data.csv.gz"),
    ("parquet", None, "data.parquet"),
    ("parquet", "gzip", "data.parquet"),
]
COMBO_IDS = ["jsonl", "jsonl-gzip", "csv", "csv-gzip", "parquet-snappy", "parquet-gzip"]
FORMAT_COMBOS = [(fmt, comp) for fmt, comp, _ in COMBOS]

START = dt.date(2024, 3, 4)
END = dt.date(2024, 3, 10)

COLUMNS = (
    Column("id", "int64", "the id", nullable=False),
    Column("name", "string", "a name"),
    Column("score", "float64", "a rate"),
    Column("active", "bool", "a flag"),
    Column("tags", "json", "a list"),
    Column("meta", "json", "an object"),
)
RECORDS = [
    {"id": 1, "name": "alpha", "score": 1.5, "active": True, "tags": ["a", "b"], "meta": {"z": 1, "a": 2}},
    {"id": 2, "name": 'béta, "quoted"\nline', "score": 2, "active": False, "tags": [], "meta": None},
    {"id": 3, "extra": "late column", "name": None},
]


def as_rows(records: list[dict], columns=COLUMNS) -> list[dict]:
    """``records`` as the JSON Lines file holds them: the declared columns in order, then ``extra``."""
    names = [column.name for column in columns]
    rows = []
    for record in records:
        extra = {key: value for key, value in record.items() if key not in names}
        rows.append({**{name: record.get(name) for name in names}, "extra": extra or None})
    return rows


class Boom(Exception):
    """Raised by a records iterator in the middle of a stream."""


def failing(count: int):
    """Yield ``count`` records, then fail as a broken page fetch would."""
    for i in range(count):
        yield {"id": i, "name": f"new-{i}"}
    raise Boom(f"page fetch failed after {count} records")


@pytest.fixture
def base(tmp_path) -> ObjectStoragePath:
    return ObjectStoragePath(f"file://{tmp_path / 'dest'}")


@pytest.fixture
def directory(base) -> ObjectStoragePath:
    return partition_dir(base, "crashes", day_keys(START, END))


@pytest.fixture
def local(tmp_path) -> Path:
    """The partition directory ``directory`` on the local disk."""
    return tmp_path / "dest" / "crashes" / "start=2024-03-04" / "end=2024-03-10"


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file in ``folder`` with its bytes."""
    if not folder.exists():
        return {}
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def decompressed(raw: bytes, compression: str | None) -> bytes:
    return gzip.decompress(raw) if compression == "gzip" else raw


def read_jsonl(path: Path, compression: str | None) -> list[dict]:
    text = decompressed(path.read_bytes(), compression).decode()
    return [json.loads(line) for line in text.splitlines()]


def write(
    directory, records, file_format="jsonl", compression=None, api_calls=None, columns=COLUMNS
) -> PartitionResult:
    """Stage then commit, as the operator does."""
    staged = stage_partition(
        directory, records, columns=columns, file_format=file_format, compression=compression
    )
    manifest = {"resource": "crashes", "start": START.isoformat(), "end": END.isoformat()}
    return staged.commit(manifest, api_calls=api_calls)


class FakeClock:
    """
    The commit protocol's clock and sleep: sleeping advances the clock at once, and ``on_sleep`` callbacks
    run inside a sleep (the other writer's moves, interleaved deterministically).
    """

    def __init__(self) -> None:
        self.now = time.time()  # near the real time: file ages are measured against it
        self.sleeps: list[float] = []
        self.on_sleep: list = []  # callables(clock) run, in order, one per sleep, before it returns

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep:
            self.on_sleep.pop(0)(self)


@pytest.fixture(autouse=True)
def clock():
    """Every commit in these tests runs on a fake clock (no real settle delay)."""
    fake = FakeClock()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(partitions, "_clock", fake.time)
        patch.setattr(partitions, "_sleep", fake.sleep)
        yield fake


class TestNames:
    def test_partition_dir_layout(self, base):
        path = partition_dir(base, "active_users", day_keys(dt.date(2024, 1, 1), dt.date(2024, 1, 31)))
        assert str(path).endswith("/dest/active_users/start=2024-01-01/end=2024-01-31")
        assert [path.name, path.parent.name, path.parent.parent.name] == [
            "end=2024-01-31",
            "start=2024-01-01",
            "active_users",
        ]

    def test_identity_levels_come_before_the_window(self, base):
        keys = (("group", "country+date"), ("platforms", "Android+iOS"), *day_keys(START, START))
        path = partition_dir(base, "active_devices", keys)
        assert str(path).endswith(
            "/dest/active_devices/group=country+date/platforms=Android+iOS/start=2024-03-04/end=2024-03-04"
        )

    @pytest.mark.parametrize(
        ("name", "level"),
        [
            ("time/zone", "time%2Fzone=UTC"),
            ("../x", "..%2Fx=UTC"),
            ("a=b", "a%3Db=UTC"),
            ("a+b", "a%2Bb=UTC"),
        ],
        ids=["slash", "traversal", "equals", "plus"],
    )
    def test_names_are_percent_encoded_into_one_level(self, base, name, level):
        path = partition_dir(base, "screens", ((name, "UTC"), *day_keys(START, START)))
        assert path.parent.parent.name == level
        assert path.parent.parent.parent.name == "screens"

    @given(st.lists(st.tuples(st.text(min_size=1, max_size=8), st.text(max_size=8)), min_size=1, max_size=3))
    def test_every_key_is_one_level_that_decodes_to_its_name_and_value(self, keys):
        base = ObjectStoragePath("file:///dest")
        path = partition_dir(base, "screens", keys)
        levels = str(path).split("/screens/", 1)[1].split("/")
        assert len(levels) == len(keys)
        for level, (name, value) in zip(levels, keys, strict=True):
            encoded_name, encoded_value = level.split("=", 1)
            assert (unquote(encoded_name), unquote(encoded_value)) == (name, value)

    @pytest.mark.parametrize(
        ("value", "level"),
        [
            ("Asia/Kolkata", "timezone=Asia%2FKolkata"),
            ("../../etc", "timezone=..%2F..%2Fetc"),
            ("a b=c", "timezone=a%20b%3Dc"),
            ("2.4.1+2.4.0", "timezone=2.4.1+2.4.0"),
            ("Écran", "timezone=%C3%89cran"),
        ],
        ids=["slash", "traversal", "space-and-equals", "list", "non-ascii"],
    )
    def test_values_are_percent_encoded_into_one_level(self, base, value, level):
        path = partition_dir(base, "screens", (("timezone", value), *day_keys(START, START)))
        assert path.parent.parent.name == level
        assert path.parent.parent.parent.name == "screens"

    @pytest.mark.parametrize(("file_format", "compression", "name"), COMBOS, ids=COMBO_IDS)
    def test_data_file_name(self, file_format, compression, name):
        assert data_file_name(file_format, compression) == name


class TestLayoutAndManifest:
    @pytest.mark.parametrize(("file_format", "compression", "name"), COMBOS, ids=COMBO_IDS)
    def test_partition_holds_data_file_and_manifest_only(
        self, directory, local, file_format, compression, name
    ):
        result = write(directory, iter(RECORDS), file_format, compression)

        assert sorted(p.name for p in local.iterdir()) == [MANIFEST_NAME, name]
        assert result.path.name == name
        assert result.manifest_path.name == MANIFEST_NAME
        assert str(result.path) == str(directory / name)
        assert result.records == len(RECORDS)
        on_disk = (local / MANIFEST_NAME).read_text()
        assert json.loads(on_disk) == result.manifest
        assert on_disk == json.dumps(result.manifest, indent=2, sort_keys=True) + "\n"

    @pytest.mark.parametrize(("file_format", "compression", "name"), COMBOS, ids=COMBO_IDS)
    def test_manifest_fields(self, directory, local, file_format, compression, name):
        before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        manifest = write(directory, iter(RECORDS), file_format, compression, api_calls=6).manifest
        after = dt.datetime.now(dt.timezone.utc)

        raw = (local / name).read_bytes()
        expected_codec = compression if file_format != "parquet" else (compression or "snappy")
        assert set(manifest) == {
            "resource",
            "start",
            "end",
            "records",
            "bytes",
            "sha256",
            "format",
            "compression",
            "file",
            "schema_version",
            "extracted_at",
            "api_calls",
            "provider_version",
        }
        assert manifest["resource"] == "crashes"
        assert manifest["start"] == "2024-03-04"
        assert manifest["end"] == "2024-03-10"
        assert manifest["records"] == 3
        assert manifest["bytes"] == len(raw) > 0
        assert manifest["sha256"] == hashlib.sha256(raw).hexdigest()
        assert manifest["format"] == file_format
        assert manifest["compression"] == expected_codec
        assert manifest["file"] == name
        assert manifest["schema_version"] == schema_version(COLUMNS) == "358a85ab3ad32c43"
        assert manifest["api_calls"] == 6
        assert manifest["provider_version"] == __version__
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", manifest["extracted_at"])
        extracted = dt.datetime.strptime(manifest["extracted_at"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=dt.timezone.utc
        )
        assert before <= extracted <= after

    def test_extracted_at_is_utc_whatever_the_local_time_zone(self, directory, monkeypatch):
        monkeypatch.setenv("TZ", "Asia/Kolkata")  # UTC+05:30 all year
        time.tzset()
        try:
            before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
            manifest = write(directory, iter(RECORDS)).manifest
            after = dt.datetime.now(dt.timezone.utc)
        finally:
            monkeypatch.undo()
            time.tzset()
        extracted = dt.datetime.strptime(manifest["extracted_at"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=dt.timezone.utc
        )
        assert before <= extracted <= after

    @pytest.mark.parametrize("api_calls", [None, 0, 7])
    def test_api_calls_is_the_number_given(self, directory, api_calls):
        assert write(directory, iter(RECORDS), api_calls=api_calls).manifest["api_calls"] == api_calls

    def test_computed_fields_win_over_extra_fields(self, directory):
        staged = stage_partition(directory, iter(RECORDS), columns=COLUMNS)
        result = staged.commit({"records": 999, "sha256": "forged", "owner": "team-a"})
        assert result.manifest["records"] == 3
        assert result.manifest["sha256"] != "forged"
        assert result.manifest["owner"] == "team-a"

    def test_no_extra_fields(self, directory):
        result = stage_partition(directory, iter(RECORDS), columns=COLUMNS).commit()
        assert "resource" not in result.manifest
        assert result.manifest["records"] == 3

    def test_neighbouring_partitions_are_left_alone(self, base, tmp_path):
        first = partition_dir(base, "crashes", day_keys(START, START))
        neighbour = partition_dir(base, "crashes", day_keys(START, END))
        other_resource = partition_dir(base, "users", day_keys(START, START))
        write(neighbour, iter(RECORDS))
        write(other_resource, iter(RECORDS), "csv")
        kept = snapshot(tmp_path / "dest/crashes/start=2024-03-04/end=2024-03-10")
        kept_other = snapshot(tmp_path / "dest/users/start=2024-03-04/end=2024-03-04")

        write(first, iter(RECORDS), "parquet")

        assert snapshot(tmp_path / "dest/crashes/start=2024-03-04/end=2024-03-10") == kept
        assert snapshot(tmp_path / "dest/users/start=2024-03-04/end=2024-03-04") == kept_other


class TestTypedContent:
    """The data file follows the declared columns (the formats themselves: ``test_tables.py``)."""

    @pytest.mark.parametrize("compression", [None, "gzip"], ids=["plain", "gzip"])
    def test_jsonl_rows_are_the_declared_columns_then_extra(self, directory, local, compression):
        write(directory, iter(RECORDS), "jsonl", compression)
        assert read_jsonl(local / data_file_name("jsonl", compression), compression) == as_rows(RECORDS)

    @pytest.mark.parametrize(("file_format", "compression"), FORMAT_COMBOS, ids=COMBO_IDS)
    def test_undeclared_fields_are_reported(self, directory, file_format, compression):
        staged = stage_partition(
            directory,
            iter([*RECORDS, {"id": 4, "zeta": 1}]),
            columns=COLUMNS,
            file_format=file_format,
            compression=compression,
        )
        assert staged.undeclared == ("extra", "zeta")
        assert staged.records == 4
        staged.discard()

    def test_a_record_that_does_not_fit_keeps_the_previous_partition(self, directory, local):
        write(directory, iter(RECORDS), "csv")
        before = snapshot(local)
        with pytest.raises(
            ZohoError, match=r"^Record 3 of .*/crashes/start=2024-03-04/end=2024-03-10 has no value"
        ):
            write(directory, iter([{"id": 1}, {"id": 2}, {"id": None}]), "csv")
        assert snapshot(local) == before  # no _inprogress-* left, the old partition intact

    @pytest.mark.parametrize("scheme", ["file://", ""], ids=["uri", "plain-path"])
    def test_a_record_error_names_the_partition_as_the_destination_was_given(self, tmp_path, local, scheme):
        base = ObjectStoragePath(f"{scheme}{tmp_path / 'dest'}")  # a plain path has no protocol
        directory = partition_dir(base, "crashes", day_keys(START, END))
        with pytest.raises(ZohoError) as error:
            write(directory, iter([{"id": 1}, {"id": None}]))
        assert str(error.value) == (
            f"Record 2 of {scheme}{local} has no value (null) in column 'id', which is not nullable. Nothing "
            "was written; the declared schema and the records disagree (see the resource's columns in the "
            "documentation)."
        )

    @pytest.mark.parametrize(
        ("columns", "problem"),
        [
            ((), "at least one declared column"),
            ((*COLUMNS, Column("extra", "string", "")), "reserved"),
            ((*COLUMNS, COLUMNS[0]), "declared twice: id"),
        ],
        ids=["none", "extra", "twice"],
    )
    def test_a_bad_schema_is_refused_before_storage_is_touched(self, directory, local, columns, problem):
        consumed = []

        def records():
            consumed.append(1)
            yield {"id": 1}

        with pytest.raises(ValueError, match=problem):
            stage_partition(directory, records(), columns=columns)
        assert not local.exists()
        assert consumed == []


class TestEmpty:
    @pytest.mark.parametrize(("file_format", "compression", "name"), COMBOS, ids=COMBO_IDS)
    def test_empty_stream_gives_a_valid_file_with_the_schema(
        self, directory, local, file_format, compression, name
    ):
        result = write(directory, iter(()), file_format, compression, api_calls=1)
        path = local / name
        raw = path.read_bytes()

        assert result.manifest["records"] == 0
        assert result.manifest["api_calls"] == 1
        assert result.manifest["bytes"] == len(raw)
        assert result.manifest["sha256"] == hashlib.sha256(raw).hexdigest()
        assert result.manifest["schema_version"] == schema_version(COLUMNS)
        assert (local / MANIFEST_NAME).exists()
        if file_format == "parquet":
            table = pq.read_table(path)
            assert table.num_rows == 0
            assert table.schema.names == ["id", "name", "score", "active", "tags", "meta", "extra"]
        elif file_format == "csv":
            assert decompressed(raw, compression) == b"id,name,score,active,tags,meta,extra\n"
        else:
            assert decompressed(raw, compression) == b""
        if compression == "gzip" and file_format != "parquet":
            assert raw[:2] == b"\x1f\x8b"


class TestDeterminism:
    @pytest.mark.parametrize(("file_format", "compression", "name"), COMBOS, ids=COMBO_IDS)
    def test_identical_records_identical_bytes(
        self, base, monkeypatch, tmp_path, file_format, compression, name
    ):
        first_dir = partition_dir(base, "crashes", day_keys(START, END))
        second_dir = partition_dir(base, "crashes_copy", day_keys(START, END))
        first = write(first_dir, iter(RECORDS), file_format, compression)
        first_bytes = (tmp_path / "dest/crashes/start=2024-03-04/end=2024-03-10" / name).read_bytes()

        # A later wall clock (what gzip would stamp into its header) must not change a byte.
        real_time = time.time
        monkeypatch.setattr(time, "time", lambda: real_time() + 86_400 * 400)
        again = write(first_dir, iter(RECORDS), file_format, compression)
        elsewhere = write(second_dir, iter(RECORDS), file_format, compression)
        monkeypatch.undo()

        assert (tmp_path / "dest/crashes/start=2024-03-04/end=2024-03-10" / name).read_bytes() == first_bytes
        assert (
            tmp_path / "dest/crashes_copy/start=2024-03-04/end=2024-03-10" / name
        ).read_bytes() == first_bytes
        assert first.manifest["sha256"] == again.manifest["sha256"] == elsewhere.manifest["sha256"]
        assert first.manifest["bytes"] == again.manifest["bytes"] == elsewhere.manifest["bytes"]

    @pytest.mark.parametrize("file_format", ["jsonl", "csv"])
    def test_gzip_header_has_no_timestamp_or_name(self, directory, local, file_format):
        write(directory, iter(RECORDS), file_format, "gzip")
        raw = (local / f"data.{file_format}.gz").read_bytes()
        assert raw[:3] == b"\x1f\x8b\x08"
        assert raw[3] == 0  # no FNAME / FCOMMENT / FEXTRA flags
        assert raw[4:8] == b"\x00\x00\x00\x00"  # MTIME = 0

    def test_different_records_different_hash(self, directory):
        first = write(directory, iter(RECORDS))
        second = write(directory, iter(RECORDS[:2]))
        assert first.manifest["sha256"] != second.manifest["sha256"]
        assert second.records == 2


class TestReplace:
    def test_rerun_with_another_format_leaves_one_data_file(self, directory, local):
        sequence = [*FORMAT_COMBOS, ("jsonl", None), ("parquet", "gzip"), ("csv", None)]
        for file_format, compression in sequence:
            result = write(directory, iter(RECORDS), file_format, compression)
            name = data_file_name(file_format, compression)
            assert sorted(p.name for p in local.iterdir()) == [MANIFEST_NAME, name], (
                file_format,
                compression,
            )
            manifest = json.loads((local / MANIFEST_NAME).read_text())
            assert manifest["file"] == name
            assert manifest["format"] == file_format
            assert manifest["sha256"] == hashlib.sha256((local / name).read_bytes()).hexdigest()
            assert result.path.name == name

    def test_rerun_same_format_replaces_content(self, directory, local):
        write(directory, iter(RECORDS))
        result = write(directory, iter([{"id": 99}]))
        assert read_jsonl(local / "data.jsonl", None) == as_rows([{"id": 99}])
        assert result.records == 1
        assert json.loads((local / MANIFEST_NAME).read_text())["records"] == 1

    def test_abandoned_inprogress_files_removed_by_next_success(self, directory, local):
        write(directory, iter(RECORDS), "csv")
        abandoned = [
            plant(local, "_inprogress-0123456789ab.data.jsonl.gz", b"half a gzip stream", age=DAY + 60),
            plant(local, "_inprogress-0123456789ab._manifest.json", b"{", age=DAY + 60),
            plant(local, "_inprogress-ffffffffffff.data.parquet", b"PAR1", age=30 * DAY),
        ]
        plant(local, "README.txt", b"not ours", age=30 * DAY)

        write(directory, iter(RECORDS), "jsonl")

        assert not any(path.exists() for path in abandoned)
        assert sorted(p.name for p in local.iterdir()) == ["README.txt", MANIFEST_NAME, "data.jsonl"]

    def test_a_staging_object_is_abandoned_only_once_over_a_day_old(self, directory, local, clock):
        write(directory, iter(RECORDS), "csv")
        then = int(clock.now) - 3600
        kept = plant(local, "_inprogress-0123456789ab.data.csv", b"id\n1\n")
        gone = plant(local, "_inprogress-ffffffffffff.data.csv", b"id\n2\n")
        os.utime(kept, (then, then))
        os.utime(gone, (then - 1, then - 1))
        # The commit settles once (a live writer's staging object is here), then removes the leftovers
        # exactly a day after the last write of one, a day and a second after the other's.
        clock.now = then + DAY - partitions.COMMIT_SETTLE_SECONDS

        write(directory, iter(RECORDS), "csv")

        assert clock.sleeps == [partitions.COMMIT_SETTLE_SECONDS]
        assert sorted(p.name for p in local.iterdir()) == [kept.name, MANIFEST_NAME, "data.csv"]

    def test_an_object_of_unknown_age_is_never_abandoned(self, directory, local, clock, monkeypatch):
        write(directory, iter(RECORDS), "csv")
        live = plant(local, "_inprogress-0123456789ab.data.csv", b"id\n1\n", age=30 * DAY)

        def unknown(self, path):
            raise NotImplementedError("this filesystem keeps no modification times")

        monkeypatch.setattr(type(directory.fs), "modified", unknown)
        write(directory, iter(RECORDS), "csv")

        assert live.read_bytes() == b"id\n1\n"
        assert clock.sleeps == [partitions.COMMIT_SETTLE_SECONDS]  # a writer that may be committing too
        assert_committed(local, None)

    @pytest.mark.parametrize("zone", ["America/Los_Angeles", "Asia/Kolkata"])
    def test_naive_modification_times_are_utc(self, directory, local, monkeypatch, zone):
        """Some filesystems give naive UTC times: read in the machine's zone, ages would be hours off."""
        write(directory, iter(RECORDS), "csv")
        abandoned = plant(local, "_inprogress-0123456789ab.data.csv", b"id\n1\n", age=DAY + 2 * 3600)
        live = plant(local, "_inprogress-ffffffffffff.data.csv", b"id\n2\n", age=DAY - 2 * 3600)
        real = type(directory.fs).modified

        def naive(fs, path):
            return real(fs, path).replace(tzinfo=None)

        monkeypatch.setattr(type(directory.fs), "modified", naive)
        monkeypatch.setenv("TZ", zone)
        time.tzset()
        try:
            write(directory, iter(RECORDS), "csv")
        finally:
            monkeypatch.undo()
            time.tzset()

        assert not abandoned.exists()
        assert live.exists()

    def test_abandoned_inprogress_in_a_fresh_partition(self, directory, local):
        local.mkdir(parents=True)
        plant(local, "_inprogress-0123456789ab.data.csv", b"id\n1\n", age=DAY + 1)
        write(directory, iter(RECORDS), "csv")
        assert sorted(p.name for p in local.iterdir()) == [MANIFEST_NAME, "data.csv"]


DAY = partitions.STAGING_ABANDONED_SECONDS


def plant(folder: Path, name: str, data: bytes, age: float = 0.0) -> Path:
    """A file another writer left in ``folder``, last written ``age`` seconds ago."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    when = time.time() - age
    os.utime(path, (when, when))
    return path


def lease_bytes(owner: str, until: float) -> bytes:
    return json.dumps({"owner": owner, "until": until}).encode()


def assert_committed(folder: Path, records: list[dict] | None = None) -> dict:
    """The partition has one data file and a manifest that matches it; returns the manifest."""
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    data_files = sorted(p.name for p in folder.iterdir() if p.name.startswith("data."))
    assert data_files == [manifest["file"]]
    raw = (folder / manifest["file"]).read_bytes()
    assert manifest["sha256"] == hashlib.sha256(raw).hexdigest()
    assert manifest["bytes"] == len(raw)
    if manifest["format"] == "jsonl" and manifest["compression"] is None:
        assert manifest["records"] == len(raw.splitlines())
        if records is not None:
            assert [json.loads(line) for line in raw.splitlines()] == as_rows(records)
    return manifest


OTHER = [{"id": 7, "name": "the other writer's"}]


class TestConcurrentWriters:
    """Several writers of one window: each leaves the others' staging alone and commits in turn."""

    def test_another_writers_live_staging_objects_are_kept(self, directory, local):
        write(directory, iter(RECORDS), "csv")
        live = [
            plant(local, "_inprogress-0123456789ab.data.jsonl", b'{"id": 1}\n'),  # streaming right now
            plant(local, "_inprogress-0123456789ab._manifest.json", b"{}", age=DAY - 60),
            plant(local, "_inprogress-ffffffffffff.data.csv", b"", age=3600),  # S3: visible when complete
        ]
        before = {path.name: path.read_bytes() for path in live}

        write(directory, iter(RECORDS), "jsonl")

        assert {path.name: path.read_bytes() for path in live} == before
        assert_committed(local, RECORDS)

    def test_waits_while_another_writer_commits_then_commits_its_own(self, directory, local, clock):
        write(directory, iter(OTHER), "csv")
        staged = stage_partition(directory, iter(RECORDS), columns=COLUMNS)
        plant(local, partitions.COMMIT_LEASE_NAME, lease_bytes("other-writer", clock.now + 60))
        committed_before = {
            name: data for name, data in snapshot(local).items() if name != staged.staging.name
        }
        seen = []

        def other_still_committing(clock):
            seen.append(clock.now)
            assert {n: d for n, d in snapshot(local).items() if n != staged.staging.name} == committed_before

        def other_done(clock):
            (local / partitions.COMMIT_LEASE_NAME).unlink()

        clock.on_sleep = [other_still_committing, other_still_committing, other_done]
        result = staged.commit({"resource": "crashes"})

        assert len(seen) == 2  # it waited, touching nothing, while the other writer held the lease
        assert result.records == len(RECORDS)
        assert_committed(local, RECORDS)
        assert sorted(p.name for p in local.iterdir()) == [MANIFEST_NAME, "data.jsonl"]  # lease released

    def test_lease_taken_during_settle_makes_it_wait(self, directory, local, clock):
        staged = stage_partition(directory, iter(RECORDS), columns=COLUMNS)
        plant(local, "_inprogress-0123456789ab.data.csv", b"id\n7\n")  # the other writer's staged data
        lease = local / partitions.COMMIT_LEASE_NAME
        moves = []
        real_move = type(directory).move

        def spy(self, target, *args, **kwargs):
            moves.append((target.name, lease.read_bytes() if lease.exists() else None))
            return real_move(self, target, *args, **kwargs)

        def another_writer_overwrites_the_lease(clock):
            lease.write_bytes(lease_bytes("other-writer", clock.now + 60))

        def other_done(clock):
            assert not (local / MANIFEST_NAME).exists()  # nothing done meanwhile
            assert moves == []
            lease.unlink()

        clock.on_sleep = [another_writer_overwrites_the_lease, lambda clock: None, other_done]
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(type(directory), "move", spy)
            staged.commit()

        assert [target for target, _ in moves] == ["data.jsonl", MANIFEST_NAME]
        assert all(json.loads(held)["owner"] != "other-writer" for _, held in moves)  # its own lease
        assert_committed(local, RECORDS)
        assert not lease.exists()

    @pytest.mark.parametrize(
        ("step", "left"),
        [
            ("data move", [partitions.COMMIT_LEASE_NAME, "data.csv", "data.jsonl"]),  # stops before clean-up
            ("manifest", [partitions.COMMIT_LEASE_NAME, "data.csv"]),
        ],
    )
    def test_lease_lost_mid_commit_is_a_concurrent_writer_error(self, directory, local, step, left):
        write(directory, iter(OTHER))
        staged = stage_partition(directory, iter(RECORDS), columns=COLUMNS, file_format="csv")
        lease = local / partitions.COMMIT_LEASE_NAME
        cls = type(directory)
        real_move, real_write_bytes = cls.move, cls.write_bytes

        def take_over() -> None:
            lease.write_bytes(lease_bytes("other-writer", time.time() + 600))

        def move(self, target, *args, **kwargs):
            moved = real_move(self, target, *args, **kwargs)
            if step == "data move" and target.name.startswith("data."):
                take_over()
            return moved

        def write_bytes(self, data):
            if step == "manifest" and self.name.endswith(MANIFEST_NAME):
                take_over()
            return real_write_bytes(self, data)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(cls, "move", move)
            patch.setattr(cls, "write_bytes", write_bytes)
            with pytest.raises(ZohoError, match="concurrent writer was detected") as error:
                staged.commit()

        assert type(error.value) is ZohoError
        assert str(error.value) == (
            f"A concurrent writer was detected for partition file://{local}: another writer took the commit "
            "lease over while this one was committing. This writer's data was not committed; the partition "
            "is left to the other writer. Avoid running two tasks that write the same window at once "
            "(overlapping lookback_days, a backfill beside the scheduled run), or retry this task."
        )
        # No manifest vouches for this writer's data, no staging object is left, and the other writer's
        # lease is left to it.
        assert sorted(p.name for p in local.iterdir()) == left
        assert json.loads(lease.read_bytes())["owner"] == "other-writer"

    @pytest.mark.parametrize(
        ("elapsed", "holds"),
        [
            (partitions.COMMIT_LEASE_SECONDS - partitions.COMMIT_SETTLE_SECONDS, True),
            (partitions.COMMIT_LEASE_SECONDS, False),
        ],
        ids=["before-its-end", "at-its-end"],
    )
    def test_a_lease_holds_until_its_end_and_not_at_it(self, directory, local, clock, elapsed, holds):
        write(directory, iter(OTHER), "csv")
        staged = stage_partition(directory, iter(RECORDS), columns=COLUMNS)
        real_move = type(directory).move

        def slow_move(self, target, *args, **kwargs):  # the data move stalls for `elapsed` seconds
            moved = real_move(self, target, *args, **kwargs)
            if target.name == "data.jsonl":
                clock.now += elapsed
            return moved

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(type(directory), "move", slow_move)
            if holds:
                staged.commit()
            else:
                with pytest.raises(ZohoError, match="concurrent writer was detected"):
                    staged.commit()

        if holds:
            assert_committed(local, RECORDS)
            assert sorted(p.name for p in local.iterdir()) == [MANIFEST_NAME, "data.jsonl"]
        else:  # its lease lapsed: no manifest vouches for its data, and the lapsed lease is gone
            assert sorted(p.name for p in local.iterdir()) == ["data.csv", "data.jsonl"]

    def test_staging_object_removed_by_another_writer(self, directory, local):
        write(directory, iter(OTHER))
        staged = stage_partition(directory, iter(RECORDS), columns=COLUMNS, file_format="csv")
        staged.staging.unlink()  # what a writer that took it for abandoned does

        with pytest.raises(ZohoError) as error:
            staged.commit()

        assert str(error.value).startswith(
            f"A concurrent writer was detected for partition file://{local}: this writer's staging object "
            "was removed by another writer. This writer's data was not committed;"
        )
        names = sorted(p.name for p in local.iterdir())
        assert MANIFEST_NAME not in names
        assert partitions.COMMIT_LEASE_NAME not in names
        assert not [name for name in names if name.startswith(partitions.INPROGRESS_PREFIX)]

    def test_gives_up_after_the_longest_wait(self, directory, local, clock):
        write(directory, iter(OTHER))
        staged = stage_partition(directory, iter(RECORDS), columns=COLUMNS, file_format="csv")
        lease = local / partitions.COMMIT_LEASE_NAME
        before = {n: d for n, d in snapshot(local).items() if n != staged.staging.name}
        started = clock.now

        def renew(clock):  # a writer that keeps renewing its lease, forever
            lease.write_bytes(lease_bytes("busy-writer", clock.now + 60))
            clock.on_sleep.append(renew)

        renew(clock)
        with pytest.raises(ZohoError, match="concurrent writer was detected") as error:
            staged.commit()

        assert "busy-writer" in str(error.value)
        assert clock.now - started == partitions.COMMIT_WAIT_SECONDS  # the fake clock: exactly the longest
        after = snapshot(local)
        assert {n: d for n, d in after.items() if n != partitions.COMMIT_LEASE_NAME} == before  # untouched

    def test_interrupted_while_settling_releases_its_lease(self, directory, local, clock):
        write(directory, iter(OTHER))
        before = snapshot(local)
        staged = stage_partition(directory, iter(RECORDS), columns=COLUMNS, file_format="csv")
        other = plant(local, "_inprogress-0123456789ab.data.csv", b"id\n7\n")  # contention: a settle

        def interrupted(clock):
            assert (local / partitions.COMMIT_LEASE_NAME).exists()
            raise KeyboardInterrupt

        clock.on_sleep = [interrupted]
        with pytest.raises(KeyboardInterrupt):
            staged.commit()
        assert clock.sleeps == [partitions.COMMIT_SETTLE_SECONDS]
        other.unlink()
        assert snapshot(local) == before  # no lease left to hold the next writer up, no staging object

    def test_a_crashed_writers_lapsed_lease_is_taken_over_at_once(self, directory, local, clock):
        plant(local, partitions.COMMIT_LEASE_NAME, lease_bytes("crashed-writer", clock.now - 1))
        write(directory, iter(RECORDS))
        assert clock.sleeps == []  # no waiting (and no settle: nobody else has staged data here)
        assert_committed(local, RECORDS)

    def test_a_lease_with_an_absurd_until_holds_for_one_period_at_most(self, directory, local, clock):
        plant(local, partitions.COMMIT_LEASE_NAME, lease_bytes("ghost", 1e18))
        started = clock.now
        write(directory, iter(RECORDS))
        waited = clock.now - started
        assert partitions.COMMIT_LEASE_SECONDS <= waited
        assert waited <= partitions.COMMIT_LEASE_SECONDS + 2 * partitions.COMMIT_SETTLE_SECONDS
        assert_committed(local, RECORDS)

    @pytest.mark.parametrize(
        ("others", "settles"),
        [
            ([], False),
            (
                [("_inprogress-0123456789ab.data.csv", 0)],
                True,
            ),  # another writer, streaming or about to commit
            ([("_inprogress-0123456789ab._manifest.json", 60)], True),  # another writer, mid-commit
            ([("_inprogress-0123456789ab.data.csv", DAY + 1)], False),  # abandoned long ago
        ],
        ids=["alone", "other-staged-data", "other-staged-manifest", "abandoned-staging"],
    )
    def test_settles_between_writing_and_reading_its_lease_only_under_contention(
        self, directory, local, clock, others, settles
    ):
        staged = stage_partition(directory, iter(RECORDS), columns=COLUMNS)
        for name, age in others:
            plant(local, name, b"", age=age)
        seen = []

        def look(clock):
            seen.append(json.loads((local / partitions.COMMIT_LEASE_NAME).read_bytes()))

        clock.on_sleep = [look]
        written_at = clock.now
        staged.commit()

        assert clock.sleeps == ([partitions.COMMIT_SETTLE_SECONDS] if settles else [])
        if settles:
            (lease,) = seen
            assert set(lease) == {"owner", "until"}
            assert lease["until"] == written_at + partitions.COMMIT_LEASE_SECONDS
        assert_committed(local, RECORDS)

    def test_a_writer_stalled_past_its_lease_yields_to_the_one_that_took_over(self, directory, local, clock):
        mine = stage_partition(directory, iter(RECORDS), columns=COLUMNS)
        theirs = stage_partition(directory, iter(OTHER), columns=COLUMNS, file_format="csv")
        outcome = {}

        def stalled_in_settle(clock):
            # While this writer sleeps (a long pause), the other one waits out its lease and commits.
            outcome["theirs"] = theirs.commit()

        clock.on_sleep = [stalled_in_settle]
        mine.commit()

        assert outcome["theirs"].records == len(OTHER)
        assert_committed(local, RECORDS)  # then this one went again, committing last
        assert sorted(p.name for p in local.iterdir()) == [MANIFEST_NAME, "data.jsonl"]

    def test_a_writer_overtaken_mid_commit_fails_and_the_other_commit_stands(self, directory, local):
        mine = stage_partition(directory, iter(RECORDS), columns=COLUMNS)
        theirs = stage_partition(directory, iter(OTHER), columns=COLUMNS, file_format="csv")
        real_move = type(directory).move
        overtaken = []

        def move(self, target, *args, **kwargs):
            moved = real_move(self, target, *args, **kwargs)
            if target.name == "data.jsonl" and not overtaken:
                overtaken.append(theirs.commit())  # waits out this writer's lease, then commits
            return moved

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(type(directory), "move", move)
            with pytest.raises(ZohoError, match="concurrent writer was detected"):
                mine.commit()

        manifest = assert_committed(local)
        assert manifest["file"] == "data.csv"
        assert manifest["records"] == len(OTHER)
        assert sorted(p.name for p in local.iterdir()) == [MANIFEST_NAME, "data.csv"]

    @settings(max_examples=60)
    @given(
        content=st.one_of(
            st.binary(max_size=64),
            st.recursive(
                st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
                lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
                max_leaves=6,
            ).map(lambda value: json.dumps(value).encode()),
            st.fixed_dictionaries(
                {"owner": st.text(max_size=6), "until": st.floats(allow_nan=False) | st.integers()}
            ).map(lambda value: json.dumps(value).encode()),
        )
    )
    def test_any_lease_content_ends_in_a_consistent_commit(self, tmp_path_factory, content):
        folder = tmp_path_factory.mktemp("lease")
        fake = FakeClock()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(partitions, "_clock", fake.time)
            patch.setattr(partitions, "_sleep", fake.sleep)
            plant(folder, partitions.COMMIT_LEASE_NAME, content)
            write(ObjectStoragePath(f"file://{folder}"), iter(RECORDS))
        assert_committed(folder, RECORDS)
        assert sorted(p.name for p in folder.iterdir()) == [MANIFEST_NAME, "data.jsonl"]
        assert fake.now - time.time() <= partitions.COMMIT_LEASE_SECONDS + 10  # honoured one period at most


class TestAtomicity:
    @pytest.mark.parametrize("failed_after", [0, 5, 2500], ids=["at-once", "first-batch", "after-batches"])
    @pytest.mark.parametrize(("file_format", "compression"), FORMAT_COMBOS, ids=COMBO_IDS)
    def test_failure_mid_stream_keeps_previous_partition(
        self, directory, local, file_format, compression, failed_after
    ):
        write(directory, iter(RECORDS), "jsonl", "gzip")
        before = snapshot(local)
        assert set(before) == {MANIFEST_NAME, "data.jsonl.gz"}

        with pytest.raises(Boom, match=f"after {failed_after} records"):
            write(directory, failing(failed_after), file_format, compression)

        assert snapshot(local) == before  # same names, same bytes: no _inprogress-* left either

    @pytest.mark.parametrize(("file_format", "compression"), FORMAT_COMBOS, ids=COMBO_IDS)
    def test_failure_same_format_keeps_previous_partition(self, directory, local, file_format, compression):
        write(directory, iter(RECORDS), file_format, compression)
        before = snapshot(local)
        with pytest.raises(Boom):
            write(directory, failing(3), file_format, compression)
        assert snapshot(local) == before

    @pytest.mark.parametrize(("file_format", "compression"), FORMAT_COMBOS, ids=COMBO_IDS)
    def test_first_run_failing_leaves_nothing(self, directory, local, file_format, compression):
        with pytest.raises(Boom):
            write(directory, failing(4), file_format, compression)
        assert snapshot(local) == {}

    def test_staged_data_leaves_the_partition_unchanged_until_commit(self, directory, local):
        write(directory, iter(RECORDS))
        before = snapshot(local)
        staged = stage_partition(directory, iter([{"id": 1}]), columns=COLUMNS, file_format="csv")
        staging = {name for name in snapshot(local) if name not in before}
        assert staging == {staged.staging.name}
        assert re.fullmatch(r"_inprogress-[0-9a-f]{12}\.data\.csv", staged.staging.name)
        assert {name: data for name, data in snapshot(local).items() if name in before} == before
        staged.discard()
        assert snapshot(local) == before

    def test_unserializable_manifest_keeps_previous_partition(self, directory, local):
        write(directory, iter(RECORDS))
        before = snapshot(local)
        staged = stage_partition(directory, iter([{"id": 1}]), columns=COLUMNS, file_format="csv")
        with pytest.raises(TypeError):
            staged.commit({"start": object()})
        assert snapshot(local) == before

    @pytest.mark.parametrize(("file_format", "compression"), FORMAT_COMBOS, ids=COMBO_IDS)
    def test_staged_then_moved_with_manifest_last(
        self, directory, local, monkeypatch, file_format, compression
    ):
        write(
            directory, iter(RECORDS)
        )  # an older partition, whose manifest must go before the new data lands
        moves: list[tuple[str, str, list[str]]] = []
        real_move = type(directory).move

        def spy(self, target, *args, **kwargs):
            moves.append((self.name, target.name, sorted(p.name for p in local.iterdir())))
            return real_move(self, target, *args, **kwargs)

        monkeypatch.setattr(type(directory), "move", spy)
        write(directory, iter(RECORDS), file_format, compression)

        name = data_file_name(file_format, compression)
        assert len(moves) == 2
        (data_from, data_to, seen_at_data_move), (manifest_from, manifest_to, _) = moves
        assert re.fullmatch(rf"_inprogress-[0-9a-f]+\.{re.escape(name)}", data_from)
        assert data_to == name
        assert MANIFEST_NAME not in seen_at_data_move  # no manifest may vouch for data being swapped
        assert re.fullmatch(rf"_inprogress-[0-9a-f]+\.{re.escape(MANIFEST_NAME)}", manifest_from)
        assert manifest_to == MANIFEST_NAME

    def test_failure_while_moving_data_leaves_partition_uncommitted(self, directory, local, monkeypatch):
        write(directory, iter(RECORDS), "csv")

        def broken_move(self, target, *args, **kwargs):
            raise OSError("storage went away")

        monkeypatch.setattr(type(directory), "move", broken_move)
        with pytest.raises(OSError, match="storage went away"):
            write(directory, iter(RECORDS), "jsonl")

        # Old data may stay, but without a manifest nothing claims the partition is complete.
        assert sorted(p.name for p in local.iterdir()) == ["data.csv"]

    def test_interrupt_cleans_up_too(self, directory, local):
        def interrupted():
            yield {"id": 1}
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            write(directory, interrupted())
        assert snapshot(local) == {}


class TestValidateFormat:
    @pytest.mark.parametrize(("file_format", "compression"), FORMAT_COMBOS, ids=COMBO_IDS)
    def test_valid(self, file_format, compression):
        validate_format(file_format, compression)

    @pytest.mark.parametrize("file_format", ["xml", "JSONL", "json", "", None], ids=str)
    def test_unknown_format(self, file_format):
        with pytest.raises(ZohoConfigError) as error:
            validate_format(file_format, None)
        message = str(error.value)
        assert "file_format" in message
        assert "jsonl, csv, parquet" in message
        assert repr(file_format) in message

    @pytest.mark.parametrize("compression", ["gz", "GZIP", "snappy", "none", "", "zstd"], ids=str)
    def test_unknown_compression(self, compression):
        with pytest.raises(ZohoConfigError) as error:
            validate_format("jsonl", compression)
        message = str(error.value)
        assert "compression" in message
        assert "None or 'gzip'" in message
        assert repr(compression) in message

    @pytest.fixture
    def no_pyarrow(self, monkeypatch):
        real = importlib.util.find_spec

        def find_spec(name, *args, **kwargs):
            return None if name == "pyarrow" else real(name, *args, **kwargs)

        monkeypatch.setattr(importlib.util, "find_spec", find_spec)

    @pytest.mark.parametrize("compression", [None, "gzip"], ids=["snappy", "gzip"])
    def test_parquet_without_pyarrow(self, no_pyarrow, compression):
        with pytest.raises(ZohoConfigError) as error:
            validate_format("parquet", compression)
        assert str(error.value) == (
            "file_format='parquet' needs pyarrow, which is not installed: pip install "
            "'airflow-provider-zoho[parquet]' (or use file_format='jsonl' or 'csv')."
        )

    @pytest.mark.parametrize("file_format", ["jsonl", "csv"])
    def test_other_formats_do_not_need_pyarrow(self, no_pyarrow, file_format):
        validate_format(file_format, "gzip")

    def test_stage_partition_validates_before_touching_storage(self, directory, local, no_pyarrow):
        consumed = []

        def records():
            consumed.append(1)
            yield {"id": 1}

        for file_format, compression in [("parquet", None), ("xml", None), ("jsonl", "bz2")]:
            with pytest.raises(ZohoConfigError):
                write(directory, records(), file_format, compression)
        assert not local.exists()
        assert consumed == []


class TestHashingWriter:
    class Target(io.BytesIO):
        """A stream that counts its flushes (a closed one refuses them, as every file does)."""

        flushes = 0

        def flush(self) -> None:
            super().flush()
            self.flushes += 1

    def test_flush_reaches_the_open_target(self):
        target = self.Target()
        hashed = partitions._HashingWriter(target)
        hashed.write(b"abc")
        hashed.flush()
        assert target.flushes == 1
        assert (target.getvalue(), hashed.size, hashed.sha256.hexdigest()) == (
            b"abc",
            3,
            hashlib.sha256(b"abc").hexdigest(),
        )

    def test_flush_after_the_target_was_closed_does_nothing(self):
        target = self.Target()
        hashed = partitions._HashingWriter(target)
        hashed.write(b"abc")
        target.close()
        hashed.flush()
        hashed.close()  # closing flushes too: no "I/O operation on closed file"
        assert target.flushes == 0


class TestMemory:
    def test_streams_with_flat_memory(self, directory, local):
        total = 200_000
        bound = 2 * 1024 * 1024

        def records():
            rng = random.Random(0)  # random tokens: even the gzip output is bigger than the bound
            for i in range(total):
                yield {"id": i, "token": rng.randbytes(8).hex()}

        columns = (Column("id", "int64", "an id"), Column("token", "string", "a token"))
        tracemalloc.start()
        try:
            result = write(directory, records(), "jsonl", "gzip", columns=columns)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

        size = (local / "data.jsonl.gz").stat().st_size
        assert result.records == total
        assert result.manifest["bytes"] == size
        # Holding the records, the JSON (~8 MB) or even the compressed output (~2.7 MB) would exceed it.
        assert size > bound
        assert peak < bound, f"peak traced memory {peak / 1e6:.1f} MB"
        with gzip.open(local / "data.jsonl.gz", "rb") as data:
            assert sum(1 for _ in data) == total
