"""
Writing one extraction partition atomically to object storage.

Layout, one partition per dataset and window (:func:`partition_dir`)::

    <destination>/<folder>/[<name>=<value>/...]start=<start>/end=<end>/data.<jsonl|csv|parquet>[.gz]
    <destination>/<folder>/[<name>=<value>/...]start=<start>/end=<end>/_manifest.json

Writing is two steps. :func:`stage_partition` streams the records to a uniquely named ``_inprogress-*``
object in the partition directory (readers skip names that start with ``_``, the Hive convention) while the
bytes are counted and hashed. :meth:`StagedPartition.commit` then changes the partition: the old manifest
goes, the data file is moved over the final name (an atomic rename on local disk, a copy and a delete on
S3), stale files of other formats go, and the manifest, the commit marker, is written last. A failed or
killed run therefore never leaves a partial ``data.*`` or a manifest at the final path, and identical
records give a byte-identical data file (gzip without a timestamp, JSON with a fixed separator style).

Several writers may target one window at once (overlapping runs with a lookback, a backfill beside the
daily run, a stuck attempt beside its retry). Streaming needs no coordination, since every writer has its
own staging object, and nobody removes another writer's staging object unless it is old enough to be
provably abandoned (:data:`STAGING_ABANDONED_SECONDS`). Committing is done alone, under a commit lease
(:mod:`airflow_provider_zoho.leases`) kept in the partition directory as ``_commit.lease``: a writer waits
while another writer's lease is honoured, writes its own, waits :data:`COMMIT_SETTLE_SECONDS` if another
writer has staged data there too, reads it back and commits only if it is still its own; before each later
step (the data move, the clean-up, the manifest) it checks the lease again. Writers therefore commit one
after the other, the last one's data and manifest stay, and a writer that finds its lease taken over stops
with a :class:`~airflow_provider_zoho.exceptions.ZohoError` saying a concurrent writer was detected.
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
import time
import uuid
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, cast
from urllib.parse import quote

from airflow_provider_zoho import __version__
from airflow_provider_zoho.exceptions import ZohoConfigError, ZohoError
from airflow_provider_zoho.leases import Lease, LeaseWatch, new_owner

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from airflow.providers.common.compat.sdk import ObjectStoragePath

log = logging.getLogger(__name__)

FORMATS = ("jsonl", "csv", "parquet")
COMPRESSIONS = (None, "gzip")
MANIFEST_NAME = "_manifest.json"
INPROGRESS_PREFIX = "_inprogress-"
COMMIT_LEASE_NAME = "_commit.lease"

COMMIT_SETTLE_SECONDS = 0.5
"""Wait between writing the commit lease and reading it back, when another writer has staged data in the
directory. A writer that read "no lease" just before ours landed must have written its own by then: a read
and a write of a 100-byte object, microseconds on local disk and well under 0.2 s on S3. Paid only under
contention (an uncontended commit needs no settle); it is also how often a waiting writer looks again."""

COMMIT_LEASE_SECONDS = 120.0
"""How long a commit lease holds. A commit is a handful of small requests and one server-side copy (S3
copies gigabytes in well under two minutes); it is also the longest a writer that crashed mid-commit holds
up the next writer of the window."""

COMMIT_WAIT_SECONDS = 600.0
"""The longest a writer waits for other writers' commits (a lapsed lease of a crashed writer, then a queue
of live ones) before failing with the concurrent-writer error rather than hanging."""

STAGING_ABANDONED_SECONDS = 86_400.0
"""Age (since the last write) after which another writer's staging object counts as abandoned and may be
removed. A live writer's staging object can stay unchanged for a whole extraction (csv and parquet spool
on local disk and write at the end; S3 shows the object only once complete), so only a day proves it was
abandoned by a killed run; until then it is invisible to readers."""

_BATCH_RECORDS = 1000
_PARQUET_ROW_GROUP = 50_000

# Time sources of the commit protocol (tests replace them to interleave writers deterministically).
_clock = time.time
_sleep = time.sleep


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


def partition_dir(base: ObjectStoragePath, folder: str, keys: Iterable[tuple[str, str]]) -> ObjectStoragePath:
    """
    The directory of one partition: ``<base>/<folder>/<name>=<value>/...``, one Hive-style level per key.

    :param base: the destination.
    :param folder: the dataset's folder (a resource name).
    :param keys: ``(name, value)`` pairs in path order (the dataset identity, then the window's ``start``
        and ``end``). Names and values stay readable: anything but letters, digits and ``-._~`` (and ``+``
        in values, which joins list items) is percent-encoded, as Hive and query engines decode it, so a
        key can never add a level or escape the folder (``Asia/Kolkata`` -> ``Asia%2FKolkata``).
    """
    directory = base / folder
    for name, value in keys:
        directory = directory / f"{quote(name, safe='')}={quote(value, safe='+')}"
    return directory


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


def stage_partition(
    directory: ObjectStoragePath,
    records: Iterable[dict[str, Any]],
    *,
    file_format: str = "jsonl",
    compression: str | None = None,
) -> StagedPartition:
    """
    Stream ``records`` to a staging object in the partition at ``directory``; the partition is unchanged.

    On failure the staging object is removed and the error raised. On success, :meth:`StagedPartition.commit`
    puts the data in place (or :meth:`StagedPartition.discard` drops it).

    :param directory: the partition directory (see :func:`partition_dir`).
    :param records: the records, consumed once.
    :param file_format: ``jsonl``, ``csv`` or ``parquet``.
    :param compression: ``None`` or ``gzip``.
    """
    validate_format(file_format, compression)
    directory.mkdir(parents=True, exist_ok=True)
    name = data_file_name(file_format, compression)
    staging = directory / f"{INPROGRESS_PREFIX}{uuid.uuid4().hex[:12]}.{name}"
    try:
        with staging.open("wb") as target:
            hashed = _HashingWriter(target)
            sink = cast("IO[bytes]", hashed)  # a write-only binary stream is all the writers need
            if file_format == "jsonl":
                count = _write_jsonl(records, sink, compression)
            else:
                count = _write_via_spool(records, sink, file_format, compression)
            hashed.flush()
    except BaseException:
        _remove(staging)
        raise
    return StagedPartition(
        directory=directory,
        staging=staging,
        file=name,
        file_format=file_format,
        compression=compression,
        records=count,
        bytes=hashed.size,
        sha256=hashed.sha256.hexdigest(),
    )


@dataclass(frozen=True)
class StagedPartition:
    """
    A data file streamed to its staging object, not yet part of the partition.

    :param directory: the partition directory.
    :param staging: the staging object (``_inprogress-<id>.<file>``).
    :param file: the data file's final name (``data.jsonl``...).
    :param file_format: ``jsonl``, ``csv`` or ``parquet``.
    :param compression: ``None`` or ``gzip``.
    :param records: how many records it holds.
    :param bytes: its size.
    :param sha256: its SHA-256, hex.
    """

    directory: ObjectStoragePath
    staging: ObjectStoragePath
    file: str
    file_format: str
    compression: str | None
    records: int
    bytes: int
    sha256: str

    def commit(
        self, manifest: Mapping[str, Any] | None = None, *, api_calls: int | None = None
    ) -> PartitionResult:
        """
        Make the staged data the partition, replacing what was there, with its manifest written last.

        Commits of one partition take turns under the commit lease (see the module docstring). On any
        failure the staging object is removed and the previous partition is either intact or left without
        a manifest (uncommitted), never with a manifest that does not match its data.

        :param manifest: extra manifest fields (``resource``, ``start``, ``end``...).
        :param api_calls: the number of API calls that produced the records (goes into the manifest).
        :raises ZohoError: a concurrent writer was detected (its commit outlasted the wait, or it took the
            lease over during this commit); the other writer's commit stands.
        """
        final = self.directory / self.file
        manifest_path = self.directory / MANIFEST_NAME
        manifest_staging = self.directory / f"{self.staging.name.split('.', 1)[0]}.{MANIFEST_NAME}"
        try:
            content = self._manifest(manifest, api_calls)
            # Serialized before the partition changes: an unserializable extra field must not cost the old.
            manifest_bytes = json.dumps(content, indent=2, sort_keys=True).encode() + b"\n"
            lease = _CommitLease(self.directory)
            lease.acquire(contended=self._others_staged)
            try:
                # Before each step that changes the partition (the first one just after acquire()'s
                # read-back), check that the lease is still this commit's: a writer that stalled past its
                # lease stops before undoing the commit that overtook it.
                _remove(manifest_path)  # the partition is uncommitted from here until the new manifest lands
                lease.confirm()
                try:
                    self.staging.move(final)
                except FileNotFoundError:
                    raise lease.conflict(
                        "this writer's staging object was removed by another writer"
                    ) from None
                lease.confirm()
                self._remove_leftovers()
                manifest_staging.write_bytes(manifest_bytes)
                lease.confirm()
                manifest_staging.move(manifest_path)
            finally:
                lease.release()
        except BaseException:
            _remove(self.staging)
            _remove(manifest_staging)
            raise
        return PartitionResult(path=final, manifest_path=manifest_path, manifest=content)

    def discard(self) -> None:
        """Remove the staging object; the partition stays as it was."""
        _remove(self.staging)

    def _manifest(self, extra: Mapping[str, Any] | None, api_calls: int | None) -> dict[str, Any]:
        parquet_default = self.file_format == "parquet" and self.compression is None
        return {
            **(extra or {}),
            "records": self.records,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "format": self.file_format,
            "compression": "snappy" if parquet_default else self.compression,
            "file": self.file,
            "extracted_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "api_calls": api_calls,
            "provider_version": __version__,
        }

    def _others_staged(self) -> bool:
        """Whether another live writer has a staging object here: a writer that may be committing too."""
        own = f"{self.staging.name.split('.', 1)[0]}."
        now = _clock()
        return any(
            path.name.startswith(INPROGRESS_PREFIX)
            and not path.name.startswith(own)
            and not _abandoned(path, now)
            for path in _siblings(self.directory)
        )

    def _remove_leftovers(self) -> None:
        """Data files of other formats, and staging objects abandoned long ago (never a live writer's)."""
        now = _clock()
        for path in _siblings(self.directory):
            name = path.name
            if name.startswith("data.") and name != self.file:
                _remove(path)
            elif name.startswith(INPROGRESS_PREFIX) and _abandoned(path, now):
                _remove(path)


class _CommitLease:
    """
    The commit lease of one partition directory, held by one commit.

    :param directory: the partition directory.
    """

    def __init__(self, directory: ObjectStoragePath) -> None:
        self.directory = directory
        self.path = directory / COMMIT_LEASE_NAME
        self.owner = new_owner()

    def acquire(self, contended: Callable[[], bool]) -> None:
        """
        Wait while another writer's lease is honoured, then take the lease; give up after a while.

        :param contended: whether another writer may be committing at the same time (it has a staging
            object in the directory). If not, no settle delay is needed: a writer whose staging object
            appears later reads the lease after this one wrote it, so it sees it and waits.
        """
        watch = LeaseWatch(COMMIT_LEASE_SECONDS)
        deadline = _clock() + COMMIT_WAIT_SECONDS
        try:
            while True:
                now = _clock()
                current = self._read()
                if current is not None and current.owner != self.owner and watch.honoured(current, now):
                    if now >= deadline:
                        raise self.conflict(
                            f"other writers kept committing it for {COMMIT_WAIT_SECONDS:.0f} s (lease held "
                            f"by {current.owner})"
                        )
                    _sleep(COMMIT_SETTLE_SECONDS)
                    continue
                lease = Lease(self.owner, now + COMMIT_LEASE_SECONDS)
                self.path.write_bytes(json.dumps(lease.to_json()).encode())
                if contended():
                    _sleep(COMMIT_SETTLE_SECONDS)
                if self._mine():
                    return
        except BaseException:  # interrupted, or gave up: a lease written meanwhile must not hold others up
            self.release()
            raise

    def confirm(self) -> None:
        """Raise the concurrent-writer error unless the lease is still this commit's and has not lapsed."""
        if not self._mine():
            raise self.conflict("another writer took the commit lease over while this one was committing")

    def release(self) -> None:
        """Remove the lease if it is still this commit's."""
        current = self._read()
        if current is not None and current.owner == self.owner:
            _remove(self.path)

    def conflict(self, detail: str) -> ZohoError:
        return ZohoError(
            f"A concurrent writer was detected for partition {_uri(self.directory)}: {detail}. This "
            "writer's data was not committed; the partition is left to the other writer. Avoid running "
            "two tasks that write the same window at once (overlapping lookback_days, a backfill beside "
            "the scheduled run), or retry this task."
        )

    def _mine(self) -> bool:
        current = self._read()
        return current is not None and current.owner == self.owner and _clock() < current.until

    def _read(self) -> Lease | None:
        """The lease in storage; anything unreadable is no lease (any writer may have left anything)."""
        try:
            raw = self.path.fs.cat_file(self.path.path)  # a plain GET: no listing cache in between
            return Lease.parse(json.loads(raw))
        except FileNotFoundError:
            return None
        except (ValueError, RecursionError):  # not JSON, or absurdly nested: no lease
            return None


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
    """The objects in ``directory`` as they are now (not from a listing cached in this process)."""
    directory.fs.invalidate_cache(directory.path)
    try:
        return list(directory.iterdir())
    except FileNotFoundError:
        return []


def _abandoned(path: ObjectStoragePath, now: float) -> bool:
    """Whether ``path`` was last written over :data:`STAGING_ABANDONED_SECONDS` ago (never, if unknown)."""
    try:
        modified = path.fs.modified(path.path)
    except (NotImplementedError, OSError):
        return False
    if modified.tzinfo is None:
        modified = modified.replace(tzinfo=dt.timezone.utc)
    return now - modified.timestamp() > STAGING_ABANDONED_SECONDS


def _remove(path: ObjectStoragePath) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _uri(path: ObjectStoragePath) -> str:
    """``path`` for messages: protocol and path, without the connection id or credentials."""
    return f"{path.protocol}://{path.path}" if path.protocol else str(path.path)
