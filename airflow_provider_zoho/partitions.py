"""
Writing one extraction partition atomically to object storage.

Layout, one partition per (resource, window)::

    <destination>/<resource>/start=<YYYY-MM-DD>/end=<YYYY-MM-DD>/data.<jsonl|csv|parquet>[.gz]
    <destination>/<resource>/start=<YYYY-MM-DD>/end=<YYYY-MM-DD>/_manifest.json

Records stream to a temporary ``_inprogress-*`` object in the partition directory (readers skip names that
start with ``_``, the Hive convention) while the bytes are counted and hashed. Only after the last record
does the partition change: the old manifest goes, the data file is moved over the final name (an atomic
rename on local disk, a single-object copy on S3), stale files of other formats go, and the manifest, the
commit marker, is written last. A failed or killed run therefore never leaves a partial ``data.*`` or a
manifest at the final path, and identical records give a byte-identical data file (gzip without a
timestamp, JSON with a fixed separator style).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import json
import logging
import tempfile
import uuid
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, cast

from airflow_provider_zoho import __version__
from airflow_provider_zoho.exceptions import ZohoConfigError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from airflow.providers.common.compat.sdk import ObjectStoragePath

log = logging.getLogger(__name__)

FORMATS = ("jsonl", "csv", "parquet")
COMPRESSIONS = (None, "gzip")
MANIFEST_NAME = "_manifest.json"
INPROGRESS_PREFIX = "_inprogress-"
_BATCH_RECORDS = 1000
_PARQUET_ROW_GROUP = 50_000


def validate_format(file_format: Any, compression: Any) -> None:
    """
    Check ``file_format`` / ``compression`` (and that pyarrow is there for parquet) before any request.

    :param file_format: ``jsonl``, ``csv`` or ``parquet``.
    :param compression: ``None`` or ``gzip``.
    """
    if file_format not in FORMATS:
        raise ZohoConfigError(f"file_format must be one of {', '.join(FORMATS)}, got {file_format!r}.")
    if compression not in COMPRESSIONS:
        raise ZohoConfigError(f"compression must be None or 'gzip', got {compression!r}.")
    if file_format == "parquet":
        import importlib.util

        if importlib.util.find_spec("pyarrow") is None:
            raise ZohoConfigError(
                "file_format='parquet' needs pyarrow, which is not installed: "
                "pip install 'airflow-provider-zoho[parquet]' (or use file_format='jsonl' or 'csv')."
            )


def data_file_name(file_format: str, compression: str | None) -> str:
    """``data.jsonl``, ``data.csv.gz``, ``data.parquet``... (parquet compresses inside the file)."""
    suffix = ".gz" if compression == "gzip" and file_format != "parquet" else ""
    return f"data.{file_format}{suffix}"


def partition_dir(base: ObjectStoragePath, resource: str, start: dt.date, end: dt.date) -> ObjectStoragePath:
    """The directory of the partition of ``resource`` for the inclusive window ``start``..``end``."""
    return base / resource / f"start={start.isoformat()}" / f"end={end.isoformat()}"


@dataclass(frozen=True)
class PartitionResult:
    """
    What was written.

    :param path: the data file.
    :param manifest_path: the manifest.
    :param manifest: the manifest's content.
    """

    path: ObjectStoragePath
    manifest_path: ObjectStoragePath
    manifest: dict[str, Any]

    @property
    def records(self) -> int:
        return int(self.manifest["records"])


def write_partition(
    directory: ObjectStoragePath,
    records: Iterable[dict[str, Any]],
    *,
    file_format: str = "jsonl",
    compression: str | None = None,
    manifest: dict[str, Any] | None = None,
    api_calls: Any = None,
) -> PartitionResult:
    """
    Stream ``records`` into the partition at ``directory``, replacing what was there only on success.

    :param directory: the partition directory (see :func:`partition_dir`).
    :param records: the records, consumed once.
    :param file_format: ``jsonl``, ``csv`` or ``parquet``.
    :param compression: ``None`` or ``gzip``.
    :param manifest: extra manifest fields (``resource``, ``start``, ``end``...).
    :param api_calls: a zero-argument callable giving the number of API calls made, read after the last
        record (it goes into the manifest).
    """
    validate_format(file_format, compression)
    directory.mkdir(parents=True, exist_ok=True)
    name = data_file_name(file_format, compression)
    run_id = uuid.uuid4().hex[:12]
    staging = directory / f"{INPROGRESS_PREFIX}{run_id}.{name}"
    try:
        with staging.open("wb") as target:
            hashed = _HashingWriter(target)
            sink = cast("IO[bytes]", hashed)  # a write-only binary stream is all the writers need
            if file_format == "jsonl":
                count = _write_jsonl(records, sink, compression)
            else:
                count = _write_via_spool(records, sink, file_format, compression)
            hashed.flush()
        content = {
            **(manifest or {}),
            "records": count,
            "bytes": hashed.size,
            "sha256": hashed.sha256.hexdigest(),
            "format": file_format,
            "compression": "snappy" if file_format == "parquet" and compression is None else compression,
            "file": name,
            "extracted_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "api_calls": api_calls() if callable(api_calls) else api_calls,
            "provider_version": __version__,
        }
        # Serialized before the partition changes: an unserializable extra field must not cost the old one.
        manifest_bytes = json.dumps(content, indent=2, sort_keys=True).encode() + b"\n"
        final = directory / name
        manifest_path = directory / MANIFEST_NAME
        _remove(manifest_path)  # the partition is uncommitted from here until the new manifest lands
        staging.move(final)
        for stale in _siblings(directory):
            if stale.name != name and (
                stale.name.startswith("data.") or stale.name.startswith(INPROGRESS_PREFIX)
            ):
                _remove(stale)
        manifest_staging = directory / f"{INPROGRESS_PREFIX}{run_id}.{MANIFEST_NAME}"
        manifest_staging.write_bytes(manifest_bytes)
        manifest_staging.move(manifest_path)
    except BaseException:
        _remove(staging)
        raise
    return PartitionResult(path=final, manifest_path=manifest_path, manifest=content)


# -- writers ----------------------------------------------------------------------------------------------


class _HashingWriter(io.RawIOBase):
    """A write-only stream that counts and hashes the bytes it passes on."""

    def __init__(self, target: IO[bytes]) -> None:
        super().__init__()
        self._target = target
        self.sha256 = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        view = memoryview(data)
        self.sha256.update(view)
        self.size += view.nbytes
        self._target.write(view)
        return view.nbytes

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        if not self._target.closed:
            self._target.flush()

    def close(self) -> None:  # the caller owns and closes the target
        super().close()


def _compressed(sink: IO[bytes], compression: str | None) -> IO[bytes]:
    if compression == "gzip":
        # mtime=0 and no file name: the same records give the same bytes on every run.
        return gzip.GzipFile(filename="", fileobj=sink, mode="wb", compresslevel=6, mtime=0)  # type: ignore[return-value]
    return sink


class _JsonLines:
    """
    Records as JSON Lines, batched: compact, UTF-8 as is, values JSON lacks (dates...) as ``str``.

    msgspec (an Airflow dependency) encodes about six times faster than the ``json`` module, which
    matters at a million records.

    :param sink: where the batches go.
    """

    def __init__(self, sink: IO[bytes]) -> None:
        import msgspec

        self._encode_into = msgspec.json.Encoder(enc_hook=str).encode_into
        self._sink = sink
        self._buffer = bytearray()
        self._pending = 0
        self.count = 0

    def write(self, record: dict[str, Any]) -> None:
        self._encode_into(record, self._buffer, -1)
        self._buffer += b"\n"
        self._pending += 1
        if self._pending >= _BATCH_RECORDS:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._sink.write(self._buffer)
            self.count += self._pending
            self._buffer.clear()
            self._pending = 0


def _write_jsonl(records: Iterable[dict[str, Any]], sink: IO[bytes], compression: str | None) -> int:
    out = _compressed(sink, compression)
    lines = _JsonLines(out)
    for record in records:
        lines.write(record)
    lines.flush()
    if out is not sink:
        out.close()
    return lines.count


class _Spool:
    """Records parked on local disk as JSON lines, with the columns and value types seen."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile(mode="w+b")
        self.columns: dict[str, set[type]] = {}
        self.count = 0

    def fill(self, records: Iterable[dict[str, Any]]) -> None:
        lines = _JsonLines(cast("IO[bytes]", self.file))
        columns = self.columns
        for record in records:
            for key, value in record.items():
                types = columns.get(key)
                if types is None:
                    types = columns[key] = set()
                types.add(type(value))
            lines.write(record)
        lines.flush()
        self.count = lines.count
        self.file.seek(0)

    def rows(self):
        import msgspec

        decode = msgspec.json.Decoder().decode
        for line in self.file:
            yield decode(line)


def _write_via_spool(
    records: Iterable[dict[str, Any]], sink: IO[bytes], file_format: str, compression: str | None
) -> int:
    spool = _Spool()
    try:
        spool.fill(records)
        if file_format == "csv":
            _write_csv(spool, sink, compression)
        else:
            _write_parquet(spool, sink, compression)
        return spool.count
    finally:
        spool.file.close()


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return value


def _write_csv(spool: _Spool, sink: IO[bytes], compression: str | None) -> None:
    out = _compressed(sink, compression)
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\n")
    columns = list(spool.columns)
    if columns:  # no records, no columns: an empty file, not a lone blank header line
        writer.writerow(columns)
    for row in spool.rows():
        writer.writerow([_csv_value(row.get(column)) for column in columns])
    text.flush()
    text.detach()
    if out is not sink:
        out.close()


def _parquet_type(types: set[type]):
    import pyarrow as pa

    present = types - {type(None)}
    if present == {bool}:
        return pa.bool_()
    if present and present <= {int}:
        return pa.int64()
    if present and present <= {int, float}:
        return pa.float64()
    return pa.string()


def _parquet_value(value: Any, is_text: bool) -> Any:
    if value is None or not is_text or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _write_parquet(spool: _Spool, sink: IO[bytes], compression: str | None) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(name, _parquet_type(types)) for name, types in spool.columns.items()])
    text_columns = {field.name for field in schema if pa.types.is_string(field.type)}
    with pq.ParquetWriter(sink, schema, compression=compression or "snappy") as writer:
        batch: list[dict[str, Any]] = []

        def flush() -> None:
            columns = {
                name: [_parquet_value(row.get(name), name in text_columns) for row in batch]
                for name in schema.names
            }
            writer.write_table(pa.table(columns, schema=schema))
            batch.clear()

        for row in spool.rows():
            batch.append(row)
            if len(batch) >= _PARQUET_ROW_GROUP:
                flush()
        if batch or spool.count == 0:
            flush()


# -- storage helpers ---------------------------------------------------------------------------------------


def _siblings(directory: ObjectStoragePath) -> list[ObjectStoragePath]:
    try:
        return list(directory.iterdir())
    except FileNotFoundError:
        return []


def _remove(path: ObjectStoragePath) -> None:
    try:
        if path.exists():
            path.unlink()
    except FileNotFoundError:
        pass
