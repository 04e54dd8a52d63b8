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
The data file has the records' declared schema (:mod:`airflow_provider_zoho.tables`), even when there are
none, and the manifest carries its ``schema_version``.

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

import datetime as dt
import hashlib
import io
import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, cast
from urllib.parse import quote

from airflow_provider_zoho import __version__
from airflow_provider_zoho.exceptions import ZohoConfigError, ZohoError
from airflow_provider_zoho.leases import Lease, LeaseWatch, new_owner
from airflow_provider_zoho.schema import schema_version

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from airflow.providers.common.compat.sdk import ObjectStoragePath

    from airflow_provider_zoho.schema import Column

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
removed. A live writer's staging object can stay unchanged for a whole extraction (S3 shows the object only
once complete; Parquet row groups are written 50,000 rows at a time), so only a day proves it was
abandoned by a killed run; until then it is invisible to readers."""

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
    columns: Iterable[Column],
    file_format: str = "jsonl",
    compression: str | None = None,
) -> StagedPartition:
    """
    Stream ``records`` to a staging object in the partition at ``directory``; the partition is unchanged.

    The data file has exactly the declared schema, whatever the records hold: the declared columns, then
    ``extra`` with the fields that are not declared (:mod:`airflow_provider_zoho.tables`). On failure the
    staging object is removed and the error raised. On success, :meth:`StagedPartition.commit` puts the data
    in place (or :meth:`StagedPartition.discard` drops it).

    :param directory: the partition directory (see :func:`partition_dir`).
    :param records: the records, consumed once.
    :param columns: the records' declared columns, in file order.
    :param file_format: ``jsonl``, ``csv`` or ``parquet``.
    :param compression: ``None`` or ``gzip``.
    :raises ValueError: for a schema no file can have (no columns, a name twice, a column named ``extra``).
    :raises ZohoError: for a record that does not fit the declared columns.
    """
    from airflow_provider_zoho.tables import write_table  # msgspec (and pyarrow) when a file is written

    validate_format(file_format, compression)
    columns = tuple(columns)
    version = schema_version(columns)  # checks the schema before storage is touched
    directory.mkdir(parents=True, exist_ok=True)
    name = data_file_name(file_format, compression)
    staging = directory / f"{INPROGRESS_PREFIX}{uuid.uuid4().hex[:12]}.{name}"
    try:
        with staging.open("wb") as target:
            hashed = _HashingWriter(target)
            sink = cast("IO[bytes]", hashed)  # a write-only binary stream is all the writers need
            stats = write_table(
                records,
                columns,
                sink,
                file_format=file_format,
                compression=compression,
                where=_uri(directory),
            )
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
        records=stats.records,
        bytes=hashed.size,
        sha256=hashed.sha256.hexdigest(),
        schema_version=version,
        undeclared=stats.undeclared,
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
    :param schema_version: the fingerprint of its schema (see :func:`.schema.schema_version`).
    :param undeclared: the names of the records' fields that are not declared (kept in ``extra``).
    """

    directory: ObjectStoragePath
    staging: ObjectStoragePath
    file: str
    file_format: str
    compression: str | None
    records: int
    bytes: int
    sha256: str
    schema_version: str
    undeclared: tuple[str, ...] = ()

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
            "schema_version": self.schema_version,
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


# -- hashing ----------------------------------------------------------------------------------------------


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
