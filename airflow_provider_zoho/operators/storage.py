"""
The storage contract every Zoho extraction operator keeps, written once.

A product operator (Apptics, Desk) says what to extract: the dataset's folder, and for each window the
partition's keys and a lazy stream of records (:class:`Extraction`), all checked before any request.
:class:`BaseZohoToStorageOperator` does the rest, the same way for every product: the destination, one
atomically committed partition per window with its manifest (:mod:`airflow_provider_zoho.partitions`),
the XCom summary, the asset event on ``<destination>/<folder>`` and the run's lineage for OpenLineage (the
product says which Zoho datasets were read: :meth:`BaseZohoToStorageOperator.lineage_inputs`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from airflow.providers.common.compat.sdk import Asset, AssetAlias, BaseOperator, ObjectStoragePath

from airflow_provider_zoho.exceptions import ZohoConfigError
from airflow_provider_zoho.partitions import partition_dir, stage_partition, validate_format

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from airflow.providers.common.compat.sdk import Context
    from airflow.providers.openlineage.extractors import OperatorLineage

    from airflow_provider_zoho.partitions import PartitionResult
    from airflow_provider_zoho.schema import Column

#: Asset aliases of extraction targets are named ``zoho:<destination>/<folder>``.
ALIAS_PREFIX = "zoho:"
#: The fields of the asset event's extra besides the identity and the window keys (flat, side by side).
EVENT_FIELDS = ("records", "path", "lookback_start", "lookback_end", "lookback_records")


@dataclass(frozen=True)
class Extraction:
    """
    One partition to write.

    :param window: the window's ``(("start", ...), ("end", ...))`` keys, last in the path.
    :param records: the records, a lazy stream consumed once while the partition is written.
    :param identity: what else decides the rows (``(("platform", "iOS"),)``...), path levels before the
        window; empty for a plain extraction.
    :param columns: the records' declared columns, in order: the data file has exactly these, then
        ``extra`` with the fields that are not declared (see :mod:`airflow_provider_zoho.tables`).
    """

    window: tuple[tuple[str, str], ...]
    records: Iterable[dict[str, Any]] = field(repr=False)
    identity: tuple[tuple[str, str], ...] = ()
    columns: tuple[Column, ...] = ()

    def __post_init__(self) -> None:
        # Every identity name becomes a path level (a column for query engines, which ignore case) and a
        # key of the asset event's extra, beside the window's keys and the event's own fields.
        taken = {field: f"the asset event's {field!r} field" for field in EVENT_FIELDS}
        taken.update((name.casefold(), f"the window's {name!r} level") for name, _ in self.window)
        for name, _ in self.identity:
            clash = taken.get(name.casefold())
            if clash is not None:
                raise ZohoConfigError(
                    f"{name}: a parameter named {name!r} cannot be part of the partition's path: it clashes "
                    f"with {clash}; rename it or leave it out"
                )
            taken[name.casefold()] = f"the parameter {name!r}"

    @property
    def keys(self) -> tuple[tuple[str, str], ...]:
        """The partition's path levels after the dataset folder: the identity, then the window."""
        return (*self.identity, *self.window)


@dataclass(frozen=True)
class Written:
    """
    What a run wrote, kept for its lineage.

    :param columns: the declared columns of the dataset's files.
    :param results: the committed partitions, the main window's first.
    """

    columns: tuple[Column, ...]
    results: tuple[PartitionResult, ...]


class BaseZohoToStorageOperator(BaseOperator):
    """
    Base of the operators that extract a Zoho dataset into object storage, one partition per window.

    Subclasses define :attr:`folder`, :attr:`hook` (counting its calls in ``api_calls``) and
    :meth:`extractions`. Every partition is written atomically (staged, then committed with its
    ``_manifest.json`` last; see :mod:`airflow_provider_zoho.partitions`) in the declared schema of its
    :attr:`Extraction.columns` (:mod:`airflow_provider_zoho.tables`); re-running a window replaces its
    partition. Fields the records have beyond the declared columns are logged once per task. The task
    returns ``{"path", "records", "manifest"}`` (plus ``lookback`` entries, never data), records one
    asset event on ``<destination>/<folder>`` and, when the OpenLineage provider is installed, reports its
    lineage (:meth:`get_openlineage_facets_on_complete`).

    :param destination: base URI: ``file:///data/zoho``, ``s3://bucket/prefix``... (templated).
    :param zoho_conn_id: the ``zoho`` connection (templated).
    :param dest_conn_id: the connection of the destination's filesystem, e.g. an AWS connection for
        ``s3://`` (templated).
    :param file_format: ``jsonl`` (default), ``csv`` or ``parquet`` (needs the ``parquet`` extra).
    :param compression: ``None`` or ``gzip`` (gzip stream for jsonl/csv; parquet's own codec for parquet).
    :param folder_template: the dataset folder as given to the constructor (possibly a template), for the
        outlets declared at parse time.
    """

    template_fields: Sequence[str] = (
        "destination",
        "zoho_conn_id",
        "dest_conn_id",
        "file_format",
        "compression",
    )
    ui_color = "#e8f4fd"
    #: What :meth:`execute` wrote, for :meth:`get_openlineage_facets_on_complete`.
    _written: Written | None = None

    def __init__(
        self,
        *,
        destination: str,
        zoho_conn_id: str = "zoho_default",
        dest_conn_id: str | None = None,
        file_format: str = "jsonl",
        compression: str | None = None,
        folder_template: Any = None,
        **kwargs: Any,
    ) -> None:
        outlets = list(kwargs.pop("outlets", None) or [])
        if not any(_is_extraction_alias(outlet) for outlet in outlets):  # partial() may have declared one
            outlets.extend(_extraction_outlets(destination, folder_template))
        super().__init__(outlets=outlets, **kwargs)
        self.destination = destination
        self.zoho_conn_id = zoho_conn_id
        self.dest_conn_id = dest_conn_id
        self.file_format = file_format
        self.compression = compression

    @classmethod
    def partial(cls, **kwargs: Any):
        """
        Map the operator (e.g. ``.partial(...).expand(resource=[...])``), declaring its assets up front.

        Mapped arguments are unknown when the DAG is parsed, so the outlets go through an ``AssetAlias``
        named after the destination, which each mapped task resolves to ``<destination>/<folder>``.
        """
        if not kwargs.get("outlets"):
            destination = str(kwargs.get("destination") or "<mapped destination>")
            kwargs["outlets"] = [AssetAlias(name=_alias_name(destination, "*"))]
        return super().partial(**kwargs)

    # -- what a product operator says ----------------------------------------------------------------------

    @property
    def folder(self) -> str:
        """The dataset's folder under the destination (after templating)."""
        raise NotImplementedError

    @property
    def hook(self) -> Any:
        """The product hook; its ``api_calls`` counts the calls answered so far."""
        raise NotImplementedError

    def extractions(self, context: Context) -> list[Extraction]:
        """
        The partitions this run writes, the main window first; every argument checked, nothing requested.

        :param context: the task context.
        """
        raise NotImplementedError

    def manifest_fields(self) -> dict[str, Any]:
        """Fields every manifest of this run carries besides its window (``resource``...)."""
        return {}

    def lineage_inputs(self) -> list[tuple[str, str]]:
        """The Zoho datasets a run reads, as OpenLineage ``(namespace, name)`` pairs (no request)."""
        raise NotImplementedError

    # -- the shared part ------------------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        validate_format(self.file_format, self.compression)
        base = destination_path(self.destination, self.dest_conn_id)
        extractions = self.extractions(context)  # all checked before the first request
        undeclared: set[str] = set()  # the undeclared fields logged so far: each once per task
        results = [self._write(base, extraction, undeclared) for extraction in extractions]
        self._written = Written(extractions[0].columns, tuple(results))
        self._record_asset_event(context, extractions, results)
        main, *lookback = (
            {"path": clean_uri(r.path), "records": r.records, "manifest": clean_uri(r.manifest_path)}
            for r in results
        )
        return {**main, "lookback": lookback} if lookback else main

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage:
        """
        The run's lineage, for the OpenLineage listener (called once the task has succeeded).

        Inputs: the Zoho datasets read (:meth:`lineage_inputs`). Output: the dataset
        ``<destination>/<folder>`` (the asset of the run's events), named as OpenLineage names storage
        (:func:`openlineage_name`), with a ``schema`` facet (the declared columns and ``extra``: name, type,
        description) and ``outputStatistics`` (the rows, bytes and data files this run wrote, lookback
        partitions included).
        OpenLineage is imported here only: without its provider, nothing calls this method.

        :param task_instance: the task instance that ran (unused: :meth:`execute` kept what it wrote).
        """
        from airflow.providers.common.compat.openlineage.facet import (
            InputDataset,
            OutputDataset,
            OutputStatisticsOutputDatasetFacet,
            SchemaDatasetFacet,
            SchemaDatasetFacetFields,
        )
        from airflow.providers.openlineage.extractors import OperatorLineage

        from airflow_provider_zoho.schema import file_columns

        inputs = [InputDataset(namespace=namespace, name=name) for namespace, name in self.lineage_inputs()]
        namespace, name = openlineage_name(asset_uri(self.destination, self.folder))
        written = self._written
        if written is None:  # nothing was written: no schema or statistics to report
            return OperatorLineage(inputs=inputs, outputs=[OutputDataset(namespace=namespace, name=name)])
        schema = SchemaDatasetFacet(
            fields=[
                SchemaDatasetFacetFields(name=column.name, type=column.type, description=column.description)
                for column in file_columns(written.columns)
            ]
        )
        statistics = OutputStatisticsOutputDatasetFacet(
            rowCount=sum(result.records for result in written.results),
            size=sum(int(result.manifest["bytes"]) for result in written.results),
            fileCount=len(written.results),
        )
        output = OutputDataset(
            namespace=namespace,
            name=name,
            facets={"schema": schema},
            outputFacets={"outputStatistics": statistics},
        )
        return OperatorLineage(inputs=inputs, outputs=[output])

    def _write(
        self, base: ObjectStoragePath, extraction: Extraction, undeclared: set[str]
    ) -> PartitionResult:
        calls_before = self.hook.api_calls
        staged = stage_partition(
            partition_dir(base, self.folder, extraction.keys),
            extraction.records,
            columns=extraction.columns,
            file_format=self.file_format,
            compression=self.compression,
        )
        new = [name for name in staged.undeclared if name not in undeclared]
        if new:
            undeclared.update(new)
            self.log.warning(
                "Zoho sent fields that the declared columns of %s do not have: %s. They are kept in the "
                "'extra' column (a JSON object) of every partition written.",
                self.folder,
                ", ".join(new),
            )
        result = staged.commit(
            {**self.manifest_fields(), **dict(extraction.window), "identity": dict(extraction.identity)},
            api_calls=self.hook.api_calls - calls_before,  # this partition's calls: its stream has ended
        )
        window = " to ".join(value for _, value in extraction.window)
        self.log.info(
            "Wrote %d records of %s for %s to %s", result.records, self.folder, window, clean_uri(result.path)
        )
        return result

    def _record_asset_event(
        self, context: Context, extractions: list[Extraction], results: list[PartitionResult]
    ) -> None:
        """One event on ``<destination>/<folder>`` per run; its extra describes the partitions written."""
        outlet_events = context.get("outlet_events")
        if outlet_events is None:
            return
        main, *lookback = results
        # Flat values only: Airflow 2 hashes the extra. The fields besides identity and window: EVENT_FIELDS.
        extra: dict[str, Any] = {
            **dict(extractions[0].identity),
            **dict(extractions[0].window),
            "records": main.records,
            "path": clean_uri(main.path),
        }
        if lookback:
            extra |= {
                "lookback_start": lookback[0].manifest["start"],
                "lookback_end": lookback[-1].manifest["end"],
                "lookback_records": sum(result.records for result in lookback),
            }
        asset = Asset(uri=asset_uri(self.destination, self.folder))
        aliases = [outlet for outlet in self.outlets if _is_extraction_alias(outlet)]
        for alias in aliases:
            outlet_events[alias].add(asset, extra=extra)
        if not aliases:
            outlet_events[asset].extra = extra


def destination_path(destination: Any, conn_id: str | None) -> ObjectStoragePath:
    """
    The storage base of ``destination``, which must name a place independent of the worker's directory.

    Accepted: a URI with a scheme and a location (``s3://bucket/prefix``, ``file:///data/zoho``...) or an
    absolute path. ``file://`` with a host part is refused too: fsspec reads ``file://data/zoho`` as the
    relative path ``data/zoho``.

    :raises ZohoConfigError: for anything else (before any request).
    """
    text = destination.strip() if isinstance(destination, str) else ""
    parts = urlsplit(text)
    if parts.scheme in ("", "file", "local"):
        absolute = not parts.netloc and parts.path.startswith("/")
    else:
        absolute = bool(parts.netloc)
    if not absolute:
        shown = clean_uri(destination) if isinstance(destination, str) else repr(destination)
        raise ZohoConfigError(
            f"destination must be a URI with a scheme and a location ('s3://bucket/prefix', "
            f"'file:///data/zoho'...) or an absolute path, got {shown!r}: a relative or empty destination "
            "would write into the worker's current directory."
        )
    return ObjectStoragePath(text, conn_id=conn_id)


def clean_uri(path: Any) -> str:
    """A storage URI without connection userinfo (``s3://conn@bucket/k`` -> ``s3://bucket/k``)."""
    parts = urlsplit(str(path))
    return urlunsplit(
        (parts.scheme, parts.netloc.rsplit("@", 1)[-1], parts.path, parts.query, parts.fragment)
    )


def asset_uri(destination: str, folder: str) -> str:
    """The stable asset of an extraction target: ``<destination>/<folder>`` without userinfo."""
    return f"{clean_uri(destination).rstrip('/')}/{folder}"


def openlineage_name(uri: str) -> tuple[str, str]:
    """
    The OpenLineage ``(namespace, name)`` of a storage location, as the OpenLineage provider names it.

    The provider's converter for the scheme decides (``file:///data/zoho/x`` -> ``("file",
    "/data/zoho/x")``, ``s3://bucket/prefix/x`` -> ``("s3://bucket", "prefix/x")``); an absolute path is a
    local file; a scheme no installed provider converts follows OpenLineage's naming of object stores:
    ``("<scheme>://<authority>", "<path without the leading slash>")``.

    :param uri: the location, without userinfo (see :func:`clean_uri`).
    """
    from airflow.providers.common.compat.openlineage.utils.utils import translate_airflow_asset

    parts = urlsplit(uri)
    if parts.scheme in ("", "file", "local"):
        return "file", parts.path
    dataset = translate_airflow_asset(Asset(uri=uri), None)
    if dataset is not None:
        return dataset.namespace, dataset.name
    return f"{parts.scheme}://{parts.netloc}", parts.path.lstrip("/") or "/"


def _alias_name(destination: str, folder: str) -> str:
    return f"{ALIAS_PREFIX}{asset_uri(destination, folder)}"


def _is_extraction_alias(outlet: Any) -> bool:
    return isinstance(outlet, AssetAlias) and outlet.name.startswith(ALIAS_PREFIX)


def _extraction_outlets(destination: Any, folder: Any) -> list[Any]:
    """An ``Asset`` for a fixed target; an ``AssetAlias`` when destination or folder is templated."""
    if not isinstance(destination, str) or not isinstance(folder, str):
        return []  # mapped arguments: ``partial()`` declared the alias
    if "{{" in destination or "{%" in destination or "{{" in folder or "{%" in folder:
        return [AssetAlias(name=_alias_name(destination, folder))]
    return [Asset(uri=asset_uri(destination, folder))]
